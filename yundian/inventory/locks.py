"""The only place inventory rows are locked (select_for_update).

Order: every balance row is locked in one global order, (sku_id, warehouse_id), as DESIGN.md asks, and the
missing rows are inserted first in that same order (insert-ignore). A caller takes all the rows it needs in
one `lock_balances` call, so two transactions always acquire their rows in the same order and cannot deadlock:
- existing rows: one SELECT ... FOR UPDATE per chunk, ORDER BY sku_id, warehouse_id; chunks cover increasing
  SKU ranges, so the sequence of acquisitions is globally ordered;
- missing rows: INSERT ... ON CONFLICT DO NOTHING in the same order, then locked; on PostgreSQL a concurrent
  insert of the same key waits for the first inserter, again in key order (see `lock_balances`).
Documents (transfers, orders, stocktakes) are locked before balances (STYLE.md: orders -> inventory), each by
pk through yundian.core.locking. On SQLite the transaction is IMMEDIATE, so the database write lock is held
from BEGIN and these row locks are no-ops.
"""
from collections import defaultdict
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Q

from yundian.core.locking import lock_one

from .models import Stocktake, StockBalance

MAX_PARAMS_PER_QUERY = 2000

Key = tuple[int, int]  # (sku_id, warehouse_id)


def _chunks(keys: list[Key]) -> Iterable[Q]:
    """Filters selecting exactly `keys` (sorted), each covering a contiguous SKU range of <= MAX_PARAMS params."""
    by_sku: dict[int, list[int]] = defaultdict(list)
    for sku_id, warehouse_id in keys:
        by_sku[sku_id].append(warehouse_id)
    chunk: dict[tuple[int, ...], list[int]] = defaultdict(list)  # warehouse set -> skus
    params = 0
    for sku_id in sorted(by_sku):
        warehouses = tuple(sorted(by_sku[sku_id]))
        cost = 1 + (0 if warehouses in chunk else len(warehouses))
        if chunk and params + cost > MAX_PARAMS_PER_QUERY:
            yield reduce(or_, (Q(warehouse_id__in=ws, sku_id__in=skus) for ws, skus in chunk.items()))
            chunk, params = defaultdict(list), 0
            cost = 1 + len(warehouses)
        chunk[warehouses].append(sku_id)
        params += cost
    if chunk:
        yield reduce(or_, (Q(warehouse_id__in=ws, sku_id__in=skus) for ws, skus in chunk.items()))


def _lock_existing(keys: list[Key]) -> dict[Key, StockBalance]:
    locked: dict[Key, StockBalance] = {}
    for q in _chunks(keys):
        for row in StockBalance.objects.filter(q).select_for_update().order_by("sku_id", "warehouse_id"):
            locked[(row.sku_id, row.warehouse_id)] = row
    return locked


def lock_balances(keys: Iterable[Key]) -> dict[Key, StockBalance]:
    """Lock the balance rows of `keys` in (sku_id, warehouse_id) order, creating missing ones; {key: locked row}.

    1. lock the existing rows (one ordered SELECT ... FOR UPDATE per chunk; usually the only query);
    2. insert the missing rows in key order (INSERT ... ON CONFLICT DO NOTHING);
    3. lock those too (a concurrent inserter of the same key is waited for here).
    No cycle can form: a transaction waits in step 1 only for rows others locked in their step 1, and in
    steps 2-3 only for rows that others inserted, which every transaction inserts in the same key order.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_balances must be called inside transaction.atomic()")
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    locked = _lock_existing(wanted)
    missing = [k for k in wanted if k not in locked]
    if missing:
        StockBalance.objects.bulk_create([StockBalance(sku_id=s, warehouse_id=w) for s, w in missing],
                                         ignore_conflicts=True, batch_size=1000)
        locked.update(_lock_existing(missing))
    return locked


def lock_stocktake(stocktake_id: int) -> Stocktake | None:
    return lock_one(Stocktake.objects.filter(pk=stocktake_id))


def lock_document(queryset):
    """Lock one document row (transfer, purchase order, allocation, adjustment) by pk before any balance."""
    return lock_one(queryset)
