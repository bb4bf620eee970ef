"""Till shifts, read side: the cash denominations a drawer is counted in, and the X / Z report of a shift.

A shift's figures are never kept as counters: they are added up from its payments, refunds and cash moves (all
tied to the shift by a foreign key when they were written). The X report is that sum mid-shift; the Z report is the
same sum taken under the shift's lock at the close and frozen on the row. Amounts are integer fen.
"""
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core.money import Money

from .models import CashMove, CashMoveKind, Payment, PaymentMethod, Refund, TillShift

# the notes and coins a drawer is counted in, largest first (fen). CNY: 100, 50, 20, 10, 5, 1 yuan; 5 and 1 jiao.
DENOMINATIONS = {
    "CNY": (10000, 5000, 2000, 1000, 500, 100, 50, 10),
    "HKD": (100000, 50000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10),
    "USD": (10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1),
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "JPY": (10000, 5000, 1000, 500, 100, 50, 10, 5, 1),
    "KRW": (50000, 10000, 5000, 1000, 500, 100, 50, 10),
}


def denominations(currency: str) -> tuple[int, ...]:
    return DENOMINATIONS.get(currency, DENOMINATIONS["CNY"])


def shift_report(shift: TillShift, *, at=None) -> dict:
    """The shift's X report (or its Z report when taken at the close): orders and returns served, payments and
    refunds per method, and the drawer's expected cash. Plain ints and strings (stored as JSON on the close)."""
    per_method = {m: {"method": m, "payments": 0, "taken": 0, "refunds": 0, "refunded": 0, "net": 0}
                  for m in PaymentMethod.values}
    for row in (Payment.objects.filter(shift=shift).values("method")
                .annotate(n=Count("id"), total=Sum("amount"))):
        per_method[row["method"]].update(payments=row["n"], taken=row["total"] or 0)
    for row in (Refund.objects.filter(shift=shift).values("payment__method")
                .annotate(n=Count("id"), total=Sum("amount"))):
        per_method[row["payment__method"]].update(refunds=row["n"], refunded=row["total"] or 0)
    for entry in per_method.values():
        entry["net"] = entry["taken"] - entry["refunded"]
    orders = Payment.objects.filter(shift=shift).values("order_id").distinct().count()
    refund_sources = list(Refund.objects.filter(shift=shift).values_list("source_ref", flat=True).distinct())
    moves = {row["kind"]: (row["n"], row["total"] or 0) for row in
             CashMove.objects.filter(shift=shift).values("kind").annotate(n=Count("id"), total=Sum("amount"))}
    cash_in = moves.get(CashMoveKind.CASH_IN, (0, 0))
    cash_out = moves.get(CashMoveKind.CASH_OUT, (0, 0))
    cash = per_method[PaymentMethod.CASH]
    expected = shift.opening_float + cash["taken"] - cash["refunded"] + cash_in[1] + cash_out[1]
    sales_total = sum(m["taken"] for m in per_method.values())
    refunds_total = sum(m["refunded"] for m in per_method.values())
    return {
        "shift": shift.number, "store_id": shift.store_id, "opened_by_id": shift.opened_by_id,
        "opened_at": shift.opened_at.isoformat(), "taken_at": (at or timezone.now()).isoformat(),
        "orders": orders, "sales_total": sales_total,
        "returns": sum(1 for s in refund_sources if s.startswith("return:")),
        "voids": sum(1 for s in refund_sources if s.startswith("void:")),
        "refunds_total": refunds_total, "net_total": sales_total - refunds_total,
        "methods": [per_method[m] for m in PaymentMethod.values],
        "cash": {"float": shift.opening_float, "sales": cash["taken"], "refunds": cash["refunded"],
                 "cash_in": cash_in[1], "cash_in_count": cash_in[0],
                 "cash_out": -cash_out[1], "cash_out_count": cash_out[0], "expected": expected},
    }


def counted_total(counts: dict) -> int:
    """What a count by denomination adds up to (keys are fen as strings, as stored in JSON)."""
    return sum(int(value) * pieces for value, pieces in counts.items())


def method_rows(report: dict) -> list[dict]:
    """The report's per-method rows, each with its translated label."""
    labels = dict(PaymentMethod.choices)
    return [{**row, "label": str(labels.get(row["method"], row["method"]))} for row in report["methods"]]


def report_rows(report: dict, currency: str, show_expected: bool) -> list[list]:
    """The report as (label, count, amount) rows for exports and the printed slip, amounts as Money (core.exports
    writes them as yuan numbers, the slip formats them); expected cash only when `show_expected` (a clerk's X report
    is blind)."""
    def m(v: int) -> Money:
        return Money(v, currency)

    rows = [[_("Orders"), report["orders"], m(report["sales_total"])],
            [_("Returns"), report["returns"], m(-report["refunds_total"])],
            [_("Net"), "", m(report["net_total"])]]
    for row in method_rows(report):
        rows.append([row["label"], row["payments"], m(row["taken"])])
        if row["refunds"]:
            rows.append([_("%(method)s refunds") % {"method": row["label"]}, row["refunds"], m(-row["refunded"])])
    cash = report["cash"]
    rows += [[_("Opening float"), "", m(cash["float"])], [_("Cash sales"), "", m(cash["sales"])],
             [_("Cash refunds"), "", m(-cash["refunds"])], [_("Cash in"), cash["cash_in_count"], m(cash["cash_in"])],
             [_("Cash out"), cash["cash_out_count"], m(-cash["cash_out"])]]
    if show_expected:
        rows.append([_("Expected cash"), "", m(cash["expected"])])
    if "counted" in report:
        rows += [[_("Counted cash"), "", m(report["counted"])], [_("Over / short"), "", m(report["over_short"])]]
    return rows
