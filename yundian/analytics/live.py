"""The report of a live selling session (直播): viewers, sign-ups, orders, GMV, conversion, top products and the
session's course by quarter hour, during the session (the page refreshes itself) and after.

Where the figures come from:
- viewers: devices that viewed the session's storefront page — the storefront tracker's `page_view` events (cdp's
  event inbox, moved into `fact_event` by the sync), matched by the page's path;
- orders, GMV (net of refunds), buyers, top products: `fact_order` / `fact_order_line` rows whose order came by one of
  the session's share links (`share_code`), sales only (`is_sale`: paid, not cancelled);
- sign-ups: promotions' ShareLinkSignup rows of those links (the warehouse does not keep which link brought a
  member in), read from the OLTP database.
Conversion is buyers over viewers. The warehouse functions are pure Ibis (no SQL strings); the OLTP counterparts
(`oltp_figures`) exist for the reconciliation test and for the figures the warehouse lacks.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from fractions import Fraction

import ibis
from ibis import _

from yundian.core.warehouse import warehouse_read
from yundian.promotions.models import LiveSession, ShareLinkSignup
from yundian.promotions.selectors import live_session_links

BUCKET = timedelta(minutes=15)


def page_marker(slug: str, session_id: int) -> str:
    """How the session's page appears in a page_view's properties (JSON text kept compact by the ingest)."""
    return f'"path":"/s/{slug}/deals/live/{session_id}/'


def live_viewers(events: ibis.Table, *, enterprise_id: int, store_id: int, marker: str) -> ibis.Table:
    """One row per device that viewed the session's page, with its first view (first_at)."""
    seen = events.filter((events.enterprise_id == enterprise_id) & (events.kind == "page_view")
                         & (events.store_id == store_id) & events.properties.contains(marker)
                         & (events.anonymous_id != ""))
    return seen.group_by("anonymous_id").aggregate(first_at=_.occurred_at.min())


def live_orders(orders: ibis.Table, *, enterprise_id: int, codes: list[str]) -> ibis.Table:
    """The session's sales: orders through its links, paid and not cancelled."""
    return (orders.filter((orders.enterprise_id == enterprise_id) & orders.is_sale & orders.share_code.isin(codes))
            .select("order_id", "member_id", "paid_at", "net_total", "share_code"))


def live_orders_by_link(sold: ibis.Table) -> ibis.Table:
    """The session's orders and GMV per share link (each link is one guide's)."""
    return sold.group_by("share_code").aggregate(orders=_.order_id.count(), gmv=_.net_total.sum())


def live_top_products(lines: ibis.Table, sold: ibis.Table, *, limit: int = 5) -> ibis.Table:
    """Products of the session's sales by net amount (quantity and amount net of returns)."""
    mine = lines.filter(lines.is_sale).semi_join(sold, "order_id")
    return (mine.group_by("product_id").aggregate(quantity=_.net_quantity.sum(), amount=_.net_amount.sum())
            .order_by([ibis.desc("amount"), "product_id"]).limit(limit))


@dataclass
class LiveReport:
    viewers: int = 0
    signups: int = 0
    orders: int = 0
    gmv: int = 0
    buyers: int = 0
    top_products: list[dict] = field(default_factory=list)  # {product_id, name, quantity, amount}
    buckets: list[dict] = field(default_factory=list)  # {label, viewers, orders, gmv}
    by_guide: list[dict] = field(default_factory=list)  # {staff_id, name, orders, gmv}: per link's guide

    @property
    def conversion(self) -> Fraction | None:
        return Fraction(self.buyers, self.viewers) if self.viewers else None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt_timezone.utc) if value.tzinfo is None else value


def _buckets(session: LiveSession, now: datetime, viewers: list, orders: list) -> list[dict]:
    """Quarter hours from the start to the close (or now, while it runs): new viewers, orders and GMV in each."""
    from django.utils import timezone

    start, end = session.starts_at, min(session.closes_at, max(now, session.starts_at))
    count = max(1, min(4 * 48, -(-int((end - start).total_seconds()) // int(BUCKET.total_seconds()))))
    rows = [{"label": timezone.localtime(start + i * BUCKET).strftime("%H:%M"), "viewers": 0, "orders": 0, "gmv": 0}
            for i in range(count)]

    def index(at: datetime | None) -> int | None:
        if at is None:
            return None
        i = int((_utc(at) - start).total_seconds() // BUCKET.total_seconds())
        return min(max(i, 0), count - 1)

    for first_at in viewers:
        i = index(first_at)
        if i is not None:
            rows[i]["viewers"] += 1
    for paid_at, net in orders:
        i = index(paid_at)
        if i is not None:
            rows[i]["orders"] += 1
            rows[i]["gmv"] += int(net or 0)
    return rows


def _signups(codes: list[str]) -> int:
    return ShareLinkSignup.objects.filter(link__code__in=codes).count() if codes else 0


def _names(product_ids) -> dict[int, str]:
    from yundian.catalog.models import Product

    return dict(Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "name"))


def warehouse_report(session: LiveSession, *, slug: str, now: datetime) -> LiveReport:
    """The session's report from the warehouse (sign-ups from the OLTP database)."""
    links = live_session_links(session)
    codes = [link.code for link in links]
    with warehouse_read() as wh:
        viewers = live_viewers(wh.table("fact_event"), enterprise_id=session.enterprise_id,
                               store_id=session.store_id, marker=page_marker(slug, session.pk)).execute()
        sold = live_orders(wh.table("fact_order"), enterprise_id=session.enterprise_id, codes=codes or ["-"])
        orders = sold.execute()
        top = live_top_products(wh.table("fact_order_line"), sold).execute()
        per_link = live_orders_by_link(sold).execute()
    names = _names(int(p) for p in top["product_id"])
    return LiveReport(
        viewers=len(viewers), signups=_signups(codes), orders=len(orders), gmv=int(orders["net_total"].sum() or 0),
        buyers=int(orders["member_id"].dropna().nunique()),
        top_products=[{"product_id": int(r.product_id), "name": names.get(int(r.product_id), ""),
                       "quantity": int(r.quantity), "amount": int(r.amount)} for r in top.itertuples()],
        buckets=_buckets(session, now, [v.to_pydatetime() for v in viewers["first_at"]],
                         [(p.to_pydatetime() if p is not None and str(p) != "NaT" else None, n)
                          for p, n in zip(orders["paid_at"], orders["net_total"])]),
        by_guide=_by_guide(links, [(r.share_code, int(r.orders), int(r.gmv or 0)) for r in per_link.itertuples()]))


def _by_guide(links, rows: list[tuple[str, int, int]]) -> list[dict]:
    staff = {link.code: link.sharer_staff for link in links}
    out: dict[int, dict] = {}
    for code, orders, gmv in rows:
        person = staff[code]
        entry = out.setdefault(person.pk, {"staff_id": person.pk, "name": person.display_name, "orders": 0, "gmv": 0})
        entry["orders"] += orders
        entry["gmv"] += gmv
    return sorted(out.values(), key=lambda e: (-e["gmv"], e["staff_id"]))


def oltp_figures(session: LiveSession, *, slug: str) -> LiveReport:
    """The same figures from the OLTP database (the event inbox for viewers, sales for orders): what the
    warehouse must agree with once synced."""
    from yundian.cdp.models import EventInbox
    from yundian.sales.live import live_session_figures

    codes = [link.code for link in live_session_links(session)]
    viewers = (EventInbox.objects.filter(enterprise_id=session.enterprise_id, kind="page_view",
                                         store_id=session.store_id,
                                         properties__contains=page_marker(slug, session.pk))
               .exclude(anonymous_id="").values("anonymous_id").distinct().count())
    sales = live_session_figures(session)
    return LiveReport(viewers=viewers, signups=_signups(codes), orders=sales.orders, gmv=sales.gmv,
                      buyers=sales.buyers, top_products=[{k: p[k] for k in ("product_id", "name", "quantity", "amount")}
                                                         for p in sales.top_products], by_guide=sales.by_guide)
