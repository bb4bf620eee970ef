"""Catalogue console pages (templates + htmx): catalogue list/detail/create, price lists, import with its report.
Same rule as the API: parse -> one service/selector -> render. Domain errors re-render the form with the message.
"""
from datetime import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.org import selectors as org_selectors
from yundian.org.console import console_view
from yundian.org.roles import NodeKind, Perm

from . import imports, selectors, services
from .models import Channel, ImportRun, Unit
from .pricing import price_resolve_many


def _fen(text: str, field: str, currency: str) -> int:
    try:
        return Money.parse((text or "").strip(), currency).amount
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, details={"field": field})


def _when(text: str, field: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    value = parse_datetime(text) if len(text) <= 40 else None
    if value is None:
        raise ValidationFailed(_("Give a date and time."), code="invalid_datetime", details={"field": field})
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "field": exc.details.get("field", "")}


def _may(request, perm: str, node=None) -> bool:
    return org_selectors.has_perm(request.actor, perm, node)


# --- catalogue ------------------------------------------------------------------------------------------

@console_view(Perm.CATALOG_VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    query = request.GET.get("q", "")[:64]
    category_id = parse_whole(request.GET.get("category"))
    products = (selectors.product_list(actor=actor, search=query or None, category_id=category_id)
                .prefetch_related("media"))
    page = Paginator(products, 50).get_page(request.GET.get("page"))
    context = {"page": page, "q": query, "category_id": category_id,
               "categories": selectors.category_list(actor=actor, include_inactive=False),
               "may_manage": _may(request, Perm.CATALOG_MANAGE)}
    template = "catalog/partials/product_rows.html" if request.htmx else "catalog/product_list.html"
    return render(request, template, context)


def _store_choices(request):
    return org_selectors.org_node_list(actor=request.actor, kind=NodeKind.STORE, include_inactive=False)[:500]


def _detail_context(request, product, *, store_id=None, form_errors=None, form=None) -> dict:
    actor = request.actor
    skus = list(product.skus.all())
    node = selectors.pricing_node(actor=actor, store_id=store_id)
    channel = request.GET.get("channel", Channel.STORE)
    if channel not in Channel.values:
        channel = Channel.STORE
    prices = price_resolve_many(skus, node, channel)
    return {
        "product": product, "rows": [(sku, prices[sku.pk]) for sku in skus], "node": node, "channel": channel,
        "channels": Channel.choices, "stores": _store_choices(request), "units": Unit.choices,
        "currency": actor.enterprise.currency, "may_manage": _may(request, Perm.CATALOG_MANAGE),
        "categories": selectors.category_list(actor=actor, include_inactive=False),
        "form_errors": form_errors or {}, "form": form or {},
    }


@console_view(Perm.CATALOG_VIEW)
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.product_get(actor=request.actor, product_id=product_id)
    context = _detail_context(request, product, store_id=parse_whole(request.GET.get("store")))
    if request.htmx and request.GET.get("partial") == "prices":
        return render(request, "catalog/partials/sku_table.html", context)
    return render(request, "catalog/product_detail.html", context)


@console_view(Perm.CATALOG_MANAGE)
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    context = {"categories": selectors.category_list(actor=actor, include_inactive=False), "units": Unit.choices,
               "form": {}, "form_errors": {}}
    if request.method == "POST":
        post = request.POST
        try:
            barcode = post.get("barcode", "").strip()
            product = services.product_create(
                actor=actor, code=post.get("code", ""), name=post.get("name", ""),
                category_id=parse_whole(post.get("category_id")), brand=post.get("brand", ""),
                description=post.get("description", ""),
                skus=[{"code": post.get("sku_code", ""), "name": post.get("sku_name", ""),
                       "unit": post.get("unit") or None,
                       "base_price": _fen(post.get("base_price", ""), "base_price", actor.enterprise.currency),
                       "barcodes": [barcode] if barcode else [],
                       "generate_barcode": post.get("generate_barcode") == "on" and not barcode}],
            )
        except NotFound as exc:
            context.update(form=post, form_errors=_error(exc))
            return render(request, "catalog/product_form.html", context, status=404)
        except DomainError as exc:
            context.update(form=post, form_errors=_error(exc))
            return render(request, "catalog/product_form.html", context, status=exc.status)
        return redirect("catalog:product_detail", product_id=product.pk)
    return render(request, "catalog/product_form.html", context)


@console_view(Perm.CATALOG_MANAGE)
@require_http_methods(["POST"])
def product_action(request: HttpRequest, product_id: int) -> HttpResponse:
    """The detail page's small forms: add a SKU, add/generate/remove a barcode, change a base price, add media."""
    actor = request.actor
    post = request.POST
    action = post.get("action", "")
    try:
        if action == "add_sku":
            barcode = post.get("barcode", "").strip()
            services.sku_create(actor=actor, product_id=product_id, code=post.get("sku_code", ""),
                                name=post.get("sku_name", ""), unit=post.get("unit") or None,
                                base_price=_fen(post.get("base_price", ""), "base_price", actor.enterprise.currency),
                                barcodes=[barcode] if barcode else [],
                                generate_barcode=post.get("generate_barcode") == "on" and not barcode)
        elif action in ("add_barcode", "generate_barcode", "remove_barcode", "base_price", "toggle_sku"):
            sku_id = parse_whole(post.get("sku_id"))
            sku = selectors.sku_get(actor=actor, sku_id=sku_id if sku_id is not None else -1)
            if sku.product_id != product_id:
                raise NotFound()
            if action == "add_barcode":
                services.barcode_add(actor=actor, sku_id=sku.pk, code=post.get("code", ""))
            elif action == "generate_barcode":
                services.barcode_generate(actor=actor, sku_id=sku.pk)
            elif action == "remove_barcode":
                services.barcode_remove(actor=actor, sku_id=sku.pk, barcode_id=parse_whole(post.get("barcode_id")) or -1)
            elif action == "base_price":
                services.sku_update(actor=actor, sku_id=sku.pk,
                                    base_price=_fen(post.get("base_price", ""), "base_price", actor.enterprise.currency))
            else:
                services.sku_update(actor=actor, sku_id=sku.pk, is_active=not sku.is_active)
        elif action == "add_media":
            services.media_add(actor=actor, product_id=product_id, url=post.get("url", "")[:600],
                               upload=request.FILES.get("file"), alt_text=post.get("alt_text", "")[:300])
        elif action == "update_product":
            services.product_update(actor=actor, product_id=product_id, name=post.get("name", ""),
                                    brand=post.get("brand", ""), category_id=parse_whole(post.get("category_id")),
                                    is_active=post.get("is_active") == "on")
        else:
            raise ValidationFailed(_("Unknown action."), code="unknown_action")
    except NotFound:
        raise
    except DomainError as exc:
        product = selectors.product_get(actor=actor, product_id=product_id)
        context = _detail_context(request, product, form_errors={**_error(exc), "action": action}, form=post)
        if request.htmx:
            return render(request, "catalog/partials/sku_table.html", context)
        return render(request, "catalog/product_detail.html", context, status=exc.status)
    if request.htmx:
        product = selectors.product_get(actor=actor, product_id=product_id)
        return render(request, "catalog/partials/sku_table.html", _detail_context(request, product))
    return redirect("catalog:product_detail", product_id=product_id)


# --- prices ---------------------------------------------------------------------------------------------

def _price_lists_context(request, *, form_errors=None, form=None) -> dict:
    actor = request.actor
    return {
        "price_lists": selectors.price_list_list(actor=actor),
        "channels": Channel.choices,
        "nodes": [n for n in org_selectors.org_node_list(actor=actor, include_inactive=False)
                  if org_selectors.has_perm(actor, Perm.PRICE_MANAGE, n)][:500],
        "may_manage": _may(request, Perm.PRICE_MANAGE),
        "form_errors": form_errors or {}, "form": form or {},
    }


@console_view(Perm.CATALOG_VIEW)
@require_http_methods(["GET", "POST"])
def price_list_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        try:
            priority = post.get("priority", "0").strip() or "0"
            if not priority.lstrip("-").isdigit() or len(priority) > 6:
                raise ValidationFailed(_("A whole number is expected."), code="invalid_number",
                                       details={"field": "priority"})
            price_list = services.price_list_create(
                actor=request.actor, node_id=parse_whole(post.get("node_id")) or -1,
                channel=post.get("channel", ""), code=post.get("code", ""), name=post.get("name", ""),
                priority=int(priority), valid_from=_when(post.get("valid_from"), "valid_from"),
                valid_to=_when(post.get("valid_to"), "valid_to"))
        except DomainError as exc:
            return render(request, "catalog/price_list_list.html",
                          _price_lists_context(request, form_errors=_error(exc), form=post), status=exc.status)
        return redirect("catalog:price_list_detail", price_list_id=price_list.pk)
    return render(request, "catalog/price_list_list.html", _price_lists_context(request))


def _price_list_context(request, price_list, *, form_errors=None, form=None) -> dict:
    actor = request.actor
    query = request.GET.get("q", "")[:64]
    entries = selectors.price_entry_list(actor=actor, price_list_id=price_list.pk, search=query or None)
    return {"price_list": price_list, "page": Paginator(entries, 100).get_page(request.GET.get("page")), "q": query,
            "currency": actor.enterprise.currency,
            "may_manage": org_selectors.has_perm(actor, Perm.PRICE_MANAGE, price_list.node),
            "form_errors": form_errors or {}, "form": form or {}}


@console_view(Perm.CATALOG_VIEW)
@require_http_methods(["GET", "POST"])
def price_list_detail(request: HttpRequest, price_list_id: int) -> HttpResponse:
    actor = request.actor
    price_list = selectors.price_list_get(actor=actor, price_list_id=price_list_id)
    if request.method == "POST":
        post = request.POST
        try:
            action = post.get("action", "set")
            if action == "toggle":
                services.price_list_update(actor=actor, price_list_id=price_list.pk, is_active=not price_list.is_active)
            else:
                code = post.get("sku_code", "").strip()[:64]
                sku = selectors.sku_list(actor=actor).filter(code=code).first()
                if sku is None:
                    raise ValidationFailed(_("No SKU has this code."), code="sku_not_found", details={"field": "sku_code"})
                if action == "remove":
                    services.price_entry_delete(actor=actor, price_list_id=price_list.pk, sku_id=sku.pk)
                else:
                    services.price_entry_set(actor=actor, price_list_id=price_list.pk, sku_id=sku.pk,
                                             price=_fen(post.get("price", ""), "price", actor.enterprise.currency))
        except NotFound:
            raise
        except DomainError as exc:
            price_list = selectors.price_list_get(actor=actor, price_list_id=price_list_id)
            context = _price_list_context(request, price_list, form_errors=_error(exc), form=post)
            if request.htmx:
                return render(request, "catalog/partials/price_entries.html", context)
            return render(request, "catalog/price_list_detail.html", context, status=exc.status)
        price_list = selectors.price_list_get(actor=actor, price_list_id=price_list_id)
        if request.htmx:
            return render(request, "catalog/partials/price_entries.html",
                          {**_price_list_context(request, price_list), "saved": True})
        return redirect("catalog:price_list_detail", price_list_id=price_list.pk)
    return render(request, "catalog/price_list_detail.html", _price_list_context(request, price_list))


# --- import / export -------------------------------------------------------------------------------------

@console_view(Perm.CATALOG_MANAGE)
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    context = {"runs": selectors.import_run_list(actor=actor)[:20], "columns": imports.COLUMNS,
               "required": imports.REQUIRED, "price_lists": selectors.price_list_list(actor=actor),
               "form_errors": {}, "run": None}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed(_("Choose a file."), code="required", details={"field": "file"})
            if upload.size > imports.MAX_FILE_BYTES:
                raise ValidationFailed(_("The file is larger than 20 MB."), code="file_too_large")
            run = imports.catalog_import(actor=actor, filename=upload.name, data=upload.read(),
                                         mode=request.POST.get("mode", "rows")[:8])
        except DomainError as exc:
            context["form_errors"] = _error(exc)
            return render(request, "catalog/import.html", context, status=exc.status)
        return redirect("catalog:import_detail", run_id=run.pk)
    return render(request, "catalog/import.html", context)


@console_view(Perm.CATALOG_VIEW)
def import_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.import_run_get(actor=request.actor, run_id=run_id)
    return render(request, "catalog/import_detail.html", {"run": run, "statuses": ImportRun.Status})


@console_view(Perm.CATALOG_VIEW)
def export(request: HttpRequest) -> HttpResponse:
    try:
        content, content_type, filename = imports.export_file(
            actor=request.actor, file_format=request.GET.get("format", "xlsx")[:8],
            price_list_id=parse_whole(request.GET.get("price_list")))
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, "web/404.html", {"message": exc.message}, status=exc.status)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
