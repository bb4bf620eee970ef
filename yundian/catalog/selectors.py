"""Catalogue reads. The catalogue is enterprise-wide: every staff member with catalog.view (all roles) reads it;
another enterprise's objects are not found (404). Price lists are visible on the actor's own subtree and on the
nodes above it (the lists that apply to them), never on sibling branches.
"""
import json
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db import connection, models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.org import selectors as org_selectors
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm

from . import barcodes as codes
from .barcodes import SchemeLayout, WeighedCode
from .models import (Barcode, Category, Channel, ImportRun, PriceEntry, PriceList, Product, Sku,
                     WeighedBarcodeScheme, WeighedValue)
from .pricing import PriceResolution, check_channel, price_resolve


def _may_read(actor: Staff) -> bool:
    return org_selectors.has_perm(actor, Perm.CATALOG_VIEW)


# --- categories, products, SKUs ----------------------------------------------------------------------

def category_list(*, actor: Staff, include_inactive: bool = True) -> QuerySet[Category]:
    if not _may_read(actor):
        return Category.objects.none()
    qs = Category.objects.filter(enterprise_id=actor.enterprise_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("path")


def category_get(*, actor: Staff, category_id: int) -> Category:
    category = category_list(actor=actor).filter(pk=category_id).first()
    if category is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    return category


def product_list(*, actor: Staff, search: str | None = None, category_id: int | None = None,
                 is_active: bool | None = None) -> QuerySet[Product]:
    """Products of the actor's enterprise; `category_id` includes its sub-categories; search by name, code,
    brand, SKU code or exact barcode."""
    if not _may_read(actor):
        return Product.objects.none()
    qs = Product.objects.filter(enterprise_id=actor.enterprise_id).select_related("category")
    if category_id is not None:
        category = category_get(actor=actor, category_id=category_id)
        qs = qs.filter(category__path__startswith=category.path)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if search:
        search = search.strip()[:64]
        skus = Sku.objects.filter(enterprise_id=actor.enterprise_id).filter(
            Q(code__iexact=search) | Q(barcodes__code=search)).values("product_id")
        qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search) | Q(brand__icontains=search)
                       | Q(pk__in=skus))
    return qs.annotate(sku_count=Count("skus", distinct=True)).order_by("-id")


def product_get(*, actor: Staff, product_id: int) -> Product:
    """A product with its SKUs (each with barcodes) and media prefetched."""
    if not _may_read(actor):
        raise NotFound(_("Product not found."), code="product_not_found")
    product = (
        Product.objects.filter(enterprise_id=actor.enterprise_id, pk=product_id)
        .select_related("category")
        .prefetch_related(Prefetch("skus", queryset=Sku.objects.prefetch_related("barcodes")), "media")
        .first()
    )
    if product is None:
        raise NotFound(_("Product not found."), code="product_not_found")
    return product


def sku_list(*, actor: Staff, product_id: int | None = None, search: str | None = None,
             is_active: bool | None = None) -> QuerySet[Sku]:
    if not _may_read(actor):
        return Sku.objects.none()
    qs = Sku.objects.filter(enterprise_id=actor.enterprise_id).select_related("product")
    if product_id is not None:
        qs = qs.filter(product_id=product_get(actor=actor, product_id=product_id).pk)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if search:
        search = search.strip()[:64]
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search) | Q(product__name__icontains=search)
                       | Q(barcodes__code=search)).distinct()
    return qs.prefetch_related("barcodes").order_by("product_id", "sort_order", "id")


def sku_get(*, actor: Staff, sku_id: int) -> Sku:
    sku = (Sku.objects.filter(enterprise_id=actor.enterprise_id, pk=sku_id)
           .select_related("product").prefetch_related("barcodes").first()) if _may_read(actor) else None
    if sku is None:
        raise NotFound(_("SKU not found."), code="sku_not_found")
    return sku


def skus_get_many(*, actor: Staff, sku_ids: list[int]) -> list[Sku]:
    """The SKUs with these ids, in the given order; 404 if any is unknown or another enterprise's."""
    found = {s.pk: s for s in Sku.objects.filter(enterprise_id=actor.enterprise_id, pk__in=set(sku_ids))}
    missing = [i for i in sku_ids if i not in found]
    if missing or not _may_read(actor):
        raise NotFound(_("SKU not found."), code="sku_not_found", details={"sku_ids": missing[:20]})
    return [found[i] for i in sku_ids]


def weighed_scheme_list(*, actor: Staff) -> QuerySet[WeighedBarcodeScheme]:
    if not _may_read(actor):
        return WeighedBarcodeScheme.objects.none()
    return WeighedBarcodeScheme.objects.filter(enterprise_id=actor.enterprise_id).order_by("prefix")


# --- price lists ---------------------------------------------------------------------------------------

def _price_list_scope(actor: Staff) -> Q:
    paths = org_selectors.scope_paths(actor, Perm.CATALOG_VIEW)
    if not paths:
        return Q(pk__in=[])
    above = {int(part) for path in paths for part in path.strip("/").split("/")}
    return reduce(or_, (Q(node__path__startswith=p) for p in paths)) | Q(node_id__in=above)


def price_list_list(*, actor: Staff, node_id: int | None = None, channel: str | None = None,
                    include_inactive: bool = True) -> QuerySet[PriceList]:
    qs = PriceList.objects.filter(_price_list_scope(actor), enterprise_id=actor.enterprise_id).select_related("node")
    if node_id is not None:
        qs = qs.filter(node_id=node_id)
    if channel:
        qs = qs.filter(channel=check_channel(channel))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.annotate(entry_count=Count("entries")).order_by("node__path", "channel", "-priority", "id")


def price_list_get(*, actor: Staff, price_list_id: int) -> PriceList:
    price_list = (PriceList.objects.filter(_price_list_scope(actor), enterprise_id=actor.enterprise_id,
                                           pk=price_list_id).select_related("node").first())
    if price_list is None:
        raise NotFound(_("Price list not found."), code="price_list_not_found")
    return price_list


def price_entry_list(*, actor: Staff, price_list_id: int, search: str | None = None) -> QuerySet[PriceEntry]:
    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    qs = PriceEntry.objects.filter(price_list=price_list).select_related("sku", "sku__product")
    if search:
        search = search.strip()[:64]
        qs = qs.filter(Q(sku__code__icontains=search) | Q(sku__product__name__icontains=search))
    return qs.order_by("sku__code")


def pricing_node(*, actor: Staff, store_id: int | None) -> OrgNode:
    """The org node prices are resolved for: the given store (in the actor's scope, else 404) or the actor's home."""
    if store_id is None:
        return actor.home
    return org_selectors.org_node_get(actor=actor, node_id=store_id)


def price_resolve_for(*, actor: Staff, sku_id: int, store_id: int | None, channel: str = Channel.STORE,
                      at: datetime | None = None) -> PriceResolution:
    sku = sku_get(actor=actor, sku_id=sku_id)
    return price_resolve(sku, pricing_node(actor=actor, store_id=store_id), check_channel(channel), at)


def import_run_list(*, actor: Staff) -> QuerySet[ImportRun]:
    if not _may_read(actor):
        return ImportRun.objects.none()
    return ImportRun.objects.filter(enterprise_id=actor.enterprise_id).order_by("-id")


def import_run_get(*, actor: Staff, run_id: int) -> ImportRun:
    run = import_run_list(actor=actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("Import not found."), code="import_not_found")
    return run


# --- scan lookup -----------------------------------------------------------------------------------------

_SKU_FIELDS = [f for f in Sku._meta.concrete_fields if f.attname in {
    "id", "enterprise_id", "product_id", "code", "name", "options", "unit", "base_price", "is_weighed", "plu",
    "is_active"}]
_PRODUCT_FIELDS = [f for f in Product._meta.concrete_fields if f.attname in {
    "id", "enterprise_id", "category_id", "code", "name", "is_active"}]


def _from_row(model, fields, values):
    """A model instance from raw column values (only `fields` loaded, the rest deferred), converted as the ORM would."""
    converted = []
    for f, value in zip(fields, values):
        if isinstance(f, models.JSONField) and isinstance(value, str):
            value = json.loads(value)
        elif isinstance(f, models.BooleanField) and value is not None:
            value = bool(value)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def _scan_row(from_where: str, params: list, *, with_kind: bool) -> tuple[Sku, str] | None:
    """The SKU (with its product) a scan finds, in one indexed query with a prepared column list.

    Hand-written SQL: on the POS hot path, building the ORM query costs several times more than running it.
    """
    columns = ", ".join([*(f"s.{f.column}" for f in _SKU_FIELDS), *(f"p.{f.column}" for f in _PRODUCT_FIELDS)])
    kind_column = ", b.kind" if with_kind else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}{kind_column} {from_where} ORDER BY b.id LIMIT 1" if with_kind
                       else f"SELECT {columns} {from_where} LIMIT 1", params)
        row = cursor.fetchone()
    if row is None:
        return None
    sku = _from_row(Sku, _SKU_FIELDS, row[:len(_SKU_FIELDS)])
    product = _from_row(Product, _PRODUCT_FIELDS, row[len(_SKU_FIELDS):len(_SKU_FIELDS) + len(_PRODUCT_FIELDS)])
    sku._state.fields_cache["product"] = product
    return sku, (row[-1] if with_kind else "")


@dataclass(frozen=True)
class ScanResult:
    code: str
    kind: str  # ean13 / upca / ean8 / internal / weighed
    sku: Sku
    resolution: PriceResolution
    weighed: WeighedCode | None
    line_price: Money  # unit price, or the price of the weighed quantity
    grams: int | None


def scan_resolve(*, enterprise_id: int, code: str, node: OrgNode, channel: str = Channel.STORE,
                 at: datetime | None = None) -> ScanResult:
    """What a scanned code is and what it costs at `node`: one indexed query for the SKU, one for its price.

    Weighed codes (prefix 21-29 with an active scheme) decode to the SKU with that PLU plus grams or fen.
    Unknown codes -> 404 `unknown_barcode`; a wrong check digit (a misread) -> 422 `barcode_bad_check_digit`.
    """
    code = codes.normalise(code if isinstance(code, str) else "")
    if not code or len(code) > codes.MAX_CODE_LENGTH or not code.isascii() or not code.isalnum():
        raise ValidationFailed(_("Not a barcode."), code="invalid_barcode", details={"field": "code"})
    digits = code.isdigit()
    if digits and len(code) in (8, 12, 13) and not codes.has_valid_check_digit(code):
        raise ValidationFailed(_("The check digit is wrong: the barcode was mistyped or misread."),
                               code="barcode_bad_check_digit", details={"code": code})
    weighed = None
    if digits and codes.is_weighed_prefix(code):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT item_digits, value_digits, value_kind FROM {WeighedBarcodeScheme._meta.db_table} "
                           "WHERE enterprise_id = %s AND prefix = %s AND is_active = %s", [enterprise_id, code[:2], True])
            scheme = cursor.fetchone()
        if scheme:
            weighed = codes.weighed_decode(code, SchemeLayout(code[:2], *scheme))
    if weighed is not None:
        found = _scan_row(f"FROM {Sku._meta.db_table} s JOIN {Product._meta.db_table} p ON p.id = s.product_id "
                          "WHERE s.enterprise_id = %s AND s.plu = %s", [enterprise_id, weighed.plu], with_kind=False)
        sku, kind = (found[0], "weighed") if found else (None, "")
    else:
        forms = codes.lookup_forms(code)
        found = _scan_row(f"FROM {Barcode._meta.db_table} b JOIN {Sku._meta.db_table} s ON s.id = b.sku_id "
                          f"JOIN {Product._meta.db_table} p ON p.id = s.product_id "
                          f"WHERE b.enterprise_id = %s AND b.code IN ({', '.join(['%s'] * len(forms))})",
                          [enterprise_id, *forms], with_kind=True)
        sku, kind = found if found else (None, "")
    if sku is None:
        raise NotFound(_("No product has this barcode."), code="unknown_barcode", details={"code": code})
    resolution = price_resolve(sku, node, channel, at or timezone.now())
    line_price, grams = resolution.price, None
    if weighed is not None:
        if weighed.value_kind == WeighedValue.WEIGHT:
            grams = weighed.grams
            line_price = Money(codes.weighed_price(resolution.price.amount, grams), resolution.price.currency)
        else:
            line_price = Money(weighed.price, resolution.price.currency)
            if resolution.price.amount > 0:
                # the weight the scale priced, estimated from today's price per kg (rounded half up)
                per_kg = resolution.price.amount
                grams = (weighed.price * 2000 + per_kg) // (2 * per_kg)
    return ScanResult(code, kind, sku, resolution, weighed, line_price, grams)


def scan_lookup(*, actor: Staff, code: str, store_id: int | None = None, channel: str = Channel.STORE,
                at: datetime | None = None) -> ScanResult:
    """`scan_resolve` for a staff member: prices for the given store in their scope (404 otherwise) or their home."""
    if not _may_read(actor):
        raise NotFound(_("No product has this barcode."), code="unknown_barcode")
    node = pricing_node(actor=actor, store_id=store_id)
    return scan_resolve(enterprise_id=actor.enterprise_id, code=code, node=node, channel=check_channel(channel), at=at)
