"""The sync from the OLTP database into the warehouse: incremental, idempotent, restartable.

Each source keeps its own state row in the warehouse (`_sync_state`), written in the same DuckDB transaction as
the rows it covers, so a sync killed mid-batch leaves the warehouse as it was after the last whole batch and the
next run carries on from there. Every write is keyed (`rows_replace` / `rows_insert_new`), so reading a row twice
writes it once.

How each source is read:
- appended rows (the stock, points and commission ledgers; new orders and members; the outbox; the event
  inbox) by id above a watermark. On PostgreSQL ids are handed out before commit, so a row may commit after a
  higher id was read: every id hole below the watermark is kept as a gap and looked up again on the next runs
  until it fills or has stayed empty for core.warehouse.GAP_GRACE (a rolled-back transaction's ids never fill);
- changes to orders and members through the transactional outbox (`core.outbox`): the row's present state is
  read again and replaces what the warehouse had (an order's header, lines and payments together);
- master data (org nodes, SKUs, staff) and coupon redemptions by modification time, re-reading an overlap
  window each time (harmless: replaces are keyed).
Member erasure removes the member's behaviour events and device links and scrubs the member row; merges and
unmerges re-read the members involved, so `canonical_member_id` re-attributes without rewriting facts.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from yundian.cdp.identity import members_erased
from yundian.cdp.inbox import inbox_flush_now
from yundian.cdp.tag_refresh import tags_refresh_members
from yundian.cdp.tag_warehouse import member_tags_erase, member_tags_write
from yundian.cdp.tags import member_profiles_erase
from yundian.core.warehouse import (TableSpec, gap_filter, gaps_after_read, naive_utc, rows_delete, rows_insert,
                                    rows_replace, run, state_get, state_put, states_all, tables, warehouse_path,
                                    warehouse_read, warehouse_transaction, warehouse_write)

from . import warehouse_tables as T
from .models import MemberClv

logger = logging.getLogger(__name__)

BATCH = 20_000
OVERLAP = timedelta(minutes=5)  # modification-time sources re-read this far back
DATES_FROM = date(2020, 1, 1)

Progress = Callable[[str, int], None]


def local_parts(ts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """(local date, local hour) in the chain's time zone of naive-UTC timestamps."""
    zoned = pc.assume_timezone(ts, "UTC").cast(pa.timestamp("us", tz=settings.TIME_ZONE))
    local = pc.local_timestamp(zoned)
    return local.cast(pa.date32()), pc.hour(local).cast(pa.int32())


def _table(spec: TableSpec, columns: dict[str, list], stamp: str | None = None, *, with_hour: bool = False) -> pa.Table:
    """An Arrow table of `spec`; `stamp` names the timestamp column whose local date (and hour) fill local_*."""
    if stamp is not None:
        ts = pa.array(columns[stamp], type=pa.timestamp("us"))
        local_date, local_hour = local_parts(ts)
        columns["local_date"] = local_date.to_pylist()
        if with_hour:
            columns["local_hour"] = local_hour.to_pylist()
    return spec.arrow(columns)


def _columns(names: Iterable[str], rows: list[tuple]) -> dict[str, list]:
    names = list(names)
    if not rows:
        return {name: [] for name in names}
    return {name: list(values) for name, values in zip(names, zip(*rows))}


# --- id sources with gap tracking --------------------------------------------------------------------------------

@dataclass
class IdSource:
    """Rows appended with increasing ids, written by `write(con, ids) -> rows` (ids of rows that exist)."""

    name: str
    queryset: Callable[[], object]  # a queryset of the model, ordered by nothing yet
    write: Callable[[object, list[int]], int]
    batch: int = BATCH

    def run(self, progress: Progress | None, now: datetime, batch: int | None = None) -> int:
        size = batch or self.batch
        total = 0
        with warehouse_write() as con:
            state = state_get(con, self.name)
        # the gaps are looked up once a run, before the first batch (later batches read above them)
        in_gaps = gap_filter(state)
        refound = list(self.queryset().filter(in_gaps).values_list("id", flat=True)) if in_gaps is not None else []
        while True:
            ids = list(self.queryset().filter(id__gt=state.watermark).order_by("id").values_list("id", flat=True)[:size])
            if not ids and not refound and not state.gaps:
                break
            with warehouse_write() as con, warehouse_transaction(con):
                written = self.write(con, sorted(set(ids) | set(refound))) if (ids or refound) else 0
                read_above = state.watermark
                state.gaps = gaps_after_read(state, refound + ids, read_above, now)
                if ids:
                    state.watermark = ids[-1]
                state.rows += written
                state.updated_at = naive_utc(now)
                state_put(con, state)
            total += written
            refound = []
            if progress:
                progress(self.name, written)
            if len(ids) < size:
                break
        return total


# --- extractors ------------------------------------------------------------------------------------------------

class Paths:
    """Org paths of nodes and warehouses, SKU -> (product, category), read once per sync."""

    def __init__(self) -> None:
        from yundian.catalog.models import Sku
        from yundian.inventory.models import Warehouse
        from yundian.org.models import OrgNode

        self.node = dict(OrgNode.objects.values_list("id", "path"))
        self.warehouse = {w: (node, kind) for w, node, kind in Warehouse.objects.values_list("id", "node_id", "kind")}
        self.sku = {s: (p, c) for s, p, c in Sku.objects.values_list("id", "product_id", "product__category_id")}
        self.order_members: set[int] = set()  # members whose orders this run wrote (their tags are refreshed)

    def of(self, node_id: int | None) -> str | None:
        return self.node.get(node_id) if node_id is not None else None


def write_orders(con, order_ids: list[int], paths: Paths) -> int:
    """Replace the orders' header, lines and payments with their present state."""
    from yundian.sales.models import Order, OrderLine, OrderStatus, Payment

    if not order_ids:
        return 0
    heads = list(Order.objects.filter(id__in=order_ids).values_list(
        "id", "enterprise_id", "store_id", "member_id", "clerk_id", "channel", "mode", "status", "placed_at",
        "paid_at", "subtotal", "discount_total", "total", "paid_total", "refunded_total", "share_code",
        "pricing__applied", "updated_at"))  # only what the engine applied, not the whole pricing document
    sale = {h[0]: h[9] is not None and h[7] != OrderStatus.CANCELLED for h in heads}
    paths.order_members.update(h[3] for h in heads if h[3] is not None)
    head_by_id = {h[0]: h for h in heads}
    lines = list(OrderLine.objects.filter(order_id__in=order_ids).values_list(
        "id", "order_id", "line_no", "guide_id", "sku_id", "category_id", "is_weighed", "quantity",
        "returned_quantity", "list_price", "unit_price", "discount", "line_total", "returned_amount"))
    counts: dict[int, tuple[int, int]] = {}
    for line in lines:
        n, items = counts.get(line[1], (0, 0))
        counts[line[1]] = (n + 1, items + (1 if line[6] else line[7]))
    orders = {
        "order_id": [h[0] for h in heads], "enterprise_id": [h[1] for h in heads],
        "org_path": [paths.of(h[2]) for h in heads], "store_id": [h[2] for h in heads],
        "member_id": [h[3] for h in heads], "clerk_id": [h[4] for h in heads], "channel": [h[5] for h in heads],
        "mode": [h[6] for h in heads], "status": [h[7] for h in heads], "placed_at": [naive_utc(h[8]) for h in heads],
        "paid_at": [naive_utc(h[9]) for h in heads], "is_sale": [sale[h[0]] for h in heads],
        "subtotal": [h[10] for h in heads], "discount_total": [h[11] for h in heads], "total": [h[12] for h in heads],
        "paid_total": [h[13] for h in heads], "refunded_total": [h[14] for h in heads],
        "net_total": [h[13] - h[14] if sale[h[0]] else 0 for h in heads],
        "line_count": [counts.get(h[0], (0, 0))[0] for h in heads],
        "item_count": [counts.get(h[0], (0, 0))[1] for h in heads], "share_code": [h[15] for h in heads],
        "has_promotion": [bool(h[16]) for h in heads], "updated_at": [naive_utc(h[17]) for h in heads],
    }
    line_cols = {
        "line_id": [], "order_id": [], "line_no": [], "enterprise_id": [], "org_path": [], "store_id": [],
        "member_id": [], "guide_id": [], "clerk_id": [], "channel": [], "status": [], "placed_at": [], "is_sale": [],
        "sku_id": [], "product_id": [], "category_id": [], "is_weighed": [], "quantity": [], "returned_quantity": [],
        "net_quantity": [], "list_price": [], "unit_price": [], "discount": [], "line_total": [],
        "returned_amount": [], "net_amount": [],
    }
    for (line_id, order_id, line_no, guide, sku, category, weighed, qty, ret_qty, list_price, unit_price, discount,
         line_total, ret_amount) in lines:
        h = head_by_id[order_id]
        for key, value in (("line_id", line_id), ("order_id", order_id), ("line_no", line_no),
                           ("enterprise_id", h[1]), ("org_path", paths.of(h[2])), ("store_id", h[2]),
                           ("member_id", h[3]), ("guide_id", guide), ("clerk_id", h[4]), ("channel", h[5]),
                           ("status", h[7]), ("placed_at", naive_utc(h[8])), ("is_sale", sale[order_id]), ("sku_id", sku),
                           ("product_id", paths.sku.get(sku, (None, None))[0]),
                           ("category_id", category if category is not None else paths.sku.get(sku, (None, None))[1]),
                           ("is_weighed", weighed), ("quantity", qty), ("returned_quantity", ret_qty),
                           ("net_quantity", qty - ret_qty), ("list_price", list_price), ("unit_price", unit_price),
                           ("discount", discount), ("line_total", line_total), ("returned_amount", ret_amount),
                           ("net_amount", line_total - ret_amount)):
            line_cols[key].append(value)
    pays = list(Payment.objects.filter(order_id__in=order_ids).values_list(
        "id", "order_id", "method", "amount", "refunded_amount", "created_at"))
    pay_cols = {
        "payment_id": [p[0] for p in pays], "order_id": [p[1] for p in pays],
        "enterprise_id": [head_by_id[p[1]][1] for p in pays], "org_path": [paths.of(head_by_id[p[1]][2]) for p in pays],
        "store_id": [head_by_id[p[1]][2] for p in pays], "method": [p[2] for p in pays], "amount": [p[3] for p in pays],
        "refunded_amount": [p[4] for p in pays], "created_at": [naive_utc(p[5]) for p in pays],
    }
    # every order read is cleared by key first (an order that lost all its lines or payments has none in the batch)
    gone = sorted(set(order_ids) - set(head_by_id))
    for spec in (T.FACT_ORDER, T.FACT_ORDER_LINE, T.FACT_PAYMENT):
        rows_delete(con, spec, "order_id", list(order_ids))
    rows_insert(con, T.FACT_ORDER, _table(T.FACT_ORDER, orders, "placed_at", with_hour=True))
    rows_insert(con, T.FACT_ORDER_LINE, _table(T.FACT_ORDER_LINE, line_cols, "placed_at", with_hour=True))
    rows_insert(con, T.FACT_PAYMENT, _table(T.FACT_PAYMENT, pay_cols, "created_at"))
    if gone:
        logger.warning("orders %s are no longer in the database", gone[:10])
    return len(heads)


def _canonical(members: dict[int, int | None]) -> Callable[[int], int]:
    def follow(member_id: int) -> int:
        seen = set()
        while members.get(member_id) and member_id not in seen:
            seen.add(member_id)
            member_id = members[member_id]
        return member_id

    return follow


def write_members(con, member_ids: list[int], paths: Paths) -> int:
    """Replace the members' rows (and every member merged into them, whose survivor may have changed)."""
    from yundian.members.models import Member, MemberStatus

    if not member_ids:
        return 0
    merged = dict(Member.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id"))
    follow = _canonical(merged)
    involved = set(member_ids)
    # members absorbed (directly or through a chain) by one of these: their survivor may have moved
    involved |= {m for m in merged if follow(m) in involved or merged[m] in involved}
    rows = list(Member.objects.filter(id__in=involved).values_list(
        "id", "enterprise_id", "home_id", "status", "tier_id", "guide_id", "gender", "birthday", "channel",
        "created_at", "merged_into_id"))
    erased = [r[0] for r in rows if r[3] == MemberStatus.ERASED]
    columns = {
        "member_id": [r[0] for r in rows], "enterprise_id": [r[1] for r in rows], "home_id": [r[2] for r in rows],
        "org_path": [paths.of(r[2]) for r in rows], "canonical_member_id": [follow(r[0]) for r in rows],
        "status": [r[3] for r in rows], "tier_id": [r[4] for r in rows], "guide_id": [r[5] for r in rows],
        "gender": [None if r[3] == MemberStatus.ERASED else r[6] for r in rows],
        "birth_month": [r[7].month if r[7] and r[3] != MemberStatus.ERASED else None for r in rows],
        "birth_day": [r[7].day if r[7] and r[3] != MemberStatus.ERASED else None for r in rows],
        "channel": [r[8] for r in rows], "registered_at": [naive_utc(r[9]) for r in rows],
        "is_erased": [r[3] == MemberStatus.ERASED for r in rows],
    }
    rows_replace(con, T.DIM_MEMBER, T.DIM_MEMBER.arrow(_with_date(columns, "registered_at", "registered_date")))
    if erased:
        members_erased(con, erased)  # an erased member leaves no behaviour behind: events and device links go
        member_tags_erase(con, erased)  # nor a profile: tags (here and in the OLTP database), tag history, scores
        member_profiles_erase(erased)
        MemberClv.objects.filter(member_id__in=erased).delete()  # and no CLV
    return len(rows)


def _with_date(columns: dict[str, list], stamp: str, target: str) -> dict[str, list]:
    local_date, _hour = local_parts(pa.array(columns[stamp], type=pa.timestamp("us")))
    return {**columns, target: local_date.to_pylist()}


def write_stock_moves(con, ids: list[int], paths: Paths) -> int:
    from yundian.inventory.models import StockMove

    rows = list(StockMove.objects.filter(id__in=ids).values_list(
        "id", "enterprise_id", "warehouse_id", "sku_id", "kind", "quantity", "reserved_delta", "source_type",
        "source_id", "occurred_at", "value"))
    wh = paths.warehouse
    columns = {
        "move_id": [r[0] for r in rows], "enterprise_id": [r[1] for r in rows],
        "org_path": [paths.of(wh.get(r[2], (None, None))[0]) for r in rows],
        "store_id": [wh.get(r[2], (None, None))[0] for r in rows], "warehouse_id": [r[2] for r in rows],
        "warehouse_kind": [wh.get(r[2], (None, None))[1] for r in rows], "sku_id": [r[3] for r in rows],
        "product_id": [paths.sku.get(r[3], (None, None))[0] for r in rows],
        "category_id": [paths.sku.get(r[3], (None, None))[1] for r in rows], "kind": [r[4] for r in rows],
        "quantity": [r[5] for r in rows], "reserved_delta": [r[6] for r in rows],
        "source_type": [r[7] for r in rows], "source_id": [r[8] for r in rows],
        "occurred_at": [naive_utc(r[9]) for r in rows], "value": [r[10] for r in rows],
    }
    return rows_replace(con, T.FACT_STOCK_MOVE, _table(T.FACT_STOCK_MOVE, columns, "occurred_at"))


def write_points(con, ids: list[int], paths: Paths) -> int:
    from yundian.members.models import PointsEntry

    rows = list(PointsEntry.objects.filter(id__in=ids).values_list(
        "id", "enterprise_id", "store_id", "member_id", "kind", "points", "source_type", "source_id", "created_at"))
    columns = {
        "entry_id": [r[0] for r in rows], "enterprise_id": [r[1] for r in rows],
        "org_path": [paths.of(r[2]) for r in rows], "store_id": [r[2] for r in rows],
        "member_id": [r[3] for r in rows], "kind": [r[4] for r in rows], "points": [r[5] for r in rows],
        "source_type": [r[6] for r in rows], "source_id": [r[7] for r in rows], "created_at": [naive_utc(r[8]) for r in rows],
    }
    return rows_replace(con, T.FACT_POINTS_ENTRY, _table(T.FACT_POINTS_ENTRY, columns, "created_at"))


def write_commission(con, ids: list[int], paths: Paths) -> int:
    from yundian.guides.models import CommissionEntry

    rows = list(CommissionEntry.objects.filter(id__in=ids).values_list(
        "id", "enterprise_id", "store_id", "guide_id", "kind", "amount", "sales_amount", "order_id", "order_line_id",
        "month", "occurred_at"))
    columns = {
        "entry_id": [r[0] for r in rows], "enterprise_id": [r[1] for r in rows],
        "org_path": [paths.of(r[2]) for r in rows], "store_id": [r[2] for r in rows],
        "guide_id": [r[3] for r in rows], "kind": [r[4] for r in rows], "amount": [r[5] for r in rows],
        "sales_amount": [r[6] for r in rows], "order_id": [r[7] for r in rows], "order_line_id": [r[8] for r in rows],
        "month": [r[9] for r in rows], "occurred_at": [naive_utc(r[10]) for r in rows],
    }
    return rows_replace(con, T.FACT_COMMISSION_ENTRY, _table(T.FACT_COMMISSION_ENTRY, columns, "occurred_at"))


def write_outbox(con, ids: list[int], paths: Paths) -> int:
    """Re-read what the outbox names (orders, members) and keep each change as a server-side domain event."""
    from yundian.cdp.ingest import events_write
    from yundian.core.models import OutboxEvent

    from yundian.core.outbox import WAREHOUSE_TOPICS

    # the warehouse keeps the topics it knows; others (stock.changed, member.created, message.sent) are for
    # webhooks: stock moves and new members reach the warehouse from their own tables
    rows = list(OutboxEvent.objects.filter(id__in=ids, topic__in=WAREHOUSE_TOPICS).values_list(
        "id", "enterprise_id", "topic", "key", "payload", "created_at"))
    orders = sorted({int(r[3]) for r in rows if r[2] == "order.changed"})
    members = sorted({int(r[3]) for r in rows if r[2].startswith("member.")}
                     | {int(r[4]["survivor"]) for r in rows if r[2] in ("member.merged", "member.unmerged")
                        and (r[4] or {}).get("survivor")})
    write_orders(con, orders, paths)
    write_members(con, members, paths)
    erased = {int(r[3]) for r in rows if r[2] == "member.erased"}
    import json

    events = pa.table({
        "enterprise_id": pa.array([r[1] for r in rows], pa.int64()),
        "event_key": [f"outbox:{r[0]}" for r in rows],
        "kind": [r[2].replace(".", "_") for r in rows], "name": [""] * len(rows),
        "occurred_at": pa.array([naive_utc(r[5]) for r in rows], pa.timestamp("us")),
        "received_at": pa.array([naive_utc(r[5]) for r in rows], pa.timestamp("us")),
        "anonymous_id": [""] * len(rows),
        "member_id": pa.array([int(r[3]) if r[2].startswith("member.") and int(r[3]) not in erased else None
                               for r in rows], pa.int64()),
        "store_id": pa.array([None] * len(rows), pa.int64()), "channel": ["server"] * len(rows),
        "sku_id": pa.array([int(r[4]["sku"]) if r[2] == "price.changed" and (r[4] or {}).get("sku") else None
                            for r in rows], pa.int64()),
        "order_id": pa.array([int(r[3]) if r[2] == "order.changed" else None for r in rows], pa.int64()),
        "amount": pa.array([None] * len(rows), pa.int64()),
        "properties": [json.dumps(r[4] or {}, ensure_ascii=False) for r in rows],
    })
    events_write(con, events)
    return len(rows)


# --- modification-time sources ---------------------------------------------------------------------------------

@dataclass
class TimeSource:
    """Rows that change in place, read again when modified since the time watermark (minus OVERLAP)."""

    name: str
    read: Callable[[datetime | None, Paths], tuple[pa.Table, datetime | None]]
    spec: TableSpec

    def run(self, progress: Progress | None, now: datetime, paths: Paths) -> int:
        with warehouse_write() as con:
            state = state_get(con, self.name)
            since = (state.ts_watermark.replace(tzinfo=UTC) - OVERLAP) if state.ts_watermark else None
            table, newest = self.read(since, paths)
            with warehouse_transaction(con):
                written = rows_replace(con, self.spec, table)
                if newest is not None:
                    state.ts_watermark = naive_utc(newest)
                state.rows += written
                state.updated_at = naive_utc(now)
                state_put(con, state)
        if progress and written:
            progress(self.name, written)
        return written


def _since(qs, since, *fields):
    if since is None:
        return qs
    q = Q()
    for name in fields:
        q |= Q(**{f"{name}__gt": since})
    return qs.filter(q)


def read_org(since, paths):
    from yundian.org.models import OrgNode

    rows = list(_since(OrgNode.objects.all(), since, "updated_at").values_list(
        "id", "enterprise_id", "parent_id", "kind", "code", "name", "path", "depth", "is_active", "updated_at"))
    names = ["node_id", "enterprise_id", "parent_id", "kind", "code", "name", "org_path", "depth", "is_active"]
    return T.DIM_ORG.arrow(_columns(names, [r[:9] for r in rows])), max((r[9] for r in rows), default=None)


def read_skus(since, paths):
    from yundian.catalog.models import Sku

    rows = list(_since(Sku.objects.all(), since, "updated_at", "product__updated_at", "product__category__updated_at")
                .values_list("id", "enterprise_id", "code", "name", "product_id", "product__name", "product__brand",
                             "product__category_id", "product__category__name", "product__category__path",
                             "base_price", "is_active", "updated_at", "product__updated_at"))
    names = ["sku_id", "enterprise_id", "code", "name", "product_id", "product_name", "brand", "category_id",
             "category_name", "category_path", "base_price", "is_active"]
    newest = max((max(r[12], r[13]) for r in rows), default=None)
    return T.DIM_SKU.arrow(_columns(names, [r[:12] for r in rows])), newest


def read_staff(since, paths):
    from yundian.org.models import Staff

    rows = list(_since(Staff.objects.all(), since, "updated_at").values_list(
        "id", "enterprise_id", "home_id", "display_name", "is_active", "updated_at"))
    columns = _columns(["staff_id", "enterprise_id", "home_id", "display_name", "is_active"], [r[:5] for r in rows])
    columns["org_path"] = [paths.of(h) for h in columns["home_id"]]
    return T.DIM_STAFF.arrow(columns), max((r[5] for r in rows), default=None)


def read_redemptions(since, paths):
    from yundian.promotions.models import CouponRedemption

    rows = list(_since(CouponRedemption.objects.all(), since, "updated_at").values_list(
        "id", "enterprise_id", "store_id", "campaign_id", "member_id", "order_ref", "discount", "status",
        "created_at", "restored_at", "updated_at"))
    columns = _columns(["redemption_id", "enterprise_id", "store_id", "campaign_id", "member_id", "order_ref",
                        "discount", "status", "created_at", "restored_at"], [r[:10] for r in rows])
    columns["org_path"] = [paths.of(s) for s in columns["store_id"]]
    columns["created_at"] = [naive_utc(v) for v in columns["created_at"]]
    columns["restored_at"] = [naive_utc(v) for v in columns["restored_at"]]
    return (_table(T.FACT_COUPON_REDEMPTION, columns, "created_at"), max((r[10] for r in rows), default=None))


def read_coupons(since, paths):
    """Coupons issued to members, as they are now (segments count the ones a member holds). A change of the
    campaign's promotion (its end) re-reads its coupons."""
    from yundian.promotions.models import Coupon

    rows = list(_since(Coupon.objects.filter(member__isnull=False), since, "updated_at",
                       "campaign__promotion__updated_at")
                .values_list("id", "enterprise_id", "campaign__node_id", "campaign_id", "member_id", "status",
                             "issued_at", "campaign__promotion__valid_to", "updated_at",
                             "campaign__promotion__updated_at"))
    ends = pa.array([naive_utc(r[7]) for r in rows], type=pa.timestamp("us"))
    columns = {
        "coupon_id": [r[0] for r in rows], "enterprise_id": [r[1] for r in rows],
        "org_path": [paths.of(r[2]) for r in rows], "campaign_id": [r[3] for r in rows],
        "member_id": [r[4] for r in rows], "status": [r[5] for r in rows],
        "issued_at": [naive_utc(r[6]) for r in rows], "valid_until": local_parts(ends)[0].to_pylist(),
    }
    newest = max((max(r[8], r[9]) for r in rows), default=None)
    return T.FACT_COUPON.arrow(columns), newest


def read_consents(since, paths):
    """The latest marketing consent per member and channel (segments: "consent granted for SMS")."""
    from yundian.members.models import ConsentState

    rows = list(_since(ConsentState.objects.all(), since, "updated_at").values_list(
        "member_id", "member__enterprise_id", "channel", "granted", "updated_at"))
    columns = _columns(["member_id", "enterprise_id", "channel", "granted", "updated_at"], rows)
    columns["updated_at"] = [naive_utc(v) for v in columns["updated_at"]]
    return T.DIM_MEMBER_CONSENT.arrow(columns), max((r[4] for r in rows), default=None)


def dates_ensure(con, today: date) -> None:
    """dim_date from DATES_FROM to a year ahead of today, dim_hour's 24 rows (both idempotent)."""
    last = run(con, "SELECT max(date) FROM dim_date")[0][0]
    end = today + timedelta(days=400)
    if last is None or last < today + timedelta(days=30):
        days = [DATES_FROM + timedelta(days=i) for i in range((end - DATES_FROM).days + 1)]
        rows_replace(con, T.DIM_DATE, T.DIM_DATE.arrow({
            "date": days, "year": [d.year for d in days], "quarter": [(d.month - 1) // 3 + 1 for d in days],
            "month": [d.month for d in days], "day": [d.day for d in days], "weekday": [d.isoweekday() for d in days],
            "iso_week": [d.isocalendar()[1] for d in days], "is_weekend": [d.isoweekday() >= 6 for d in days]}))
    if run(con, "SELECT count(*) FROM dim_hour")[0][0] != 24:
        parts = ["night"] * 6 + ["morning"] * 5 + ["noon"] * 3 + ["afternoon"] * 3 + ["evening"] * 4 + ["night"] * 3
        rows_replace(con, T.DIM_HOUR, T.DIM_HOUR.arrow({"hour": list(range(24)), "daypart": parts}))


# --- the run ---------------------------------------------------------------------------------------------------

@dataclass
class SyncResult:
    rows: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _id_sources(paths: Paths) -> list[IdSource]:
    from yundian.core.models import OutboxEvent
    from yundian.guides.models import CommissionEntry
    from yundian.inventory.models import StockMove
    from yundian.members.models import Member, PointsEntry
    from yundian.sales.models import Order

    return [
        IdSource("sales.order", lambda: Order.objects.all(), lambda con, ids: write_orders(con, ids, paths), 5_000),
        IdSource("members.member", lambda: Member.objects.all(), lambda con, ids: write_members(con, ids, paths)),
        IdSource("inventory.stock_move", lambda: StockMove.objects.all(),
                 lambda con, ids: write_stock_moves(con, ids, paths)),
        IdSource("members.points_entry", lambda: PointsEntry.objects.all(),
                 lambda con, ids: write_points(con, ids, paths)),
        IdSource("guides.commission_entry", lambda: CommissionEntry.objects.all(),
                 lambda con, ids: write_commission(con, ids, paths)),
        # last: a change re-reads the order or member as it is now, after the new rows above
        IdSource("core.outbox", lambda: OutboxEvent.objects.all(), lambda con, ids: write_outbox(con, ids, paths),
                 5_000),
    ]


TIME_SOURCES = [
    TimeSource("org.node", read_org, T.DIM_ORG),
    TimeSource("catalog.sku", read_skus, T.DIM_SKU),
    TimeSource("org.staff", read_staff, T.DIM_STAFF),
    TimeSource("promotions.coupon_redemption", read_redemptions, T.FACT_COUPON_REDEMPTION),
    TimeSource("promotions.coupon", read_coupons, T.FACT_COUPON),
    TimeSource("members.consent", read_consents, T.DIM_MEMBER_CONSENT),
]


def source_names() -> list[str]:
    """Every source a run reads, in the order it reads them (the progress bar's steps)."""
    return ([source.name for source in TIME_SOURCES] + [source.name for source in _id_sources(None)]
            + ["cdp.inbox", "cdp.tags_after_sales", "cdp.tag_change"])


def _tag_source() -> IdSource:
    from yundian.cdp.models import TagChange

    return IdSource("cdp.tag_change", lambda: TagChange.objects.all(), member_tags_write)


def sync_run(*, progress: Progress | None = None, batch: int | None = None, now: datetime | None = None) -> SyncResult:
    """Bring the warehouse up to date with the OLTP database. Safe to run again, concurrently or after a crash:
    concurrent runs take turns on the warehouse lock, and every batch commits with its watermark."""
    now = now or timezone.now()
    result = SyncResult(started_at=now)
    paths = Paths()
    with warehouse_write() as con:
        dates_ensure(con, timezone.localdate(now))
    for source in TIME_SOURCES:
        result.rows[source.name] = source.run(progress, now, paths)
    for source in _id_sources(paths):
        result.rows[source.name] = source.run(progress, now, batch)
    # behaviour events from the API's inbox: rows and watermark in one warehouse transaction
    result.rows["cdp.inbox"] = inbox_flush_now()
    if progress and result.rows["cdp.inbox"]:
        progress("cdp.inbox", result.rows["cdp.inbox"])
    # a sale moves its member's RFM scores and lifecycle in this run, not the next night (cdp reads the facts just
    # written and changes only these members' scores and computed tags); then the tag history reaches the warehouse
    result.rows["cdp.tags_after_sales"] = tags_refresh_members(sorted(paths.order_members)) if paths.order_members else 0
    result.rows["cdp.tag_change"] = _tag_source().run(progress, now, batch)
    result.finished_at = timezone.now()
    with warehouse_write() as con:
        state = state_get(con, "_run")
        state.ts_watermark = naive_utc(result.finished_at)
        state.updated_at = naive_utc(now)
        state.rows += result.total
        state_put(con, state)
    return result


def sync_rebuild(*, progress: Progress | None = None, batch: int | None = None) -> SyncResult:
    """Empty every table the sync derives from the OLTP database and read it all again. Behaviour events and
    device links stay: they live only in the warehouse (the inbox keeps a few days of them)."""
    from yundian.cdp.warehouse_tables import FACT_EVENT, IDENTITY_LINK

    keep = {FACT_EVENT.name, IDENTITY_LINK.name}
    with warehouse_write() as con, warehouse_transaction(con):
        for spec in tables().values():
            if spec.name not in keep and spec.name != "_sync_state":
                run(con, f'DELETE FROM "{spec.name}"')
        run(con, "DELETE FROM \"_sync_state\" WHERE source <> 'cdp.inbox'")
    return sync_run(progress=progress, batch=batch)


def sync_status() -> dict:
    """What the console shows: when the sync last finished, how many changes wait, the oldest waiting since when,
    and each source's progress."""
    from yundian.core.models import OutboxEvent
    from yundian.core.outbox import WAREHOUSE_TOPICS

    if not warehouse_path().exists():
        return {"last_run": None, "pending": OutboxEvent.objects.filter(topic__in=WAREHOUSE_TOPICS).count(),
                "oldest_pending": None, "sources": []}
    with warehouse_read() as wh:
        states = {state.source: state for state in states_all(wh.con)}
        counts = {name: run(wh.con, f'SELECT count(*) FROM "{name}"')[0][0]
                  for name in tables() if not name.startswith("_")}
    outbox = states.get("core.outbox")
    waiting = OutboxEvent.objects.filter(id__gt=outbox.watermark if outbox else 0, topic__in=WAREHOUSE_TOPICS)
    oldest = waiting.order_by("id").values_list("created_at", flat=True).first()
    last = states["_run"].ts_watermark if "_run" in states else None
    return {
        "last_run": last.replace(tzinfo=UTC) if last else None,
        "pending": waiting.count(),
        "oldest_pending": oldest,
        "sources": [{"source": name, "watermark": state.watermark, "rows": state.rows,
                     "updated_at": state.updated_at.replace(tzinfo=UTC) if state.updated_at else None,
                     "gaps": bool(state.gaps)} for name, state in states.items() if not name.startswith("_")],
        "tables": counts,
    }
