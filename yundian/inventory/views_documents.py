"""Stock document pages: purchase orders (list, new, detail with submit / approve / reject / close / receive),
transfers (new, detail with approve / reject / cancel / ship / receive), HQ allocations (new, detail, release) and
adjustments (new, detail with approve / reject).

Each view parses a form (forms.py), calls one service, and either redirects to the document with a message or
re-renders the form with the service's translated error (status = the error's 4xx, nothing changed). Documents
and warehouses outside the actor's scope are 404 (console_view turns NotFound into Http404).
"""
from functools import partial
from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import DomainError, NotFound
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.core.idempotency import run_idempotent
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .forms import (AdjustmentForm, AllocationForm, LinesForm, PurchaseOrderForm, QuantitiesForm, Row, TransferForm,
                    managed_warehouses, positive_int, skus_by_code, status_filter)
from .models import Adjustment, Allocation, PurchaseOrderStatus, TransferStatus, WarehouseKind


def _create(request: HttpRequest, form: LinesForm, template: str, work, success, target: str) -> HttpResponse:
    """POST: parse, call the service, redirect to the new document; GET or an error: (re-)render the form.

    Each rendered form carries a key of its own (`form_key`): a second submit of the same form (a double click, a
    resubmit after a lost response) finds the document the first one created and goes there, instead of creating
    another (core.idempotency, per staff member and page)."""
    status = 200
    form_key = request.POST.get("form_key") if request.method == "POST" else None
    if request.method == "POST":
        if form.is_valid():
            payload = {k: request.POST.getlist(k) for k in sorted(request.POST) if k not in ("csrfmiddlewaretoken",
                                                                                            "form_key")}

            def create():
                created = work(form)
                return 201, {"id": created.pk, "number": created.number}

            try:
                _status, body, replayed = run_idempotent(scope=f"console:{template}", owner=str(request.actor.pk),
                                                         key=form_key or None, payload=payload, work=create)
            except NotFound:
                raise
            except DomainError as exc:
                form.add_service_error(exc)
                status = exc.status
            else:
                if not replayed:
                    messages.success(request, success % {"number": body["number"]})
                return redirect(target, body["id"])
        else:
            status = 422
    return render(request, template, {"form": form, "rows": form.display_rows(), "form_key": form_key or uuid4().hex,
                                      **form.choices()}, status=status)


def _run(request: HttpRequest, work, success, rerender) -> HttpResponse:
    """A detail page's action: success -> back to the page with a message; a domain error -> the page again with
    the error (its 4xx status). Out of scope -> 404."""
    try:
        work()
    except NotFound:
        raise
    except DomainError as exc:
        return rerender(exc)
    messages.success(request, success)
    return redirect(request.path)


def _run_quantities(request: HttpRequest, form: QuantitiesForm, page, work, success) -> HttpResponse:
    """A detail page's quantities action (receive, ship): an invalid form -> the page again (422); otherwise
    `work(cleaned_data)` as in `_run`, a domain error shown on the form."""
    if not form.is_valid():
        return page(422, form=form)

    def rerender(exc):
        form.add_service_error(exc)
        return page(exc.status, form=form)

    return _run(request, lambda: work(form.cleaned_data), success, rerender)


# --- purchase orders ---------------------------------------------------------------------------------------

@console_view(Perm.STOCK_VIEW)
def purchase_orders(request: HttpRequest) -> HttpResponse:
    status = status_filter(request.GET.get("status"), PurchaseOrderStatus.choices)
    warehouses = list(selectors.warehouse_list(actor=request.actor).exclude(kind=WarehouseKind.IN_TRANSIT)[:500])
    chosen = positive_int(request.GET.get("warehouse"))
    current = next((w for w in warehouses if w.id == chosen), None)
    qs = selectors.purchase_order_list(actor=request.actor, status=status,
                                       warehouse_id=current.id if current else None)
    page = Paginator(qs.select_related("supplier", "source_warehouse"), 50).get_page(request.GET.get("page"))
    return render(request, "inventory/purchase_orders.html", {
        "page": page, "warehouses": warehouses, "current": current, "status": status or "",
        "statuses": PurchaseOrderStatus.choices, "may_create": has_perm(request.actor, Perm.STOCK_MANAGE)})


@console_view(Perm.STOCK_MANAGE)
def purchase_order_create(request: HttpRequest) -> HttpResponse:
    form = PurchaseOrderForm(request.POST if request.method == "POST" else None, actor=request.actor)

    def work(form):
        data = form.cleaned_data
        return services.purchase_order_create(
            actor=request.actor, warehouse_id=data["warehouse"], supplier_id=data["supplier"],
            source_warehouse_id=data["source_warehouse"], lines=data["lines"], note=data["note"],
            tolerance_percent=5 if data["tolerance_percent"] is None else data["tolerance_percent"])

    return _create(request, form, "inventory/purchase_order_form.html", work,
                   _("Purchase order %(number)s created as a draft."), "inventory:purchase_order")


def _line_value(line, quantity: int) -> int | None:
    """A line's value in fen at its unit cost (None when the line has no cost yet)."""
    return None if line.unit_cost is None else line.unit_cost * quantity


def _order_value(lines, field: str) -> dict:
    """The order's value over its lines' ordered or received quantities, and whether a line without a cost left it
    incomplete."""
    values = [_line_value(l, getattr(l, field)) for l in lines]
    return {"fen": sum(v for v in values if v is not None), "incomplete": any(v is None for v in values)}


@console_view(Perm.STOCK_VIEW)
def purchase_order(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = request.actor
    order = selectors.purchase_order_get(actor=actor, order_id=order_id)
    node = order.warehouse.node
    lines = list(order.lines.select_related("sku__product").order_by("id"))
    remaining = {l.sku_id: max(l.quantity - l.received, 0) for l in lines}
    quantities_form = partial(QuantitiesForm, sku_ids=[l.sku_id for l in lines], initial_quantities=remaining,
                              blank_is_zero=True)

    def page(status: int = 200, error: DomainError | None = None, form: QuantitiesForm | None = None):
        shown = form or quantities_form()
        may_manage = has_perm(actor, Perm.STOCK_MANAGE, node)
        return render(request, "inventory/purchase_order.html", {
            "order": order, "lines": [(l, shown.typed(l.sku_id), _line_value(l, l.quantity)) for l in lines],
            "ordered_value": _order_value(lines, "quantity"), "received_value": _order_value(lines, "received"),
            "receive_form": shown,
            "error": error, "may_manage": may_manage, "may_approve": has_perm(actor, Perm.PURCHASE_APPROVE, node),
            "may_receive": may_manage and order.supplier_id is not None
                           and order.status in (PurchaseOrderStatus.APPROVED, PurchaseOrderStatus.PARTIAL),
            "transfers": order.transfers.order_by("id") if order.source_warehouse_id else [],
            "receipts": order.receipts.prefetch_related("lines__sku__product").order_by("id"),
        }, status=status)

    if request.method != "POST":
        return page()
    action = request.POST.get("action")
    handlers = {"submit": (services.purchase_order_submit, _("Sent for approval.")),
                "approve": (services.purchase_order_approve, _("Purchase order approved.")),
                "reject": (services.purchase_order_reject, _("Purchase order rejected.")),
                "close": (services.purchase_order_close, _("Purchase order closed."))}
    if action in handlers:
        handler, success = handlers[action]
        return _run(request, lambda: handler(actor=actor, order_id=order.id), success,
                    lambda exc: page(exc.status, exc))
    if action != "receive":
        raise Http404
    return _run_quantities(request, quantities_form(request.POST), page, lambda data: services.receipt_create(
        actor=actor, warehouse_id=order.warehouse_id, order_id=order.id,
        lines=[{"sku_id": s, "quantity": q} for s, q in data["quantities"].items() if q != 0],
        reference=data["reference"]), _("Goods received."))


# --- transfers ---------------------------------------------------------------------------------------------

@console_view(Perm.STOCK_MANAGE)
def transfer_create(request: HttpRequest) -> HttpResponse:
    form = TransferForm(request.POST if request.method == "POST" else None, actor=request.actor)

    def work(form):
        data = form.cleaned_data
        return services.transfer_request(actor=request.actor, from_warehouse_id=data["from_warehouse"],
                                         to_warehouse_id=data["to_warehouse"], lines=data["lines"], note=data["note"])

    return _create(request, form, "inventory/transfer_form.html", work, _("Transfer %(number)s requested."),
                   "inventory:transfer")


@console_view(Perm.STOCK_VIEW)
def transfer(request: HttpRequest, transfer_id: int) -> HttpResponse:
    actor = request.actor
    found = selectors.transfer_get(actor=actor, transfer_id=transfer_id)
    lines = list(found.lines.select_related("sku__product").order_by("id"))
    is_source = has_perm(actor, Perm.STOCK_MANAGE, found.from_warehouse.node)
    is_destination = has_perm(actor, Perm.STOCK_MANAGE, found.to_warehouse.node)
    step = "ship" if found.status == TransferStatus.APPROVED else "receive"
    defaults = {l.sku_id: (l.quantity if step == "ship" else l.shipped) for l in lines}
    quantities_form = partial(QuantitiesForm, sku_ids=[l.sku_id for l in lines], initial_quantities=defaults,
                              blank_is_zero=False)

    def page(status: int = 200, error: DomainError | None = None, form: QuantitiesForm | None = None):
        form = form or quantities_form()
        return render(request, "inventory/transfer.html", {
            "transfer": found, "lines": [(l, form.typed(l.sku_id)) for l in lines], "form": form, "step": step,
            "error": error,
            "may_approve": is_source and found.status == TransferStatus.REQUESTED,
            "may_reject": is_source and found.status in (TransferStatus.REQUESTED, TransferStatus.APPROVED),
            "may_cancel": is_destination and found.status in (TransferStatus.REQUESTED, TransferStatus.APPROVED),
            "may_ship": is_source and found.status == TransferStatus.APPROVED,
            "may_receive": is_destination and found.status == TransferStatus.SHIPPED,
        }, status=status)

    if request.method != "POST":
        return page()
    action = request.POST.get("action")
    simple = {"approve": services.transfer_approve, "reject": services.transfer_reject,
              "cancel": services.transfer_cancel}
    if action in simple:
        return _run(request, lambda: simple[action](actor=actor, transfer_id=found.id), _("Transfer updated."),
                    lambda exc: page(exc.status, exc))
    if action not in ("ship", "receive"):
        raise Http404
    handler = services.transfer_ship if action == "ship" else services.transfer_receive
    success = _("Transfer shipped.") if action == "ship" else _("Transfer received.")
    return _run_quantities(request, quantities_form(request.POST), page, lambda data: handler(
        actor=actor, transfer_id=found.id, lines=[{"sku_id": s, "quantity": q} for s, q in data["quantities"].items()]),
        success)


# --- HQ allocations -----------------------------------------------------------------------------------------

def _may_allocate(actor) -> bool:
    """Allocating needs stock.manage on a central warehouse: HQ (and a region or dealer that keeps one)."""
    return managed_warehouses(actor, kinds=(WarehouseKind.CENTRAL,)).exists()


@console_view(Perm.STOCK_VIEW)
def allocations(request: HttpRequest) -> HttpResponse:
    qs = selectors.allocation_list(actor=request.actor).annotate(line_count=Count("lines"))  # not every line fetched
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "inventory/allocations.html", {"page": page, "may_create": _may_allocate(request.actor)})


@console_view(Perm.STOCK_MANAGE)
def allocation_create(request: HttpRequest) -> HttpResponse:
    if not _may_allocate(request.actor):
        raise Http404
    form = AllocationForm(request.POST if request.method == "POST" else None, actor=request.actor)

    def work(form):
        return services.allocation_create(actor=request.actor, from_warehouse_id=form.cleaned_data["from_warehouse"],
                                          lines=form.allocation_lines(), note=form.cleaned_data["note"])

    return _create(request, form, "inventory/allocation_form.html", work,
                   _("Allocation %(number)s created as a draft; release it to ship."), "inventory:allocation")


@console_view(Perm.STOCK_VIEW)
def allocation(request: HttpRequest, allocation_id: int) -> HttpResponse:
    actor = request.actor
    found = selectors.allocation_list(actor=actor).filter(pk=allocation_id).first()
    if found is None:
        raise Http404

    def page(status: int = 200, error: DomainError | None = None):
        lines = found.lines.select_related("sku__product", "to_warehouse").order_by("to_warehouse_id", "sku_id")
        return render(request, "inventory/allocation.html", {
            "allocation": found, "lines": lines, "error": error,
            "transfers": found.transfers.select_related("to_warehouse").order_by("id"),
            "may_release": found.status == Allocation.Status.DRAFT
                           and has_perm(actor, Perm.STOCK_MANAGE, found.from_warehouse.node),
        }, status=status)

    if request.method != "POST":
        return page()
    if request.POST.get("action") != "release":
        raise Http404
    return _run(request, lambda: services.allocation_release(actor=actor, allocation_id=found.id),
                _("Allocation released: one shipped transfer per store."),
                lambda exc: page(exc.status, exc))


# --- adjustments ---------------------------------------------------------------------------------------------

@console_view(Perm.STOCK_ADJUST)
def adjustment_create(request: HttpRequest) -> HttpResponse:
    form = AdjustmentForm(request.POST if request.method == "POST" else None, actor=request.actor)

    def work(form):
        data = form.cleaned_data
        adjustment = services.adjustment_create(actor=request.actor, warehouse_id=data["warehouse"],
                                                reason=data["reason"], lines=data["lines"], note=data["note"])
        if adjustment.status == Adjustment.Status.PENDING:
            messages.info(request, _("Its value is above the approval threshold: it waits for a manager."))
        return adjustment

    return _create(request, form, "inventory/adjustment_form.html", work, _("Adjustment %(number)s recorded."),
                   "inventory:adjustment")


@console_view(Perm.STOCK_VIEW)
def adjustment(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    actor = request.actor
    found = selectors.adjustment_get(actor=actor, adjustment_id=adjustment_id)

    def page(status: int = 200, error: DomainError | None = None):
        return render(request, "inventory/adjustment.html", {
            "adjustment": found, "lines": found.lines.select_related("sku__product").order_by("id"), "error": error,
            "may_decide": found.status == Adjustment.Status.PENDING
                          and has_perm(actor, Perm.STOCK_APPROVE, found.warehouse.node)
                          and found.created_by_id != actor.pk,
        }, status=status)

    if request.method != "POST":
        return page()
    action = request.POST.get("action")
    if action not in ("approve", "reject"):
        raise Http404
    return _run(request, lambda: services.adjustment_decide(actor=actor, adjustment_id=found.id,
                                                            approve=action == "approve"),
                _("Adjustment decided."), lambda exc: page(exc.status, exc))


# --- htmx: one more line row -----------------------------------------------------------------------------------

@console_view(Perm.STOCK_VIEW)
def line_row(request: HttpRequest) -> HttpResponse:
    return render(request, "inventory/partials/line_row.html", {"with_cost": request.GET.get("cost") == "1",
                                                                "row": None})


@console_view(Perm.STOCK_MANAGE)
def purchase_line_price(request: HttpRequest) -> HttpResponse:
    """The unit-cost cell of a purchase order line while it is typed: the chosen supplier's price and lead time for
    the SKU (a blank cost is ordered at that price), and the line's total; a warning when the supplier quotes no
    price for it. Reads only; a code, quantity or cost that is not one yet simply shows no figure."""
    actor = request.actor
    code = (request.GET.get("line_sku") or "").strip()[:64]
    row = Row(code, (request.GET.get("line_quantity") or "").strip()[:20],
              (request.GET.get("line_cost") or "").strip()[:20])
    supplier_id = positive_int(request.GET.get("supplier"))
    try:  # the same text check as the form's (no control characters: PostgreSQL refuses a NUL in a query)
        LinesForm._text(code, "line_sku")
    except ValidationError:
        code = ""
    sku_id = skus_by_code(actor.enterprise_id, [code]).get(code) if code else None
    price = None
    if supplier_id and sku_id:
        price = selectors.supplier_price_list(actor=actor, supplier_id=supplier_id, sku_id=sku_id).first()
    try:
        typed = Money.parse(row.cost).amount if row.cost else None
    except DomainError:
        typed = None
    unit = typed if typed is not None else (price.unit_cost if price else None)
    quantity = parse_whole(row.quantity)
    return render(request, "inventory/partials/line_cost.html", {
        "row": row, "price": price, "no_price": bool(supplier_id and sku_id and price is None),
        "total": unit * quantity if unit is not None and quantity else None})
