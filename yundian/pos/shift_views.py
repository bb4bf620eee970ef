"""The till's shift pages: open a shift with a counted float, cash in / out, the X report (blind for a clerk: no
expected cash until the close), the blind close and its Z report (printable, CSV / Excel, ESC/POS bytes), and the
store's daily settlement (日结). Parse -> one service or selector -> render; every form carries its client key, so
a double submit replays instead of doing it twice.
"""
import uuid
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods

from yundian.core.errors import DomainError, ValidationFailed
from yundian.core.exports import table_file
from yundian.core.money import MINOR_UNITS, SYMBOLS, Money
from yundian.core.numbers import parse_whole
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.sales import selectors as sales_selectors
from yundian.sales import services as sales_services
from yundian.sales.models import CashMoveKind, DailySettlement, ShiftStatus, TillShift
from yundian.sales.receipts import zreport_escpos
from yundian.sales.services.shifts import business_day_bounds, clean_business_date
from yundian.sales.shifts import denominations, method_rows, report_rows, shift_report

from yundian.stores.selectors import store_time_zone

from . import selectors
from .views import pos_view


def _count_from_post(request: HttpRequest, currency: str) -> dict:
    """The denomination grid of a form: fields n_<fen> holding the pieces counted (blank = none)."""
    counts = {}
    for value in denominations(currency):
        raw = request.POST.get(f"n_{value}", "").strip()
        if raw:
            pieces = parse_whole(raw) if len(raw) <= 6 else None
            if pieces is None:
                raise ValidationFailed(_("Count whole pieces."), code="invalid_count", details={"field": f"n_{value}"})
            counts[str(value)] = pieces
    return counts


def _amount_from_post(raw: str, currency: str) -> int:
    try:
        money = Money.parse(raw, currency)
    except ValidationFailed:
        raise ValidationFailed(_("Not an amount of money."), code="invalid_amount", details={"field": "amount"})
    return money.amount


def _report_file(report: dict, currency: str, show_expected: bool, fmt: str, filename: str) -> HttpResponse:
    """The report's rows as a CSV / .xlsx download, through the one export path (amounts as yuan numbers)."""
    columns = [pgettext("report column", "Item"), pgettext("report column", "Count"), _("Amount (yuan)")]
    content_type, body = table_file(columns, report_rows(report, currency, show_expected), fmt)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _grid(currency: str, counts: dict | None = None) -> list[dict]:
    counts = counts or {}
    return [{"value": v, "label": Money(v, currency).format(), "pieces": counts.get(str(v), "")}
            for v in denominations(currency)]


@pos_view()
@require_http_methods(["GET", "POST"])
def shift_page(request: HttpRequest, store_id: int) -> HttpResponse:
    """No open shift: the open form (count the float). An open shift: the X report, cash in / out, the close."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    currency = store.enterprise.currency
    error, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "open":
                sales_services.shift_open(actor=request.actor, store_id=store.pk,
                                          float_count=_count_from_post(request, currency),
                                          client_ref=request.POST.get("client_ref"), note=request.POST.get("note", ""))
                return redirect("pos:shift", store_id=store.pk)
            shift = sales_selectors.open_shift(actor=request.actor, store=store)
            if shift is None:
                raise ValidationFailed(_("Open a shift first."), code="no_open_shift")
            if action in CashMoveKind.values:
                sales_services.cash_move_add(actor=request.actor, shift_id=shift.pk, kind=action,
                                             amount=_amount_from_post(request.POST.get("amount", ""), currency),
                                             reason=request.POST.get("reason", ""),
                                             client_ref=request.POST.get("client_ref"))
                return redirect("pos:shift", store_id=store.pk)
            if action == "close":
                closed = sales_services.shift_close(actor=request.actor, shift_id=shift.pk,
                                                    counts=_count_from_post(request, currency),
                                                    client_ref=request.POST.get("client_ref"),
                                                    note=request.POST.get("note", ""))
                return redirect("pos:shift_report", shift_id=closed.shift.pk)
            raise ValidationFailed(_("Unknown action."), code="invalid_action")
        except DomainError as exc:
            error, status = exc, exc.status
    shift = sales_selectors.open_shift(actor=request.actor, store=store)
    context = {"store": store, "shift": shift, "error": error, "currency": currency, "client_ref": uuid.uuid4().hex,
               "grid": _grid(currency), "may_manage": has_perm(request.actor, Perm.ORDER_MANAGE, store),
               "cash_kinds": CashMoveKind.choices,
               "money_format": {"symbol": SYMBOLS[currency], "places": MINOR_UNITS[currency]}}
    if shift is not None:
        report = shift_report(shift)
        context.update(report=report, methods=method_rows(report), show_expected=context["may_manage"],
                       moves=list(shift.cash_moves.select_related("created_by").order_by("-id")[:20]))
    return render(request, "pos/shift.html", context, status=status)


@pos_view()
@require_GET
def shift_report_page(request: HttpRequest, shift_id: int) -> HttpResponse:
    """A shift's report: the frozen Z report once closed (printable; ?format=csv / xlsx / escpos), else the X report
    (expected cash only for a manager). Times in the store's time zone."""
    shift = sales_services.shift_for(request.actor, shift_id)
    with timezone.override(store_time_zone(shift.store_id)):
        return _shift_report_response(request, shift)


def _shift_report_response(request: HttpRequest, shift: TillShift) -> HttpResponse:
    closed = shift.status == ShiftStatus.CLOSED
    report = shift.report if closed else shift_report(shift)
    show_expected = closed or has_perm(request.actor, Perm.ORDER_MANAGE, shift.store)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        return _report_file(report, shift.store.enterprise.currency, show_expected, fmt,
                            f"{shift.number}-{'Z' if closed else 'X'}")
    if fmt == "escpos":
        body = zreport_escpos(shift=shift, report=report, show_expected=show_expected)
        response = HttpResponse(body, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{shift.number}.bin"'
        return response
    return render(request, "pos/shift_report.html", {
        "shift": shift, "store": shift.store, "report": report, "methods": method_rows(report), "closed": closed,
        "show_expected": show_expected, "currency": shift.store.enterprise.currency,
        "counts": _grid(shift.store.enterprise.currency, shift.closing_count) if closed else [],
        "print": request.GET.get("print") == "1"})


@pos_view()
@require_http_methods(["GET", "POST"])
def settlement_page(request: HttpRequest, store_id: int) -> HttpResponse:
    """The store's day (?date=YYYY-MM-DD, default today): its shifts, and the settlement once made (managers)."""
    store = selectors.pos_store_get(actor=request.actor, store_id=store_id)
    currency = store.enterprise.currency
    error, status = None, 200
    raw = request.POST.get("business_date") if request.method == "POST" else request.GET.get("date")
    try:
        day = clean_business_date(raw) if raw else timezone.localdate()
    except DomainError as exc:
        day, error, status = timezone.localdate(), exc, exc.status
    if request.method == "POST" and error is None:
        try:
            sales_services.settlement_create(actor=request.actor, store_id=store.pk, business_date=day,
                                             client_ref=request.POST.get("client_ref"))
            return redirect(f"{request.path}?date={day.isoformat()}")
        except DomainError as exc:
            error, status = exc, exc.status
    start, end = business_day_bounds(store.pk, day)
    shifts = list(TillShift.objects.filter(store=store, opened_at__gte=start, opened_at__lt=end)
                  .select_related("opened_by").order_by("opened_at", "id"))
    settlement = DailySettlement.objects.filter(store=store, business_date=day).select_related("settled_by").first()
    fmt = request.GET.get("format", "")
    if settlement is not None and fmt in ("csv", "xlsx"):
        return _report_file(settlement.report, currency, True, fmt, f"{store.code}-{day.isoformat()}")
    return render(request, "pos/settlement.html", {
        "store": store, "day": day, "shifts": shifts, "settlement": settlement, "error": error,
        "may_manage": has_perm(request.actor, Perm.ORDER_MANAGE, store), "client_ref": uuid.uuid4().hex,
        "methods": method_rows(settlement.report) if settlement else [], "currency": currency,
        "previous": date.fromordinal(day.toordinal() - 1), "next": date.fromordinal(day.toordinal() + 1),
        "open_count": sum(1 for s in shifts if s.status == ShiftStatus.OPEN)}, status=status)
