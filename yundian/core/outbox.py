"""The transactional outbox: `outbox_emit` records a business change in the caller's transaction.

Contexts call it inside their write (`@transaction.atomic`), so the row exists exactly when the change committed:
a rolled-back sale leaves no outbox row, a committed one always has one. Readers (the warehouse sync) go by id.

Topics in use (key = the record's id):
    order.changed      an order was created, paid, fulfilled, edited, cancelled, voided or (partly) returned
    member.changed     a member registered or their profile, tier, guide or consent changed
    member.merged      payload {"survivor": id}; member.unmerged payload {"survivor": id}
    member.erased      personal data erased on request
    price.changed      payload {"sku": id, "price_list": id, "before": fen|None, "after": fen|None}
    stock.changed      one per stock posting that moved on-hand units (key "<source_type>:<source_id>"); payload
                       {"source_type", "source_id", "lines": [[sku, warehouse, change, on_hand after], ...]}
    member.created     a member registered (key = the member's id)
    message.sent       a journey's message was accepted by its channel (key = the message's id)

The warehouse sync reads the topics it knows (WAREHOUSE_TOPICS) and skips the others; webhooks
(`integrations.webhooks_events`) derive their events from all of them.
"""
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from .models import OutboxEvent

_batch = threading.local()  # the rows an open outbox_batch() collects (connections are per thread too)

WAREHOUSE_TOPICS = frozenset({"order.changed", "member.changed", "member.merged", "member.unmerged",
                              "member.erased", "price.changed"})
TOPICS = WAREHOUSE_TOPICS | {"stock.changed", "member.created", "message.sent"}


def outbox_emit(*, enterprise_id: int, topic: str, key, payload: dict | None = None) -> None:
    """Record one change; must run inside the transaction of the change itself (asserted)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown outbox topic {topic!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit must run inside the transaction of the change")
    row = OutboxEvent(enterprise_id=enterprise_id, topic=topic, key=str(key), payload=payload or {})
    rows = getattr(_batch, "rows", None)
    if rows is not None:
        rows.append(row)
    else:
        row.save(force_insert=True)


@contextmanager
def outbox_batch() -> Iterator[None]:
    """Collect the rows emitted inside and insert them in one statement when the block ends without an error, still
    inside the caller's transaction (a sale's stock.changed and order.changed are one INSERT). Use it only around
    work that fails as a whole: a row emitted inside a savepoint that is rolled back and caught would still be
    written. Nested batches join the outermost."""
    if getattr(_batch, "rows", None) is not None:
        yield
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_batch must run inside the transaction of the change")
    _batch.rows = rows = []
    try:
        yield
    finally:
        _batch.rows = None
    if rows:
        OutboxEvent.objects.bulk_create(rows)


def outbox_emit_many(rows: list[tuple[int, str, object, dict | None]]) -> None:
    """Several changes at once (enterprise_id, topic, key, payload), in the caller's transaction."""
    if not rows:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit_many must run inside the transaction of the change")
    for _e, topic, _k, _p in rows:
        if topic not in TOPICS:
            raise ValueError(f"unknown outbox topic {topic!r}")
    OutboxEvent.objects.bulk_create([OutboxEvent(enterprise_id=e, topic=t, key=str(k), payload=p or {})
                                     for e, t, k, p in rows])
