"""ERP export: every entity as pages of changes with a keyset cursor over (updated_at, id).

An ERP pulls `GET /api/v1/integrations/erp/<entity>?updated_since=...` and then follows `next_cursor` for ever
(also after `has_more` turns false: the cursor is where to ask again later). The guarantee: following the cursors,
every committed version of every row in the caller's scope is delivered exactly once after its change, in
(updated_at, id) order; a row changed again is delivered again with its newer version (a change, not a repeat).

The classic gap — a row stamped with updated_at T by a transaction that commits after a reader has already moved
past T — is closed by never reading up to "now". A page reads only rows with updated_at < the *safe cutoff*:
- now - ERP_EXPORT_LAG_SECONDS (default 30 s), which covers clock skew between app servers and, on SQLite
  (one writer at a time, no view of open transactions), any write transaction shorter than the lag;
- on PostgreSQL also the start of the oldest client transaction that holds a write id (pg_stat_activity.backend_xid;
  not autovacuum's ANALYZE, which takes a write id for pg_statistic and never stamps a row), minus the lag: every uncommitted row was stamped after its transaction began, so nothing below the cutoff can
  still appear. (The database role must see other sessions' rows of pg_stat_activity: the same role or
  pg_read_all_stats.)
A change is therefore visible to the export `lag` seconds after it is stamped (longer while a long transaction is
open on PostgreSQL). Deleted rows are not exported (catalogue rows, members and orders are deactivated, erased or
cancelled rather than deleted, and those changes are exported).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Callable

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Forbidden, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q

from .erp_models import ErpEntity

MAX_LIMIT = 1000
DEFAULT_LIMIT = 200
CURSOR_SALT = "yundian.integrations.erp-cursor"


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str
    has_more: bool
    until: datetime


@dataclass(frozen=True)
class Spec:
    perm: str
    queryset: Callable[[Staff], QuerySet]  # scoped, annotated with `_ts`
    item: Callable[[Any, Staff], dict]
    columns: list[str]
    rows: Callable[[dict], list[list]]  # flat spreadsheet rows of one item


def lag_seconds() -> float:
    return float(getattr(settings, "ERP_EXPORT_LAG_SECONDS", 30))


def safe_cutoff(now: datetime | None = None) -> datetime:
    """The moment below which no row can still appear (see the module doc)."""
    lag = timedelta(seconds=lag_seconds())
    cutoff = (now or timezone.now()) - lag
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND backend_type = 'client backend'")
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            cutoff = min(cutoff, oldest - lag)
    return cutoff


# --- cursors -------------------------------------------------------------------------------------------------

def cursor_encode(entity: str, at: datetime, row_id: int) -> str:
    return signing.dumps({"e": entity, "t": at.isoformat(), "i": row_id}, salt=CURSOR_SALT, compress=True)


def cursor_decode(entity: str, token: str) -> tuple[datetime, int]:
    try:
        data = signing.loads(str(token)[:400], salt=CURSOR_SALT)
        at, row_id = parse_datetime(data["t"]), int(data["i"])
        if data["e"] != entity or at is None:
            raise ValueError
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationFailed(_("This cursor is not valid here; start again from updated_since."),
                               code="invalid_cursor", details={"field": "cursor"})
    return at, row_id


def clean_since(value: Any) -> datetime:
    if value in (None, ""):
        return datetime(2000, 1, 1, tzinfo=dt_timezone.utc)
    at = value if isinstance(value, datetime) else parse_datetime(str(value))
    if at is None or timezone.is_naive(at):
        raise ValidationFailed(_("updated_since is a date and time with its time zone (ISO 8601)."),
                               code="invalid_updated_since", details={"field": "updated_since"})
    return at


# --- entities ------------------------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _enterprise_wide(actor: Staff, perm: str) -> None:
    if not has_perm(actor, perm):
        raise Forbidden()


def _products(actor: Staff) -> QuerySet:
    from yundian.catalog.models import Barcode, Sku

    _enterprise_wide(actor, Perm.CATALOG_VIEW)
    return (Sku.objects.filter(enterprise_id=actor.enterprise_id)
            .select_related("product__category")
            .prefetch_related(Prefetch("barcodes", queryset=Barcode.objects.order_by("id")))
            .annotate(_ts=Greatest("updated_at", "product__updated_at")))


def _product_item(sku, actor: Staff) -> dict:
    product = sku.product
    return {"id": sku.pk, "sku_code": sku.code, "sku_name": sku.name, "product_code": product.code,
            "product_name": product.name, "category_code": product.category.code if product.category else "",
            "brand": product.brand, "unit": sku.unit, "base_price": sku.base_price, "is_weighed": sku.is_weighed,
            "is_active": sku.is_active and product.is_active, "barcodes": [b.code for b in sku.barcodes.all()],
            "updated_at": _iso(sku._ts)}


def _prices(actor: Staff) -> QuerySet:
    from yundian.catalog.models import PriceEntry

    return (PriceEntry.objects.filter(scope_q(actor, Perm.CATALOG_VIEW, "price_list__node__path"),
                                      price_list__enterprise_id=actor.enterprise_id)
            .select_related("price_list", "sku").annotate(_ts=F("updated_at")))


def _price_item(entry, actor: Staff) -> dict:
    return {"id": entry.pk, "price_list_code": entry.price_list.code, "sku_code": entry.sku.code,
            "price": entry.price, "updated_at": _iso(entry._ts)}


def _stock(actor: Staff) -> QuerySet:
    from yundian.inventory.models import StockBalance

    return (StockBalance.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                        warehouse__enterprise_id=actor.enterprise_id)
            .select_related("warehouse", "sku").annotate(_ts=F("updated_at")))


def _stock_item(row, actor: Staff) -> dict:
    return {"id": row.pk, "warehouse_code": row.warehouse.code, "sku_code": row.sku.code, "on_hand": row.on_hand,
            "reserved": row.reserved, "available": row.on_hand - row.reserved, "updated_at": _iso(row._ts)}


def _purchase_orders(actor: Staff) -> QuerySet:
    from yundian.inventory.models import PurchaseOrder

    return (PurchaseOrder.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                         enterprise_id=actor.enterprise_id)
            .select_related("warehouse", "supplier", "source_warehouse")
            .prefetch_related("lines__sku").annotate(_ts=F("updated_at")))


def _purchase_order_item(po, actor: Staff) -> dict:
    return {"id": po.pk, "number": po.number, "status": po.status, "origin": po.origin,
            "warehouse_code": po.warehouse.code, "supplier_code": po.supplier.code if po.supplier else "",
            "source_warehouse_code": po.source_warehouse.code if po.source_warehouse else "",
            "expected_at": po.expected_at.isoformat() if po.expected_at else None, "note": po.note,
            "lines": [{"sku_code": l.sku.code, "quantity": l.quantity, "received": l.received,
                       "unit_cost": l.unit_cost} for l in po.lines.all()],
            "updated_at": _iso(po._ts)}


def _orders(actor: Staff) -> QuerySet:
    from yundian.sales.models import Order

    return (Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id)
            .select_related("store").prefetch_related("lines").annotate(_ts=F("updated_at")))


def _order_item(order, actor: Staff) -> dict:
    return {"id": order.pk, "number": order.number, "channel": order.channel, "mode": order.mode,
            "status": order.status, "store_code": order.store.code, "member_id": order.member_id,
            "currency": order.currency, "subtotal": order.subtotal, "discount_total": order.discount_total,
            "total": order.total, "paid_total": order.paid_total, "refunded_total": order.refunded_total,
            "placed_at": _iso(order.placed_at), "paid_at": _iso(order.paid_at),
            "cancelled_at": _iso(order.cancelled_at),
            "lines": [{"line_no": l.line_no, "sku_code": l.sku_code, "name": l.name, "quantity": l.quantity,
                       "unit_price": l.unit_price, "line_total": l.line_total, "shipped": l.shipped_quantity,
                       "returned": l.returned_quantity} for l in order.lines.all()],
            "updated_at": _iso(order._ts)}


def _members(actor: Staff) -> QuerySet:
    from yundian.members.models import Member, MemberIdentity
    from yundian.members.selectors import member_scope_q

    return (Member.objects.filter(member_scope_q(actor)).select_related("home", "tier")
            .prefetch_related(Prefetch("identities", queryset=MemberIdentity.objects.order_by("id")))
            .annotate(_ts=F("updated_at")))


def _member_item(member, actor: Staff) -> dict:
    from yundian.members.models import IdentityKind
    from yundian.members.normalize import mask_identity

    erased = member.erased_at is not None
    reveal = not erased and has_perm(actor, Perm.PERSONAL_DATA_EXPORT, member.home)
    phone = "" if erased else next((i.value for i in member.identities.all() if i.kind == IdentityKind.PHONE), "")
    return {"id": member.pk, "status": member.status, "home_code": member.home.code,
            "tier_code": member.tier.code if member.tier else "", "channel": member.channel,
            "name": "" if erased else member.name,
            "phone": phone if reveal else mask_identity(IdentityKind.PHONE, phone) if phone else "",
            "merged_into_id": member.merged_into_id, "is_erased": erased, "created_at": _iso(member.created_at),
            "updated_at": _iso(member._ts), "_revealed": reveal}


def _flat(keys: list[str]) -> Callable[[dict], list[list]]:
    return lambda item: [[item.get(k) for k in keys]]


def _with_lines(head: list[str], line_keys: list[str]) -> Callable[[dict], list[list]]:
    def rows(item: dict) -> list[list]:
        base = [item.get(k) for k in head]
        return [base + [line.get(k) for k in line_keys] for line in item["lines"]] or [base + [None] * len(line_keys)]
    return rows


_PRODUCT_COLS = ["sku_code", "sku_name", "product_code", "product_name", "category_code", "brand", "unit",
                 "base_price", "is_weighed", "is_active", "updated_at"]
_PRICE_COLS = ["price_list_code", "sku_code", "price", "updated_at"]
_STOCK_COLS = ["warehouse_code", "sku_code", "on_hand", "reserved", "available", "updated_at"]
_PO_HEAD = ["number", "status", "warehouse_code", "supplier_code", "source_warehouse_code", "expected_at", "updated_at"]
_PO_LINE = ["sku_code", "quantity", "received", "unit_cost"]
_ORDER_HEAD = ["number", "channel", "status", "store_code", "member_id", "total", "paid_total", "refunded_total",
               "placed_at", "updated_at"]
_ORDER_LINE = ["line_no", "sku_code", "quantity", "unit_price", "line_total", "returned"]
_MEMBER_COLS = ["id", "status", "home_code", "tier_code", "name", "phone", "is_erased", "created_at", "updated_at"]

SPECS: dict[str, Spec] = {
    ErpEntity.PRODUCTS: Spec(Perm.CATALOG_VIEW, _products, _product_item, _PRODUCT_COLS, _flat(_PRODUCT_COLS)),
    ErpEntity.PRICES: Spec(Perm.CATALOG_VIEW, _prices, _price_item, _PRICE_COLS, _flat(_PRICE_COLS)),
    ErpEntity.STOCK: Spec(Perm.STOCK_VIEW, _stock, _stock_item, _STOCK_COLS, _flat(_STOCK_COLS)),
    ErpEntity.PURCHASE_ORDERS: Spec(Perm.STOCK_VIEW, _purchase_orders, _purchase_order_item, _PO_HEAD + _PO_LINE,
                                    _with_lines(_PO_HEAD, _PO_LINE)),
    ErpEntity.ORDERS: Spec(Perm.ORDER_VIEW, _orders, _order_item, _ORDER_HEAD + _ORDER_LINE,
                           _with_lines(_ORDER_HEAD, _ORDER_LINE)),
    ErpEntity.MEMBERS: Spec(Perm.MEMBER_VIEW, _members, _member_item, _MEMBER_COLS, _flat(_MEMBER_COLS)),
}


def spec_for(entity: str) -> Spec:
    if entity not in SPECS:
        raise ValidationFailed(_("Unknown kind of data."), code="invalid_entity",
                               details={"allowed": list(SPECS), "field": "entity"})
    return SPECS[entity]


# --- the page ------------------------------------------------------------------------------------------------

def erp_changes_page(*, actor: Staff, entity: str, updated_since: Any = None, cursor: str | None = None,
                     limit: int = DEFAULT_LIMIT) -> Page:
    """One page of `entity` rows changed after the cursor (or at/after `updated_since`), oldest first, scoped to
    the actor; never rows at or after the safe cutoff (see the module doc). Members' personal data is masked
    unless the actor may export it (then the read is audited)."""
    spec = spec_for(entity)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(_("limit is 1 to 1000."), code="invalid_limit", details={"field": "limit"})
    if cursor:
        after_at, after_id = cursor_decode(entity, cursor)
        position = Q(_ts__gt=after_at) | Q(_ts=after_at, pk__gt=after_id)
    else:
        after_at, after_id = clean_since(updated_since), 0
        position = Q(_ts__gte=after_at)
    until = safe_cutoff()
    rows = list(spec.queryset(actor).filter(position, _ts__lt=until).order_by("_ts", "pk")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    items = [spec.item(row, actor) for row in rows]
    if rows:
        next_cursor = cursor_encode(entity, rows[-1]._ts, rows[-1].pk)
    else:
        next_cursor = cursor or cursor_encode(entity, after_at - timedelta(microseconds=1), 2**62)
    revealed = [i["id"] for i in items if i.pop("_revealed", False)]
    if revealed:
        audit_record(actor=actor, action="erp_members.export", target=actor.enterprise,
                     after={"members": len(revealed), "first": revealed[0], "last": revealed[-1]},
                     scope_path=actor.home.path)
    return Page(items=items, next_cursor=next_cursor, has_more=has_more, until=until)


def erp_export_rows(*, actor: Staff, entity: str, updated_since: Any = None, cursor: str | None = None,
                    progress: Callable[[int], None] | None = None) -> tuple[list[str], list[list], str]:
    """Every page of changes as spreadsheet rows: (columns, rows, the cursor to continue from)."""
    spec = spec_for(entity)
    rows: list[list] = []
    done = 0
    while True:
        page = erp_changes_page(actor=actor, entity=entity, updated_since=updated_since, cursor=cursor,
                                limit=MAX_LIMIT)
        for item in page.items:
            rows.extend(spec.rows(item))
        done += len(page.items)
        cursor = page.next_cursor
        if progress:
            progress(done)
        if not page.has_more:
            return spec.columns, rows, cursor
