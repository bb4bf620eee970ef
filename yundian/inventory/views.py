"""Stock pages for store managers and HQ: overview (low stock first), balances, movement history, transfers,
stocktakes (scan to count), adjustments, replenishment suggestions, reports with CSV/Excel export.
Each view parses, calls one service or selector, renders; domain errors become a message on the page."""
from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yundian.core.errors import DomainError, ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import reports, selectors, services
from .forms import positive_int
from .models import Adjustment, PurchaseOrderStatus, Stocktake, TransferStatus
from .services.replenish import replenishment_suggest


def _act(request: HttpRequest, work, success, back: str) -> HttpResponse:
    """Run one service call from a form; a domain error becomes a message, never a 500."""
    try:
        work()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success)
    return redirect(back)


def _warehouse_choice(request: HttpRequest):
    warehouses = list(selectors.warehouse_list(actor=request.actor)[:500])
    chosen = positive_int(request.GET.get("warehouse"))
    current = next((w for w in warehouses if w.id == chosen), None)
    if current is None and chosen is None and len(warehouses) == 1:
        current = warehouses[0]
    return warehouses, current


@console_view(Perm.STOCK_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    warehouses, current = _warehouse_choice(request)
    columns, rows = reports.low_stock(actor=actor, warehouse_id=current.id if current else None)
    transfers = selectors.transfer_list(actor=actor).filter(
        status__in=[TransferStatus.REQUESTED, TransferStatus.APPROVED, TransferStatus.SHIPPED])[:50]
    context = {
        "warehouses": warehouses, "current": current, "low_columns": columns, "low_rows": rows[:100],
        "low_total": len(rows), "transfers": transfers,
        # everything of the actor's scope that waits for someone's approval: orders to the supplier or HQ,
        # requested transfers and adjustments above the threshold
        "pending_orders": selectors.purchase_order_list(actor=actor, status=PurchaseOrderStatus.SUBMITTED)[:50],
        "pending_transfers": selectors.transfer_list(actor=actor, status=TransferStatus.REQUESTED)[:50],
        "pending_adjustments": selectors.adjustment_list(actor=actor, status=Adjustment.Status.PENDING)[:50],
        "open_stocktakes": selectors.stocktake_list(actor=actor).filter(
            status__in=[Stocktake.Status.COUNTING, Stocktake.Status.REVIEW])[:50],
        "reports": [(slug, title) for slug, (title, _fn) in reports.REPORTS.items()],
        "may_manage": has_perm(actor, Perm.STOCK_MANAGE), "may_approve": has_perm(actor, Perm.STOCK_APPROVE),
    }
    return render(request, "inventory/overview.html", context)


@console_view(Perm.STOCK_VIEW)
def balances(request: HttpRequest) -> HttpResponse:
    warehouses, current = _warehouse_choice(request)
    qs = selectors.balance_list(actor=request.actor, warehouse_id=current.id if current else None)
    query = request.GET.get("q", "").strip()[:64]
    if query:
        qs = qs.filter(sku__code__icontains=query) | qs.filter(sku__name__icontains=query)
    page = Paginator(qs.order_by("warehouse_id", "sku__code"), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/balances.html", {"warehouses": warehouses, "current": current, "page": page,
                                                       "q": query})


@console_view(Perm.STOCK_VIEW)
def moves(request: HttpRequest) -> HttpResponse:
    sku_id, warehouse_id = positive_int(request.GET.get("sku")), positive_int(request.GET.get("warehouse"))
    qs = selectors.move_list(actor=request.actor, sku_id=sku_id, warehouse_id=warehouse_id)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "inventory/moves.html", {"page": page, "sku_id": sku_id, "warehouse_id": warehouse_id})


@console_view(Perm.STOCK_VIEW)
def transfers(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.transfer_list(actor=request.actor), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/transfers.html", {"page": page,
                                                        "may_manage": has_perm(request.actor, Perm.STOCK_MANAGE)})


@require_POST
@console_view(Perm.STOCK_MANAGE)
def transfer_action(request: HttpRequest, transfer_id: int, action: str) -> HttpResponse:
    handlers = {"approve": services.transfer_approve, "reject": services.transfer_reject,
                "cancel": services.transfer_cancel, "ship": services.transfer_ship,
                "receive": services.transfer_receive}
    if action not in handlers:
        raise Http404
    return _act(request, lambda: handlers[action](actor=request.actor, transfer_id=transfer_id),
                _("Transfer updated."), reverse("inventory:transfers"))


@console_view(Perm.STOCK_VIEW)
def stocktakes(request: HttpRequest) -> HttpResponse:
    warehouses, current = _warehouse_choice(request)
    if request.method == "POST":
        warehouse_id, kind = positive_int(request.POST.get("warehouse")), request.POST.get("kind", "")
        created = {}

        def start():
            created["stocktake"] = services.stocktake_start(actor=request.actor, warehouse_id=warehouse_id or 0,
                                                            kind=kind)
        response = _act(request, start, _("Stocktake started."), reverse("inventory:stocktakes"))
        if "stocktake" in created:
            return redirect("inventory:stocktake", stocktake_id=created["stocktake"].id)
        return response
    page = Paginator(selectors.stocktake_list(actor=request.actor), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/stocktakes.html", {"page": page, "warehouses": warehouses})


@console_view(Perm.STOCK_VIEW)
def stocktake(request: HttpRequest, stocktake_id: int) -> HttpResponse:
    count = selectors.stocktake_get(actor=request.actor, stocktake_id=stocktake_id)
    back = reverse("inventory:stocktake", args=[count.id])
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "scan":
            code = request.POST.get("barcode", "").strip()[:32]
            quantity = positive_int(request.POST.get("quantity")) or 1
            return _act(request, lambda: services.stocktake_count(actor=request.actor, stocktake_id=count.id,
                                                                  lines=[{"barcode": code, "quantity": quantity}]),
                        _("Counted."), back)
        handlers = {"submit": services.stocktake_submit, "post": services.stocktake_post,
                    "cancel": services.stocktake_cancel}
        if action not in handlers:
            raise Http404
        return _act(request, lambda: handlers[action](actor=request.actor, stocktake_id=count.id),
                    _("Stocktake updated."), back)
    lines = Paginator(selectors.stocktake_lines(stocktake=count), 200).get_page(request.GET.get("page"))
    return render(request, "inventory/stocktake.html", {"count": count, "lines": lines})


@console_view(Perm.STOCK_VIEW)
def adjustments(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.adjustment_list(actor=request.actor), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/adjustments.html", {"page": page,
                                                          "may_adjust": has_perm(request.actor, Perm.STOCK_ADJUST)})


@require_POST
@console_view(Perm.STOCK_APPROVE)
def adjustment_decide(request: HttpRequest, adjustment_id: int, action: str) -> HttpResponse:
    if action not in ("approve", "reject"):
        raise Http404
    return _act(request, lambda: services.adjustment_decide(actor=request.actor, adjustment_id=adjustment_id,
                                                            approve=action == "approve"),
                _("Adjustment decided."), reverse("inventory:adjustments"))


@console_view(Perm.STOCK_VIEW)
def replenishment(request: HttpRequest) -> HttpResponse:
    warehouses, current = _warehouse_choice(request)
    rows = replenishment_suggest(actor=request.actor, warehouse_id=current.id) if current else []
    return render(request, "inventory/replenishment.html", {"warehouses": warehouses, "current": current,
                                                            "rows": [r for r in rows if r.quantity > 0]})


@console_view(Perm.STOCK_VIEW)
def report(request: HttpRequest, name: str) -> HttpResponse:
    if name not in reports.REPORTS:
        raise Http404
    title, build = reports.REPORTS[name]
    context = {"title": title, "name": name, "period": None, "query": ""}
    params = {}
    if name in reports.PERIOD_REPORTS:
        try:
            params["date_from"], params["date_to"] = _period(request.GET.get("from"), request.GET.get("to"))
        except ValidationFailed as exc:
            context.update(error=exc, columns=[], rows=[], total=0,
                           period={"from": request.GET.get("from", "")[:10], "to": request.GET.get("to", "")[:10]})
            return render(request, "inventory/report.html", context, status=exc.status)
        context["period"] = {"from": params["date_from"].isoformat(), "to": params["date_to"].isoformat()}
        context["query"] = f"&from={params['date_from'].isoformat()}&to={params['date_to'].isoformat()}"
    columns, rows = build(actor=request.actor, **params)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        content_type, data = reports.export_rows(columns, rows, fmt)
        response = HttpResponse(data, content_type=content_type)
        suffix = f"-{params['date_from']:%Y%m%d}-{params['date_to']:%Y%m%d}" if params else ""
        response["Content-Disposition"] = f'attachment; filename="stock-{name}{suffix}.{fmt}"'
        return response
    context.update(columns=columns, rows=rows[:1000], total=len(rows))
    return render(request, "inventory/report.html", context)


MAX_PERIOD_DAYS = 366


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    """The report's days, both included: as typed (YYYY-MM-DD), else the last 30 days up to today; 422 for a
    date that does not parse, an end before the start or more than a year."""
    today = timezone.localdate()
    try:
        date_to = date.fromisoformat(end.strip()) if end and end.strip() else today
        date_from = date.fromisoformat(start.strip()) if start and start.strip() else date_to - timedelta(days=29)
    except ValueError:
        raise ValidationFailed(_("Enter dates as YYYY-MM-DD."), code="invalid_date")
    if date_from > date_to or (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(_("The period runs forward and spans at most a year."), code="invalid_period")
    return date_from, date_to
