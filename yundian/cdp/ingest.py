"""Events into the warehouse in bulk: Arrow batches, deduplicated by (enterprise, event key), stitched on the way.

`events_load_bulk(table)` is the one door: the demo history, the `yundian events import` path and the inbox
flush of the events API all pass through it. It derives what a sender need not know (the store's org path, the
SKU's product and category, the local date and hour), inserts only events whose key is new, and records each
(device, member) pair it sees as an identity link (the earliest time the device was seen signed in).
"""
from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from yundian.core.warehouse import rows_insert_new, run, warehouse_transaction, warehouse_write

from .warehouse_tables import EVENT_INPUT_COLUMNS, FACT_EVENT, IDENTITY_LINK

# a sender's retry of the same event key is recognised within this window of the first copy's arrival
DEDUP_WINDOW = timedelta(days=7)


def _lookup(column: pa.ChunkedArray, mapping: dict[int, object], kind: pa.DataType) -> pa.Array:
    keys = pa.array(list(mapping), type=pa.int64())
    values = pa.array(list(mapping.values()), type=kind)
    return pc.take(values, pc.index_in(column, value_set=keys))


def _local(ts: pa.ChunkedArray) -> pa.ChunkedArray:
    zoned = pc.assume_timezone(ts, "UTC").cast(pa.timestamp("us", tz=settings.TIME_ZONE))
    return pc.local_timestamp(zoned)


def events_enrich(table: pa.Table) -> pa.Table:
    """The sender's columns (EVENT_INPUT_COLUMNS) plus org path, product, category, local date and hour."""
    from yundian.catalog.models import Sku
    from yundian.org.models import OrgNode

    missing = [c for c in EVENT_INPUT_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"event batch lacks columns {missing}")
    table = table.select(list(EVENT_INPUT_COLUMNS)).cast(pa.schema(
        [(c, FACT_EVENT.arrow_schema.field(c).type) for c in EVENT_INPUT_COLUMNS]))
    store_ids = [s for s in pc.unique(table["store_id"]).to_pylist() if s is not None]
    sku_ids = [s for s in pc.unique(table["sku_id"]).to_pylist() if s is not None]
    paths = dict(OrgNode.objects.filter(id__in=store_ids).values_list("id", "path")) if store_ids else {}
    skus = {sku: (product, category) for sku, product, category in
            Sku.objects.filter(id__in=sku_ids).values_list("id", "product_id", "product__category_id")} if sku_ids else {}
    local = _local(table["occurred_at"])
    derived = {
        "org_path": _lookup(table["store_id"], paths, pa.string()),
        "product_id": _lookup(table["sku_id"], {k: v[0] for k, v in skus.items()}, pa.int64()),
        "category_id": _lookup(table["sku_id"], {k: v[1] for k, v in skus.items()}, pa.int64()),
        "local_date": local.cast(pa.date32()),
        "local_hour": pc.hour(local).cast(pa.int32()),
    }
    columns = [table[c] if c in table.column_names else derived[c] for c in FACT_EVENT.columns]
    return pa.Table.from_arrays(columns, schema=FACT_EVENT.arrow_schema)


def links_from(events: pa.Table) -> pa.Table:
    """(enterprise, device, member) -> earliest time seen together, from events that carry both."""
    both = events.filter(pc.and_(pc.not_equal(events["anonymous_id"], ""), pc.is_valid(events["member_id"])))
    if both.num_rows == 0:
        return IDENTITY_LINK.arrow({})
    grouped = both.group_by(["enterprise_id", "anonymous_id", "member_id"]).aggregate(
        [("occurred_at", "min"), ("channel", "min")])
    return IDENTITY_LINK.arrow({
        "enterprise_id": grouped["enterprise_id"].to_pylist(), "anonymous_id": grouped["anonymous_id"].to_pylist(),
        "member_id": grouped["member_id"].to_pylist(), "linked_at": grouped["occurred_at_min"].to_pylist(),
        "channel": grouped["channel_min"].to_pylist()})


def links_record(con, links: pa.Table) -> int:
    """Add new (device, member) links; an existing link keeps the earlier of the two times."""
    if links.num_rows == 0:
        return 0
    con.register("_links", links)
    try:
        run(con, 'UPDATE identity_link t SET linked_at = l.linked_at FROM _links l WHERE t.enterprise_id = '
                    'l.enterprise_id AND t.anonymous_id = l.anonymous_id AND t.member_id = l.member_id '
                    'AND l.linked_at < t.linked_at')
    finally:
        con.unregister("_links")
    return rows_insert_new(con, IDENTITY_LINK, links, key=IDENTITY_LINK.key)


def events_write(con, table: pa.Table) -> int:
    """Inside an open warehouse transaction: enrich, insert the new events, record links; events inserted."""
    if table.num_rows == 0:
        return 0
    events = events_enrich(table)
    oldest = pc.min(events["received_at"]).as_py()
    inserted = rows_insert_new(con, FACT_EVENT, events, key=FACT_EVENT.key,
                               window=("received_at", oldest - DEDUP_WINDOW) if oldest else None)
    links_record(con, links_from(events))
    return inserted


def events_load_bulk(table: pa.Table) -> int:
    """Load a batch of events (EVENT_INPUT_COLUMNS) into the warehouse in one transaction; the number kept
    (events whose key was already there are skipped, so loading the same batch twice keeps it once)."""
    with warehouse_write() as con, warehouse_transaction(con):
        return events_write(con, table)
