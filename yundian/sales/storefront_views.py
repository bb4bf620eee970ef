"""A store's cloud storefront cart and checkout, under /s/<store code>/cart/ (config/urls.py).

The cart lives in the shopper's session, one per store: SKU ids and quantities, the coupon codes they typed, and a
checkout key. Every view prices it afresh with the one pricing function (`sales.pricing.cart_price`, channel
storefront, the signed-in member's tier, flash-sale and group prices, coupons) and shows what each store can
promise now (inventory ATP). Checking out needs a signed-in member (members' storefront sign-in) and places the
order once per checkout key (`services.storefront.storefront_order_create`); the key changes only after an order
is placed, so a double tap or a resubmitted form books one order.
"""
from uuid import uuid4

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yundian.catalog.models import Sku
from yundian.core.errors import DomainError
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.inventory.selectors import atp
from yundian.members import account as member_account
from yundian.members.selectors import balances
from yundian.promotions.views import SHARE_COOKIE  # set by the share-link page (promotions.views.share_link)
from yundian.stores import selectors as store_selectors
from yundian.stores.hooks import storefront_blocks
from yundian.stores.shortcuts import storefront_or_404

from .models import Order, OrderMode
from .pricing import MAX_COUPON_CODES, CartLine, cart_price, clean_codes
from .services.storefront import MAX_CART_LINES, storefront_order_create

SESSION_KEY = "yundian.sales.cart"


def _cart(request: HttpRequest, store_id: int) -> dict:
    carts = request.session.setdefault(SESSION_KEY, {})
    cart = carts.setdefault(str(store_id), {"lines": {}, "coupons": [], "key": uuid4().hex})
    return cart


def _save(request: HttpRequest) -> None:
    request.session.modified = True


def _quantity(value) -> int | None:
    number = parse_whole(value)
    return number if number is not None and number <= 999 else None


def _priced(profile, cart: dict, member) -> dict:
    """The cart priced now: lines with SKUs (inactive or unknown ones dropped), totals, promotions and the coupons
    that do not apply with the reason, and what the store can promise per SKU."""
    ids = [int(i) for i in cart["lines"]]
    skus = {s.pk: s for s in Sku.objects.filter(enterprise_id=profile.enterprise_id, pk__in=ids, is_active=True,
                                                 product__is_active=True, is_weighed=False).select_related("product")}
    dropped = [i for i in ids if i not in skus]
    for sku_id in dropped:
        cart["lines"].pop(str(sku_id), None)
    lines = [CartLine(sku=skus[int(i)], quantity=q) for i, q in cart["lines"].items() if int(i) in skus]
    if not lines:
        return {"lines": [], "dropped": dropped}
    codes = clean_codes(cart["coupons"])
    priced = cart_price(store=profile.node, channel="storefront", lines=lines, member=member, coupon_codes=codes)
    currency = priced.currency
    stock = atp(sku_ids=[l.sku.pk for l in lines], store_node=profile.node)
    refused = priced.coupons_refused(codes)

    def money(fen: int) -> Money:
        return Money(fen, currency)

    return {
        "lines": [{"sku": p.sku, "quantity": p.quantity, "unit_price": money(p.unit_price),
                   "line_total": money(p.line_total), "discounted": p.line_total < p.list_gross,
                   "list_total": money(p.list_gross), "store_stock": stock[p.sku.pk].store,
                   "total_stock": stock[p.sku.pk].total} for p in priced.lines],
        "subtotal": money(priced.subtotal), "discount": money(priced.discount_total), "total": money(priced.total),
        "total_fen": priced.total, "applied": priced.applied, "dropped": dropped,
        "coupons": [{"code": c, "applied": c not in refused, "why": refused.get(c, {}).get("explanation", "")}
                    for c in codes],
    }


def _page(request: HttpRequest, profile, *, error: DomainError | None = None, status: int = 200,
          form: dict | None = None) -> HttpResponse:
    member = member_account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    cart = _cart(request, profile.node_id)
    priced = _priced(profile, cart, member)
    _save(request)
    modes = [m for m, on in ((OrderMode.PICKUP, profile.pickup_enabled), (OrderMode.DELIVERY, profile.delivery_enabled))
             if on]
    balance = sum(balances(member)[1:]) if member is not None else 0
    context = {
        **store_selectors.storefront_context(profile), "member": member, "cart": priced, "key": cart["key"],
        "modes": [(m, OrderMode(m).label) for m in modes], "form": form or {"mode": modes[0] if modes else ""},
        "stored_value": Money(balance, profile.node.enterprise.currency) if member else None,
        "may_pay_stored_value": bool(member and priced["lines"] and balance >= priced["total_fen"]),
        "share_code": request.COOKIES.get(SHARE_COOKIE, "")[:40],
        "sign_in_url": f"{reverse('member_account:sign_in', args=[profile.slug])}?next={request.path}",
        "error": {"message": error.message, "code": error.code} if error else None,
        "max_coupons": MAX_COUPON_CODES,
        "blocks": storefront_blocks("cart", request, profile,
                                    product_ids=[line["sku"].product_id for line in priced["lines"]]),
    }
    return render(request, "sales/storefront/cart.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def cart(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the cart. POST action=set (sku_id, quantity; 0 removes), coupon (code), drop_coupon (code)."""
    profile = storefront_or_404(slug)
    if request.method == "GET":
        return _page(request, profile)
    cart = _cart(request, profile.node_id)
    action = request.POST.get("action", "")
    if action == "set":
        sku_id, quantity = (parse_whole(request.POST.get("sku_id")) or None), _quantity(request.POST.get("quantity"))
        if not sku_id or quantity is None:
            return _page(request, profile, status=422, error=DomainError(_("Not a valid quantity."),
                                                                         code="invalid_quantity"))
        if quantity == 0:
            cart["lines"].pop(str(sku_id), None)
        elif str(sku_id) in cart["lines"] or len(cart["lines"]) < MAX_CART_LINES:
            cart["lines"][str(sku_id)] = quantity
    elif action == "coupon":
        code = "".join(request.POST.get("code", "").split()).upper()[:32]
        if code and code not in cart["coupons"] and len(cart["coupons"]) < MAX_COUPON_CODES:
            cart["coupons"].append(code)
    elif action == "drop_coupon":
        cart["coupons"] = [c for c in cart["coupons"] if c != request.POST.get("code")]
    else:
        return _page(request, profile, status=400, error=DomainError(_("Unknown action."), code="invalid_action"))
    _save(request)
    return redirect("storefront_cart:cart", slug)


@require_POST
def add(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a SKU of the store's catalogue to the cart (from the product page) and go to the cart."""
    profile = storefront_or_404(slug)
    sku_id, quantity = (parse_whole(request.POST.get("sku_id")) or None), _quantity(request.POST.get("quantity", 1)) or 1
    if not sku_id or not Sku.objects.filter(pk=sku_id, enterprise_id=profile.enterprise_id, is_active=True,
                                            is_weighed=False).exists():
        raise Http404
    cart = _cart(request, profile.node_id)
    if str(sku_id) in cart["lines"] or len(cart["lines"]) < MAX_CART_LINES:
        cart["lines"][str(sku_id)] = min(cart["lines"].get(str(sku_id), 0) + quantity, 999)
    _save(request)
    messages.success(request, _("Added to your cart."))
    return redirect("storefront_cart:cart", slug)


@never_cache
@require_POST
def checkout(request: HttpRequest, slug: str) -> HttpResponse:
    """Place the order as the signed-in member (else to sign-in and back). Once per checkout key."""
    profile = storefront_or_404(slug)
    member = member_account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    if member is None:
        return redirect(f"{reverse('member_account:sign_in', args=[slug])}?next={reverse('storefront_cart:cart', args=[slug])}")
    cart = _cart(request, profile.node_id)
    post = request.POST
    form = {"mode": post.get("mode", ""), "address": post.get("address", "")[:300], "phone": post.get("phone", "")[:32],
            "note": post.get("note", "")[:200], "pay": post.get("pay", "store")}
    key = post.get("key", "")
    if key != cart["key"]:  # an old form: the order it placed (if any) is in the member's orders
        placed = Order.objects.filter(store_id=profile.node_id, client_ref=f"sf-{key}", member=member).first()
        if placed is not None:
            return redirect("storefront_cart:placed", slug, placed.number)
        return _page(request, profile, status=409, form=form,
                     error=DomainError(_("Your cart changed in another window: check it and try again."),
                                       code="stale_checkout"))
    try:
        result = storefront_order_create(
            store_id=profile.node_id, member=member, client_ref=f"sf-{key}", mode=form["mode"],
            lines=[{"sku_id": int(i), "quantity": q} for i, q in cart["lines"].items()],
            delivery={"address": form["address"], "phone": form["phone"]} if form["mode"] == OrderMode.DELIVERY else None,
            coupon_codes=cart["coupons"], share_code=request.COOKIES.get(SHARE_COOKIE) or None,
            pay_with_stored_value=form["pay"] == "stored_value", note=form["note"])
    except DomainError as exc:
        if exc.code in ("share_link_not_found", "invalid_share_code"):  # an old link's cookie never blocks a sale
            response = redirect("storefront_cart:cart", slug)
            response.delete_cookie(SHARE_COOKIE)
            messages.info(request, _("The share link has expired; you can still check out."))
            return response
        return _page(request, profile, status=exc.status, form=form, error=exc)
    request.session[SESSION_KEY].pop(str(profile.node_id), None)
    _save(request)
    return redirect("storefront_cart:placed", slug, result.order.number)


@never_cache
def placed(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    """The confirmation of the member's own order."""
    profile = storefront_or_404(slug)
    member = member_account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    order = None
    if member is not None and number.startswith("SO") and number[2:].isdigit():
        order = Order.objects.filter(pk=int(number[2:]), member=member, store_id=profile.node_id).first()
    if order is None:
        raise Http404
    return render(request, "sales/storefront/placed.html", {
        **store_selectors.storefront_context(profile), "order": order,
        "total": Money(order.total, order.currency), "due": Money(order.due, order.currency),
        "lines": [{"name": line.name, "quantity": line.quantity,
                   "line_total": Money(line.line_total, order.currency)}
                  for line in order.lines.order_by("line_no")]})
