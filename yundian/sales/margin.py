"""Gross margin per store, category or SKU over a period: revenue net of returns minus the cost of goods sold.

- revenue: the line totals of orders paid in the period (after discounts);
- returns: the amounts refunded for lines brought back in the period (by the return's date);
- cost of goods sold: what the orders' sale issues took out of stock at moving-average cost (inventory's ledger,
  `StockMove.value`), less what their returns put back (at the cost they left with);
- gross margin = net revenue - net cost, margin % = gross margin / net revenue.

Scoped to the stores the actor may see orders of. Registered on the stock reports page (inventory cannot read
sales: sales sits above it), with CSV and Excel export like every report there.
"""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import BigIntegerField, CharField, OuterRef, Subquery, Sum
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category, Sku
from yundian.core.money import Money
from yundian.inventory.models import MoveKind, StockMove
from yundian.inventory.reports import sku_label
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from .models import Order, OrderLine, OrderReturn, ReturnLine
from .services._common import ORDER_SOURCE, RETURN_SOURCE

MAX_ROWS = 5000
# how each source names the group: order lines, return lines, sale issues and return restocks
DIMENSIONS = {
    "store": ("order__store_id", "return_doc__store_id", "doc_store", "doc_store"),
    "category": ("sku__product__category_id", "sku__product__category_id", "sku__product__category_id",
                 "sku__product__category_id"),
    "sku": ("sku_id", "sku_id", "sku_id", "sku_id"),
}


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(date_from, time.min), zone),
            timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), zone))


def _sums(qs, key: str, field: str) -> dict:
    return {row[key]: row["n"] or 0 for row in qs.values(key).annotate(n=Sum(field)).order_by()}


def margin_figures(*, actor: Staff, dimension: str, date_from: date, date_to: date) -> dict:
    """{group id: [revenue, returns, cost of sales, cost returned]} in fen for the period (dates included)."""
    start, end = _bounds(date_from, date_to)
    line_key, return_key, issue_key, restock_key = DIMENSIONS[dimension]
    orders = Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id,
                                  paid_at__gte=start, paid_at__lt=end)
    returns = OrderReturn.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"),
                                         enterprise_id=actor.enterprise_id, created_at__gte=start, created_at__lt=end)
    revenue = _sums(OrderLine.objects.filter(order__in=orders), line_key, "line_total")
    refunded = _sums(ReturnLine.objects.filter(return_doc__in=returns), return_key, "amount")
    moves = StockMove.objects.filter(enterprise_id=actor.enterprise_id)
    issues = moves.filter(kind=MoveKind.SALE_ISSUE, source_type=ORDER_SOURCE,
                          source_id__in=orders.annotate(ref=Cast("id", CharField())).values("ref"))
    restocks = moves.filter(kind=MoveKind.RETURN, source_type=RETURN_SOURCE,
                            source_id__in=returns.annotate(ref=Cast("id", CharField())).values("ref"))
    if dimension == "store":
        issues = issues.annotate(doc_store=Subquery(Order.objects.filter(
            pk=Cast(OuterRef("source_id"), BigIntegerField())).values("store_id")[:1]))
        restocks = restocks.annotate(doc_store=Subquery(OrderReturn.objects.filter(
            pk=Cast(OuterRef("source_id"), BigIntegerField())).values("store_id")[:1]))
    cost = _sums(issues, issue_key, "value")          # negative: value leaving stock
    cost_back = _sums(restocks, restock_key, "value")  # positive: value coming back
    out: dict = defaultdict(lambda: [0, 0, 0, 0])
    for index, figures in enumerate((revenue, refunded, {k: -v for k, v in cost.items()}, cost_back)):
        for key, amount in figures.items():
            out[key][index] += amount
    return dict(out)


def _labels(dimension: str, ids: list) -> dict:
    ids = [i for i in ids if i is not None]
    if dimension == "store":
        return {n.id: (n.code, n.name) for n in OrgNode.objects.filter(pk__in=ids)}
    if dimension == "category":
        return {c.id: (c.code, c.name) for c in Category.objects.filter(pk__in=ids)}
    return {s.id: (s.code, sku_label(s)) for s in Sku.objects.filter(pk__in=ids).select_related("product")}


def _percent(margin: int, net: int) -> str:
    return f"{margin * 100 / net:.1f}%" if net else "–"


def gross_margin(*, actor: Staff, dimension: str, date_from: date, date_to: date) -> tuple[list, list]:
    """(columns, rows) of the margin report, largest net revenue first, with a total row."""
    figures = margin_figures(actor=actor, dimension=dimension, date_from=date_from, date_to=date_to)
    labels = _labels(dimension, list(figures))
    currency = actor.enterprise.currency
    rows, totals = [], [0, 0, 0, 0]
    for key, (revenue, refunded, cost, cost_back) in figures.items():
        net, net_cost = revenue - refunded, cost - cost_back
        code, name = labels.get(key, ("-", str(_("No category")) if dimension == "category" else "-"))
        rows.append([code, name, Money(revenue, currency), Money(refunded, currency), Money(net, currency),
                     Money(net_cost, currency), Money(net - net_cost, currency), _percent(net - net_cost, net)])
        totals = [t + v for t, v in zip(totals, (revenue, refunded, cost, cost_back))]
    rows.sort(key=lambda r: (-r[4].amount, r[0]))
    rows = rows[:MAX_ROWS]
    if rows:
        net, net_cost = totals[0] - totals[1], totals[2] - totals[3]
        rows.append([str(_("Total")), "", Money(totals[0], currency), Money(totals[1], currency), Money(net, currency),
                     Money(net_cost, currency), Money(net - net_cost, currency), _percent(net - net_cost, net)])
    first = {"store": [_("Store code"), _("Store")], "category": [_("Category code"), _("Category")],
             "sku": [_("SKU"), _("Name")]}[dimension]
    return [*first, _("Sales (yuan)"), _("Returns (yuan)"), _("Net revenue (yuan)"), _("Cost of goods sold (yuan)"),
            _("Gross margin (yuan)"), _("Margin %")], rows


def margin_by_store(*, actor: Staff, date_from: date, date_to: date) -> tuple[list, list]:
    return gross_margin(actor=actor, dimension="store", date_from=date_from, date_to=date_to)


def margin_by_category(*, actor: Staff, date_from: date, date_to: date) -> tuple[list, list]:
    return gross_margin(actor=actor, dimension="category", date_from=date_from, date_to=date_to)


def margin_by_sku(*, actor: Staff, date_from: date, date_to: date) -> tuple[list, list]:
    return gross_margin(actor=actor, dimension="sku", date_from=date_from, date_to=date_to)


def register() -> None:
    """Put the margin reports on the stock reports page (called from SalesConfig.ready)."""
    from yundian.inventory.reports import register_report

    register_report("gross-margin-by-store", _("Gross margin by store"), margin_by_store, period=True)
    register_report("gross-margin-by-category", _("Gross margin by category"), margin_by_category, period=True)
    register_report("gross-margin-by-sku", _("Gross margin by SKU"), margin_by_sku, period=True)
