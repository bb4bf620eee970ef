"""The POS pages (Django templates + plain JS + htmx): store picker, the till, its service worker, the offline
catalogue/price snapshot, server-side cart quotes, order lookup and reprint. Parse -> one selector -> render.

Orders, members and payments are written through the sales and members APIs (/api/v1/...), which the till's
JS calls with the order's client key, so an order queued offline and synced later is created exactly once.
"""
import hashlib
import json
from functools import wraps
from pathlib import Path

from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET, require_POST

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, staff_for_user
from yundian.sales import selectors as sales_selectors
from yundian.sales import services as sales_services
from yundian.sales.models import OrderMode, PaymentMethod, Refund
from yundian.stores.selectors import store_time_zone

from . import selectors

SHELL_FILES = ["pos/pos.css", "pos/queue.js", "pos/pos.js"]
SW_FILE = "pos/sw.js"
MAX_BODY = 256 * 1024


def _error(exc: DomainError) -> dict:
    return {"error": exc.as_dict()}


def pos_view(*, api: bool = False, zoned: bool = True):
    """A signed-in, active staff member (sets request.actor). Out-of-scope objects are 404; for JSON endpoints
    every domain error answers in the API's error shape with its status. A view of one store (a `store_id` in its
    URL) runs in that store's time zone (`zoned=False`: endpoints that show no time, such as the quote on every
    scan, skip the lookup)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            actor = staff_for_user(request.user) if request.user.is_authenticated else None
            if actor is None:
                if api:
                    return JsonResponse({"error": {"code": "unauthenticated", "message": _("Sign in again."),
                                                   "details": {}}}, status=401)
                if request.user.is_authenticated:
                    raise Http404
                return redirect(auth_views.redirect_to_login(request.get_full_path()).url)
            request.actor = actor
            request._yundian_staff = actor
            try:
                # a store's page reads its times (|when, format_when, "today") in the store's time zone
                store_id = kwargs.get("store_id") if zoned else None
                with timezone.override(store_time_zone(store_id) if isinstance(store_id, int) else None):
                    return view(request, *args, **kwargs)
            except DomainError as exc:
                if api:
                    return JsonResponse(_error(exc), status=exc.status)
                if isinstance(exc, NotFound):
                    raise Http404 from exc
                return render(request, "pos/error.html", {"error": exc}, status=exc.status)

        return wrapped

    return decorator


def _static_text(name: str) -> str:
    path = finders.find(name)
    if path is None:  # collected static files only (production without app finders)
        from django.contrib.staticfiles.storage import staticfiles_storage

        with staticfiles_storage.open(name) as handle:
            return handle.read().decode()
    return Path(path).read_text(encoding="utf-8")


def shell_version() -> str:
    """A fingerprint of the till's code: a new deploy installs a new service worker and a fresh shell cache."""
    digest = hashlib.sha256()
    for name in [*SHELL_FILES, SW_FILE]:
        digest.update(_static_text(name).encode())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The till's service worker, served at /pos/sw.js so its scope is the POS (/pos/). Public: no data in it."""
    config = {"version": shell_version(), "shell": [static(name) for name in SHELL_FILES],
              "scope": reverse("pos:home")}
    body = f"const YUNDIAN_POS = {json.dumps(config)};\n" + _static_text(SW_FILE)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("pos:home")
    response["Cache-Control"] = "no-cache"
    return response


@pos_view()
@require_GET
def pos_home(request: HttpRequest) -> HttpResponse:
    stores = selectors.pos_store_list(actor=request.actor)
    if len(stores) == 1:
        return redirect("pos:till", store_id=stores[0].pk)
    return render(request, "pos/home.html", {"stores": stores})


@pos_view()
@require_GET
def till(request: HttpRequest, store_id: int) -> HttpResponse:
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    actor = request.actor
    config = {
        "store_id": store.pk, "store_name": store.name, "clerk_id": actor.pk, "currency": store.enterprise.currency,
        "time_zone": timezone.get_current_timezone_name(),
        "urls": {
            "snapshot": reverse("pos:snapshot", args=[store.pk]), "quote": reverse("pos:quote", args=[store.pk]),
            "orders": "/api/v1/sales/orders", "scan": "/api/v1/catalog/scan/",
            "member_lookup": "/api/v1/members/lookup", "member_register": "/api/v1/members", "events": "/api/v1/events",
            "receipt": reverse("sales:receipt", args=[0]),
            "order_detail": reverse("sales:order_detail", args=[0]), "sw": reverse("pos:sw"),
            "scope": reverse("pos:home"), "page": request.path,
            "receipt_lookup": reverse("pos:receipt_lookup", args=[store.pk]),
            "return_quote": reverse("pos:return_quote", args=[store.pk]),
            "exchange": reverse("pos:exchange", args=[store.pk]),
        },
        "shell_version": shell_version(),
        "may_manage": has_perm(actor, Perm.ORDER_MANAGE, store),
    }
    messages_js = {
        "online": _("Online"), "offline": _("Offline"), "syncing": _("Syncing…"), "synced": _("All synced"),
        "sync_paused": _("Server unreachable; will retry"), "signin": _("Sign in again to sync"),
        "unknown_barcode": _("No product has this barcode."), "bad_barcode": _("Not a barcode."),
        "need_network": _("This needs the network."), "provisional": _("provisional"),
        "amounts_mismatch": _("The payments must add up to the total."),
        "cash_short": _("Less cash was received than the amount."), "bad_amount": _("Not an amount of money."),
        "need_address": _("A delivery order needs an address."), "queued": _("Saved offline; will sync"),
        "queued_title": _("Sale saved offline"), "order_title": pgettext("sales order", "Order"), "change": pgettext("cash handed back", "Change"),
        "still_due": _("Still due"), "total": _("Total"), "paid": _("Paid"), "retry": _("Retry"),
        "dismiss": _("Settled, remove"), "confirm_dismiss": _("Remove this sale from the list? Do this only after "
                                                            "the manager has settled it."),
        "price_changed": _("Booked, but the price changed: provisional %(provisional)s, booked %(total)s."),
        "member_by_phone": _("Attach by phone (checked when synced)"), "member_offline": _("Offline: checked when synced"),
        "remove": _("Remove"), "client_key": _("Client key"), "server_error": _("Something went wrong on our side."),
        "order_link": _("Open receipt"), "no_results": _("No product matches."), "points": _("points earned"),
        "stock_left": _("In stock: %(n)s"), "stock_short": _("Not enough stock: %(n)s left"),
        "recall": _("Recall"), "not_returnable": _("This order cannot take returns."),
        "all_products": _("All products"), "other_products": _("Other products"),
        "exchange_summary": _("%(number)s comes back, refund %(amount)s to the original payment"),
        "exchange_done": _("Exchange"), "return_done": _("Return"), "refunded": _("Refunded"),
        "new_sale": _("New sale"), "late_return": _("Sold more than %(days)s days ago: a manager approves with their PIN."), "customer_pays": _("Customer pays"), "customer_gets": _("Give back to the customer"),
    }
    response = render(request, "pos/till.html", {
        "store": store, "config": config, "modes": OrderMode.choices,
        "messages_js": messages_js,
        "methods": [(v, label) for v, label in PaymentMethod.choices if v != PaymentMethod.STORED_VALUE],
        "guides": selectors.pos_guide_list(store=store, actor=actor),
        "approvers": selectors.pos_approver_list(store=store),
        "shift": sales_selectors.open_shift(actor=actor, store=store),
    })
    response["Cache-Control"] = "no-cache"
    return response


@gzip_page
@pos_view(api=True, zoned=False)
@require_GET
def snapshot(request: HttpRequest, store_id: int) -> HttpResponse:
    """The catalogue/price snapshot; `ETag` is its version, so an unchanged snapshot answers 304."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    data = selectors.pos_snapshot(store=store, actor=request.actor)
    etag = f'"{data["version"]}"'
    # gzip makes the ETag weak (W/"..."); a weak match is all a 304 needs
    offered = [t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")]
    if etag in offered:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class PayloadTooLarge(DomainError):
    status = 413


def _json_body(request: HttpRequest) -> dict:
    """The request's JSON object: 413 `payload_too_large`, 400 `malformed_body` (not JSON), 422 not an object."""
    if len(request.body) > MAX_BODY:
        raise PayloadTooLarge(_("The request is too large."), code="payload_too_large")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise DomainError(_("The request body is not valid JSON."), code="malformed_body")
    if not isinstance(body, dict):
        raise ValidationFailed(_("Send a cart."), code="invalid_cart")
    return body


@pos_view(api=True, zoned=False)
@require_POST
def quote(request: HttpRequest, store_id: int) -> HttpResponse:
    """Server-computed cart totals (the sales pricing function); the till shows these, never its own sums."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    body = _json_body(request)
    return JsonResponse(selectors.pos_quote(actor=request.actor, store=store, lines=body.get("lines"),
                                            member_id=body.get("member_id"), coupon_codes=body.get("coupon_codes")))


@pos_view()
@require_GET
def order_lookup(request: HttpRequest, store_id: int) -> HttpResponse:
    """The store's recent orders, or those matching a number (SO…) or client key, for reprints."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    query = request.GET.get("q", "").strip()[:128]
    orders = sales_selectors.order_list(actor=request.actor, store_id=store.pk)
    if query:
        by_number = sales_selectors.order_list(actor=request.actor, store_id=store.pk, number=query[:20])
        orders = by_number if by_number.exists() else orders.filter(client_ref=query)
    return render(request, "pos/partials/order_lookup.html",
                  {"store": store, "orders": list(orders.select_related("member")[:20]), "q": query})


@pos_view(api=True)
@require_GET
def receipt_lookup(request: HttpRequest, store_id: int) -> HttpResponse:
    """An order of the store by receipt number (or client key), with what each line can still take back."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    return JsonResponse(selectors.pos_receipt_lookup(actor=request.actor, store=store, query=request.GET.get("q")))


@pos_view(api=True)
@require_POST
def return_quote(request: HttpRequest, store_id: int) -> HttpResponse:
    """What the picked lines refund (the return's own rule), before the clerk commits the return."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    body = _json_body(request)
    return JsonResponse(selectors.pos_return_quote(actor=request.actor, store=store, order_id=body.get("order_id"),
                                                   lines=body.get("lines")))


@pos_view(api=True)
@require_POST
def exchange(request: HttpRequest, store_id: int) -> HttpResponse:
    """A return at the till against the receipt, with an exchange when the cart holds new goods (one transaction,
    once per client key); a manager's approval travels in `approval` (PIN or a remote approval's id)."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    body = _json_body(request)
    order_id = body.get("order_id")
    # the order is this store's and the lines can come back (the quote's checks), before anything is written
    selectors.pos_return_quote(actor=request.actor, store=store, order_id=order_id, lines=body.get("lines"))
    result = sales_services.exchange_create(
        actor=request.actor, order_id=order_id, lines=body.get("lines"), new_lines=body.get("new_lines") or [],
        payments=body.get("payments") or [], client_ref=body.get("client_ref"), reason=body.get("reason") or "",
        approval=body.get("approval"), coupon_codes=body.get("coupon_codes"))
    doc, sale = result.order_return, result.order
    currency = store.enterprise.currency

    def money(amount: int) -> str:
        return Money(amount, currency).format()

    methods = dict(PaymentMethod.choices)
    refunds = [{"method": r.payment.method, "label": str(methods.get(r.payment.method, r.payment.method)),
                "amount": r.amount, "amount_display": money(r.amount)}
               for r in Refund.objects.filter(source_ref=f"return:{doc.pk}").select_related("payment")]
    change = sum(p.change for p in sale.payments.all()) if sale else 0
    return JsonResponse({
        "return": {"id": doc.pk, "number": doc.number, "refund_total": doc.refund_total,
                   "refund_display": money(doc.refund_total), "refunds": refunds},
        "order": {"id": sale.pk, "number": sale.number, "total": sale.total, "total_display": money(sale.total),
                  "change": change, "change_display": money(change)} if sale else None,
        "difference": result.difference, "difference_display": money(abs(result.difference)),
        "replayed": result.replayed,
    }, status=200 if result.replayed else 201)
