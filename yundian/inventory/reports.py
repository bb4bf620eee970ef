"""Stock reports, scoped to the actor's stock.view subtree: on hand by store or category, stock valuation at
moving-average cost (by warehouse, category, SKU), slow movers, turnover, low stock. Each returns (columns, rows)
so pages, CSV and Excel exports share one definition. A higher context adds its own (sales: gross margin) with
`register_report`; a report over a period takes `date_from` and `date_to` (dates, both included)."""
from collections.abc import Callable
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.exports import table_file
from yundian.core.money import Money
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from .models import MoveKind, ReplenishmentRule, StockBalance, StockMove, WarehouseKind

MAX_ROWS = 5000


def _balances(actor: Staff, warehouse_id: int | None = None):
    qs = StockBalance.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                     warehouse__enterprise_id=actor.enterprise_id)
    return qs.filter(warehouse_id=warehouse_id) if warehouse_id is not None else qs


def _sold(actor: Staff, days: int, warehouse_id: int | None = None) -> dict[tuple[int, int], int]:
    since = timezone.now() - timedelta(days=days)
    qs = StockMove.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                  enterprise_id=actor.enterprise_id, kind=MoveKind.SALE_ISSUE, occurred_at__gte=since)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    return {(r["sku_id"], r["warehouse_id"]): -r["n"] for r in
            qs.values("sku_id", "warehouse_id").annotate(n=Sum("quantity")).order_by()}


def on_hand_by_store(*, actor: Staff) -> tuple[list, list]:
    rows = (_balances(actor).values("warehouse__code", "warehouse__name", "warehouse__kind")
            .annotate(units=Sum("on_hand"), held=Sum("reserved"),
                      value=Sum(F("on_hand") * F("sku__base_price")))
            .order_by("warehouse__code"))
    columns = [_("Warehouse code"), _("Warehouse"), _("Kind"), _("On hand"), _("Reserved"), _("Value (yuan)")]
    kinds = dict(WarehouseKind.choices)
    currency = actor.enterprise.currency
    return columns, [[r["warehouse__code"], r["warehouse__name"], str(kinds.get(r["warehouse__kind"], "")),
                      r["units"], r["held"], Money(r["value"] or 0, currency)] for r in rows[:MAX_ROWS]]


def on_hand_by_category(*, actor: Staff) -> tuple[list, list]:
    rows = (_balances(actor).values("sku__product__category__code", "sku__product__category__name")
            .annotate(units=Sum("on_hand"), held=Sum("reserved"),
                      value=Sum(F("on_hand") * F("sku__base_price")))
            .order_by("sku__product__category__code"))
    columns = [_("Category code"), _("Category"), _("On hand"), _("Reserved"), _("Value (yuan)")]
    currency = actor.enterprise.currency
    return columns, [[r["sku__product__category__code"] or "-", r["sku__product__category__name"] or "-",
                      r["units"], r["held"], Money(r["value"] or 0, currency)] for r in rows[:MAX_ROWS]]


def slow_movers(*, actor: Staff, days: int = 30, warehouse_id: int | None = None) -> tuple[list, list]:
    """Stock on hand that sold least in the last `days` days (days of cover = on hand / daily sales)."""
    sold = _sold(actor, days, warehouse_id)
    rows = []
    for b in _balances(actor, warehouse_id).filter(on_hand__gt=0).values(
            "sku_id", "warehouse_id", "sku__code", "sku__name", "warehouse__code", "on_hand"):
        units = sold.get((b["sku_id"], b["warehouse_id"]), 0)
        cover = round(b["on_hand"] * days / units, 1) if units else None
        rows.append([b["warehouse__code"], b["sku__code"], b["sku__name"], b["on_hand"], units, cover])
    rows.sort(key=lambda r: (r[4], -(r[5] or 10**9), -r[3]))
    return [_("Warehouse"), _("SKU"), _("Name"), _("On hand"), _("Sold"), _("Days of cover")], rows[:MAX_ROWS]


def turnover(*, actor: Staff, days: int = 30) -> tuple[list, list]:
    """Per warehouse: units sold in the period / average stock ((now + period start) / 2); days of supply."""
    since = timezone.now() - timedelta(days=days)
    now_on_hand = {r["warehouse_id"]: (r["warehouse__code"], r["n"]) for r in
                   _balances(actor).values("warehouse_id", "warehouse__code").annotate(n=Sum("on_hand")).order_by()}
    moves = StockMove.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                     enterprise_id=actor.enterprise_id, occurred_at__gte=since)
    net = dict(moves.values("warehouse_id").annotate(n=Sum("quantity")).order_by().values_list("warehouse_id", "n"))
    sold = dict(moves.filter(kind=MoveKind.SALE_ISSUE).values("warehouse_id").annotate(n=Sum("quantity")).order_by()
                .values_list("warehouse_id", "n"))
    rows = []
    for warehouse_id, (code, on_hand) in sorted(now_on_hand.items(), key=lambda i: i[1][0]):
        start = on_hand - (net.get(warehouse_id) or 0)
        average = (on_hand + start) / 2
        units = -(sold.get(warehouse_id) or 0)
        rate = round(units / average, 2) if average else None
        supply = round(average / (units / days), 1) if units else None
        rows.append([code, units, round(average, 1), rate, supply])
    return [_("Warehouse"), _("Sold"), _("Average stock"), _("Turnover"), _("Days of supply")], rows[:MAX_ROWS]


def low_stock(*, actor: Staff, warehouse_id: int | None = None, days: int = 14) -> tuple[list, list]:
    """What a store manager sees first: SKUs at or below their reorder point (rule min), and SKUs out of stock
    that sold in the last `days` days; fewest days of cover first."""
    sold = _sold(actor, days, warehouse_id)
    minimum = {(s, w): m for s, w, m in ReplenishmentRule.objects.filter(
        warehouse__enterprise_id=actor.enterprise_id, is_active=True,
        **({"warehouse_id": warehouse_id} if warehouse_id is not None else {})).values_list(
        "sku_id", "warehouse_id", "min_quantity")}
    rows = []
    below_min = Exists(ReplenishmentRule.objects.filter(sku_id=OuterRef("sku_id"), warehouse_id=OuterRef("warehouse_id"),
                                                        is_active=True,
                                                        min_quantity__gte=OuterRef("on_hand") - OuterRef("reserved")))
    candidates = _balances(actor, warehouse_id).filter(Q(on_hand__lte=F("reserved")) | below_min)
    for b in candidates.select_related("sku__product", "warehouse"):  # the few at or below their reorder point
        key = (b.sku_id, b.warehouse_id)
        available = b.on_hand - b.reserved
        units = sold.get(key, 0)
        reorder = minimum.get(key)
        if not ((reorder is not None and available <= reorder) or (available <= 0 and units > 0)):
            continue
        cover = round(available * days / units, 1) if units else None
        rows.append([b.warehouse.name, b.sku.code, b.sku.label, available, reorder, units, cover])
    rows.sort(key=lambda r: (r[6] if r[6] is not None else 10**9, r[3]))
    return [_("Warehouse"), _("SKU"), _("Name"), _("Available"), _("Reorder point"), _("Sold"),
            _("Days of cover")], rows[:MAX_ROWS]


def _with_total(rows: list, units_at: int, value_at: int, currency: str) -> list:
    """The rows and a last "Total" row adding up the units and value columns."""
    if not rows:
        return rows
    total = [""] * len(rows[0])
    total[0] = str(_("Total"))
    total[units_at] = sum(r[units_at] for r in rows)
    total[value_at] = Money(sum(r[value_at].amount for r in rows), currency)
    return [*rows, total]


def sku_label(sku) -> str:
    """What a person calls a SKU: catalog's Sku.label (the sales margin report imports it from here)."""
    return sku.label


def valuation_by_warehouse(*, actor: Staff) -> tuple[list, list]:
    """Stock value at moving-average cost (quantity x average cost = the balances' value) per warehouse."""
    currency = actor.enterprise.currency
    kinds = dict(WarehouseKind.choices)
    rows = [[r["warehouse__code"], r["warehouse__name"], str(kinds.get(r["warehouse__kind"], "")), r["units"],
             Money(r["value"] or 0, currency)]
            for r in _balances(actor).values("warehouse__code", "warehouse__name", "warehouse__kind")
            .annotate(units=Sum("on_hand"), value=Sum("value")).order_by("warehouse__code")[:MAX_ROWS]]
    return ([_("Warehouse code"), _("Warehouse"), _("Kind"), _("On hand"), _("Stock value at cost (yuan)")],
            _with_total(rows, 3, 4, currency))


def valuation_by_category(*, actor: Staff) -> tuple[list, list]:
    """Stock value at moving-average cost per category (all warehouses in scope)."""
    currency = actor.enterprise.currency
    rows = [[r["sku__product__category__code"] or "-", r["sku__product__category__name"] or "-", r["units"],
             Money(r["value"] or 0, currency)]
            for r in _balances(actor).values("sku__product__category__code", "sku__product__category__name")
            .annotate(units=Sum("on_hand"), value=Sum("value")).order_by("sku__product__category__code")[:MAX_ROWS]]
    return ([_("Category code"), _("Category"), _("On hand"), _("Stock value at cost (yuan)")],
            _with_total(rows, 2, 3, currency))


def valuation_by_sku(*, actor: Staff) -> tuple[list, list]:
    """Each SKU on hand in each warehouse: quantity, moving-average unit cost, value; most valuable first."""
    currency = actor.enterprise.currency
    rows = [[b.warehouse.code, b.sku.code, b.sku.label, b.on_hand, Money(b.average_cost, currency),
             Money(b.value, currency)]
            for b in _balances(actor).filter(on_hand__gt=0).select_related("warehouse", "sku__product")
            .order_by("-value", "warehouse__code", "sku__code")[:MAX_ROWS]]
    return ([_("Warehouse"), _("SKU"), _("Name"), _("On hand"), _("Average cost (yuan)"),
             _("Stock value at cost (yuan)")], _with_total(rows, 3, 5, currency))


REPORTS: dict[str, tuple[str, Callable]] = {
    "on-hand-by-store": (_("Stock on hand by store"), on_hand_by_store),
    "on-hand-by-category": (_("Stock on hand by category"), on_hand_by_category),
    "valuation-by-warehouse": (_("Stock valuation by warehouse"), valuation_by_warehouse),
    "valuation-by-category": (_("Stock valuation by category"), valuation_by_category),
    "valuation-by-sku": (_("Stock valuation by SKU"), valuation_by_sku),
    "slow-movers": (_("Slow movers (30 days)"), slow_movers),
    "turnover": (_("Turnover (30 days)"), turnover),
    "low-stock": (_("Low stock"), low_stock),
}
PERIOD_REPORTS: set[str] = set()  # slugs whose function takes date_from and date_to


def register_report(slug: str, title, build: Callable, *, period: bool = False) -> None:
    """Add a report of a higher context to the stock reports page (called from its AppConfig.ready)."""
    REPORTS[slug] = (title, build)
    if period:
        PERIOD_REPORTS.add(slug)


def low_stock_count(actor: Staff) -> int:
    return len(low_stock(actor=actor)[1])


def export_rows(columns: list, rows: list, fmt: str):
    """(content type, bytes) of the table as CSV or .xlsx, through the one export path (money as yuan numbers)."""
    return table_file(columns, rows, fmt)
