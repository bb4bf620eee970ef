"""Supplier pages: the list (search, active filter), a new supplier, and one supplier's page (edit its master data,
its SKU prices: add or change one with a SKU picker, remove one). Writes are HQ's (purchase.approve at the root);
everyone who sees stock may read. Each view parses, calls one service, redirects with a message or re-renders
with the service's translated error (its 4xx, nothing changed)."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yundian.core.errors import DomainError, ValidationFailed
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import selectors, services
from .forms import positive_int
from .models import PaymentTerms

TEXT_FIELDS = ("name", "contact_name", "phone", "email", "payment_terms")


def _whole(text: str, field: str) -> int:
    number = parse_whole(text)
    if number is None:
        raise ValidationFailed(_("Enter a whole number."), code="invalid_number", details={"field": field})
    return number


def _supplier_fields(post) -> dict:
    """The master-data fields as typed; numbers parsed, the rest checked by the service."""
    fields = {f: post.get(f, "") for f in TEXT_FIELDS}
    fields["lead_time_days"] = _whole(post.get("lead_time_days", "").strip() or "0", "lead_time_days")
    return fields


@console_view(Perm.STOCK_VIEW)
def supplier_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    active = {"yes": True, "no": False}.get(request.GET.get("active", ""))
    qs = selectors.supplier_list(actor=request.actor, query=query, is_active=active)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "inventory/suppliers.html", {
        "page": page, "q": query, "active": request.GET.get("active", ""), "may_edit": services.may_keep_suppliers(request.actor)})


@console_view(Perm.STOCK_VIEW)
def supplier_create(request: HttpRequest) -> HttpResponse:
    if not services.may_keep_suppliers(request.actor):
        messages.error(request, _("Suppliers are kept by headquarters."))
        return redirect("inventory:suppliers")
    status, error, values = 200, "", {"payment_terms": PaymentTerms.NET_30, "lead_time_days": "3"}
    if request.method == "POST":
        values = request.POST
        try:
            supplier = services.supplier_create(actor=request.actor, code=request.POST.get("code", ""),
                                                **_supplier_fields(request.POST))
        except DomainError as exc:
            status, error = exc.status, exc
        else:
            messages.success(request, _("Supplier %(name)s added.") % {"name": supplier.name})
            return redirect("inventory:supplier", supplier.id)
    return render(request, "inventory/supplier_form.html", {
        "values": values, "error": error, "terms": PaymentTerms.choices}, status=status)


@console_view(Perm.STOCK_VIEW)
def supplier_detail(request: HttpRequest, supplier_id: int) -> HttpResponse:
    actor = request.actor
    supplier = selectors.supplier_get(actor=actor, supplier_id=supplier_id)
    status, error, values = 200, None, None
    may_edit = services.may_keep_suppliers(actor)
    if request.method == "POST":
        if not may_edit:
            messages.error(request, _("Suppliers are kept by headquarters."))
            return redirect("inventory:supplier", supplier.id)
        values = request.POST
        try:
            changes = _supplier_fields(request.POST)
            changes["is_active"] = request.POST.get("is_active") == "on"
            services.supplier_update(actor=actor, supplier_id=supplier.id, changes=changes)
        except DomainError as exc:
            status, error = exc.status, exc
        else:
            messages.success(request, _("Supplier saved."))
            return redirect("inventory:supplier", supplier.id)
    prices = selectors.supplier_price_list(actor=actor, supplier_id=supplier.id)
    return render(request, "inventory/supplier.html", {
        "supplier": supplier, "prices": prices, "may_edit": may_edit, "terms": PaymentTerms.choices,
        "values": values, "error": error}, status=status)


@require_POST
@console_view(Perm.STOCK_VIEW)
def supplier_price_save(request: HttpRequest, supplier_id: int) -> HttpResponse:
    """Add or change one SKU's price (the SKU from the picker, the cost typed in yuan)."""
    supplier = selectors.supplier_get(actor=request.actor, supplier_id=supplier_id)
    try:
        sku_id = positive_int(request.POST.get("sku_id"))
        if sku_id is None:
            raise ValidationFailed(_("Choose a SKU."), code="sku_required", details={"field": "sku_id"})
        lead_text = request.POST.get("lead_time_days", "").strip()
        price = services.supplier_price_set(
            actor=request.actor, supplier_id=supplier.id, sku_id=sku_id,
            unit_cost=Money.parse(request.POST.get("unit_cost", "").strip() or "x").amount,
            lead_time_days=_whole(lead_text, "lead_time_days") if lead_text else None,
            is_preferred=request.POST.get("is_preferred") == "on")
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Price of %(sku)s saved: %(cost)s.") % {
            "sku": price.sku.label, "cost": Money(price.unit_cost, request.actor.enterprise.currency).format()})
    return redirect("inventory:supplier", supplier.id)


@require_POST
@console_view(Perm.STOCK_VIEW)
def supplier_price_remove(request: HttpRequest, supplier_id: int, sku_id: int) -> HttpResponse:
    supplier = selectors.supplier_get(actor=request.actor, supplier_id=supplier_id)
    try:
        services.supplier_price_remove(actor=request.actor, supplier_id=supplier.id, sku_id=sku_id)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Price removed."))
    return redirect("inventory:supplier", supplier.id)
