"""Store templates and the enterprise's storefront policy: HQ only (template.manage on the HQ node); audited."""
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import Staff
from yundian.org.roles import Perm

from ..models import StorefrontPolicy, StoreTemplate
from ._clean import (MAX_ASSORTMENT_ITEMS, MAX_FEATURED, clean_bool, clean_categories, clean_code, clean_colour,
                     clean_cover, clean_editable_fields, clean_image_url, clean_opening_hours, clean_palette,
                     clean_products, clean_staff_plan, clean_text, require_at_root)

DEFAULT_STAFF_PLAN = [{"role": "store_manager", "count": 1}, {"role": "guide", "count": 2}]
DEFAULT_HOURS = {day: [["09:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
TEMPLATE_FIELDS = ("name", "description", "price_list_id", "product_ids", "category_ids", "logo_url",
                   "primary_color", "accent_color", "banner_url", "featured_product_ids", "notice", "theme_palette",
                   "theme_editable_fields", "staff_plan", "opening_hours", "pickup_enabled", "delivery_enabled",
                   "min_days_cover", "max_days_cover", "is_active")


def clean_theme_value(enterprise_id: int, name: str, value: Any) -> Any:
    """One theme field, cleaned (shared by templates and store themes)."""
    if name in ("primary_color", "accent_color"):
        return clean_colour(value, name)
    if name in ("logo_url", "banner_url"):
        return clean_image_url(value, name)
    if name == "featured_product_ids":
        return clean_products(enterprise_id, value, name, MAX_FEATURED)
    if name == "notice":
        return clean_text(value, name, 280, required=False, multiline=True)
    raise ValidationFailed(_("Unknown theme field."), code="invalid_theme_field", details={"field": name})


def _price_list(actor: Staff, price_list_id: Any):
    from yundian.catalog.selectors import price_list_get

    if price_list_id is None:
        return None
    if isinstance(price_list_id, bool) or not isinstance(price_list_id, int):
        raise ValidationFailed(_("Ids are positive whole numbers."), code="invalid_ids", details={"field": "price_list_id"})
    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    if not price_list.is_active:
        raise ValidationFailed(_("This price list is not active."), code="price_list_inactive",
                               details={"field": "price_list_id"})
    return price_list


def snapshot(t: StoreTemplate) -> dict:
    return {"code": t.code, "name": t.name, "price_list": t.price_list_id,
            "products": sorted(t.products.values_list("pk", flat=True)),
            "categories": sorted(t.categories.values_list("pk", flat=True)),
            "theme": {"logo_url": t.logo_url, "primary_color": t.primary_color, "accent_color": t.accent_color,
                      "banner_url": t.banner_url, "featured_product_ids": t.featured_product_ids, "notice": t.notice},
            "theme_palette": t.theme_palette, "theme_editable_fields": t.theme_editable_fields,
            "staff_plan": t.staff_plan, "opening_hours": t.opening_hours, "pickup_enabled": t.pickup_enabled,
            "delivery_enabled": t.delivery_enabled, "min_days_cover": t.min_days_cover,
            "max_days_cover": t.max_days_cover, "is_active": t.is_active}


def _apply(actor: Staff, template: StoreTemplate, changes: dict) -> tuple[list[int] | None, list[int] | None]:
    """Clean and set the given fields on `template`; returns the product and category ids to set (or None)."""
    unknown = set(changes) - set(TEMPLATE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field."), code="unknown_field", details={"fields": sorted(unknown)})
    ent = actor.enterprise_id
    products = categories = None
    for name, value in changes.items():
        if name == "name":
            template.name = clean_text(value, name, 120)
        elif name == "description":
            template.description = clean_text(value, name, 2000, required=False, multiline=True)
        elif name == "price_list_id":
            template.price_list = _price_list(actor, value)
        elif name == "product_ids":
            products = clean_products(ent, value, name, MAX_ASSORTMENT_ITEMS)
        elif name == "category_ids":
            categories = clean_categories(ent, value, name)
        elif name == "theme_palette":
            template.theme_palette = None if value is None else clean_palette(value, name)
        elif name == "theme_editable_fields":
            template.theme_editable_fields = None if value is None else clean_editable_fields(value, name)
        elif name == "staff_plan":
            template.staff_plan = clean_staff_plan(value)
        elif name == "opening_hours":
            template.opening_hours = clean_opening_hours(value)
        elif name in ("pickup_enabled", "delivery_enabled", "is_active"):
            setattr(template, name, clean_bool(value, name))
        elif name in ("min_days_cover", "max_days_cover"):
            continue  # checked together below
        else:
            setattr(template, name, clean_theme_value(ent, name, value))
    if "min_days_cover" in changes or "max_days_cover" in changes:
        template.min_days_cover, template.max_days_cover = clean_cover(
            changes.get("min_days_cover", template.min_days_cover), changes.get("max_days_cover", template.max_days_cover))
    palette = template.theme_palette
    if palette is None:
        policy = StorefrontPolicy.objects.filter(enterprise_id=ent).first()
        palette = policy.allowed_palette if policy else []
    for field in ("primary_color", "accent_color"):
        if palette and getattr(template, field) not in palette:
            raise ValidationFailed(_("This colour is not in the allowed palette."), code="colour_not_in_palette",
                                   details={"field": field, "palette": palette})
    return products, categories


@transaction.atomic
def store_template_create(*, actor: Staff, code: str, name: str, **fields: Any) -> StoreTemplate:
    """Create a store template (HQ only). Fields as in TEMPLATE_FIELDS; unset ones take defaults. Audited."""
    root = require_at_root(actor, Perm.TEMPLATE_MANAGE)
    code = clean_code(code)
    template = StoreTemplate(enterprise_id=actor.enterprise_id, code=code, staff_plan=DEFAULT_STAFF_PLAN,
                             opening_hours=DEFAULT_HOURS)
    products, categories = _apply(actor, template, {"name": name, **fields})
    if StoreTemplate.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    template.products.set(products or [])
    template.categories.set(categories or [])
    audit_record(actor=actor, action="store_template.create", target=template, after=snapshot(template),
                 scope_path=root.path)
    return template


@transaction.atomic
def store_template_update(*, actor: Staff, template_id: int, **changes: Any) -> StoreTemplate:
    """Change a template (HQ only). Stores opened from it keep their copies; its theme policy applies live."""
    root = require_at_root(actor, Perm.TEMPLATE_MANAGE)
    template = lock_one(StoreTemplate.objects.filter(enterprise_id=actor.enterprise_id, pk=template_id))
    if template is None:
        raise NotFound(_("Store template not found."), code="template_not_found")
    before = snapshot(template)
    products, categories = _apply(actor, template, changes)
    template.save()
    if products is not None:
        template.products.set(products)
    if categories is not None:
        template.categories.set(categories)
    audit_record(actor=actor, action="store_template.update", target=template, before=before,
                 after=snapshot(template), scope_path=root.path)
    return template


@transaction.atomic
def storefront_policy_set(*, actor: Staff, allowed_palette: list[str], editable_fields: list[str]) -> StorefrontPolicy:
    """Set what every store may change on its storefront (templates may override). HQ only; audited."""
    root = require_at_root(actor, Perm.TEMPLATE_MANAGE)
    palette = clean_palette(allowed_palette)
    fields = clean_editable_fields(editable_fields)
    policy, _created = StorefrontPolicy.objects.get_or_create(
        enterprise_id=actor.enterprise_id, defaults={"allowed_palette": palette, "editable_fields": fields})
    policy = lock_one(StorefrontPolicy.objects.filter(pk=policy.pk))
    before = None if _created else {"allowed_palette": policy.allowed_palette, "editable_fields": policy.editable_fields}
    policy.allowed_palette, policy.editable_fields = palette, fields
    policy.save()
    audit_record(actor=actor, action="storefront_policy.set", target=policy, before=before,
                 after={"allowed_palette": palette, "editable_fields": fields}, scope_path=root.path)
    return policy
