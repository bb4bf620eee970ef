"""Store pages: HQ's templates and one-click opening, a store's storefront look (console), and the public,
mobile-first storefront at /s/<slug>/. Same rule as the API: parse -> one service/selector -> render."""
import re
import uuid

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.catalog.models import Category, Product
from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.numbers import parse_whole
from yundian.org import selectors as org_selectors
from yundian.org.console import console_view
from yundian.org.roles import NodeKind, Perm, Role

from . import selectors, services
from .hooks import storefront_blocks, storefront_deals
from .shortcuts import storefront_or_404
from .models import THEME_FIELDS, WEEKDAYS, StoreStatus

WEEKDAY_LABELS = selectors.WEEKDAY_LABELS
THEME_LABELS = {"logo_url": _("Logo"), "primary_color": _("Primary colour"), "accent_color": _("Accent colour"),
                "banner_url": _("Banner image"), "featured_product_ids": _("Featured products"), "notice": _("Notice")}
INTERVAL_RE = re.compile(r"\s*(\d\d:\d\d)\s*-\s*(\d\d:\d\d)\s*")
PAGE_SIZE = 24


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "details": exc.details}


def _id_list(values: list[str], field: str) -> list[int]:
    ids = [parse_whole(v) for v in values]
    if any(i is None for i in ids):
        raise ValidationFailed(_("Ids are positive whole numbers."), code="invalid_ids", details={"field": field})
    return ids


def _parse_hours(post) -> dict[str, list[list[str]]]:
    """"09:00-12:00, 13:00-21:00" per weekday field (empty = closed) -> the opening-hours mapping."""
    hours = {}
    for day in WEEKDAYS:
        text = post.get(f"hours_{day}", "").strip()
        intervals = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            match = INTERVAL_RE.fullmatch(part)
            if not match:
                raise ValidationFailed(_("Write opening hours like 09:00-21:00 (several separated by commas)."),
                                       code="invalid_opening_hours", details={"field": f"hours_{day}"})
            intervals.append([match.group(1), match.group(2)])
        hours[day] = intervals
    return hours


def _hours_text(hours: dict) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in (hours or {}).get(day, [])) for day in WEEKDAYS}


def _palette(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\s]+", text or "") if part.strip()]


# --- HQ: templates and policy -----------------------------------------------------------------------------------

def _template_form_context(request, template=None, *, form=None, error=None) -> dict:
    """The template form: values from the template (or defaults), overridden by a re-shown POST."""
    actor = request.actor
    from yundian.catalog import selectors as catalog_selectors

    hours = template.opening_hours if template else {d: [["09:00", "22:00"]] for d in WEEKDAYS}
    plan = {item["role"]: item["count"] for item in (template.staff_plan if template else
                                                      [{"role": "store_manager", "count": 1}, {"role": "guide", "count": 2}])}
    values = {
        "code": template.code if template else "", "name": template.name if template else "",
        "description": template.description if template else "",
        "price_list_id": str(template.price_list_id or "") if template else "",
        "logo_url": template.logo_url if template else "", "banner_url": template.banner_url if template else "",
        "primary_color": template.primary_color if template else "#D4380D",
        "accent_color": template.accent_color if template else "#FAAD14",
        "notice": template.notice if template else "",
        "theme_palette": ", ".join(template.theme_palette or []) if template else "",
        "own_fields": bool(template and template.theme_editable_fields is not None),
        "theme_editable_fields": (template.theme_editable_fields or []) if template else [],
        "managers": plan.get("store_manager", 0), "guides": plan.get("guide", 0),
        "pickup_enabled": template.pickup_enabled if template else True,
        "delivery_enabled": template.delivery_enabled if template else False,
        "min_days_cover": template.min_days_cover if template else 7,
        "max_days_cover": template.max_days_cover if template else 21,
        "is_active": template.is_active if template else True,
        "product_ids": {str(pk) for pk in template.products.values_list("pk", flat=True)} if template else set(),
        "category_ids": {str(pk) for pk in template.categories.values_list("pk", flat=True)} if template else set(),
        "featured_product_ids": {str(pk) for pk in template.featured_product_ids} if template else set(),
        "hours": _hours_text(hours),
    }
    if form is not None:
        for key in ("code", "name", "description", "price_list_id", "logo_url", "banner_url", "primary_color",
                    "accent_color", "notice", "theme_palette", "managers", "guides", "min_days_cover", "max_days_cover"):
            values[key] = form.get(key, "")
        for key in ("own_fields", "pickup_enabled", "delivery_enabled", "is_active"):
            values[key] = bool(form.get(key))
        for key in ("product_ids", "category_ids", "featured_product_ids"):
            values[key] = set(form.getlist(key))
        values["theme_editable_fields"] = form.getlist("theme_editable_fields")
        values["hours"] = {day: form.get(f"hours_{day}", "") for day in WEEKDAYS}
    return {
        "template": template, "v": values, "form_errors": error,
        "price_lists": catalog_selectors.price_list_list(actor=actor, include_inactive=False),
        "products": Product.objects.filter(enterprise_id=actor.enterprise_id, is_active=True).order_by("code"),
        "categories": Category.objects.filter(enterprise_id=actor.enterprise_id, is_active=True).order_by("path"),
        "theme_fields": [(name, THEME_LABELS[name]) for name in THEME_FIELDS],
        "weekdays": [(day, WEEKDAY_LABELS[day], values["hours"][day]) for day in WEEKDAYS],
    }


def _template_fields(post) -> dict:
    palette_text = post.get("theme_palette", "").strip()
    fields = {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "price_list_id": parse_whole(post.get("price_list_id")),
        "product_ids": _id_list(post.getlist("product_ids"), "product_ids"),
        "category_ids": _id_list(post.getlist("category_ids"), "category_ids"),
        "logo_url": post.get("logo_url", ""),
        "primary_color": post.get("primary_color", ""),
        "accent_color": post.get("accent_color", ""),
        "banner_url": post.get("banner_url", ""),
        "featured_product_ids": _id_list(post.getlist("featured_product_ids"), "featured_product_ids"),
        "notice": post.get("notice", ""),
        "theme_palette": _palette(palette_text) if palette_text else None,
        "theme_editable_fields": post.getlist("theme_editable_fields") if post.get("own_fields") else None,
        "staff_plan": [{"role": "store_manager", "count": parse_whole(post.get("managers")) or 0},
                       {"role": "guide", "count": parse_whole(post.get("guides")) or 0}],
        "opening_hours": _parse_hours(post),
        "pickup_enabled": bool(post.get("pickup_enabled")),
        "delivery_enabled": bool(post.get("delivery_enabled")),
        "min_days_cover": parse_whole(post.get("min_days_cover")),
        "max_days_cover": parse_whole(post.get("max_days_cover")),
    }
    for count_field in ("managers", "guides"):
        raw = post.get(count_field, "0").strip() or "0"
        if parse_whole(raw) is None:
            raise ValidationFailed(_("A whole number from %(low)d to %(high)d is expected.") % {"low": 0, "high": 20},
                                   code="invalid_number", details={"field": count_field})
    return fields


@console_view(Perm.TEMPLATE_MANAGE)
def template_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    return render(request, "stores/template_list.html", {
        "templates": selectors.store_template_list(actor=actor),
        "policy": selectors.enterprise_policy(actor.enterprise_id),
        "theme_fields": [(name, THEME_LABELS[name]) for name in THEME_FIELDS],
    })


@console_view(Perm.TEMPLATE_MANAGE)
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "stores/template_form.html", _template_form_context(request))
    try:
        template = services.store_template_create(actor=request.actor, code=request.POST.get("code", ""),
                                                  **_template_fields(request.POST))
    except NotFound as exc:
        return render(request, "stores/template_form.html",
                      _template_form_context(request, form=request.POST, error=_error(exc)), status=404)
    except DomainError as exc:
        return render(request, "stores/template_form.html",
                      _template_form_context(request, form=request.POST, error=_error(exc)), status=exc.status)
    return redirect("stores:template_edit", template.id)


@console_view(Perm.TEMPLATE_MANAGE)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.store_template_get(actor=request.actor, template_id=template_id)
    if request.method == "GET":
        return render(request, "stores/template_form.html",
                      {**_template_form_context(request, template), "saved": request.GET.get("saved") == "1"})
    try:
        fields = _template_fields(request.POST)
        fields["is_active"] = bool(request.POST.get("is_active"))
        services.store_template_update(actor=request.actor, template_id=template.id, **fields)
    except DomainError as exc:
        template.refresh_from_db()
        return render(request, "stores/template_form.html",
                      _template_form_context(request, template, form=request.POST, error=_error(exc)),
                      status=exc.status)
    return redirect(f"{request.path}?saved=1")


@console_view(Perm.TEMPLATE_MANAGE)
@require_http_methods(["POST"])
def policy_set(request: HttpRequest) -> HttpResponse:
    try:
        services.storefront_policy_set(actor=request.actor, allowed_palette=_palette(request.POST.get("allowed_palette", "")),
                                       editable_fields=request.POST.getlist("editable_fields"))
    except DomainError as exc:
        actor = request.actor
        return render(request, "stores/template_list.html", {
            "templates": selectors.store_template_list(actor=actor),
            "policy": selectors.enterprise_policy(actor.enterprise_id),
            "theme_fields": [(name, THEME_LABELS[name]) for name in THEME_FIELDS],
            "policy_errors": _error(exc),
        }, status=exc.status)
    return redirect("stores:template_list")


# --- HQ: one-click opening ---------------------------------------------------------------------------------------

def _open_context(request, *, form=None, error=None) -> dict:
    actor = request.actor
    parents = [n for n in org_selectors.org_node_list(actor=actor, include_inactive=False)
               if n.kind != NodeKind.STORE and org_selectors.has_perm(actor, Perm.STORE_OPEN, n)]
    return {"templates": selectors.store_template_list(actor=actor, include_inactive=False), "parents": parents,
            "form": form or {}, "form_errors": error, "time_zones": selectors.time_zone_choices(),
            "default_time_zone": settings.TIME_ZONE,
            "client_key": (form or {}).get("client_key") or uuid.uuid4().hex}


@console_view(Perm.STORE_OPEN)
@require_http_methods(["GET", "POST"])
def store_open(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "stores/store_open.html", _open_context(request))
    post = request.POST
    try:
        opening = services.store_open_from_template(
            actor=request.actor, template_id=parse_whole(post.get("template_id")) or -1,
            parent_id=parse_whole(post.get("parent_id")) or -1, code=post.get("code", ""), name=post.get("name", ""),
            address=post.get("address", ""), city=post.get("city", ""), latitude=post.get("latitude", ""),
            longitude=post.get("longitude", ""), phone=post.get("phone", ""), time_zone=post.get("time_zone", ""),
            client_key=post.get("client_key", ""),
        )
    except DomainError as exc:
        return render(request, "stores/store_open.html", _open_context(request, form=post, error=_error(exc)),
                      status=exc.status)
    roles = dict(Role.choices)
    accounts = [{**a, "role_label": roles.get(a["role"], a["role"])} for a in opening.accounts]
    return render(request, "stores/store_opened.html", {"opening": opening, "accounts": accounts},
                  status=200 if opening.replayed else 201)


# --- stores and their storefront look ------------------------------------------------------------------------------

@console_view(Perm.STORE_MANAGE)
def store_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    query = request.GET.get("q", "")[:64]
    stores = selectors.store_list(actor=actor, perm=Perm.STORE_MANAGE, search=query or None)
    page = Paginator(stores, 50).get_page(request.GET.get("page"))
    for profile in page:
        profile.may_edit_theme = org_selectors.has_perm(actor, Perm.STOREFRONT_EDIT, profile.node)
    return render(request, "stores/store_list.html", {
        "page": page, "q": query, "may_open": org_selectors.has_perm(actor, Perm.STORE_OPEN),
    })


def _theme_context(request, theme, *, error=None, saved=False) -> dict:
    profile = theme.store
    policy = selectors.theme_policy_for(profile)
    is_hq = org_selectors.has_perm(request.actor, Perm.TEMPLATE_MANAGE, profile.node)
    editable = set(THEME_FIELDS) if is_hq else set(policy.editable_fields)
    return {
        "theme": theme, "store": profile, "policy": policy, "is_hq": is_hq, "editable": editable,
        "labels": THEME_LABELS, "palette": policy.allowed_palette if not is_hq else [],
        "assortment": selectors.assortment_products(profile).prefetch_related("media").order_by("code")[:500],
        "featured": set(theme.featured_product_ids), "form_errors": error, "saved": saved,
        "images": selectors.theme_image_choices(profile.node.enterprise_id, theme.banner_url),
        "logos": selectors.theme_image_choices(profile.node.enterprise_id, theme.logo_url),
    }


PROFILE_FORM_FIELDS = ("address", "city", "phone", "status", "time_zone")


@console_view(Perm.STORE_MANAGE)
@require_http_methods(["GET", "POST"])
def store_edit(request: HttpRequest, store_id: int) -> HttpResponse:
    """A store's details (store.manage there): address, city, phone, status, pickup / delivery and its time zone,
    which the till, receipts, shift reports, the daily settlement and order pages read times in."""
    profile = selectors.store_get(actor=request.actor, store_id=store_id)
    if not org_selectors.has_perm(request.actor, Perm.STORE_MANAGE, profile.node):
        raise Http404
    error, status, saved = None, 200, request.GET.get("saved") == "1"
    if request.method == "POST":
        post = request.POST
        changes = {name: post.get(name, "") for name in PROFILE_FORM_FIELDS}
        changes.update(pickup_enabled=post.get("pickup_enabled") == "on",
                       delivery_enabled=post.get("delivery_enabled") == "on")
        try:
            services.store_profile_update(actor=request.actor, store_id=profile.node_id, **changes)
            return redirect(f"{request.path}?saved=1")
        except DomainError as exc:
            error, status = _error(exc), exc.status
    return render(request, "stores/store_edit.html", {
        "store": profile, "form": request.POST if error else None, "form_errors": error, "saved": saved,
        "statuses": StoreStatus.choices, "time_zones": selectors.time_zone_choices()}, status=status)


@console_view(Perm.STOREFRONT_EDIT)
@require_http_methods(["GET", "POST"])
def theme_edit(request: HttpRequest, store_id: int) -> HttpResponse:
    try:
        theme = selectors.theme_get(actor=request.actor, store_id=store_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise Http404
        return render(request, "web/404.html", {"message": exc.message}, status=exc.status)
    if request.method == "GET":
        return render(request, "stores/theme_form.html", _theme_context(request, theme, saved=request.GET.get("saved") == "1"))
    post = request.POST
    changes = {name: post[name] for name in ("logo_url", "primary_color", "accent_color", "banner_url", "notice")
               if name in post}
    uploads = {field: request.FILES[key] for field, key in (("banner_url", "banner_upload"), ("logo_url", "logo_upload"))
               if key in request.FILES}
    for field in uploads:
        changes.pop(field, None)  # a new image replaces what was picked
    try:
        if post.get("featured_present"):
            changes["featured_product_ids"] = _id_list(post.getlist("featured_product_ids"), "featured_product_ids")
        if uploads:  # the picked values and the uploads land together or not at all
            services.storefront_image_upload(actor=request.actor, store_id=store_id, uploads=uploads, **changes)
        else:
            services.storefront_theme_update(actor=request.actor, store_id=store_id, **changes)
    except DomainError as exc:
        theme.refresh_from_db()
        return render(request, "stores/theme_form.html", _theme_context(request, theme, error=_error(exc)),
                      status=exc.status)
    return redirect(f"{request.path}?saved=1")


# --- public storefront -------------------------------------------------------------------------------------------------

def _storefront_context(profile) -> dict:
    return selectors.storefront_context(profile)


def storefront(request: HttpRequest, slug: str) -> HttpResponse:
    profile = storefront_or_404(slug)
    query = request.GET.get("q", "").strip()[:64]
    if any(ord(ch) < 32 for ch in query):
        query = ""
    page = Paginator(selectors.storefront_products(profile, search=query or None), PAGE_SIZE).get_page(
        request.GET.get("page"))
    products = list(page)
    featured = selectors.storefront_featured(profile) if not query and page.number == 1 else []
    prices = selectors.storefront_prices(profile, products + [p for p in featured if p not in products])
    for product in products + featured:
        product.sf_price = prices[product.pk]
    return render(request, "stores/storefront.html", {
        **_storefront_context(profile), "page": page, "products": products, "featured": featured,
        "deals": storefront_deals(profile) if not query and page.number == 1 else [],
        "blocks": storefront_blocks("home", request, profile) if not query and page.number == 1 else "",
        "q": query,
    })


def storefront_product(request: HttpRequest, slug: str, product_id: int) -> HttpResponse:
    profile = storefront_or_404(slug)
    try:
        product = selectors.storefront_product(profile, product_id=product_id)
    except NotFound:
        raise Http404
    prices = selectors.storefront_prices(profile, [product])[product.pk]
    skus = [(sku, prices.by_sku[sku.pk]) for sku in product.live_skus]
    return render(request, "stores/storefront_product.html", {
        **_storefront_context(profile), "product": product, "price": prices, "skus": skus,
        "blocks": storefront_blocks("product", request, profile, product=product),
    })


def storefront_nearby(request: HttpRequest, slug: str) -> HttpResponse:
    """The open stores nearest to a position the shopper gave (browser location or typed), to switch to."""
    profile = storefront_or_404(slug)
    lat, lng = request.GET.get("lat", "").strip()[:20], request.GET.get("lng", "").strip()[:20]
    stores, error, status = [], None, 200
    if lat or lng:
        try:
            stores = selectors.store_nearest(enterprise_id=profile.enterprise_id, latitude=lat, longitude=lng, limit=10)
        except DomainError as exc:
            error, status = _error(exc), exc.status
    return render(request, "stores/storefront_nearby.html", {
        **_storefront_context(profile), "stores": stores, "lat": lat, "lng": lng, "form_errors": error,
    }, status=status)
