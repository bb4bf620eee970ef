"""Catalogue API at /api/v1/catalog: categories, products, SKUs, barcodes, media, weighed schemes, price lists,
price resolution, scan lookup, labels, import and export. Parse -> one service/selector -> schema.

Creates take an optional `Idempotency-Key` header. Prices are integer fen. Everything is scoped to the
caller's enterprise: another enterprise's ids answer 404.
"""
import hashlib
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from yundian.core.errors import ValidationFailed
from yundian.core.schemas import errors, idempotent_response

from . import imports, labels, selectors, services
from .pricing import price_resolve_many

router = Router(tags=["catalog"])


# --- schemas ----------------------------------------------------------------------------------------

class MoneyOut(Schema):
    amount: int
    currency: str
    display: str


class CategoryOut(Schema):
    id: int
    parent_id: int | None
    name: str
    code: str
    path: str
    depth: int
    sort_order: int
    is_active: bool


class CategoryIn(Schema):
    name: str = Field(..., max_length=120)
    code: str = Field(..., max_length=40)
    parent_id: int | None = None
    sort_order: int = 0


class CategoryPatch(Schema):
    name: str | None = Field(None, max_length=120)
    sort_order: int | None = None
    is_active: bool | None = None


class BarcodeOut(Schema):
    id: int
    code: str
    kind: str
    is_primary: bool


class SkuOut(Schema):
    id: int
    product_id: int
    code: str
    name: str
    options: dict[str, Any]
    unit: str
    base_price: int
    is_weighed: bool
    plu: str | None
    is_active: bool
    sort_order: int
    barcodes: list[BarcodeOut]

    @staticmethod
    def resolve_barcodes(obj) -> list:
        if isinstance(obj, dict):  # a replayed (already serialised) answer
            return obj["barcodes"]
        return sorted(obj.barcodes.all(), key=lambda b: (not b.is_primary, b.id))


class SkuIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field("", max_length=200)
    options: dict[str, Any] = {}
    unit: str | None = Field(None, max_length=8)
    base_price: int = 0
    is_weighed: bool = False
    plu: str | None = Field(None, max_length=6)
    is_active: bool = True
    sort_order: int = 0
    barcodes: list[str] = Field([], max_length=20)
    generate_barcode: bool = False


class SkuPatch(Schema):
    name: str | None = Field(None, max_length=200)
    options: dict[str, Any] | None = None
    unit: str | None = Field(None, max_length=8)
    base_price: int | None = None
    plu: str | None = Field(None, max_length=6)
    is_active: bool | None = None
    sort_order: int | None = None


class MediaOut(Schema):
    id: int
    kind: str
    src: str
    alt_text: str
    sort_order: int


class ProductOut(Schema):
    id: int
    code: str
    name: str
    category_id: int | None
    brand: str
    description: str
    attributes: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ProductListOut(ProductOut):
    sku_count: int = 0


class ProductDetailOut(ProductOut):
    skus: list[SkuOut]
    media: list[MediaOut]

    @staticmethod
    def resolve_skus(obj) -> list:
        return obj["skus"] if isinstance(obj, dict) else list(obj.skus.all())

    @staticmethod
    def resolve_media(obj) -> list:
        return obj["media"] if isinstance(obj, dict) else list(obj.media.all())


class ProductIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=200)
    category_id: int | None = None
    brand: str = Field("", max_length=80)
    description: str = Field("", max_length=5000)
    attributes: dict[str, Any] = {}
    is_active: bool = True
    skus: list[SkuIn] = Field([], max_length=500)


class ProductPatch(Schema):
    name: str | None = Field(None, max_length=200)
    category_id: int | None = None
    brand: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=5000)
    attributes: dict[str, Any] | None = None
    is_active: bool | None = None


class ProductFilter(Schema):
    q: str | None = Field(None, max_length=64)
    category_id: int | None = None
    is_active: bool | None = None


class SkuFilter(Schema):
    q: str | None = Field(None, max_length=64)
    product_id: int | None = None
    is_active: bool | None = None


class BarcodeIn(Schema):
    code: str | None = Field(None, max_length=32)
    generate: bool = False
    is_primary: bool = False


class SchemeOut(Schema):
    prefix: str
    item_digits: int
    value_digits: int
    value_kind: str
    is_active: bool


class SchemeIn(Schema):
    value_kind: str = Field(..., max_length=8)
    item_digits: int = 5
    is_active: bool = True


class PriceListOut(Schema):
    id: int
    node_id: int
    node_name: str
    channel: str
    code: str
    name: str
    priority: int
    valid_from: datetime | None
    valid_to: datetime | None
    is_active: bool

    @staticmethod
    def resolve_node_name(obj) -> str:
        return obj["node_name"] if isinstance(obj, dict) else obj.node.name


class PriceListIn(Schema):
    node_id: int
    channel: str = Field(..., max_length=10)
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    priority: int = 0
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    is_active: bool = True


class PriceListPatch(Schema):
    name: str | None = Field(None, max_length=120)
    priority: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    is_active: bool | None = None


class PriceListFilter(Schema):
    node_id: int | None = None
    channel: str | None = Field(None, max_length=10)


class PriceEntryOut(Schema):
    sku_id: int
    sku_code: str
    product_name: str
    price: int

    @staticmethod
    def resolve_sku_code(obj) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.sku.product.name


class PriceIn(Schema):
    price: int


class WinnerOut(Schema):
    price_list_id: int
    price_list_code: str
    price_list_name: str
    node_id: int
    node_name: str
    distance: int
    priority: int
    valid_from: datetime | None
    valid_to: datetime | None


class LoserOut(Schema):
    price_list_id: int
    price_list_code: str
    node_id: int
    price: int
    reason: str
    message: str


class ResolutionOut(Schema):
    sku_id: int
    price: MoneyOut
    source: str
    channel: str
    at: datetime
    winner: WinnerOut | None
    others: list[LoserOut]
    explanation: str


class ResolveQuery(Schema):
    sku_id: int
    store_id: int | None = None
    channel: str = Field("store", max_length=10)
    at: datetime | None = None


class ResolveBatchIn(Schema):
    sku_ids: list[int] = Field(..., min_length=1, max_length=1000)
    store_id: int | None = None
    channel: str = Field("store", max_length=10)
    at: datetime | None = None


class ScanQuery(Schema):
    store_id: int | None = None
    channel: str = Field("store", max_length=10)


class ScanProductOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class ScanSkuOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    options: dict[str, Any]
    is_weighed: bool
    is_active: bool


class ScanOut(Schema):
    code: str
    kind: str
    sku: ScanSkuOut
    product: ScanProductOut
    unit_price: ResolutionOut
    line_price: MoneyOut
    grams: int | None
    embedded_price: int | None


class ImportOut(Schema):
    id: int
    filename: str
    mode: str
    status: str
    total_rows: int
    imported_rows: int
    rejected_rows: int
    counts: dict[str, int]
    errors: list[dict[str, Any]]
    created_at: datetime


class ExportQuery(Schema):
    format: str = Field("xlsx", max_length=8)
    price_list_id: int | None = None


class LabelsQuery(Schema):
    sku_ids: str = Field(..., max_length=2000, description="comma-separated SKU ids")
    store_id: int | None = None
    copies: int = 1


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _money(m) -> dict:
    return {"amount": m.amount, "currency": m.currency, "display": m.format()}


# --- categories -------------------------------------------------------------------------------------

@router.get("/categories", response={200: list[CategoryOut], **errors()})
@paginate(LimitOffsetPagination)
def category_list(request: HttpRequest):
    return selectors.category_list(actor=request.auth)


@router.post("/categories", response={201: CategoryOut, **errors(403, 404, 409)})
def category_create(request: HttpRequest, payload: CategoryIn):
    def work():
        category = services.category_create(actor=request.auth, **payload.dict())
        return 201, CategoryOut.from_orm(category).dict()

    return idempotent_response(request, scope="catalog_category_create", payload=payload.dict(), work=work)


@router.patch("/categories/{category_id}", response={200: CategoryOut, **errors(403, 404)})
def category_update(request: HttpRequest, category_id: int, payload: CategoryPatch):
    return services.category_update(actor=request.auth, category_id=category_id, **payload.dict(exclude_unset=True))


# --- products and SKUs --------------------------------------------------------------------------------

@router.get("/products", response={200: list[ProductListOut], **errors(404)})
@paginate(LimitOffsetPagination)
def product_list(request: HttpRequest, filters: Query[ProductFilter]):
    return selectors.product_list(actor=request.auth, search=filters.q, category_id=filters.category_id,
                                  is_active=filters.is_active)


@router.post("/products", response={201: ProductDetailOut, **errors(403, 404, 409)})
def product_create(request: HttpRequest, payload: ProductIn):
    def work():
        product = services.product_create(actor=request.auth, **payload.dict())
        product = selectors.product_get(actor=request.auth, product_id=product.pk)
        return 201, ProductDetailOut.from_orm(product).dict()

    return idempotent_response(request, scope="catalog_product_create", payload=payload.dict(), work=work)


@router.get("/products/{product_id}", response={200: ProductDetailOut, **errors(404)})
def product_get(request: HttpRequest, product_id: int):
    return selectors.product_get(actor=request.auth, product_id=product_id)


@router.patch("/products/{product_id}", response={200: ProductDetailOut, **errors(403, 404)})
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch):
    services.product_update(actor=request.auth, product_id=product_id, **payload.dict(exclude_unset=True))
    return selectors.product_get(actor=request.auth, product_id=product_id)


@router.post("/products/{product_id}/media", response={201: MediaOut, **errors(403, 404)})
def media_add(request: HttpRequest, product_id: int, url: Form[str] = "", alt_text: Form[str] = "",
              sort_order: Form[int] = 0, file: File[UploadedFile] = None):
    return Status(201, services.media_add(actor=request.auth, product_id=product_id, url=url[:600], upload=file,
                                   alt_text=alt_text[:300], sort_order=sort_order))


@router.delete("/products/{product_id}/media/{media_id}", response={204: None, **errors(403, 404)})
def media_remove(request: HttpRequest, product_id: int, media_id: int):
    services.media_remove(actor=request.auth, product_id=product_id, media_id=media_id)
    return Status(204, None)


@router.post("/products/{product_id}/skus", response={201: SkuOut, **errors(403, 404, 409)})
def sku_create(request: HttpRequest, product_id: int, payload: SkuIn):
    def work():
        sku = services.sku_create(actor=request.auth, product_id=product_id, **payload.dict())
        return 201, SkuOut.from_orm(selectors.sku_get(actor=request.auth, sku_id=sku.pk)).dict()

    return idempotent_response(request, scope="catalog_sku_create",
                               payload={"product_id": product_id, **payload.dict()}, work=work)


@router.get("/skus", response={200: list[SkuOut], **errors(404)})
@paginate(LimitOffsetPagination)
def sku_list(request: HttpRequest, filters: Query[SkuFilter]):
    return selectors.sku_list(actor=request.auth, product_id=filters.product_id, search=filters.q,
                              is_active=filters.is_active)


@router.get("/skus/{sku_id}", response={200: SkuOut, **errors(404)})
def sku_get(request: HttpRequest, sku_id: int):
    return selectors.sku_get(actor=request.auth, sku_id=sku_id)


@router.patch("/skus/{sku_id}", response={200: SkuOut, **errors(403, 404, 409)})
def sku_update(request: HttpRequest, sku_id: int, payload: SkuPatch):
    services.sku_update(actor=request.auth, sku_id=sku_id, **payload.dict(exclude_unset=True))
    return selectors.sku_get(actor=request.auth, sku_id=sku_id)


@router.post("/skus/{sku_id}/barcodes", response={201: BarcodeOut, **errors(403, 404, 409)})
def barcode_add(request: HttpRequest, sku_id: int, payload: BarcodeIn):
    def work():
        if payload.generate:
            if payload.code:
                raise ValidationFailed(code="code_or_generate", details={"field": "code"})
            barcode = services.barcode_generate(actor=request.auth, sku_id=sku_id, is_primary=payload.is_primary)
        else:
            barcode = services.barcode_add(actor=request.auth, sku_id=sku_id, code=payload.code or "",
                                           is_primary=payload.is_primary)
        return 201, BarcodeOut.from_orm(barcode).dict()

    return idempotent_response(request, scope="catalog_barcode_add", payload={"sku_id": sku_id, **payload.dict()},
                               work=work)


@router.delete("/skus/{sku_id}/barcodes/{barcode_id}", response={204: None, **errors(403, 404)})
def barcode_remove(request: HttpRequest, sku_id: int, barcode_id: int):
    services.barcode_remove(actor=request.auth, sku_id=sku_id, barcode_id=barcode_id)
    return Status(204, None)


def _labels_for(request: HttpRequest, sku_ids: list[int], store_id: int | None) -> list[labels.Label]:
    skus = selectors.skus_get_many(actor=request.auth, sku_ids=sku_ids)
    for sku in skus:
        sku.product  # noqa: B018  (loaded below in one query)
    prices = price_resolve_many(skus, selectors.pricing_node(actor=request.auth, store_id=store_id))
    return [labels.label_for(sku, prices[sku.pk].price) for sku in skus]


@router.get("/skus/{sku_id}/label.svg", response={200: None, **errors(404, 409)})
def sku_label_svg(request: HttpRequest, sku_id: int, store_id: int | None = None):
    label = _labels_for(request, [sku_id], store_id)[0]
    return HttpResponse(labels.label_svg(label), content_type="image/svg+xml; charset=utf-8")


@router.get("/labels.pdf", response={200: None, **errors(404, 409)})
def labels_pdf(request: HttpRequest, filters: Query[LabelsQuery]):
    parts = [p.strip() for p in filters.sku_ids.split(",") if p.strip()]
    if not parts or len(parts) > 500 or not all(p.isdigit() and len(p) < 19 for p in parts):
        raise ValidationFailed(code="invalid_sku_ids", details={"field": "sku_ids"})
    content = labels.labels_pdf(_labels_for(request, [int(p) for p in parts], filters.store_id),
                                copies=filters.copies)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="labels.pdf"'
    return response


# --- weighed barcode schemes -------------------------------------------------------------------------------

@router.get("/weighed-schemes", response={200: list[SchemeOut], **errors()})
def weighed_scheme_list(request: HttpRequest):
    return list(selectors.weighed_scheme_list(actor=request.auth))


@router.put("/weighed-schemes/{prefix}", response={200: SchemeOut, **errors(403, 409)})
def weighed_scheme_set(request: HttpRequest, prefix: str, payload: SchemeIn):
    return services.weighed_scheme_set(actor=request.auth, prefix=prefix[:4],
                                       **payload.dict())


# --- price lists and resolution -----------------------------------------------------------------------------

@router.get("/price-lists", response={200: list[PriceListOut], **errors()})
@paginate(LimitOffsetPagination)
def price_list_list(request: HttpRequest, filters: Query[PriceListFilter]):
    return selectors.price_list_list(actor=request.auth, node_id=filters.node_id, channel=filters.channel)


@router.post("/price-lists", response={201: PriceListOut, **errors(403, 404, 409)})
def price_list_create(request: HttpRequest, payload: PriceListIn):
    def work():
        data = payload.dict()
        data["valid_from"], data["valid_to"] = _aware(payload.valid_from), _aware(payload.valid_to)
        price_list = services.price_list_create(actor=request.auth, **data)
        return 201, PriceListOut.from_orm(price_list).dict()

    return idempotent_response(request, scope="catalog_price_list_create", payload=payload.dict(), work=work)


@router.get("/price-lists/{price_list_id}", response={200: PriceListOut, **errors(404)})
def price_list_get(request: HttpRequest, price_list_id: int):
    return selectors.price_list_get(actor=request.auth, price_list_id=price_list_id)


@router.patch("/price-lists/{price_list_id}", response={200: PriceListOut, **errors(403, 404)})
def price_list_update(request: HttpRequest, price_list_id: int, payload: PriceListPatch):
    changes = payload.dict(exclude_unset=True)
    for key in ("valid_from", "valid_to"):
        if key in changes:
            changes[key] = _aware(changes[key])
    return services.price_list_update(actor=request.auth, price_list_id=price_list_id, **changes)


@router.get("/price-lists/{price_list_id}/entries", response={200: list[PriceEntryOut], **errors(404)})
@paginate(LimitOffsetPagination)
def price_entry_list(request: HttpRequest, price_list_id: int, q: str | None = None):
    return selectors.price_entry_list(actor=request.auth, price_list_id=price_list_id, search=(q or "")[:64] or None)


@router.put("/price-lists/{price_list_id}/entries/{sku_id}", response={200: PriceEntryOut, **errors(403, 404, 409)})
def price_entry_set(request: HttpRequest, price_list_id: int, sku_id: int, payload: PriceIn):
    entry = services.price_entry_set(actor=request.auth, price_list_id=price_list_id, sku_id=sku_id,
                                     price=payload.price)
    return selectors.price_entry_list(actor=request.auth, price_list_id=price_list_id).get(pk=entry.pk)


@router.delete("/price-lists/{price_list_id}/entries/{sku_id}", response={204: None, **errors(403, 404)})
def price_entry_delete(request: HttpRequest, price_list_id: int, sku_id: int):
    services.price_entry_delete(actor=request.auth, price_list_id=price_list_id, sku_id=sku_id)
    return Status(204, None)


@router.get("/prices/resolve", response={200: ResolutionOut, **errors(404)})
def price_resolve(request: HttpRequest, filters: Query[ResolveQuery]):
    result = selectors.price_resolve_for(actor=request.auth, sku_id=filters.sku_id, store_id=filters.store_id,
                                         channel=filters.channel, at=_aware(filters.at))
    return result.as_dict()


@router.post("/prices/resolve-batch", response={200: list[ResolutionOut], **errors(404)})
def price_resolve_batch(request: HttpRequest, payload: ResolveBatchIn):
    from .pricing import check_channel

    check_channel(payload.channel)
    skus = selectors.skus_get_many(actor=request.auth, sku_ids=list(dict.fromkeys(payload.sku_ids)))
    node = selectors.pricing_node(actor=request.auth, store_id=payload.store_id)
    results = price_resolve_many(skus, node, payload.channel, _aware(payload.at))
    return [results[s.pk].as_dict() for s in skus]


@router.get("/scan/{code}", response={200: ScanOut, **errors(404)})
def scan(request: HttpRequest, code: str, filters: Query[ScanQuery]):
    result = selectors.scan_lookup(actor=request.auth, code=code[:64], store_id=filters.store_id,
                                   channel=filters.channel)
    return {
        "code": result.code, "kind": result.kind, "sku": result.sku, "product": result.sku.product,
        "unit_price": result.resolution.as_dict(), "line_price": _money(result.line_price), "grams": result.grams,
        "embedded_price": result.weighed.price if result.weighed else None,
    }


# --- import and export ----------------------------------------------------------------------------------

@router.post("/imports", response={201: ImportOut, **errors(403, 409, 413)})
def catalog_import(request: HttpRequest, file: File[UploadedFile], mode: Form[str] = "rows"):
    if file.size and file.size > imports.MAX_FILE_BYTES:
        raise ValidationFailed(code="file_too_large")
    data = file.read(imports.MAX_FILE_BYTES + 1)

    def work():
        run = imports.catalog_import(actor=request.auth, filename=file.name or "", data=data, mode=mode[:8])
        return 201, ImportOut.from_orm(run).dict()

    fingerprint = {"sha256": hashlib.sha256(data).hexdigest(), "mode": mode[:8], "name": (file.name or "")[-200:]}
    return idempotent_response(request, scope="catalog_import", payload=fingerprint, work=work)


@router.get("/imports", response={200: list[ImportOut], **errors()})
@paginate(LimitOffsetPagination)
def import_list(request: HttpRequest):
    return selectors.import_run_list(actor=request.auth)


@router.get("/imports/{run_id}", response={200: ImportOut, **errors(404)})
def import_get(request: HttpRequest, run_id: int):
    return selectors.import_run_get(actor=request.auth, run_id=run_id)


@router.get("/export", response={200: None, **errors(403, 404)})
def catalog_export(request: HttpRequest, filters: Query[ExportQuery]):
    content, content_type, filename = imports.export_file(actor=request.auth, file_format=filters.format,
                                                          price_list_id=filters.price_list_id)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
