"""Reads of the warehouse for pages, scoped to the actor: the facts are filtered by the actor's subtree paths."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from yundian.core.money import Money
from yundian.core.warehouse import warehouse_read
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_paths

from . import metrics


def scope_summary(*, actor: Staff, days: int = 30) -> dict:
    """The actor's subtree in the warehouse over the last `days` local days: sales orders, net sales, buyers, AOV,
    and the same for today."""
    paths = scope_paths(actor, Perm.ANALYTICS_VIEW)
    today = timezone.localdate()
    with warehouse_read() as wh:
        orders = metrics.in_scope(wh.table("fact_order"), paths, actor.enterprise_id)
        period = metrics.sales_summary(orders, today - timedelta(days=days - 1), today).to_pyarrow().to_pylist()[0]
        now = metrics.sales_summary(orders, today, today).to_pyarrow().to_pylist()[0]
    for row in (period, now):
        row["net_sales_text"] = Money(int(row["net_sales"] or 0)).format()
        row["aov_text"] = Money(int(row["aov"] or 0)).format()
        row["member_share"] = round(100 * (row["member_orders"] or 0) / row["orders"]) if row["orders"] else 0
    return {"days": days, "period": period, "today": now}
