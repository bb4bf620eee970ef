"""Store profiles and storefront themes: creating a profile for an existing store node, editing a profile
(store.manage), and a store's theme within its policy (storefront.edit). Audited."""
import hashlib
import io
from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org import selectors as org_selectors
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm

from .. import selectors
from ..models import THEME_FIELDS, StoreAssortment, StorefrontTheme, StoreProfile, StoreStatus, StoreTemplate
from ._clean import (clean_bool, clean_coordinate, clean_cover, clean_opening_hours, clean_phone, clean_text,
                     enterprise_root, require_store_node)
from .templates import DEFAULT_HOURS, clean_theme_value

PROFILE_FIELDS = ("address", "city", "latitude", "longitude", "phone", "opening_hours", "status", "pickup_enabled",
                  "delivery_enabled", "min_days_cover", "max_days_cover", "time_zone")


def clean_time_zone(value: Any) -> str:
    """An IANA time zone name ("Asia/Shanghai", "Asia/Urumqi", "Europe/Paris"); anything else is a 422."""
    if not isinstance(value, str) or value not in available_timezones():
        raise ValidationFailed(_("Not a known time zone."), code="invalid_time_zone", details={"field": "time_zone"})
    return value


def profile_snapshot(p: StoreProfile) -> dict:
    return {"node": p.node_id, "slug": p.slug, "template": p.template_id, "address": p.address, "city": p.city,
            "latitude": str(p.latitude), "longitude": str(p.longitude), "phone": p.phone,
            "opening_hours": p.opening_hours, "status": p.status, "pickup_enabled": p.pickup_enabled,
            "delivery_enabled": p.delivery_enabled, "min_days_cover": p.min_days_cover,
            "max_days_cover": p.max_days_cover, "time_zone": p.time_zone}


def apply_profile(profile: StoreProfile, changes: dict) -> None:
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field."), code="unknown_field", details={"fields": sorted(unknown)})
    for name, value in changes.items():
        if name == "address":
            profile.address = clean_text(value, name, 200)
        elif name == "city":
            profile.city = clean_text(value, name, 60)
        elif name == "latitude":
            profile.latitude = clean_coordinate(value, name, 90)
        elif name == "longitude":
            profile.longitude = clean_coordinate(value, name, 180)
        elif name == "phone":
            profile.phone = clean_phone(value)
        elif name == "opening_hours":
            profile.opening_hours = clean_opening_hours(value)
        elif name == "status":
            if value not in StoreStatus.values:
                raise ValidationFailed(_("Unknown store status."), code="invalid_status", details={"field": name})
            profile.status = value
        elif name in ("pickup_enabled", "delivery_enabled"):
            setattr(profile, name, clean_bool(value, name))
        elif name == "time_zone":
            profile.time_zone = clean_time_zone(value)
    if "min_days_cover" in changes or "max_days_cover" in changes:
        profile.min_days_cover, profile.max_days_cover = clean_cover(
            changes.get("min_days_cover", profile.min_days_cover), changes.get("max_days_cover", profile.max_days_cover))


def storefront_slug(node: OrgNode, enterprise_code: str) -> str:
    """The store's public address: its code, or "<enterprise>-<code>" when another enterprise took the code."""
    if not StoreProfile.objects.filter(slug=node.code).exists():
        return node.code
    return f"{enterprise_code}-{node.code}"


def create_profile_rows(*, node: OrgNode, enterprise_code: str, template: StoreTemplate | None,
                        fields: dict) -> StoreProfile:
    """Insert a profile, its assortment (the template's) and its theme (the template's, else defaults)."""
    profile = StoreProfile(node=node, enterprise_id=node.enterprise_id, template=template,
                           slug=storefront_slug(node, enterprise_code), opening_hours=DEFAULT_HOURS)
    if template is not None:
        for name in ("opening_hours", "pickup_enabled", "delivery_enabled", "min_days_cover", "max_days_cover"):
            setattr(profile, name, getattr(template, name))
    for required in ("address", "city", "latitude", "longitude"):
        if required not in fields:
            raise ValidationFailed(_("This field is required."), code="required", details={"field": required})
    apply_profile(profile, fields)
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise Conflict(_("This store's storefront address is taken."), code="slug_taken", details={"slug": profile.slug})
    theme = StorefrontTheme(store=profile)
    if template is not None:
        for name in THEME_FIELDS:
            setattr(theme, name, getattr(template, name))
        StoreAssortment.objects.bulk_create(
            [StoreAssortment(store=profile, product_id=pk) for pk in template.products.values_list("pk", flat=True)]
            + [StoreAssortment(store=profile, category_id=pk) for pk in template.categories.values_list("pk", flat=True)])
    theme.save()
    return profile


@transaction.atomic
def store_profile_create(*, actor: Staff, store_id: int, template_id: int | None = None, **fields: Any) -> StoreProfile:
    """Give an existing store node (opened without a template) its profile and storefront. store.open there."""
    node = org_selectors.org_node_get(actor=actor, node_id=store_id)
    org_selectors.require(actor, Perm.STORE_OPEN, node)
    require_store_node(node)
    template = None
    if template_id is not None:
        template = selectors.store_template_list(actor=actor, include_inactive=False).filter(pk=template_id).first()
        if template is None:
            raise NotFound(_("Store template not found."), code="template_not_found")
    if StoreProfile.objects.filter(node=node).exists():
        raise Conflict(_("This store already has a profile."), code="profile_exists")
    profile = create_profile_rows(node=node, enterprise_code=actor.enterprise.code, template=template, fields=fields)
    audit_record(actor=actor, action="store_profile.create", target=profile, after=profile_snapshot(profile),
                 scope_path=node.path)
    return profile


@transaction.atomic
def store_profile_update(*, actor: Staff, store_id: int, **changes: Any) -> StoreProfile:
    """Change a store's address, coordinates, hours, status, services, cover days or time zone (store.manage
    there)."""
    profile = selectors.store_get(actor=actor, store_id=store_id)
    org_selectors.require(actor, Perm.STORE_MANAGE, profile.node)
    profile = lock_one(StoreProfile.objects.filter(pk=profile.pk).select_related("node"))
    before = profile_snapshot(profile)
    apply_profile(profile, changes)
    profile.save()
    audit_record(actor=actor, action="store_profile.update", target=profile, before=before,
                 after=profile_snapshot(profile), scope_path=profile.node.path)
    return profile


@transaction.atomic
def storefront_theme_update(*, actor: Staff, store_id: int, **changes: Any) -> StorefrontTheme:
    """Change a store's storefront look. 404 outside the actor's view; 403 without storefront.edit there.

    Headquarters (template.manage on the HQ node) may change every field with any valid colour. Anyone else
    may change only the fields the store's policy lists (403 `theme_field_not_editable`) and pick colours only
    from its palette (422 `colour_not_in_palette`). A field sent with its current value is not a change.
    Featured products must be in the store's assortment. Locks the theme row. Audited.
    """
    theme = selectors.theme_get(actor=actor, store_id=store_id)
    profile = theme.store
    unknown = set(changes) - set(THEME_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown theme field."), code="invalid_theme_field",
                               details={"fields": sorted(unknown), "allowed": list(THEME_FIELDS)})
    cleaned = {name: clean_theme_value(actor.enterprise_id, name, value) for name, value in changes.items()}
    theme = lock_one(StorefrontTheme.objects.filter(pk=theme.pk))
    before = selectors.theme_values(theme)
    changed = {name: value for name, value in cleaned.items() if before[name] != value}
    is_hq = org_selectors.has_perm(actor, Perm.TEMPLATE_MANAGE, enterprise_root(actor))
    if not is_hq:
        policy = selectors.theme_policy_for(profile)
        refused = sorted(name for name in changed if name not in policy.editable_fields)
        if refused:
            raise Forbidden(_("Headquarters does not let stores change this part of the storefront."),
                            code="theme_field_not_editable", details={"fields": refused})
        for name in ("primary_color", "accent_color"):
            if name in changed and policy.allowed_palette and changed[name] not in policy.allowed_palette:
                raise ValidationFailed(_("This colour is not in the allowed palette."), code="colour_not_in_palette",
                                       details={"field": name, "palette": policy.allowed_palette})
    if "featured_product_ids" in changed and changed["featured_product_ids"]:
        allowed = set(selectors.assortment_products(profile).filter(pk__in=changed["featured_product_ids"])
                      .values_list("pk", flat=True))
        outside = [pk for pk in changed["featured_product_ids"] if pk not in allowed]
        if outside:
            raise ValidationFailed(_("Featured products must be active products of this store's assortment."),
                                   code="product_not_in_assortment", details={"field": "featured_product_ids",
                                                                              "ids": outside})
    if not changed:
        return theme
    for name, value in changed.items():
        setattr(theme, name, value)
    theme.save()
    audit_record(actor=actor, action="storefront_theme.update", target=theme, scope_path=profile.node.path,
                 before={k: before[k] for k in changed}, after=changed)
    return theme


MAX_IMAGE_BYTES = 3 * 1024 * 1024
MAX_IMAGE_SIDE = 5000
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}


def clean_image_upload(upload: Any, field: str) -> tuple[bytes, str]:
    """(content, extension) of an uploaded PNG, JPEG, WebP or GIF image of at most 3 MB and 5000 px a side."""
    if upload is None or not hasattr(upload, "read"):
        raise ValidationFailed(_("Choose an image file."), code="image_required", details={"field": field})
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationFailed(_("Images may be at most 3 MB."), code="image_too_large",
                               details={"field": field, "max_bytes": MAX_IMAGE_BYTES})
    content = upload.read()
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            kind, size = image.format, image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(_("This file is not an image we can show."), code="invalid_image",
                               details={"field": field})
    if kind not in IMAGE_FORMATS or max(size) > MAX_IMAGE_SIDE:
        raise ValidationFailed(_("Use a PNG, JPEG, WebP or GIF image of at most 5000 pixels a side."),
                               code="invalid_image", details={"field": field})
    return content, IMAGE_FORMATS[kind]


def storefront_image_upload(*, actor: Staff, store_id: int, uploads: dict[str, Any], **changes: Any) -> StorefrontTheme:
    """Upload images for a store's logo and/or banner (`uploads`: field -> file) and save them with the other theme
    `changes` in one storefront_theme_update (the same rules). Every file is checked before any is stored; a file is
    named by its content, under the enterprise's media folder, so the same image uploaded twice is one file; a
    refused change leaves no new file behind."""
    for field in uploads:
        if field not in ("logo_url", "banner_url"):
            raise ValidationFailed(_("Unknown theme field."), code="invalid_theme_field", details={"field": field})
    selectors.theme_get(actor=actor, store_id=store_id)  # 404 before anything is stored
    images = {field: clean_image_upload(upload, field) for field, upload in uploads.items()}
    media = "/" + settings.MEDIA_URL.strip("/")
    created = []
    try:
        for field, (content, extension) in images.items():
            name = (f"{selectors.THEME_MEDIA_DIR}/{actor.enterprise_id}/"
                    f"{hashlib.sha256(content).hexdigest()[:20]}.{extension}")
            if not default_storage.exists(name):
                name = default_storage.save(name, ContentFile(content))
                created.append(name)
            changes[field] = f"{media}/{name}"
        return storefront_theme_update(actor=actor, store_id=store_id, **changes)
    except Exception:
        for name in created:
            default_storage.delete(name)
        raise
