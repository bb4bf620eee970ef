"""Live sessions step (直播): one session of the first store that ended yesterday evening, with viewers (page views of
its storefront page in the event inbox, which the warehouse sync moves into fact_event) and orders through its
host's link at the live price, and one scheduled for tomorrow evening with a live price and a flash allocation.
Written through the services (priced by the one engine, attributed to the host as the lines' guide). Needs the
org, catalog, stock, stores and members steps.

Shape at any scale (fixed: a demo of the feature):

    live_sessions        2    one ended (yesterday 20:00-21:00), one scheduled (tomorrow 20:00-21:30)
    live_session_items   4    two products each: live prices, and one flash allocation of 50 units
    live_orders          4    orders of the ended session through its host's link (placed during it)
    live_views           12   page views of the ended session's page by 8 devices
"""
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

LABELS = {
    "live_sessions": _("live sessions"),
    "live_session_items": _("live session products"),
    "live_orders": _("orders from live sessions"),
    "live_views": _("live session page views"),
}


def counts_for(scale: int) -> dict[str, int]:
    return {"live_sessions": 2, "live_session_items": 4, "live_orders": 4, "live_views": 12}


def run(ctx: SeedContext) -> None:
    from datetime import datetime, time, timedelta

    from django.db.models import F
    from django.utils import timezone

    from yundian.cdp.services import events_accept
    from yundian.core.errors import DomainError
    from yundian.inventory.models import StockBalance, WarehouseKind
    from yundian.members.models import Member
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role
    from yundian.promotions import services
    from yundian.promotions.models import ShareLink
    from yundian.sales import services as sales
    from yundian.stores.models import StoreProfile

    admin, store = ctx.created["admin"], ctx.created["stores"][0]
    counts = {"live_sessions": 0, "live_session_items": 0, "live_orders": 0, "live_views": 0}
    host = Staff.objects.filter(pk__in=RoleAssignment.objects.filter(node=store, role=Role.GUIDE).values(
        "staff_id")).order_by("id").first()
    shelf = list(StockBalance.objects.filter(
        warehouse__node=store, warehouse__kind=WarehouseKind.STORE, on_hand__gt=F("reserved") + 10,
        sku__is_weighed=False, sku__is_active=True, sku__base_price__gte=3000).order_by("sku_id")
        .values_list("sku_id", "sku__base_price")[:3])
    if host is None or len(shelf) < 3:
        ctx.counts.update(counts)
        return
    local = timezone.localtime()
    yesterday = timezone.make_aware(datetime.combine(local.date() - timedelta(days=1), time(20, 0)))
    tomorrow = timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), time(20, 0)))
    (sku_a, price_a), (sku_b, price_b), (sku_c, price_c) = shelf
    ended = services.live_session_create(
        actor=admin, store_id=store.pk, title=str(_("Summer picks live")), host_id=host.pk, starts_at=yesterday,
        ends_at=yesterday + timedelta(hours=1),
        items=[services.ItemIn(sku_id=sku_a, live_price=price_a * 7 // 10),
               services.ItemIn(sku_id=sku_b, live_price=price_b * 8 // 10)])
    services.live_session_create(
        actor=admin, store_id=store.pk, title=str(_("New arrivals live")), host_id=host.pk, starts_at=tomorrow,
        ends_at=tomorrow + timedelta(minutes=90),
        items=[services.ItemIn(sku_id=sku_c, live_price=price_c * 85 // 100),
               services.ItemIn(sku_id=sku_a, flash_price=max(100, price_a // 2), cap=50, limit=1)])
    counts.update(live_sessions=2, live_session_items=4)
    link = ShareLink.objects.get(source=ended.source, sharer_staff=host)
    members = list(Member.objects.filter(enterprise=ctx.enterprise, home=store).order_by("id")[:4])
    for n, member in enumerate(members):
        try:
            sales.order_create(actor=host, store_id=store.pk, channel="storefront", client_ref=f"demo-live-{n}",
                               member_id=member.pk, share_code=link.code, placed_at=yesterday + timedelta(minutes=8 + 12 * n),
                               lines=[{"sku_id": (sku_a, sku_b)[n % 2], "quantity": 1 + n % 2}],
                               payments=[{"method": "wallet", "client_ref": "wallet"}])
            counts["live_orders"] += 1
        except DomainError:
            continue
    slug = StoreProfile.objects.filter(node=store).values_list("slug", flat=True).first()
    if slug:
        path = f"/s/{slug}/deals/live/{ended.pk}/"
        events = [{"event_id": f"demo-live-{ended.pk}-{i}", "kind": "page_view", "anonymous_id": f"demo-dev-{i % 8}",
                   "timestamp": (yesterday + timedelta(minutes=2 + 4 * i)).isoformat(),
                   "properties": {"path": path, "referrer": ""}} for i in range(12)]
        result = events_accept(actor=None, store=slug, sent_at=None, events=events,
                               now=max(timezone.now(), yesterday + timedelta(hours=1)))
        counts["live_views"] = result.accepted
    ctx.counts.update(counts)


step = Step(name="live_sessions", shape=counts_for, run=run, labels=LABELS, after_history=False)
