"""The analytics reports: each runs one function of `report_metrics` on the warehouse for a scope and a period and
returns a `Report` (columns, rows of numbers and Money, a drill-down link per row, a chart spec), which the page
shows, `core.exports.table_file` exports and the scheduled mail attaches, so the three never disagree.

Rates are Decimals in percent rounded half up to 0.1 (a number in the export, "12.5" under a "(%)" header).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yundian.core import charts
from yundian.core.money import Money

from . import report_metrics as M
from .metrics import in_scope

MAX_ROWS = 5000
WEEKDAYS = [gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"), gettext_lazy("Thu"),
            gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun")]


@dataclass
class Query:
    """What a report is asked for: whose enterprise, which subtree paths, which days, optionally one category."""

    enterprise_id: int
    paths: list[str] | None
    since: date
    until: date
    currency: str = "CNY"
    category_id: int | None = None
    store_hours: dict[int, dict] = field(default_factory=dict)  # store id -> opening_hours (mon..sun intervals)


@dataclass
class Report:
    columns: list
    rows: list[list]
    links: list[str | None] = field(default_factory=list)  # the first cell's drill-down, per row
    chart: dict | None = None
    notes: list[str] = field(default_factory=list)


def percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rows(expr) -> list[dict]:
    return expr.limit(MAX_ROWS).to_pyarrow().to_pylist()


def _names(backend, table: str, key: str, label: str, ids, enterprise_id: int) -> dict:
    """{id: name} from a dimension for the ids shown (the enterprise's whole dimension is read: a literal list of
    thousands of ids costs Ibis more than the rows do)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    t = backend.table(table)
    found = t.filter(t.enterprise_id == enterprise_id).select(key, label).to_pyarrow()
    return {k: v for k, v in zip(found[key].to_pylist(), found[label].to_pylist()) if k in wanted}


def _link(slug: str, **params) -> str:
    return f"/analytics/reports/{slug}/?" + urlencode({k: v for k, v in params.items() if v is not None})


def _facts(backend, q: Query, table: str):
    return in_scope(backend.table(table), q.paths, q.enterprise_id)


def _sales(dimension: str):
    def build(backend, q: Query) -> Report:
        expr = M.sales_by(_facts(backend, q, "fact_order"), _facts(backend, q, "fact_order_line"), dimension,
                          since=q.since, until=q.until, category_id=q.category_id)
        rows = _rows(expr)
        keys = [r["key"] for r in rows]
        period = {"from": q.since.isoformat(), "to": q.until.isoformat()}
        links: list[str | None] = [None] * len(rows)
        if dimension == "store":
            names = _names(backend, "dim_org", "node_id", "name", keys, q.enterprise_id)
            labels = [names.get(k, str(k)) for k in keys]
            links = [_link("sales-by-day", node=k, **period) for k in keys]
        elif dimension == "category":
            skus = backend.table("dim_sku")
            names = {r["category_id"]: r["category_name"] for r in skus.filter(
                skus.enterprise_id == q.enterprise_id).select("category_id", "category_name").distinct()
                .to_pyarrow().to_pylist()}
            labels = [names.get(k) or _("Uncategorised") for k in keys]
            links = [_link("sales-by-sku", category=k, **period) for k in keys]
        elif dimension == "sku":
            names = _names(backend, "dim_sku", "sku_id", "name", keys, q.enterprise_id)
            labels = [names.get(k, str(k)) for k in keys]
        elif dimension == "guide":
            names = _names(backend, "dim_staff", "staff_id", "display_name", keys, q.enterprise_id)
            labels = [names.get(k, str(k)) if k is not None else _("No guide") for k in keys]
        elif dimension == "channel":
            from yundian.sales.models import OrderChannel

            words = dict(OrderChannel.choices)
            labels = [str(words.get(k, k)) for k in keys]
        elif dimension == "day":
            labels = keys
            links = [_link("sales-by-hour", **{"from": k.isoformat(), "to": k.isoformat()}) for k in keys]
        else:  # hour
            labels = [f"{k:02d}:00" for k in keys]
        heads = {"store": _("Store"), "day": _("Day"), "hour": _("Hour"), "channel": _("Channel"),
                 "category": _("Category"), "sku": _("SKU"), "guide": _("Guide")}
        columns = [heads[dimension], _("Orders"), _("Net sales (yuan)"), _("Average order (yuan)")]
        if dimension in M.LINE_DIMENSIONS or q.category_id is not None:
            columns.insert(2, _("Units"))
        table = []
        for label, r in zip(labels, rows):
            row = [label, r["orders"]]
            if len(columns) == 5:
                row.append(r["units"])
            row += [Money(int(r["net_sales"] or 0), q.currency), Money(int(r["aov"] or 0), q.currency)]
            table.append(row)
        values = [int(r["net_sales"] or 0) for r in rows]
        title = _("Net sales")
        if dimension in ("day", "hour"):
            chart = charts.line(title, x=[str(v) for v in labels], unit=charts.MONEY, currency=q.currency,
                                series=[charts.series(title, values)])
        else:
            chart = charts.bar(title, x=[str(v) for v in labels[:20]], unit=charts.MONEY, currency=q.currency,
                               horizontal=True, series=[charts.series(title, values[:20])])
        return Report(columns, table, links, chart)
    return build


def payments(backend, q: Query) -> Report:
    from yundian.sales.models import PaymentMethod

    rows = _rows(M.sales_by_payment(_facts(backend, q, "fact_order"), _facts(backend, q, "fact_payment"),
                                    since=q.since, until=q.until))
    words = dict(PaymentMethod.choices)
    labels = [str(words.get(r["key"], r["key"])) for r in rows]
    columns = [_("Payment method"), _("Orders"), _("Paid (yuan)"), _("Refunded (yuan)"), _("Net (yuan)")]
    table = [[label, r["orders"], Money(int(r["paid"]), q.currency), Money(int(r["refunded"]), q.currency),
              Money(int(r["net_sales"]), q.currency)] for label, r in zip(labels, rows)]
    chart = charts.pie(_("Net by payment method"), items=[(label, int(r["net_sales"])) for label, r in
                                                          zip(labels, rows)], unit=charts.MONEY, currency=q.currency)
    return Report(columns, table, [None] * len(table), chart)


def hours_table(store_hours: dict[int, dict]):
    """The stores' opening hours as rows (store_id, weekday, opens, closes in minutes) for `outside_hours`."""
    import ibis

    keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    cols = {"store_id": [], "weekday": [], "opens": [], "closes": []}
    for store_id, week in store_hours.items():
        for weekday, key in enumerate(keys):
            for opens, closes in (week or {}).get(key, []):
                h1, m1 = opens.split(":")
                h2, m2 = closes.split(":")
                cols["store_id"].append(store_id)
                cols["weekday"].append(weekday)
                cols["opens"].append(int(h1) * 60 + int(m1))
                cols["closes"].append(int(h2) * 60 + int(m2))
    return ibis.memtable(cols, schema={"store_id": "int64", "weekday": "int64", "opens": "int64",
                                       "closes": "int64"})


def order_hours(backend, q: Query) -> Report:
    orders = _facts(backend, q, "fact_order")
    rows = _rows(M.order_hours(orders, since=q.since, until=q.until))
    grid = {(r["weekday"], r["hour"]): r["orders"] for r in rows}
    columns = [_("Weekday")] + [f"{h:02d}" for h in range(24)] + [_("Orders")]
    table = [[str(WEEKDAYS[d])] + [grid.get((d, h), 0) for h in range(24)]
             + [sum(grid.get((d, h), 0) for h in range(24))] for d in range(7)]
    chart = charts.heatmap(_("Orders by weekday and hour"), x=[f"{h:02d}" for h in range(24)],
                           y=[str(w) for w in WEEKDAYS],
                           cells=[(h, d, grid[(d, h)]) for d, h in sorted(grid)])
    notes = []
    if q.store_hours:
        outside = M.outside_hours(orders, hours_table(q.store_hours), since=q.since, until=q.until)
        result = outside.to_pyarrow().to_pylist()[0]
        share = percent(result["outside"] or 0, result["online_orders"] or 0)
        notes.append(_("Storefront orders placed outside store hours: %(outside)s of %(online)s (%(share)s%%).") % {
            "outside": result["outside"] or 0, "online": result["online_orders"] or 0,
            "share": share if share is not None else "–"})
    return Report(columns, table, [None] * 7, chart, notes)


def store_ranking(backend, q: Query) -> Report:
    rows = _rows(M.store_ranking(_facts(backend, q, "fact_order"), since=q.since, until=q.until))
    names = _names(backend, "dim_org", "node_id", "name", [r["store_id"] for r in rows], q.enterprise_id)
    columns = [_("Rank"), _("Store"), _("Orders"), _("Net sales (yuan)"), _("Same dates last year (yuan)"),
               _("Growth (%)")]
    table, links = [], []
    for r in rows:
        growth = percent(r["net_sales"] - r["last_year"], r["last_year"]) if r["comparable"] else None
        table.append([r["rank"], names.get(r["store_id"], str(r["store_id"])), r["orders"],
                      Money(int(r["net_sales"]), q.currency), Money(int(r["last_year"]), q.currency), growth])
        links.append(_link("sales-by-day", node=r["store_id"], **{"from": q.since.isoformat(),
                                                                  "to": q.until.isoformat()}))
    same_now = sum(r["net_sales"] for r in rows if r["comparable"])
    same_before = sum(r["last_year"] for r in rows if r["comparable"])
    growth = percent(same_now - same_before, same_before)
    notes = [_("Same-store growth (%(stores)s stores that sold in both periods): %(growth)s%%") % {
        "stores": sum(1 for r in rows if r["comparable"]), "growth": growth if growth is not None else "–"}]
    chart = charts.bar(_("Net sales"), x=[row[1] for row in table[:20]], horizontal=True, unit=charts.MONEY,
                       currency=q.currency, series=[charts.series(_("Net sales"), [r["net_sales"] for r in rows[:20]]),
                                                    charts.series(_("Same dates last year"),
                                                                  [r["last_year"] for r in rows[:20]], dashed=True)])
    return Report(columns, table, links, chart, notes)


def stock(backend, q: Query) -> Report:
    moves = _facts(backend, q, "fact_stock_move")
    if q.category_id is not None:
        moves = moves.filter(moves.category_id == q.category_id)
    rows = _rows(M.stock_position(moves, since=q.since, until=q.until))
    stores = _names(backend, "dim_org", "node_id", "name", [r["store_id"] for r in rows], q.enterprise_id)
    skus = _names(backend, "dim_sku", "sku_id", "name", [r["sku_id"] for r in rows], q.enterprise_id)
    days = (q.until - q.since).days + 1
    columns = [_("Store"), _("SKU"), _("On hand"), _("Stock value (yuan)"), _("Sold"), _("Cost of goods sold (yuan)"),
               _("Turnover"), _("Days of cover"), _("Status")]
    table = []
    for r in rows:
        average = Decimal(r["value_start"] + r["value"]) / 2
        turnover = (Decimal(r["cogs"]) / average).quantize(Decimal("0.01"), ROUND_HALF_UP) if average > 0 else None
        cover = ((Decimal(r["on_hand"]) * days / Decimal(r["sold"])).quantize(Decimal("0.1"), ROUND_HALF_UP)
                 if r["sold"] > 0 else None)
        status = ""
        if r["on_hand"] > 0 and r["sold"] <= 0:
            status = _("Slow mover")
        elif r["on_hand"] <= 0 and r["sold"] > 0:
            status = _("Stock-out")
        table.append([stores.get(r["store_id"], str(r["store_id"])), skus.get(r["sku_id"], str(r["sku_id"])),
                      r["on_hand"], Money(int(r["value"]), q.currency), r["sold"], Money(int(r["cogs"]), q.currency),
                      turnover, cover, status])
    slow = sum(1 for row in table if row[-1] == _("Slow mover"))
    out = sum(1 for row in table if row[-1] == _("Stock-out"))
    chart = charts.pie(_("Stock lines"), items=[(_("Slow mover"), slow), (_("Stock-out"), out),
                                                (_("Selling"), len(table) - slow - out)])
    return Report(columns, table, [None] * len(table), chart)


def promotions(backend, q: Query) -> Report:
    rows = _rows(M.promotion_results(_facts(backend, q, "fact_order"), _facts(backend, q, "fact_coupon_redemption"),
                                     since=q.since, until=q.until))
    from yundian.promotions.models import CouponCampaign

    names = dict(CouponCampaign.objects.filter(pk__in=[r["campaign_id"] for r in rows])
                 .values_list("pk", "name"))
    columns = [_("Campaign"), _("Members"), _("Coupons used"), _("Their sales (yuan)"), _("Their baseline (yuan)"),
               _("Uplift (yuan)"), _("Cost (yuan)"), _("ROI (%)")]
    table = [[names.get(r["campaign_id"], str(r["campaign_id"])), r["participants"], r["redemptions"],
              Money(int(r["sales"]), q.currency), Money(int(r["baseline"]), q.currency),
              Money(int(r["uplift"]), q.currency), Money(int(r["cost"]), q.currency),
              percent(r["uplift"] - r["cost"], r["cost"])] for r in rows]
    chart = charts.bar(_("Uplift and cost"), x=[row[0] for row in table[:20]], unit=charts.MONEY, currency=q.currency,
                       series=[charts.series(_("Uplift"), [r["uplift"] for r in rows[:20]]),
                               charts.series(_("Cost"), [r["cost"] for r in rows[:20]])])
    return Report(columns, table, [None] * len(table), chart,
                  [_("Uplift: the members' net sales in the period less theirs in as many days before it. "
                     "ROI: (uplift - cost) / cost.")])


def cohorts(backend, q: Query) -> Report:
    members = in_scope(backend.table("dim_member"), q.paths, q.enterprise_id)
    rows = _rows(M.member_cohorts(members, _facts(backend, q, "fact_order"), since=q.since, until=q.until))
    width = (q.until.year * 12 + q.until.month) - (q.since.year * 12 + q.since.month) + 1
    grid: dict[int, dict] = {}
    for r in rows:
        grid.setdefault(r["cohort"], {"size": r["size"]})[r["offset"]] = r["retained"]
    columns = [_("Joined"), _("Members")] + [_("Month %(n)s (%%)") % {"n": k} for k in range(width)]
    table = []
    for cohort in sorted(grid):
        year, month = divmod(cohort, 12)
        size = grid[cohort]["size"]
        table.append([f"{year}-{month + 1:02d}", size] + [percent(grid[cohort].get(k, 0), size)
                                                          if cohort + k <= q.until.year * 12 + q.until.month - 1
                                                          else None for k in range(width)])
    chart = charts.heatmap(_("Share of members buying, by month after joining"), unit=charts.PERCENT,
                           x=[str(k) for k in range(width)], y=[row[0] for row in table],
                           cells=[(k, j, float(row[2 + k])) for j, row in enumerate(table) for k in range(width)
                                  if row[2 + k] is not None])
    return Report(columns, table, [None] * len(table), chart)


def guides(backend, q: Query) -> Report:
    rows = _rows(M.guide_performance(_facts(backend, q, "fact_order_line"),
                                     in_scope(backend.table("dim_member"), q.paths, q.enterprise_id),
                                     _facts(backend, q, "fact_commission_entry"), since=q.since, until=q.until))
    names = _names(backend, "dim_staff", "staff_id", "display_name", [r["guide_id"] for r in rows], q.enterprise_id)
    columns = [_("Guide"), _("Orders"), _("Net sales (yuan)"), _("New members"), _("Commission (yuan)"),
               _("Effective guide")]
    table = [[names.get(r["guide_id"], str(r["guide_id"])), r["orders"], Money(int(r["net_sales"]), q.currency),
              r["new_members"], Money(int(r["commission"]), q.currency), _("yes") if r["effective"] else _("no")]
             for r in rows]
    effective = sum(1 for r in rows if r["effective"])
    chart = charts.bar(_("Net sales"), x=[row[0] for row in table[:20]], horizontal=True, unit=charts.MONEY,
                       currency=q.currency, series=[charts.series(_("Net sales"), [r["net_sales"] for r in rows[:20]])])
    return Report(columns, table, [None] * len(table), chart, [
        _("Effective guides (at least %(n)s orders a week): %(effective)s of %(all)s") % {
            "n": M.EFFECTIVE_ORDERS_PER_WEEK, "effective": effective, "all": len(rows)}])


REPORTS: dict[str, tuple] = {
    "sales-by-store": (gettext_lazy("Sales by store"), _sales("store")),
    "sales-by-day": (gettext_lazy("Sales by day"), _sales("day")),
    "sales-by-hour": (gettext_lazy("Sales by hour"), _sales("hour")),
    "sales-by-category": (gettext_lazy("Sales by category"), _sales("category")),
    "sales-by-sku": (gettext_lazy("Sales by SKU"), _sales("sku")),
    "sales-by-channel": (gettext_lazy("Sales by channel"), _sales("channel")),
    "sales-by-guide": (gettext_lazy("Sales by guide"), _sales("guide")),
    "sales-by-payment": (gettext_lazy("Sales by payment method"), payments),
    "order-hours": (gettext_lazy("Order hours"), order_hours),
    "store-ranking": (gettext_lazy("Store ranking"), store_ranking),
    "stock": (gettext_lazy("Stock turnover and cover"), stock),
    "promotions": (gettext_lazy("Promotion results"), promotions),
    "cohorts": (gettext_lazy("Member cohorts"), cohorts),
    "guides": (gettext_lazy("Guide performance"), guides),
}


def report_run(slug: str, backend, q: Query) -> Report:
    """The report `slug` for the query (KeyError for an unknown slug)."""
    return REPORTS[slug][1](backend, q)
