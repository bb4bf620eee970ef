"""ERP import: files (.csv or .xlsx, a header row, English or Chinese column names) or API rows of products,
prices, stock levels, purchase orders and members, written through the owning contexts' services.

Idempotence: every row has a natural key (a SKU code; a price list and a SKU; a warehouse and a SKU; the ERP's
purchase order number; a phone) and a hash of its values. `ErpRecord` keeps, per key, the hash of what the last
import set; a row whose hash is unchanged is skipped ("unchanged"), and a row that would set what is already there
writes nothing either. So the same file twice changes nothing, and the second job reports 0 changes.

Each row (each purchase order, each warehouse's stock rows) is written in its own savepoint: a row with an error is
rolled back whole and reported as {row, column, code, message} (the spreadsheet row; the header is row 1), the
good rows are kept — the error report style of the catalogue's import.

- products: the catalogue's own import (`catalog.imports.catalog_import`, its columns and checks).
- prices: price_list_code, sku_code, price (yuan) -> `catalog.services.price_entry_set`.
- stock: warehouse_code, sku_code, quantity (the ERP's count) -> one cycle stocktake per warehouse through
  inventory (start, count "set", submit, post): the balance moves by a stocktake correction in the ledger, never
  by writing a balance; sales between the ERP's count and the post stay counted.
- purchase_orders: erp_number, warehouse_code, supplier_code | source_warehouse_code, sku_code, quantity,
  unit_cost (yuan, optional) — rows with one erp_number are one order -> `inventory.services.purchase_order_create`
  (origin "erp"). An order already imported with other values is refused (`purchase_order_changed`): edit it here.
- members: phone, name, store_code -> `members.services.member_resolve` (One-ID: found or registered), then
  `member_update` for a changed name.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yundian.core.tables import read_rows
from yundian.core.errors import DomainError, Forbidden, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .erp_models import ErpEntity, ErpRecord

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
PROGRESS_EVERY = 50

IMPORTABLE = (ErpEntity.PRODUCTS, ErpEntity.PRICES, ErpEntity.STOCK, ErpEntity.PURCHASE_ORDERS, ErpEntity.MEMBERS)
# the right an import needs somewhere in the actor's scope (each row is checked again by the service)
IMPORT_PERM = {ErpEntity.PRODUCTS: Perm.CATALOG_MANAGE, ErpEntity.PRICES: Perm.PRICE_MANAGE,
               ErpEntity.STOCK: Perm.STOCK_MANAGE, ErpEntity.PURCHASE_ORDERS: Perm.STOCK_MANAGE,
               ErpEntity.MEMBERS: Perm.MEMBER_MANAGE}

# canonical column -> accepted header labels (lower-cased); * required
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    ErpEntity.PRICES: {"price_list_code": ("price_list_code", "价格表编码"), "sku_code": ("sku_code", "sku编码"),
                       "price": ("price", "价格")},
    ErpEntity.STOCK: {"warehouse_code": ("warehouse_code", "仓库编码"), "sku_code": ("sku_code", "sku编码"),
                      "quantity": ("quantity", "数量", "盘点数量")},
    ErpEntity.PURCHASE_ORDERS: {"erp_number": ("erp_number", "erp单号"), "warehouse_code": ("warehouse_code", "仓库编码"),
                                "supplier_code": ("supplier_code", "供应商编码"),
                                "source_warehouse_code": ("source_warehouse_code", "发货仓编码"),
                                "sku_code": ("sku_code", "sku编码"), "quantity": ("quantity", "数量"),
                                "unit_cost": ("unit_cost", "单价")},
    ErpEntity.MEMBERS: {"phone": ("phone", "手机号"), "name": ("name", "姓名"), "store_code": ("store_code", "门店编码")},
}
REQUIRED = {ErpEntity.PRICES: ("price_list_code", "sku_code", "price"),
            ErpEntity.STOCK: ("warehouse_code", "sku_code", "quantity"),
            ErpEntity.PURCHASE_ORDERS: ("erp_number", "warehouse_code", "sku_code", "quantity"),
            ErpEntity.MEMBERS: ("phone", "store_code")}


class RowError(Exception):
    def __init__(self, column: str, code: str, message: Any):
        self.column, self.code, self.message = column, code, str(message)
        super().__init__(self.message)


@dataclass
class Outcome:
    total_rows: int = 0
    changed_rows: int = 0
    unchanged_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        return len({e["row"] for e in self.errors if e["row"]})

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def reject(self, rows: list[int], exc: RowError | DomainError, column: str = "") -> None:
        code = exc.code
        message = exc.message if isinstance(exc, RowError) else str(exc.message)
        for row in rows:
            self.errors.append({"row": row, "column": getattr(exc, "column", column), "code": code,
                                "message": message})


# --- files ---------------------------------------------------------------------------------------------------

def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_table(filename: str, data: bytes) -> list[list[Any]]:
    """The rows of the first sheet of an .xlsx, or of a CSV (UTF-8 or GB18030)."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(_("The file is larger than 20 MB."), code="file_too_large")
    rows = read_rows(filename, data, max_rows=MAX_ROWS)
    if not rows or not any(_text(c) for c in rows[0]):
        raise ValidationFailed(_("The file is empty."), code="empty_file")
    if len(rows) > MAX_ROWS + 1:
        raise ValidationFailed(_("At most 50,000 rows per file."), code="too_many_rows")
    return rows


def header_map(entity: str, header: list[Any]) -> dict[str, int]:
    """canonical column -> index; 422 `missing_columns` naming the required columns the header lacks."""
    labels = {label.lower(): column for column, names in COLUMNS[entity].items() for label in names}
    mapping: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = labels.get(_text(cell).lower())
        if column and column not in mapping:
            mapping[column] = index
    missing = [c for c in REQUIRED[entity] if c not in mapping]
    if missing:
        raise ValidationFailed(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
                               code="missing_columns", details={"columns": missing})
    return mapping


def rows_to_csv(entity: str, rows: Any) -> bytes:
    """API rows (a list of objects with the canonical column names) as the CSV an upload would be."""
    if not isinstance(rows, list) or not rows or len(rows) > 10_000:
        raise ValidationFailed(_("Send 1 to 10,000 rows."), code="invalid_rows", details={"field": "rows"})
    columns = list(COLUMNS[entity]) if entity in COLUMNS else _product_columns()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) - set(columns):
            raise ValidationFailed(_("Row %(row)s has unknown fields.") % {"row": index + 1}, code="invalid_rows",
                                   details={"row": index + 1, "allowed": columns})
        writer.writerow(["" if row.get(c) is None else str(row[c]) for c in columns])
    return out.getvalue().encode()


def _product_columns() -> list[str]:
    from yundian.catalog.imports import COLUMNS as CATALOG_COLUMNS

    return list(CATALOG_COLUMNS)


def check_file(*, actor: Staff, entity: str, filename: str, data: bytes) -> int:
    """Validate what can be validated before a job is queued (type, size, header); returns the data rows."""
    if entity not in IMPORTABLE:
        raise ValidationFailed(_("This kind of data cannot be imported."), code="invalid_entity",
                               details={"allowed": list(IMPORTABLE)})
    if not has_perm(actor, IMPORT_PERM[entity]):
        raise Forbidden()
    rows = read_table(filename, data)
    if entity in COLUMNS:
        header_map(entity, rows[0])
    return sum(1 for r in rows[1:] if any(_text(c) for c in r))


# --- cells ---------------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _whole(value: Any, column: str, *, low: int = 0) -> int:
    text = _text(value)
    try:
        number = Decimal(text)
        if number != number.to_integral_value() or number < low or number > 10**9:
            raise InvalidOperation
    except InvalidOperation:
        raise RowError(column, "invalid_number", _("Not a whole number of at least %(low)s.") % {"low": low})
    return int(number)


def _fen(value: Any, column: str) -> int:
    text = _text(value).replace("¥", "").replace(",", "")
    try:
        yuan = Decimal(text)
        if yuan < 0 or yuan > 10**8 or yuan != yuan.quantize(Decimal("0.01")):
            raise InvalidOperation
    except InvalidOperation:
        raise RowError(column, "invalid_price", _("Not an amount in yuan (e.g. 12.50)."))
    return int(yuan * 100)


def _required(row: dict, column: str) -> str:
    value = _text(row.get(column))
    if not value:
        raise RowError(column, "required", _("This column is required."))
    return value[:120]


def row_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- the run -------------------------------------------------------------------------------------------------

class Importer:
    def __init__(self, actor: Staff, entity: str, job_id: int | None, progress: Callable[[int], None]):
        self.actor, self.entity, self.job_id, self.progress = actor, entity, job_id, progress
        self.enterprise_id = actor.enterprise_id
        self.outcome = Outcome()
        self.records = {r.key: r for r in ErpRecord.objects.filter(enterprise_id=self.enterprise_id, entity=entity)}
        self._cache: dict[tuple[str, str], Any] = {}

    # lookups by code, once per code
    def sku(self, code: str, column: str = "sku_code"):
        from yundian.catalog.models import Sku

        key = ("sku", code)
        if key not in self._cache:
            self._cache[key] = Sku.objects.filter(enterprise_id=self.enterprise_id, code=code).first()
        if self._cache[key] is None:
            raise RowError(column, "sku_not_found", _("SKU not found."))
        return self._cache[key]

    def warehouse(self, code: str, column: str = "warehouse_code"):
        from yundian.inventory.models import Warehouse

        key = ("warehouse", code)
        if key not in self._cache:
            self._cache[key] = Warehouse.objects.filter(enterprise_id=self.enterprise_id, code=code).first()
        if self._cache[key] is None:
            raise RowError(column, "warehouse_not_found", _("Warehouse not found."))
        return self._cache[key]

    def unchanged(self, key: str, digest: str) -> bool:
        record = self.records.get(key)
        return record is not None and record.row_hash == digest

    def remember(self, key: str, digest: str, local_id: int | None) -> None:
        record, _created = ErpRecord.objects.update_or_create(
            enterprise_id=self.enterprise_id, entity=self.entity, key=key[:200],
            defaults={"row_hash": digest, "local_id": local_id, "job_id": self.job_id})
        self.records[key] = record


def erp_import_run(*, actor: Staff, entity: str, filename: str, data: bytes, job_id: int | None = None,
                   progress: Callable[[int], None] | None = None) -> Outcome:
    """Import one file of `entity` (see the module doc). File-level problems raise a 4xx and change nothing;
    row problems land in the outcome's error report."""
    check_file(actor=actor, entity=entity, filename=filename, data=data)
    importer = Importer(actor, entity, job_id, progress or (lambda n: None))
    if entity == ErpEntity.PRODUCTS:
        return _products(importer, filename, data)
    rows = read_table(filename, data)
    mapping = header_map(entity, rows[0])
    body = []
    for offset, cells in enumerate(rows[1:]):
        if not any(_text(c) for c in cells):
            continue
        body.append((offset + 2, {c: (cells[i] if i < len(cells) else None) for c, i in mapping.items()}))
    importer.outcome.total_rows = len(body)
    {ErpEntity.PRICES: _prices, ErpEntity.STOCK: _stock, ErpEntity.PURCHASE_ORDERS: _purchase_orders,
     ErpEntity.MEMBERS: _members}[entity](importer, body)
    return importer.outcome


def _each(importer: Importer, body: list[tuple[int, dict]], write: Callable[[int, dict], bool | None]) -> None:
    """Write row by row, each in its own savepoint; `write` returns True (changed) or False (unchanged)."""
    out = importer.outcome
    for done, (number, row) in enumerate(body, start=1):
        try:
            with transaction.atomic():
                changed = write(number, row)
        except (RowError, DomainError) as exc:
            out.reject([number], exc)
        else:
            if changed:
                out.changed_rows += 1
            else:
                out.unchanged_rows += 1
        if done % PROGRESS_EVERY == 0:
            importer.progress(done)
    importer.progress(len(body))


def _products(importer: Importer, filename: str, data: bytes) -> Outcome:
    from yundian.catalog.imports import catalog_import

    run = catalog_import(actor=importer.actor, filename=filename, data=data, mode="rows")
    out = importer.outcome
    out.total_rows = run.total_rows
    out.errors = list(run.errors)
    out.counts = {k: v for k, v in run.counts.items() if v}
    changes = sum(run.counts.values())
    # the catalogue counts changes, not changed rows: a row is "changed" when anything it names was written
    out.changed_rows = min(run.imported_rows, changes)
    out.unchanged_rows = run.imported_rows - out.changed_rows
    importer.progress(run.total_rows)
    return out


def _prices(importer: Importer, body: list[tuple[int, dict]]) -> None:
    from yundian.catalog.models import PriceEntry, PriceList
    from yundian.catalog.services import price_entry_set

    lists: dict[str, Any] = {}

    def write(number: int, row: dict) -> bool:
        list_code, sku_code = _required(row, "price_list_code"), _required(row, "sku_code")
        price = _fen(row.get("price"), "price")
        key, digest = f"{list_code}|{sku_code}", row_hash({"price": price})
        if importer.unchanged(key, digest):
            return False
        if list_code not in lists:
            lists[list_code] = PriceList.objects.filter(enterprise_id=importer.enterprise_id, code=list_code).first()
        price_list = lists[list_code]
        if price_list is None:
            raise RowError("price_list_code", "price_list_not_found", _("Price list not found."))
        sku = importer.sku(sku_code)
        current = PriceEntry.objects.filter(price_list=price_list, sku=sku).values_list("price", flat=True).first()
        if current != price:
            price_entry_set(actor=importer.actor, price_list_id=price_list.pk, sku_id=sku.pk, price=price)
            importer.outcome.count("prices_set")
        importer.remember(key, digest, sku.pk)
        return current != price

    _each(importer, body, write)


def _stock(importer: Importer, body: list[tuple[int, dict]]) -> None:
    """Per warehouse: the rows whose count differs from what the last import set become one cycle stocktake."""
    from yundian.inventory.models import StockBalance
    from yundian.inventory.services import stocktake_count, stocktake_post, stocktake_start, stocktake_submit

    out = importer.outcome
    groups: dict[int, list[tuple[int, str, Any, int, str]]] = {}
    seen: dict[str, int] = {}
    for number, row in body:
        try:
            warehouse = importer.warehouse(_required(row, "warehouse_code"))
            sku = importer.sku(_required(row, "sku_code"))
            quantity = _whole(row.get("quantity"), "quantity")
            key = f"{warehouse.code}|{sku.code}"
            if key in seen:
                raise RowError("sku_code", "duplicate_row", _("This SKU is already counted in row %(row)s.")
                               % {"row": seen[key]})
            seen[key] = number
        except RowError as exc:
            out.reject([number], exc)
            continue
        digest = row_hash({"quantity": quantity})
        if importer.unchanged(key, digest):
            out.unchanged_rows += 1
            continue
        groups.setdefault(warehouse.pk, []).append((number, key, sku, quantity, digest))
    done = out.unchanged_rows + out.rejected_rows
    for warehouse_id, rows in groups.items():
        on_hand = dict(StockBalance.objects.filter(warehouse_id=warehouse_id, sku_id__in=[r[2].pk for r in rows])
                       .values_list("sku_id", "on_hand"))
        counted = [r for r in rows if on_hand.get(r[2].pk, 0) != r[3]]
        try:
            with transaction.atomic():
                if counted:
                    take = stocktake_start(actor=importer.actor, warehouse_id=warehouse_id, kind="cycle",
                                           sku_ids=[r[2].pk for r in counted],
                                           note=gettext("ERP stock import, job %(job)s") % {"job": importer.job_id or "-"})
                    stocktake_count(actor=importer.actor, stocktake_id=take.pk, mode="set",
                                    lines=[{"sku_id": r[2].pk, "quantity": r[3]} for r in counted])
                    stocktake_submit(actor=importer.actor, stocktake_id=take.pk)
                    stocktake_post(actor=importer.actor, stocktake_id=take.pk)
                    out.count("stocktakes")
                for number, key, sku, _q, digest in rows:
                    importer.remember(key, digest, sku.pk)
        except DomainError as exc:
            out.reject([r[0] for r in rows], exc, column="warehouse_code")
        else:
            out.changed_rows += len(counted)
            out.unchanged_rows += len(rows) - len(counted)
            out.count("lines_corrected", len(counted))
        done += len(rows)
        importer.progress(done)
    importer.progress(len(body))


def _purchase_orders(importer: Importer, body: list[tuple[int, dict]]) -> None:
    from yundian.inventory.models import Supplier
    from yundian.inventory.services import purchase_order_create

    out = importer.outcome
    orders: dict[str, list[tuple[int, dict]]] = {}
    for number, row in body:
        orders.setdefault(_text(row.get("erp_number"))[:60], []).append((number, row))
    done = 0
    for erp_number, rows in orders.items():
        numbers = [n for n, _r in rows]
        try:
            if not erp_number:
                raise RowError("erp_number", "required", _("This column is required."))
            head = rows[0][1]
            warehouse = importer.warehouse(_required(head, "warehouse_code"))
            supplier_code = _text(head.get("supplier_code"))
            source_code = _text(head.get("source_warehouse_code"))
            lines, values = [], []
            for _n, row in rows:
                if _text(row.get("warehouse_code")) != warehouse.code or _text(row.get("supplier_code")) != supplier_code:
                    raise RowError("warehouse_code", "order_rows_differ",
                                   _("Every row of one ERP order names the same warehouse and supplier."))
                sku = importer.sku(_required(row, "sku_code"))
                quantity = _whole(row.get("quantity"), "quantity", low=1)
                cost = _fen(row["unit_cost"], "unit_cost") if _text(row.get("unit_cost")) else None
                lines.append({"sku_id": sku.pk, "quantity": quantity, **({"unit_cost": cost} if cost is not None else {})})
                values.append([sku.code, quantity, cost])
            digest = row_hash({"warehouse": warehouse.code, "supplier": supplier_code, "source": source_code,
                               "lines": values})
            if importer.unchanged(erp_number, digest):
                out.unchanged_rows += len(rows)
                continue
            if erp_number in importer.records:
                raise RowError("erp_number", "purchase_order_changed",
                               _("This ERP order was imported before with other lines; change it in Yundian."))
            supplier_id = source_id = None
            if supplier_code:
                supplier = Supplier.objects.filter(enterprise_id=importer.enterprise_id, code=supplier_code).first()
                if supplier is None:
                    raise RowError("supplier_code", "supplier_not_found", _("Supplier not found."))
                supplier_id = supplier.pk
            elif source_code:
                source_id = importer.warehouse(source_code, "source_warehouse_code").pk
            with transaction.atomic():
                order = purchase_order_create(actor=importer.actor, warehouse_id=warehouse.pk, lines=lines,
                                              supplier_id=supplier_id, source_warehouse_id=source_id,
                                              note=f"ERP {erp_number}", origin="erp")
                importer.remember(erp_number, digest, order.pk)
            out.changed_rows += len(rows)
            out.count("purchase_orders_created")
        except (RowError, DomainError) as exc:
            out.reject(numbers, exc)
        finally:
            done += len(rows)
            importer.progress(done)


def _members(importer: Importer, body: list[tuple[int, dict]]) -> None:
    from yundian.members.models import IdentityKind
    from yundian.members.normalize import normalize_identity
    from yundian.members.services import member_resolve, member_update
    from yundian.members.services.members import IdentityIn
    from yundian.org.models import OrgNode

    stores: dict[str, Any] = {}

    def write(number: int, row: dict) -> bool:
        try:
            phone = normalize_identity(IdentityKind.PHONE, _required(row, "phone"))
        except ValidationFailed as exc:
            raise RowError("phone", exc.code, exc.message)
        name = _text(row.get("name"))[:80]
        store_code = _required(row, "store_code")
        digest = row_hash({"name": name, "store": store_code})
        if importer.unchanged(phone, digest):
            return False
        if store_code not in stores:
            stores[store_code] = OrgNode.objects.filter(enterprise_id=importer.enterprise_id, code=store_code).first()
        if stores[store_code] is None:
            raise RowError("store_code", "store_not_found", _("Store not found."))
        found = member_resolve(actor=importer.actor, store_id=stores[store_code].pk, channel="import",
                               identities=[IdentityIn(kind=IdentityKind.PHONE, value=phone)], name=name)
        changed = found.created
        if not found.created and name and found.member.name != name:
            member_update(actor=importer.actor, member_id=found.member.pk, name=name)
            changed = True
        importer.outcome.count("members_created" if found.created else "members_updated" if changed else "members_kept")
        importer.remember(phone, digest, found.member.pk)
        return changed

    _each(importer, body, write)
