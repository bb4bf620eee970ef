"""Bulk import and export of products, SKUs, barcodes and prices as Excel (.xlsx) or CSV.

One row = one SKU (with its product's fields repeated). Columns (header row; English names or the Chinese
labels in COLUMNS; order free; * = required):

    product_code*, product_name*, category_code, brand, description, attributes, sku_code*, sku_name, options,
    unit, base_price*, is_weighed, plu, barcodes, generate_barcode, price_list_code, price, is_active

`attributes`/`options` are "key=value; key=value" (or a JSON object); `barcodes` are separated by ";";
prices are in yuan ("99.90"); booleans are yes/no, 1/0, true/false, 是/否.

A row creates or updates its product and SKU, attaches its barcodes and sets its price-list price.

Transactions (choose per import with `mode`):
- "rows" (default): each row is written in its own savepoint. A row with any error is rolled back
  completely and reported; the good rows are kept. No row is ever half-written.
- "all": the whole file is one transaction: any error and nothing is written (every error is still reported).
- "check": a dry run: everything is validated and written inside a transaction that is then rolled back.

The report lists each error as {row, column, code, message}; `row` is the spreadsheet row (the header is row 1).
"""
import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import CATALOG, cache_bump
from yundian.core.audit import audit_record
from yundian.core.tables import read_rows
from yundian.core.errors import DomainError, Forbidden, ValidationFailed
from yundian.core.money import Money
from yundian.org import selectors as org_selectors
from yundian.org.models import Staff
from yundian.org.roles import Perm

from . import barcodes as codes
from .models import Barcode, Category, ImportRun, PriceEntry, PriceList, Product, Sku
from .services._common import (clean_code, clean_mapping, clean_price, clean_text, require_catalog_manage,
                               root_path)
from .services.catalogue import _clean_sku_fields, _sku_snapshot
from .services.codes import barcode_attach, barcode_generate_for
from .services.prices import price_entry_put

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MODES = ("rows", "all", "check")

# canonical column -> accepted header labels (lower-cased)
COLUMNS: dict[str, tuple[str, ...]] = {
    "product_code": ("product_code", "商品编码", "款号"),
    "product_name": ("product_name", "商品名称"),
    "category_code": ("category_code", "分类编码"),
    "brand": ("brand", "品牌"),
    "description": ("description", "描述"),
    "attributes": ("attributes", "属性"),
    "sku_code": ("sku_code", "sku编码", "SKU编码"),
    "sku_name": ("sku_name", "规格名称"),
    "options": ("options", "规格"),
    "unit": ("unit", "单位"),
    "base_price": ("base_price", "基础价", "零售价"),
    "is_weighed": ("is_weighed", "称重"),
    "plu": ("plu", "秤码"),
    "barcodes": ("barcodes", "条码"),
    "generate_barcode": ("generate_barcode", "生成条码"),
    "price_list_code": ("price_list_code", "价目表编码"),
    "price": ("price", "价格"),
    "is_active": ("is_active", "启用"),
}
REQUIRED = ("product_code", "product_name", "sku_code", "base_price")
EXPORT_COLUMNS = list(COLUMNS)
TRUE = {"1", "yes", "y", "true", "是", "x"}
FALSE = {"", "0", "no", "n", "false", "否"}


class RowError(Exception):
    def __init__(self, column: str, code: str, message: Any):
        self.column, self.code, self.message = column, code, str(message)
        super().__init__(self.message)


@dataclass
class ImportReport:
    mode: str
    total_rows: int = 0
    imported_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {
        "products_created": 0, "products_updated": 0, "skus_created": 0, "skus_updated": 0,
        "barcodes_added": 0, "prices_set": 0})

    @property
    def rejected_rows(self) -> int:
        return len({e["row"] for e in self.errors if e["row"]})


# --- reading files -------------------------------------------------------------------------------------

def _read_rows(filename: str, data: bytes) -> list[list[Any]]:
    return read_rows(filename, data, max_rows=MAX_ROWS)


def _header_map(header: list[Any]) -> dict[str, int]:
    labels = {label.lower(): column for column, names in COLUMNS.items() for label in names}
    mapping: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(header):
        text = str(cell).strip().lower() if cell is not None else ""
        if not text:
            continue
        column = labels.get(text)
        if column is None:
            unknown.append(text[:40])
        elif column in mapping:
            raise ValidationFailed(_("A column appears twice."), code="duplicate_column", details={"column": column})
        else:
            mapping[column] = index
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        raise ValidationFailed(_("Required columns are missing."), code="missing_columns",
                               details={"missing": missing, "unknown": unknown})
    return mapping


# --- parsing one row -----------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _bool(value: Any, column: str, default: bool) -> bool:
    text = _text(value).lower()
    if text == "":
        return default
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(column, "invalid_boolean", _("Write yes or no."))


def _yuan(value: Any, column: str, currency: str) -> int:
    text = _text(value)
    try:
        if isinstance(value, float):
            text = str(Decimal(repr(value)))
        return Money.parse(text, currency).amount
    except (DomainError, InvalidOperation):
        raise RowError(column, "invalid_price", _("Write a price in yuan, e.g. 99.90."))


def _mapping(value: Any, column: str) -> dict:
    text = _text(value)
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise RowError(column, "invalid_mapping", _("Not a JSON object."))
        return parsed
    result = {}
    for part in text.replace("；", ";").split(";"):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        if not sep or not key.strip():
            raise RowError(column, "invalid_mapping", _("Write key=value pairs separated by ';'."))
        result[key.strip()] = val.strip()
    return result


def _parse(raw: dict[str, Any], currency: str) -> dict[str, Any]:
    try:
        row = {
            "product_code": clean_code(_text(raw.get("product_code")), "product_code"),
            "product_name": clean_text(_text(raw.get("product_name")), "product_name", 200),
            "category_code": _text(raw.get("category_code")),
            "brand": clean_text(_text(raw.get("brand")), "brand", 80, required=False),
            "description": clean_text(_text(raw.get("description")), "description", 5000, required=False),
        }
    except ValidationFailed as exc:
        raise RowError(exc.details.get("field", ""), exc.code, exc.message)
    row["attributes"] = _mapping(raw.get("attributes"), "attributes")
    row["options"] = _mapping(raw.get("options"), "options")
    if not _text(raw.get("base_price")):
        raise RowError("base_price", "required", _("This field is required."))
    row["base_price"] = _yuan(raw.get("base_price"), "base_price", currency)
    row["is_weighed"] = _bool(raw.get("is_weighed"), "is_weighed", False)
    row["generate_barcode"] = _bool(raw.get("generate_barcode"), "generate_barcode", False)
    row["is_active"] = _bool(raw.get("is_active"), "is_active", True)
    row["barcodes"] = [c for c in (codes.normalise(p) for p in _text(raw.get("barcodes")).replace("；", ";").split(";")) if c]
    row["price_list_code"] = _text(raw.get("price_list_code"))
    price = _text(raw.get("price"))
    if bool(price) != bool(row["price_list_code"]):
        raise RowError("price" if row["price_list_code"] else "price_list_code", "price_needs_list",
                       _("Give both a price list code and a price, or neither."))
    row["price"] = _yuan(raw.get("price"), "price", currency) if price else None
    row["sku"] = {"code": _text(raw.get("sku_code")), "name": _text(raw.get("sku_name")), "options": row["options"],
                  "unit": _text(raw.get("unit")) or None, "base_price": row["base_price"],
                  "is_weighed": row["is_weighed"], "plu": _text(raw.get("plu")) or None,
                  "is_active": row["is_active"]}
    return row


# --- writing one row -----------------------------------------------------------------------------------

_FIELD_COLUMNS = {"code": "product_code", "sku.code": "sku_code", "sku.name": "sku_name", "sku.options": "options",
                  "sku.base_price": "base_price", "sku.unit": "unit", "unit": "unit", "plu": "plu",
                  "attributes": "attributes", "name": "product_name", "brand": "brand"}


class _Context:
    def __init__(self, actor: Staff):
        self.actor = actor
        self.categories = dict(Category.objects.filter(enterprise_id=actor.enterprise_id).values_list("code", "id"))
        self.price_lists: dict[str, PriceList | None] = {}

    def price_list(self, code: str) -> PriceList:
        if code not in self.price_lists:
            from .selectors import price_list_get

            found = PriceList.objects.filter(enterprise_id=self.actor.enterprise_id, code=code).first()
            if found is not None:
                try:
                    found = price_list_get(actor=self.actor, price_list_id=found.pk)
                except DomainError:
                    found = None
            self.price_lists[code] = found
        price_list = self.price_lists[code]
        if price_list is None:
            raise RowError("price_list_code", "price_list_not_found", _("Price list not found."))
        if not org_selectors.has_perm(self.actor, Perm.PRICE_MANAGE, price_list.node):
            raise RowError("price_list_code", "price_manage_required", _("You may not change the prices of this list."))
        return price_list


def _write_row(ctx: _Context, row: dict[str, Any], counts: dict[str, int]) -> None:
    """Write one row; `counts` is the row's own tally (merged into the report only if the row commits)."""
    actor = ctx.actor
    category_id = None
    if row["category_code"]:
        category_id = ctx.categories.get(row["category_code"])
        if category_id is None:
            raise RowError("category_code", "category_not_found", _("Category not found."))
    try:
        attributes = clean_mapping(row["attributes"], "attributes")
        sku_fields = _clean_sku_fields(actor, row["sku"])
    except ValidationFailed as exc:
        field_name = exc.details.get("field", "")
        raise RowError(_FIELD_COLUMNS.get(field_name, field_name), exc.code, exc.message)
    product = Product.objects.filter(enterprise_id=actor.enterprise_id, code=row["product_code"]).first()
    if product is None:
        product = Product.objects.create(enterprise_id=actor.enterprise_id, code=row["product_code"],
                                         name=row["product_name"], category_id=category_id, brand=row["brand"],
                                         description=row["description"], attributes=attributes)
        counts["products_created"] += 1
    else:
        changed = {"name": row["product_name"], "category_id": category_id or product.category_id,
                   "brand": row["brand"] or product.brand, "description": row["description"] or product.description,
                   "attributes": attributes or product.attributes}
        if any(getattr(product, k) != v for k, v in changed.items()):
            Product.objects.filter(pk=product.pk).update(**changed, updated_at=timezone.now())
            cache_bump(CATALOG)
            counts["products_updated"] += 1
    sku = Sku.objects.filter(enterprise_id=actor.enterprise_id, code=sku_fields["code"]).first()
    if sku is None:
        if sku_fields["plu"] and Sku.objects.filter(enterprise_id=actor.enterprise_id, plu=sku_fields["plu"]).exists():
            raise RowError("plu", "plu_taken", _("This scale item code is already used."))
        sku = Sku.objects.create(enterprise_id=actor.enterprise_id, product=product, **sku_fields)
        counts["skus_created"] += 1
    else:
        if sku.product_id != product.pk:
            raise RowError("sku_code", "sku_of_other_product", _("This SKU code belongs to another product."))
        if sku_fields["plu"] and Sku.objects.filter(enterprise_id=actor.enterprise_id,
                                                    plu=sku_fields["plu"]).exclude(pk=sku.pk).exists():
            raise RowError("plu", "plu_taken", _("This scale item code is already used."))
        before = _sku_snapshot(sku)
        for key in ("name", "options", "unit", "base_price", "is_weighed", "plu", "is_active"):
            setattr(sku, key, sku_fields[key])
        after = _sku_snapshot(sku)
        if after != before:
            sku.save()
            counts["skus_updated"] += 1
            if after["base_price"] != before["base_price"]:
                audit_record(actor=actor, action="price.base_change", target=sku, scope_path=root_path(actor),
                             before={"base_price": before["base_price"]}, after={"base_price": after["base_price"]})
    existing = set(Barcode.objects.filter(sku=sku).values_list("code", flat=True))
    for code in row["barcodes"]:
        if code in existing:
            continue
        try:
            barcode_attach(actor=actor, sku=sku, code=code)
        except DomainError as exc:
            raise RowError("barcodes", exc.code, f"{code}: {exc.message}")
        counts["barcodes_added"] += 1
    if row["generate_barcode"] and not existing and not row["barcodes"]:
        barcode_generate_for(actor=actor, sku=sku)
        counts["barcodes_added"] += 1
    if row["price_list_code"]:
        price_list = ctx.price_list(row["price_list_code"])
        entry, old = price_entry_put(actor=actor, price_list=price_list, sku=sku, price=clean_price(row["price"]))
        if old != entry.price:
            counts["prices_set"] += 1


class _Rollback(Exception):
    pass


def catalog_import(*, actor: Staff, filename: str, data: bytes, mode: str = "rows") -> ImportRun:
    """Import products/SKUs/barcodes/prices from an .xlsx or .csv file; see the module doc for the transaction
    modes. Bad rows are never partially written. Returns the stored ImportRun with the per-row error report.

    A file-level problem (unreadable, wrong type, missing columns, too big) raises a 4xx error and stores nothing.
    """
    require_catalog_manage(actor)
    if mode not in MODES:
        raise ValidationFailed(_("Unknown import mode."), code="invalid_mode", details={"allowed": list(MODES)})
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(_("The file is larger than 20 MB."), code="file_too_large")
    rows = _read_rows(filename, data)
    if not rows:
        raise ValidationFailed(_("The file is empty."), code="empty_file")
    mapping = _header_map(rows[0])
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ValidationFailed(_("At most 50,000 rows per file."), code="too_many_rows")
    currency = actor.enterprise.currency
    report = ImportReport(mode=mode)
    ctx = _Context(actor)

    def run_rows() -> None:
        for offset, cells in enumerate(body):
            row_number = offset + 2
            if all(_text(c) == "" for c in cells):
                continue
            report.total_rows += 1
            raw = {column: (cells[index] if index < len(cells) else None) for column, index in mapping.items()}
            try:
                row = _parse(raw, currency)
                row_counts = dict.fromkeys(report.counts, 0)
                with transaction.atomic():  # the row's savepoint: all of it or none of it
                    _write_row(ctx, row, row_counts)
            except RowError as exc:
                report.errors.append({"row": row_number, "column": exc.column, "code": exc.code,
                                      "message": exc.message})
                continue
            except DomainError as exc:
                report.errors.append({"row": row_number, "column": "", "code": exc.code, "message": str(exc.message)})
                continue
            report.imported_rows += 1
            for key, value in row_counts.items():
                report.counts[key] += value

    counts_before = dict(report.counts)
    try:
        with transaction.atomic():
            run_rows()
            if mode == "check" or (mode == "all" and report.errors):
                raise _Rollback
    except _Rollback:
        if mode == "all":
            report.imported_rows = 0
            report.counts = counts_before
    if mode == "check":
        status = ImportRun.Status.VALIDATED
    elif not report.errors:
        status = ImportRun.Status.DONE
    elif mode == "all" or report.imported_rows == 0:
        status = ImportRun.Status.REJECTED
    else:
        status = ImportRun.Status.PARTIAL
    with transaction.atomic():
        run = ImportRun.objects.create(enterprise_id=actor.enterprise_id, actor=actor, filename=(filename or "")[-200:],
                                       mode=mode, status=status, total_rows=report.total_rows,
                                       imported_rows=report.imported_rows, rejected_rows=report.rejected_rows,
                                       counts=report.counts, errors=report.errors[:5000])
        audit_record(actor=actor, action="catalog.import", target=run, scope_path=root_path(actor),
                     after={"file": run.filename, "mode": mode, "status": status, "rows": report.total_rows,
                            "imported": report.imported_rows, "rejected": report.rejected_rows, **report.counts})
    return run


# --- export ---------------------------------------------------------------------------------------------

def _fmt_mapping(value: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in value.items())


def _yuan_text(fen: int | None, currency: str) -> str:
    if fen is None:
        return ""
    from yundian.core.money import MINOR_UNITS

    places = MINOR_UNITS.get(currency, 2)
    return f"{Decimal(fen) / (10 ** places):.{places}f}"


def export_rows(*, actor: Staff, price_list_id: int | None = None) -> list[list[str]]:
    """The catalogue as rows (header first) in the import format; with a price list, its prices too."""
    from .selectors import price_list_get

    if not org_selectors.has_perm(actor, Perm.CATALOG_VIEW):
        raise Forbidden()
    currency = actor.enterprise.currency
    price_list, prices = None, {}
    if price_list_id is not None:
        price_list = price_list_get(actor=actor, price_list_id=price_list_id)
        prices = dict(PriceEntry.objects.filter(price_list=price_list).values_list("sku_id", "price"))
    barcodes: dict[int, list[str]] = {}
    for sku_id, code in (Barcode.objects.filter(enterprise_id=actor.enterprise_id)
                         .order_by("sku_id", "-is_primary", "id").values_list("sku_id", "code")):
        barcodes.setdefault(sku_id, []).append(code)
    rows = [EXPORT_COLUMNS]
    skus = (Sku.objects.filter(enterprise_id=actor.enterprise_id).select_related("product", "product__category")
            .order_by("product_id", "sort_order", "id"))
    for sku in skus.iterator(chunk_size=2000):
        p = sku.product
        price = prices.get(sku.pk)
        rows.append([
            p.code, p.name, p.category.code if p.category else "", p.brand, p.description,
            json.dumps(p.attributes, ensure_ascii=False) if p.attributes else "", sku.code, sku.name,
            _fmt_mapping(sku.options), sku.unit, _yuan_text(sku.base_price, currency),
            "yes" if sku.is_weighed else "no", sku.plu or "", ";".join(barcodes.get(sku.pk, [])), "no",
            price_list.code if price_list and price is not None else "",
            _yuan_text(price, currency) if price is not None else "", "yes" if sku.is_active else "no",
        ])
    return rows


def export_file(*, actor: Staff, file_format: str, price_list_id: int | None = None) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the catalogue export as CSV (UTF-8 with BOM, opens in Excel) or xlsx."""
    rows = export_rows(actor=actor, price_list_id=price_list_id)
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows([[_safe_cell(c) for c in row] for row in rows])
        return buffer.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", "catalogue.csv"
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("catalogue")
        for row in rows:
            sheet.append([_safe_cell(c) for c in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return (buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "catalogue.xlsx")
    raise ValidationFailed(_("Export as csv or xlsx."), code="invalid_format", details={"allowed": ["csv", "xlsx"]})


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formula injection: a text cell starting with = + - @ gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
        return True
    except InvalidOperation:
        return False
