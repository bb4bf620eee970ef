"""Flash sales (秒杀) and group buys (拼团) on a store's cloud storefront, under /s/<store code>/deals/ (config/urls.py).

The shopper is the member signed in on the storefront (members' session); these pages need no token. A secured
flash-sale unit or a group place gives the member its special price in the one pricing engine, so the next step is
the store's own cart and checkout (sales), which redeems the claim or place with the order. The token pages under
/p/ stay for links handed out elsewhere (a till, a message)."""
from uuid import uuid4

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound
from yundian.core.numbers import parse_whole
from yundian.members import account as member_account
from yundian.stores import selectors as store_selectors
from yundian.stores.shortcuts import storefront_or_404

from . import services
from .models import ClaimStatus, FlashSale, FlashSaleClaim, GroupBuyCampaign, GroupBuyGroup, GroupStatus


def _offered_here(node_path: str, profile) -> bool:
    """A deal of a node is offered at the stores under it."""
    return profile.node.path.startswith(node_path)


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code}


def _member_and_sign_in(request: HttpRequest, profile):
    member = member_account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    return member, f"{reverse('member_account:sign_in', args=[profile.slug])}?next={request.path}"


def _deal_page(request: HttpRequest, slug: str, model, deal_id: int):
    """(store profile, the active deal offered at this store, the signed-in member or None, the sign-in URL);
    404 for a deal of another enterprise or of nodes above other stores."""
    profile = storefront_or_404(slug)
    deal = model.objects.filter(pk=deal_id, enterprise_id=profile.enterprise_id, is_active=True) \
        .select_related("sku__product", "node").first()
    if deal is None or not _offered_here(deal.node.path, profile):
        raise Http404
    return (profile, deal, *_member_and_sign_in(request, profile))


@never_cache
@require_http_methods(["GET", "POST"])
def flash(request: HttpRequest, slug: str, flash_sale_id: int) -> HttpResponse:
    """GET: the sale (price, units left, the member's secured claim). POST: secure a unit as the signed-in member,
    once per form key; then the page offers the cart."""
    profile, sale, member, sign_in_url = _deal_page(request, slug, FlashSale, flash_sale_id)
    error, status = None, 200
    if request.method == "POST":
        if member is None:
            return redirect(sign_in_url)
        try:
            services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, enterprise_id=member.enterprise_id,
                                    client_ref=request.POST.get("key", "")[:64] or None)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect(request.path)
        sale.refresh_from_db()
    now = timezone.now()
    claim = (FlashSaleClaim.objects.filter(flash_sale=sale, member=member, status=ClaimStatus.HELD, expires_at__gt=now)
             .order_by("-id").first() if member else None)
    return render(request, "promotions/storefront_flash.html", {
        **store_selectors.storefront_context(profile), "sale": sale, "left": sale.cap - sale.sold, "claim": claim,
        "running": sale.starts_at <= now < sale.ends_at, "member": member, "sign_in_url": sign_in_url,
        "key": uuid4().hex, "error": error}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def group_buy(request: HttpRequest, slug: str, campaign_id: int) -> HttpResponse:
    """GET: a group-buy campaign (prices per group size) and the member's open groups. POST size=N: the member
    opens a group of N and gets its link to share."""
    profile, campaign, member, sign_in_url = _deal_page(request, slug, GroupBuyCampaign, campaign_id)
    error, status = None, 200
    if request.method == "POST":
        if member is None:
            return redirect(sign_in_url)
        size = parse_whole(request.POST.get("size"))
        try:
            group = services.group_open(campaign_id=campaign.pk, member_id=member.pk,
                                        size=size if size is not None else -1)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect("storefront_deals:group", slug, group.token)
    return render(request, "promotions/storefront_group_buy.html", {
        **store_selectors.storefront_context(profile), "campaign": campaign, "member": member,
        "sign_in_url": sign_in_url, "tiers": sorted(campaign.price_tiers, key=lambda t: t["size"]),
        "error": error}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def group(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """One group by its share token: who joined, how many places are left, until when; POST: join as the signed-in
    member. A member with a place is sent to the cart, where the group price applies."""
    profile = storefront_or_404(slug)
    try:
        found = services.groups.group_for_token(token)
    except NotFound:
        raise Http404
    if found.campaign.enterprise_id != profile.enterprise_id or not _offered_here(found.campaign.node.path, profile):
        raise Http404
    member, sign_in_url = _member_and_sign_in(request, profile)
    error, status = None, 200
    if request.method == "POST":
        if member is None:
            return redirect(sign_in_url)
        try:
            services.group_join(token=token, member_id=member.pk)
        except DomainError as exc:
            error, status = _error(exc), exc.status
        else:
            return redirect(request.path)
        found = GroupBuyGroup.objects.get(pk=found.pk)
    places = list(found.members.order_by("id"))
    mine = next((p for p in places if member is not None and p.member_id == member.pk), None)
    return render(request, "promotions/storefront_group.html", {
        **store_selectors.storefront_context(profile), "group": found, "campaign": found.campaign, "places": places,
        "left": found.size - found.joined_count, "mine": mine, "member": member, "sign_in_url": sign_in_url,
        "open": found.status == GroupStatus.OPEN and found.expires_at > timezone.now(),
        "share_url": request.build_absolute_uri(request.path), "error": error}, status=status)


@never_cache
def live(request: HttpRequest, slug: str, session_id: int) -> HttpResponse:
    """A live session's page on its store's storefront (phone first): its products at their live prices (flash
    allocations with the units left), a countdown before it starts, buy buttons into the store's cart (a flash
    allocation through its flash-sale page), and sign-in for viewers (a new phone joins this store). The page view
    is recorded by the storefront tracker (cdp) like every storefront page; the session's report counts them."""
    from yundian.catalog.models import Channel
    from yundian.catalog.pricing import price_resolve_many

    from .models import LiveSession, LiveStatus

    profile = storefront_or_404(slug)
    session = (LiveSession.objects.filter(pk=session_id, enterprise_id=profile.enterprise_id, store=profile.node)
               .select_related("host").first())
    if session is None:
        raise Http404
    member, sign_in_url = _member_and_sign_in(request, profile)
    now = timezone.now()
    state = session.state_at(now)
    items = list(session.items.select_related("sku__product", "flash_sale").prefetch_related("sku__product__media"))
    prices = price_resolve_many([i.sku for i in items], profile.node, Channel.ONLINE, now) if items else {}
    rows = []
    for item in items:
        sale = item.flash_sale
        resolved = prices.get(item.sku_id)
        rows.append({"item": item, "sku": item.sku, "list_price": resolved.price.amount if resolved else item.sku.base_price,
                     "price": item.live_price if sale is None else sale.price, "sale": sale,
                     "left": (sale.cap - sale.sold) if sale else None})
    return render(request, "promotions/storefront_live.html", {
        **store_selectors.storefront_context(profile), "session": session, "state": state, "rows": rows,
        "member": member, "sign_in_url": sign_in_url, "is_live": state == LiveStatus.LIVE,
        "is_scheduled": state == LiveStatus.SCHEDULED, "state_label": LiveStatus(state).label})
