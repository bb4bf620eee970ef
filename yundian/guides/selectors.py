"""Commission reads. A guide sees their own (commission.view_own); managers and auditors see every guide of their
subtree (commission.view_all). Out of scope -> 404."""
from datetime import date, datetime, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q

from .models import CommissionBalance, CommissionEntry, CommissionPlan
from .services import month_of


def _entries_for(actor: Staff, guide_id: int | None) -> QuerySet[CommissionEntry]:
    """Entries the actor may read: all in their view_all scope, plus their own with view_own."""
    base = CommissionEntry.objects.filter(enterprise_id=actor.enterprise_id)
    allowed = scope_q(actor, Perm.COMMISSION_VIEW_ALL, "store__path")
    if has_perm(actor, Perm.COMMISSION_VIEW_OWN):
        allowed |= Q(guide_id=actor.pk)
    qs = base.filter(allowed)
    if guide_id is not None:
        qs = qs.filter(guide_id=guide_id)
    return qs


def parse_month(text: str | None) -> date:
    if not text:
        return month_of(timezone.now())
    try:
        year, month = (int(p) for p in text.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        raise ValidationFailed(_("A month is written YYYY-MM."), code="invalid_month", details={"field": "month"})


def commission_overview(*, actor: Staff, guide_id: int | None = None, now: datetime | None = None) -> dict:
    """A guide's live commission: today, this month, balance, and this month per order (own when `guide_id` is None).

    A guide that does not exist (id 0 or negative included) or lies outside the actor's scope is not found (404)."""
    if guide_id is None:
        guide_id = actor.pk
    if guide_id != actor.pk and not has_perm(actor, Perm.COMMISSION_VIEW_ALL):
        raise NotFound(_("Guide not found."), code="guide_not_found")
    guide = Staff.objects.filter(pk=guide_id, enterprise_id=actor.enterprise_id).first()
    if guide is None:
        raise NotFound(_("Guide not found."), code="guide_not_found")
    qs = _entries_for(actor, guide_id)
    if guide_id != actor.pk and not qs.exists() and not has_perm(actor, Perm.COMMISSION_VIEW_ALL, guide.home):
        raise NotFound(_("Guide not found."), code="guide_not_found")
    now = timezone.localtime(now or timezone.now())
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = month_of(now)
    today = qs.filter(occurred_at__gte=start_of_day).aggregate(c=Sum("amount"), s=Sum("sales_amount"))
    this_month = qs.filter(month=month).aggregate(c=Sum("amount"), s=Sum("sales_amount"))
    orders = list(qs.filter(month=month, order__isnull=False).values("order_id")
                  .annotate(commission=Sum("amount"), sales=Sum("sales_amount"))
                  .order_by("-order_id")[:200])
    balance = CommissionBalance.objects.filter(pk=guide_id).values_list("amount", flat=True).first() or 0
    return {"guide_id": guide_id, "guide_name": guide.display_name, "month": month,
            "today_commission": today["c"] or 0, "today_sales": today["s"] or 0,
            "month_commission": this_month["c"] or 0, "month_sales": this_month["s"] or 0,
            "balance": balance, "orders": orders}


def commission_entry_list(*, actor: Staff, guide_id: int | None = None, month: date | None = None) -> QuerySet:
    qs = _entries_for(actor, guide_id)
    if month is not None:
        qs = qs.filter(month=month)
    return qs.order_by("-occurred_at", "-id")


def commission_by_guide(*, actor: Staff, store_id: int | None = None, month: date | None = None) -> list[dict]:
    """Every guide with commission in the actor's view_all scope for a month: sales, commission, orders."""
    month = month or month_of(timezone.now())
    qs = CommissionEntry.objects.filter(scope_q(actor, Perm.COMMISSION_VIEW_ALL, "store__path"),
                                        enterprise_id=actor.enterprise_id, month=month)
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    rows = (qs.values("guide_id", "guide__display_name")
            .annotate(sales=Sum("sales_amount"), commission=Sum("amount"), orders=Count("order_id", distinct=True))
            .order_by("-sales", "guide_id"))
    return [{"guide_id": r["guide_id"], "guide_name": r["guide__display_name"], "sales": r["sales"] or 0,
             "commission": r["commission"] or 0, "orders": r["orders"]} for r in rows]


def leaderboard(*, actor: Staff, store_id: int | None = None, month: date | None = None, metric: str = "sales",
                limit: int = 20) -> list[dict]:
    """Guides ranked by sales (or commission) in a month within the actor's view (own stores for a guide)."""
    if metric not in ("sales", "commission"):
        raise ValidationFailed(_("Rank by sales or commission."), code="invalid_metric", details={"field": "metric"})
    month = month or month_of(timezone.now())
    scope = scope_q(actor, Perm.COMMISSION_VIEW_ALL, "store__path") | scope_q(actor, Perm.ORDER_VIEW, "store__path")
    qs = CommissionEntry.objects.filter(scope, enterprise_id=actor.enterprise_id, month=month)
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    rows = (qs.values("guide_id", "guide__display_name")
            .annotate(sales=Sum("sales_amount"), commission=Sum("amount"))
            .order_by(f"-{metric}", "guide_id")[:max(1, min(limit, 100))])
    may_see_money = has_perm(actor, Perm.COMMISSION_VIEW_ALL)
    return [{"rank": i, "guide_id": r["guide_id"], "guide_name": r["guide__display_name"], "sales": r["sales"] or 0,
             "commission": (r["commission"] or 0) if may_see_money or r["guide_id"] == actor.pk else None}
            for i, r in enumerate(rows, start=1)]


def plan_list(*, actor: Staff) -> QuerySet[CommissionPlan]:
    return (CommissionPlan.objects.filter(scope_q(actor, Perm.ORG_VIEW, "node__path"), enterprise_id=actor.enterprise_id)
            .select_related("node").prefetch_related("rules", "tiers").order_by("-is_active", "node__path", "-id"))


__all__ = ["OrgNode", "timedelta"]
