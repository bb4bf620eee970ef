"""From the OLTP inbox to the warehouse: `inbox_flush(con)` moves accepted events into fact_event.

The sync (yundian.analytics.sync) calls it every minute inside its DuckDB write transaction; it reads inbox rows by
id past the source's watermark ("cdp.inbox" in _sync_state), writes them with `ingest.events_write` and records the
new watermark in the same transaction, so a crash anywhere leaves the warehouse as it was and the next run does
the batch again. Writes are idempotent anyway (events are inserted only if their key is new).

Ids may commit out of order on PostgreSQL (a transaction that took id 41 can commit after one that took 42), so an
id skipped below the watermark is kept as an open gap [low, high, first seen] and re-read on every run for
GAP_GRACE (core.warehouse's gap tracking, shared with the sync); after that it is given up (a rolled-back insert leaves a gap that never fills). On SQLite writes are
serial and gaps come only from rollbacks. The first run (no watermark yet) starts at the lowest id present.

Events of members who withdrew tracking consent or were erased since they were accepted are not moved, and a
member's withdrawal of tracking consent also deletes what the warehouse already holds of them (each flush sweeps
the consent changes since the last; `ts_watermark` of the source records how far).
`inbox_purge` (nightly) deletes rows older than RETENTION that the flush has moved.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pyarrow as pa
from django.db.models import Q
from django.utils import timezone

from yundian.core.warehouse import (SourceState, gap_filter, gaps_after_read, naive_utc, state_get,
                                    state_put, warehouse_read, warehouse_transaction, warehouse_write)
from yundian.members.models import ConsentChannel, ConsentState, Member, MemberStatus

from .ingest import events_write
from .models import EventInbox
from .warehouse_tables import EVENT_INPUT_COLUMNS, FACT_EVENT

SOURCE = "cdp.inbox"
RETENTION = timedelta(days=7)
SWEEP_OVERLAP = timedelta(minutes=10)
CHUNK = 20_000
_COLUMNS = ("id", "enterprise_id", "event_key", "kind", "name", "occurred_at", "received_at", "anonymous_id",
            "member_id", "store_id", "channel", "sku_id", "order_id", "amount", "properties")


def _untracked(member_ids: set[int]) -> set[int]:
    if not member_ids:
        return set()
    withdrawn = ConsentState.objects.filter(member_id__in=member_ids, channel=ConsentChannel.TRACKING, granted=False)
    erased = Member.objects.filter(pk__in=member_ids, status=MemberStatus.ERASED)
    return set(withdrawn.values_list("member_id", flat=True)) | set(erased.values_list("pk", flat=True))


def _write(con, rows: list[dict]) -> int:
    untracked = _untracked({r["member_id"] for r in rows if r["member_id"] is not None})
    rows = [r for r in rows if r["member_id"] not in untracked]
    if not rows:
        return 0
    columns = {c: [r[c] for r in rows] for c in EVENT_INPUT_COLUMNS}
    columns["occurred_at"] = [naive_utc(v) for v in columns["occurred_at"]]
    columns["received_at"] = [naive_utc(v) for v in columns["received_at"]]
    schema = pa.schema([(c, FACT_EVENT.arrow_schema.field(c).type) for c in EVENT_INPUT_COLUMNS])
    return events_write(con, pa.table(columns, schema=schema))


def inbox_flush(con, *, now: datetime | None = None, chunk: int = CHUNK) -> int:
    """Inside the caller's open DuckDB transaction: move inbox rows past the watermark (and rows that filled an
    open gap) into fact_event and record the new state; the number of events inserted."""
    now = naive_utc(now or timezone.now())
    state = state_get(con, SOURCE)
    inserted = 0
    in_gaps = gap_filter(state)
    late = list(EventInbox.objects.filter(in_gaps).order_by("id").values(*_COLUMNS)) if in_gaps is not None else []
    if late:
        inserted += _write(con, late)
    seen = [r["id"] for r in late]
    watermark = read_above = state.watermark
    while True:
        rows = list(EventInbox.objects.filter(id__gt=watermark).order_by("id").values(*_COLUMNS)[:chunk])
        if not rows:
            break
        ids = [r["id"] for r in rows]
        if not state.watermark and watermark == read_above:
            read_above = ids[0] - 1  # the first run starts at the first row there is (lower ids were purged)
        seen += ids
        inserted += _write(con, rows)
        watermark = ids[-1]
        if len(rows) < chunk:
            break
    gaps = gaps_after_read(state, seen, read_above, now)
    swept = _withdrawn_sweep(con, state.ts_watermark)
    state_put(con, SourceState(source=SOURCE, watermark=watermark, ts_watermark=swept or state.ts_watermark,
                               gaps=gaps, rows=state.rows + inserted, updated_at=now))
    return inserted


def _withdrawn_sweep(con, since: datetime | None) -> datetime | None:
    """Members who withdrew tracking consent since the last run lose the events already in the warehouse (and
    their device links). Re-reads SWEEP_OVERLAP before `since` for changes that committed late (deleting twice is
    harmless); the newest change time seen, or None if none."""
    from .identity import members_erased

    withdrawn = ConsentState.objects.filter(channel=ConsentChannel.TRACKING, granted=False)
    if since is not None:
        withdrawn = withdrawn.filter(updated_at__gt=(since - SWEEP_OVERLAP).replace(tzinfo=dt_timezone.utc))
    rows = list(withdrawn.values_list("member_id", "updated_at"))
    if not rows:
        return None
    members_erased(con, sorted({member for member, _at in rows}))
    return max(naive_utc(at) for _member, at in rows)


def inbox_flush_now() -> int:
    """Open the warehouse and flush the inbox in one transaction (commands, tests, the browser test)."""
    with warehouse_write() as con, warehouse_transaction(con):
        return inbox_flush(con)


def inbox_purge(*, now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delete inbox rows received more than RETENTION ago that the flush has moved (at or below the watermark and
    in no open gap); rows deleted."""
    with warehouse_read() as wh:
        state = wh.table("_sync_state").filter(lambda t: t.source == SOURCE).to_pyarrow().to_pylist()
    if not state:
        return 0
    watermark = state[0]["watermark"] or 0
    gaps = json.loads(state[0]["gaps"] or "[]")
    moved = Q(id__lte=watermark, received_at__lt=(now or timezone.now()) - RETENTION)
    for low, high, _seen in gaps:
        moved &= ~Q(id__gte=low, id__lte=high)
    deleted = 0
    while True:
        ids = list(EventInbox.objects.filter(moved).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += EventInbox.objects.filter(id__in=ids).delete()[0]
