"""Single-person accounting (单人核算): per guide per month, from the OLTP records of the month.

The definitions are those of the analytics report "guide performance" (analytics.report_metrics.guide_performance,
on the warehouse): net sales and orders of the guide's lines (paid in the month, net of returns), new members =
members bound to the guide who joined in the month, commission booked in the month, an effective guide averages
at least 3 orders a week (orders x 7 >= 3 x days of the month so far). Added here: repurchase = of the guide's
bound members who bought in the month, the share who had bought before it; tasks done in the month. Read from
the OLTP side so a guide sees today's sale at once (the warehouse lags a minute).
"""
import calendar
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from yundian.members.models import Member
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.sales.models import Order, OrderLine

from .models import CommissionEntry, GuideTask, TaskStatus
from .people import guides_of
from .task_follow_up import PAID_STATUSES

EFFECTIVE_ORDERS_PER_WEEK = 3


@dataclass
class GuideMonth:
    guide_id: int
    guide_name: str
    store_name: str
    net_sales: int = 0
    orders: int = 0
    new_members: int = 0
    buyers: int = 0
    repeat_buyers: int = 0
    commission: int = 0
    tasks_done: int = 0
    effective: bool = False

    @property
    def repurchase_percent(self) -> int:
        return self.repeat_buyers * 100 // self.buyers if self.buyers else 0


def _bounds(month: date) -> tuple[datetime, datetime, int]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(month, time.min, tzinfo=tz)
    last = calendar.monthrange(month.year, month.month)[1]
    end = datetime.combine(date(month.year + (month.month == 12), month.month % 12 + 1, 1), time.min, tzinfo=tz)
    today = timezone.localdate()
    days = last if today >= end.date() else max(1, (today - month).days + 1)
    return start, end, days


def guide_month(*, actor: Staff, month: date, guide_ids: list[int] | None = None) -> list[GuideMonth]:
    """Rows for the guides the actor may read (commission.view_all scope, and themselves), best sales first."""
    allowed = scope_q(actor, Perm.COMMISSION_VIEW_ALL, "home__path")
    if has_perm(actor, Perm.COMMISSION_VIEW_OWN):
        allowed |= Q(pk=actor.pk)
    guides = Staff.objects.filter(allowed, enterprise_id=actor.enterprise_id).select_related("home")
    if guide_ids is not None:
        guides = guides.filter(pk__in=guide_ids)
    start, end, days = _bounds(month)
    lines = OrderLine.objects.filter(order__paid_at__gte=start, order__paid_at__lt=end,
                                     order__status__in=PAID_STATUSES + ["returned"])
    sold = {r["guide_id"]: r for r in lines.filter(guide__in=guides).values("guide_id").annotate(
        net=Sum(F("line_total") - F("returned_amount")), orders=Count("order_id", distinct=True))}
    commission = dict(CommissionEntry.objects.filter(guide__in=guides, month=month).values("guide_id")
                      .annotate(s=Sum("amount")).values_list("guide_id", "s"))
    joined = dict(Member.objects.filter(guide__in=guides, created_at__gte=start, created_at__lt=end)
                  .values("guide_id").annotate(n=Count("id")).values_list("guide_id", "n"))
    done = dict(GuideTask.objects.filter(guide__in=guides, status=TaskStatus.DONE, done_at__gte=start,
                                         done_at__lt=end).values("guide_id").annotate(n=Count("id"))
                .values_list("guide_id", "n"))
    paid = Q(paid_at__isnull=False, status__in=PAID_STATUSES)
    buyers: dict[int, set[int]] = {}
    for guide_id, member_id in (Order.objects.filter(paid, member__guide__in=guides, paid_at__gte=start,
                                                     paid_at__lt=end)
                                .values_list("member__guide_id", "member_id").distinct()):
        buyers.setdefault(guide_id, set()).add(member_id)
    everyone = sorted(set().union(*buyers.values())) if buyers else []
    came_back = set()
    for chunk in range(0, len(everyone), 2_000):
        came_back |= set(Order.objects.filter(paid, member_id__in=everyone[chunk:chunk + 2_000], paid_at__lt=start)
                         .values_list("member_id", flat=True).distinct())
    working = set(sold) | set(commission) | set(joined) | set(done) | set(buyers)
    if guide_ids is not None:
        working |= set(guides.values_list("pk", flat=True))
    rows = []
    for guide in guides.filter(pk__in=working):
        row = GuideMonth(guide.pk, guide.display_name, guide.home.name)
        if guide.pk in sold:
            row.net_sales, row.orders = sold[guide.pk]["net"] or 0, sold[guide.pk]["orders"]
        row.commission = commission.get(guide.pk) or 0
        row.new_members = joined.get(guide.pk, 0)
        row.buyers = len(buyers.get(guide.pk, ()))
        row.repeat_buyers = len(buyers.get(guide.pk, set()) & came_back)
        row.tasks_done = done.get(guide.pk, 0)
        row.effective = row.orders * 7 >= EFFECTIVE_ORDERS_PER_WEEK * days
        rows.append(row)
    rows.sort(key=lambda r: (-r.net_sales, r.guide_id))
    return rows


RANK_METRICS = ("net_sales", "new_members", "tasks_done", "orders")


def ranking(*, actor: Staff, month: date, metric: str = "net_sales") -> list[GuideMonth]:
    """The guides of the actor's store ranked by a metric of the month: sales, orders, new members, tasks done
    (no commission: a guide sees their peers' results, not their pay)."""
    if metric not in RANK_METRICS:
        metric = "net_sales"
    peers = guides_of(actor.home) if actor.home.kind == "store" else []
    rows = [GuideMonth(p.pk, p.display_name, actor.home.name, **_public(p, month)) for p in peers]
    rows.sort(key=lambda r: (-getattr(r, metric), r.guide_name))
    return rows


def _public(guide: Staff, month: date) -> dict:
    """A peer's ranking figures (no commission): sales, orders, new members, tasks done."""
    start, end, _days = _bounds(month)
    sold = OrderLine.objects.filter(guide=guide, order__paid_at__gte=start, order__paid_at__lt=end,
                                    order__status__in=PAID_STATUSES + ["returned"]).aggregate(
        net=Sum(F("line_total") - F("returned_amount")), orders=Count("order_id", distinct=True))
    return {"net_sales": sold["net"] or 0, "orders": sold["orders"],
            "new_members": Member.objects.filter(guide=guide, created_at__gte=start, created_at__lt=end).count(),
            "tasks_done": GuideTask.objects.filter(guide=guide, status=TaskStatus.DONE, done_at__gte=start,
                                                   done_at__lt=end).count()}

