"""The home dashboard: one reader of the warehouse per role's scope, figures for today / this week / this month
against the previous period and the same period last year, a daily trend and the top stores and products.

Scope: whoever holds `analytics.view` sees the subtrees they hold it on (HQ the chain, a region manager the region,
a store manager the store: `org.selectors.scope_paths`); anyone else (a guide) sees their own sales (orders they rang
up or that carry a line attributed to them) and the members bound to them. Every figure comes from the metric
functions in `analytics.metrics` over the warehouse, which the sync keeps equal to the ledgers.

Periods (the chain's local dates): today, Monday to today, the 1st to today. The previous period is yesterday, last
week's Monday to the same weekday, last month's 1st to the same day (or its last day); last year's is the same dates a
year earlier for the month, and 52 weeks earlier (the same weekdays) for the day and the week.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core import charts
from yundian.core.money import Money
from yundian.core.warehouse import warehouse_read
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_paths

from . import metrics

PERIODS = {"day": _("Today"), "week": _("This week"), "month": _("This month")}
TREND_DAYS = 30
TOP_ROWS = 8


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_before(day: date) -> tuple[date, date]:
    """Last month's 1st and the same day of it (its last day when shorter)."""
    last_of_previous = day.replace(day=1) - timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous.replace(day=min(day.day, last_of_previous.day))


def period_windows(today: date) -> metrics.Windows:
    """The nine windows (since, until inclusive): day / week / month, each `_now`, `_previous` and `_last_year`."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    year = timedelta(weeks=52)
    return {
        "day_now": (today, today), "day_previous": (today - timedelta(days=1),) * 2,
        "day_last_year": (today - year,) * 2,
        "week_now": (monday, today), "week_previous": (monday - timedelta(days=7), today - timedelta(days=7)),
        "week_last_year": (monday - year, today - year),
        "month_now": (first, today), "month_previous": _month_before(today),
        "month_last_year": (_year_before(first), _year_before(today)),
    }


@dataclass
class Scope:
    """What the dashboard covers: org paths (None: the guide's own sales), the guide, and how to name it."""
    enterprise_id: int
    paths: list[str] | None
    guide_id: int | None
    label: str
    stores: int = 0


def scope_of(actor: Staff) -> Scope:
    paths = scope_paths(actor, Perm.ANALYTICS_VIEW)
    if not paths:
        return Scope(actor.enterprise_id, None, actor.id, actor.display_name)
    nodes = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, path__in=paths).order_by("path")
    stores = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, kind="store")
    count = sum(stores.filter(path__startswith=p).count() for p in paths)
    return Scope(actor.enterprise_id, paths, None, " · ".join(n.name for n in nodes), count)


def _tables(wh, scope: Scope) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """fact_order, fact_order_line and dim_member restricted to the scope."""
    orders, lines, members = wh.table("fact_order"), wh.table("fact_order_line"), wh.table("dim_member")
    if scope.guide_id is None:
        return (metrics.in_scope(orders, scope.paths, scope.enterprise_id),
                metrics.in_scope(lines, scope.paths, scope.enterprise_id),
                metrics.in_scope(members, scope.paths, scope.enterprise_id))
    lines = lines.filter(lines.enterprise_id == scope.enterprise_id)
    served = lines.filter(lines.guide_id == scope.guide_id).select("order_id").distinct()
    orders = orders.filter(orders.enterprise_id == scope.enterprise_id)
    orders = orders.filter((orders.clerk_id == scope.guide_id) | orders.order_id.isin(served.order_id))
    mine = lines.filter((lines.clerk_id == scope.guide_id) | lines.order_id.isin(orders.order_id))
    members = members.filter((members.enterprise_id == scope.enterprise_id) & (members.guide_id == scope.guide_id))
    return orders, mine, members


def _rows(expr: ibis.Table) -> list[dict]:
    return expr.to_pyarrow().to_pylist()


@dataclass
class Figure:
    key: str
    label: str
    unit: str  # money, count, percent
    value: float | int | None
    previous: float | int | None
    last_year: float | int | None
    link: str = ""
    text: str = field(init=False)

    def __post_init__(self):
        self.text = _format(self.unit, self.value)

    def _change(self, other):
        if self.value is None or other is None:
            return None
        if self.unit == charts.PERCENT:  # a rate moves in points
            points = round(self.value - other, 1)
            return {"value": points, "magnitude": abs(points), "points": True, "direction": (points > 0) - (points < 0)}
        if other == 0:
            return None
        change = round(100 * (self.value - other) / other, 1)
        return {"value": change, "magnitude": abs(change), "points": False, "direction": (change > 0) - (change < 0)}

    @property
    def vs_previous(self):
        return self._change(self.previous)

    @property
    def vs_last_year(self):
        return self._change(self.last_year)


def _format(unit: str, value) -> str:
    if value is None:
        return "–"
    if unit == charts.MONEY:
        return Money(int(value)).format()
    if unit == charts.PERCENT:
        return f"{value:.1f}%"
    return f"{value:,}"


def _ratio(part, whole, scale: int = 100):
    return round(scale * part / whole, 1) if whole else None


def dashboard_figures(wh, scope: Scope, today: date) -> dict[str, dict[str, dict]]:
    """{window key: {figure: value}} for the nine windows: net_sales, orders, aov, new_members, member_share,
    active_members, repurchase_rate (money in fen, shares and rates in percent)."""
    orders, _lines, members = _tables(wh, scope)
    windows = period_windows(today)
    sales = {r["key"]: r for r in _rows(metrics.sales_windows(orders, windows))}
    repeat = {r["key"]: r for r in _rows(metrics.repurchase_windows(orders, windows))}
    joined = {r["key"]: r for r in _rows(metrics.new_members_windows(members, windows))}
    out = {}
    for key in windows:
        s, r = sales[key], repeat[key]
        out[key] = {
            "net_sales": s["net_sales"], "orders": s["orders"],
            "aov": round(s["net_sales"] / s["orders"]) if s["orders"] else None,
            "new_members": joined[key]["new_members"],
            "member_share": _ratio(s["member_sales"], s["net_sales"]),
            "active_members": s["buyers"],
            "repurchase_rate": _ratio(r["repeat"], r["buyers"]),
        }
    return out


FIGURES = [  # key, label, unit
    ("net_sales", _("Sales (net of refunds)"), charts.MONEY),
    ("orders", _("Orders"), charts.COUNT),
    ("aov", _("Average order"), charts.MONEY),
    ("new_members", _("New members"), charts.COUNT),
    ("member_share", _("Member share of sales"), charts.PERCENT),
    ("active_members", _("Active members"), charts.COUNT),
    ("repurchase_rate", _("Repurchase rate"), charts.PERCENT),
]


def _trend(orders: ibis.Table, today: date) -> dict:
    since = today - timedelta(days=TREND_DAYS - 1)
    year = timedelta(weeks=52)
    day = orders.local_date
    both = orders.filter(((day >= since) & (day <= today)) | ((day >= since - year) & (day <= today - year)))
    sales = {r["local_date"]: r["net_sales"] for r in _rows(metrics.sales_daily(both))}  # one query, both ranges
    days = [since + timedelta(days=n) for n in range(TREND_DAYS)]
    return charts.line(_("Sales by day, last 30 days"), x=[d.strftime("%m-%d") for d in days], unit=charts.MONEY,
                       series=[charts.series(_("Sales"), [int(sales.get(d) or 0) for d in days]),
                               charts.series(_("Same days last year"), [int(sales.get(d - year) or 0) for d in days],
                                             dashed=True)])


def _top_stores(wh, orders: ibis.Table, scope: Scope, since: date, today: date) -> dict | None:
    if scope.guide_id is not None or scope.stores < 2:
        return None
    org = wh.table("dim_org")
    top = metrics.sales_by_store(orders, since, today).limit(TOP_ROWS)
    named = top.left_join(org.select(node_id="node_id", name="name"), top.store_id == org.node_id)
    top = _rows(named.select("store_id", "name", "net_sales").order_by([ibis.desc("net_sales"), "store_id"]))
    if not top:
        return None
    return charts.bar(_("Top stores this month"), x=[r["name"] or str(r["store_id"]) for r in top],
                      series=[charts.series(_("Sales"), [int(r["net_sales"]) for r in top])],
                      unit=charts.MONEY, horizontal=True)


def _top_products(wh, lines: ibis.Table, since: date, today: date) -> dict | None:
    sku = wh.table("dim_sku")
    names = sku.group_by("product_id").aggregate(product_name=sku.product_name.max())
    top = metrics.sales_by_product(lines, since, today).limit(TOP_ROWS)
    named = top.left_join(names, "product_id")
    top = [r for r in _rows(named.select("product_id", "product_name", "net_sales")
                            .order_by([ibis.desc("net_sales"), "product_id"])) if r["net_sales"]]
    if not top:
        return None
    return charts.bar(_("Top products this month"), x=[r["product_name"] or str(r["product_id"]) for r in top],
                      series=[charts.series(_("Sales"), [int(r["net_sales"]) for r in top])],
                      unit=charts.MONEY, horizontal=True)


def dashboard_data(wh, scope: Scope, today: date) -> dict:
    """Everything the dashboard reads from the warehouse backend `wh` (any Ibis backend holding the warehouse
    tables): the nine windows' figures, the trend and the top stores and products charts."""
    orders, lines, _members = _tables(wh, scope)
    first = today.replace(day=1)
    return {"windows": dashboard_figures(wh, scope, today), "trend": _trend(orders, today),
            "top_stores": _top_stores(wh, orders, scope, first, today),
            "top_products": _top_products(wh, lines, first, today)}


def home_dashboard(*, actor: Staff, period: str = "day", today: date | None = None) -> dict:
    """The actor's dashboard for `period` (day / week / month): figure cards with their changes, the trend chart
    and the top stores and products charts, all within the actor's scope."""
    if period not in PERIODS:
        period = "day"
    today = today or timezone.localdate()
    scope = scope_of(actor)
    with warehouse_read() as wh:
        data = dashboard_data(wh, scope, today)
    values = data["windows"]
    figures = [Figure(key, str(label), unit, values[f"{period}_now"][key], values[f"{period}_previous"][key],
                      values[f"{period}_last_year"][key]) for key, label, unit in FIGURES]
    return {**data, "scope": scope, "period": period, "periods": PERIODS, "figures": figures, "today": today}
