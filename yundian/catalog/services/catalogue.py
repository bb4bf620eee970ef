"""Catalogue writes: categories, products, SKUs, media. HQ only (catalog.manage on the HQ node); atomic; audited."""
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import CATALOG, cache_bump
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.numbers import clean_int
from yundian.org.models import Staff

from ..barcodes import plu_normalise
from ..models import Category, MediaKind, Product, ProductMedia, Sku, Unit
from ._common import (clean_code, clean_mapping, clean_price, clean_text, require_catalog_manage,
                      root_path)

MAX_CATEGORY_DEPTH = 6
MAX_MEDIA_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def _category_get(actor: Staff, category_id: int) -> Category:
    category = Category.objects.filter(enterprise_id=actor.enterprise_id, pk=category_id).first()
    if category is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    return category


def _product_get(actor: Staff, product_id: int, *, lock: bool = False) -> Product:
    qs = Product.objects.filter(enterprise_id=actor.enterprise_id, pk=product_id)
    product = lock_one(qs) if lock else qs.first()
    if product is None:
        raise NotFound(_("Product not found."), code="product_not_found")
    return product


def _sku_get(actor: Staff, sku_id: int, *, lock: bool = False) -> Sku:
    qs = Sku.objects.filter(enterprise_id=actor.enterprise_id, pk=sku_id)
    sku = lock_one(qs) if lock else qs.first()
    if sku is None:
        raise NotFound(_("SKU not found."), code="sku_not_found")
    return sku


def _product_snapshot(p: Product) -> dict:
    return {"code": p.code, "name": p.name, "category": p.category_id, "brand": p.brand,
            "attributes": p.attributes, "is_active": p.is_active}


def _sku_snapshot(s: Sku) -> dict:
    return {"code": s.code, "name": s.name, "options": s.options, "unit": s.unit, "base_price": s.base_price,
            "is_weighed": s.is_weighed, "plu": s.plu, "is_active": s.is_active}


# --- categories -------------------------------------------------------------------------------------

@transaction.atomic
def category_create(*, actor: Staff, name: str, code: str, parent_id: int | None = None,
                    sort_order: int = 0) -> Category:
    """Add a category (under `parent_id`, or at the top). Codes are unique per enterprise."""
    require_catalog_manage(actor)
    parent = _category_get(actor, parent_id) if parent_id is not None else None
    name = clean_text(name, "name", 120)
    code = clean_code(code)
    sort_order = clean_int(sort_order, "sort_order", -10**6, 10**6)
    depth = parent.depth + 1 if parent else 0
    if depth >= MAX_CATEGORY_DEPTH:
        raise ValidationFailed(_("Categories nest at most six levels deep."), code="category_too_deep")
    if Category.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            category = Category.objects.create(enterprise_id=actor.enterprise_id, parent=parent, name=name,
                                               code=code, sort_order=sort_order, path="", depth=depth)
    except IntegrityError:
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    category.path = f"{parent.path if parent else '/'}{category.pk}/"
    Category.objects.filter(pk=category.pk).update(path=category.path)
    cache_bump(CATALOG)
    audit_record(actor=actor, action="category.create", target=category, scope_path=root_path(actor),
                 after={"code": code, "name": name, "parent": parent_id})
    return category


@transaction.atomic
def category_update(*, actor: Staff, category_id: int, name: str | None = None, sort_order: int | None = None,
                    is_active: bool | None = None) -> Category:
    """Rename, reorder or (de)activate a category."""
    require_catalog_manage(actor)
    category = lock_one(Category.objects.filter(pk=_category_get(actor, category_id).pk))
    before = {"name": category.name, "sort_order": category.sort_order, "is_active": category.is_active}
    if name is not None:
        category.name = clean_text(name, "name", 120)
    if sort_order is not None:
        category.sort_order = clean_int(sort_order, "sort_order", -10**6, 10**6)
    if is_active is not None:
        category.is_active = bool(is_active)
    category.save(update_fields=["name", "sort_order", "is_active", "updated_at"])
    audit_record(actor=actor, action="category.update", target=category, scope_path=root_path(actor), before=before,
                 after={"name": category.name, "sort_order": category.sort_order, "is_active": category.is_active})
    return category


# --- products and SKUs --------------------------------------------------------------------------------

def _clean_sku_fields(actor: Staff, data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - {"code", "name", "options", "unit", "base_price", "is_weighed", "plu", "is_active",
                           "sort_order", "barcodes", "generate_barcode"}
    if unknown:
        raise ValidationFailed(_("Unknown SKU fields."), code="unknown_fields", details={"fields": sorted(unknown)})
    is_weighed = bool(data.get("is_weighed", False))
    unit = data.get("unit") or (Unit.KILOGRAM if is_weighed else Unit.PIECE)
    if unit not in Unit.values:
        raise ValidationFailed(_("Unknown unit."), code="invalid_unit", details={"field": "unit"})
    plu = data.get("plu")
    if plu not in (None, ""):
        if not is_weighed:
            raise ValidationFailed(_("Only SKUs sold by weight have a scale item code."), code="plu_not_weighed",
                                   details={"field": "plu"})
        plu = plu_normalise(str(plu))
    else:
        plu = None
    return {
        "code": clean_code(data.get("code"), "sku.code"),
        "name": clean_text(data.get("name", ""), "sku.name", 200, required=False),
        "options": clean_mapping(data.get("options"), "sku.options", text_values_only=True),
        "unit": unit,
        "base_price": clean_price(data.get("base_price", 0), "sku.base_price"),
        "is_weighed": is_weighed,
        "plu": plu,
        "is_active": bool(data.get("is_active", True)),
        "sort_order": clean_int(data.get("sort_order", 0), "sku.sort_order", -10**6, 10**6),
    }


def _sku_insert(actor: Staff, product: Product, fields: dict[str, Any]) -> Sku:
    if Sku.objects.filter(enterprise_id=actor.enterprise_id, code=fields["code"]).exists():
        raise Conflict(_("This SKU code is already used."), code="sku_code_taken",
                       details={"field": "sku.code", "code": fields["code"]})
    if fields["plu"] and Sku.objects.filter(enterprise_id=actor.enterprise_id, plu=fields["plu"]).exists():
        raise Conflict(_("This scale item code is already used."), code="plu_taken", details={"field": "plu"})
    try:
        with transaction.atomic():
            return Sku.objects.create(enterprise_id=actor.enterprise_id, product=product, **fields)
    except IntegrityError:
        raise Conflict(_("This SKU code or scale item code is already used."), code="sku_code_taken",
                       details={"field": "sku.code", "code": fields["code"]})


@transaction.atomic
def product_create(*, actor: Staff, code: str, name: str, category_id: int | None = None, brand: str = "",
                   description: str = "", attributes: dict | None = None, is_active: bool = True,
                   skus: list[dict] | None = None) -> Product:
    """Create a product with its SKUs (and their barcodes) all or nothing.

    Each SKU dict: code, name, options, unit, base_price (fen), is_weighed, plu, barcodes (list of codes),
    generate_barcode (bool: give it a new internal code).
    """
    from .codes import barcode_attach, barcode_generate_for

    require_catalog_manage(actor)
    category = _category_get(actor, category_id) if category_id is not None else None
    code = clean_code(code)
    fields = {
        "name": clean_text(name, "name", 200),
        "brand": clean_text(brand, "brand", 80, required=False),
        "description": clean_text(description, "description", 5000, required=False),
        "attributes": clean_mapping(attributes, "attributes"),
    }
    if Product.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This product code is already used."), code="product_code_taken", details={"field": "code"})
    sku_data = list(skus or [])
    if len(sku_data) > 500:
        raise ValidationFailed(_("At most 500 SKUs per product."), code="too_many_skus")
    cleaned = [_clean_sku_fields(actor, s if isinstance(s, dict) else {}) for s in sku_data]
    if len({c["code"] for c in cleaned}) != len(cleaned):
        raise ValidationFailed(_("Two SKUs have the same code."), code="duplicate_sku_code", details={"field": "skus"})
    try:
        with transaction.atomic():
            product = Product.objects.create(enterprise_id=actor.enterprise_id, category=category, code=code,
                                             is_active=bool(is_active), **fields)
    except IntegrityError:
        raise Conflict(_("This product code is already used."), code="product_code_taken", details={"field": "code"})
    for raw, sku_fields in zip(sku_data, cleaned):
        sku = _sku_insert(actor, product, sku_fields)
        for position, barcode in enumerate(raw.get("barcodes") or []):
            barcode_attach(actor=actor, sku=sku, code=barcode, is_primary=position == 0)
        if raw.get("generate_barcode"):
            barcode_generate_for(actor=actor, sku=sku, is_primary=not raw.get("barcodes"))
    audit_record(actor=actor, action="product.create", target=product, scope_path=root_path(actor),
                 after={**_product_snapshot(product), "skus": [_sku_snapshot(s) for s in product.skus.all()]})
    return product


@transaction.atomic
def product_update(*, actor: Staff, product_id: int, **changes: Any) -> Product:
    """Change a product's name, category, brand, description, attributes or active flag. Audited."""
    require_catalog_manage(actor)
    allowed = {"name", "category_id", "brand", "description", "attributes", "is_active"}
    if set(changes) - allowed:
        raise ValidationFailed(_("Unknown product fields."), code="unknown_fields",
                               details={"fields": sorted(set(changes) - allowed)})
    product = _product_get(actor, product_id, lock=True)
    before = _product_snapshot(product)
    if "name" in changes:
        product.name = clean_text(changes["name"], "name", 200)
    if "category_id" in changes:
        cid = changes["category_id"]
        product.category = _category_get(actor, cid) if cid is not None else None
    if "brand" in changes:
        product.brand = clean_text(changes["brand"], "brand", 80, required=False)
    if "description" in changes:
        product.description = clean_text(changes["description"], "description", 5000, required=False)
    if "attributes" in changes:
        product.attributes = clean_mapping(changes["attributes"], "attributes")
    if "is_active" in changes:
        product.is_active = bool(changes["is_active"])
    product.save()
    audit_record(actor=actor, action="product.update", target=product, scope_path=root_path(actor), before=before,
                 after=_product_snapshot(product))
    return product


@transaction.atomic
def sku_create(*, actor: Staff, product_id: int, **data: Any) -> Sku:
    """Add a variant to a product, with its barcodes (all or nothing)."""
    from .codes import barcode_attach, barcode_generate_for

    require_catalog_manage(actor)
    product = _product_get(actor, product_id)
    fields = _clean_sku_fields(actor, data)
    sku = _sku_insert(actor, product, fields)
    for position, barcode in enumerate(data.get("barcodes") or []):
        barcode_attach(actor=actor, sku=sku, code=barcode, is_primary=position == 0)
    if data.get("generate_barcode"):
        barcode_generate_for(actor=actor, sku=sku, is_primary=not data.get("barcodes"))
    audit_record(actor=actor, action="sku.create", target=sku, scope_path=root_path(actor), after=_sku_snapshot(sku))
    return sku


@transaction.atomic
def sku_update(*, actor: Staff, sku_id: int, **changes: Any) -> Sku:
    """Change a SKU. A base-price change is audited like any price change and applies everywhere at once."""
    require_catalog_manage(actor)
    allowed = {"name", "options", "unit", "base_price", "is_active", "sort_order", "plu"}
    if set(changes) - allowed:
        raise ValidationFailed(_("Unknown SKU fields."), code="unknown_fields",
                               details={"fields": sorted(set(changes) - allowed)})
    sku = _sku_get(actor, sku_id, lock=True)
    before = _sku_snapshot(sku)
    if "name" in changes:
        sku.name = clean_text(changes["name"], "name", 200, required=False)
    if "options" in changes:
        sku.options = clean_mapping(changes["options"], "options", text_values_only=True)
    if "unit" in changes:
        if changes["unit"] not in Unit.values:
            raise ValidationFailed(_("Unknown unit."), code="invalid_unit", details={"field": "unit"})
        sku.unit = changes["unit"]
    if "base_price" in changes:
        sku.base_price = clean_price(changes["base_price"], "base_price")
    if "is_active" in changes:
        sku.is_active = bool(changes["is_active"])
    if "sort_order" in changes:
        sku.sort_order = clean_int(changes["sort_order"], "sort_order", -10**6, 10**6)
    if "plu" in changes:
        plu = changes["plu"]
        if plu in (None, ""):
            sku.plu = None
        else:
            if not sku.is_weighed:
                raise ValidationFailed(_("Only SKUs sold by weight have a scale item code."), code="plu_not_weighed",
                                       details={"field": "plu"})
            sku.plu = plu_normalise(str(plu))
            if Sku.objects.filter(enterprise_id=actor.enterprise_id, plu=sku.plu).exclude(pk=sku.pk).exists():
                raise Conflict(_("This scale item code is already used."), code="plu_taken", details={"field": "plu"})
    sku.save()
    after = _sku_snapshot(sku)
    action = "price.base_change" if before["base_price"] != after["base_price"] else "sku.update"
    audit_record(actor=actor, action=action, target=sku, scope_path=root_path(actor), before=before, after=after)
    return sku


# --- media --------------------------------------------------------------------------------------------

def image_upload_check(upload: UploadedFile) -> None:
    """An uploaded image (product media, guides' materials): at most 5 MB, really an image, JPEG, PNG, WebP or GIF;
    else ValidationFailed on the field `file`."""
    from PIL import Image, UnidentifiedImageError

    if upload.size is None or upload.size > MAX_MEDIA_BYTES:
        raise ValidationFailed(_("Images may be at most 5 MB."), code="file_too_large", details={"field": "file"})
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed(_("This file is not an image."), code="not_an_image", details={"field": "file"})
    finally:
        upload.seek(0)
    if image_format not in IMAGE_TYPES:
        raise ValidationFailed(_("Use a JPEG, PNG, WebP or GIF image."), code="unsupported_image",
                               details={"field": "file"})


@transaction.atomic
def media_add(*, actor: Staff, product_id: int, url: str = "", upload: UploadedFile | None = None,
              alt_text: str = "", sort_order: int = 0, kind: str = MediaKind.IMAGE) -> ProductMedia:
    """Attach an image: an https URL or an uploaded JPEG/PNG/WebP/GIF (checked to really be an image)."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import URLValidator

    require_catalog_manage(actor)
    product = _product_get(actor, product_id)
    if kind not in MediaKind.values:
        raise ValidationFailed(_("Unknown media kind."), code="invalid_media_kind", details={"field": "kind"})
    url = (url or "").strip()
    if bool(url) == bool(upload):
        raise ValidationFailed(_("Give either a URL or a file."), code="media_source_required")
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except DjangoValidationError:
            raise ValidationFailed(_("Not a web address."), code="invalid_url", details={"field": "url"})
        if len(url) > 500:
            raise ValidationFailed(_("Too long."), code="too_long", details={"field": "url"})
    else:
        image_upload_check(upload)
    media = ProductMedia(product=product, kind=kind, url=url, sort_order=clean_int(sort_order, "sort_order", -10**6, 10**6),
                         alt_text=clean_text(alt_text, "alt_text", 200, required=False))
    if upload:
        media.file.save(upload.name[-80:], upload, save=False)
    media.save()
    audit_record(actor=actor, action="product.media_add", target=product, scope_path=root_path(actor),
                 after={"media": media.pk, "src": media.src})
    return media


@transaction.atomic
def media_remove(*, actor: Staff, product_id: int, media_id: int) -> None:
    """Detach one image from a product (the stored file is kept for the audit trail)."""
    require_catalog_manage(actor)
    product = _product_get(actor, product_id)
    media = ProductMedia.objects.filter(product=product, pk=media_id).first()
    if media is None:
        raise NotFound(_("Media not found."), code="media_not_found")
    src = media.src
    media.delete()
    audit_record(actor=actor, action="product.media_remove", target=product, scope_path=root_path(actor),
                 before={"media": media_id, "src": src})
