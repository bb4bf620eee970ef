"""Dynamic stocktake and early warnings (动态盘点 · 预警): stock counted where the data says it is wrong, and stock
problems seen before they happen.

Suspicious stock (`suspicious_stock`, pure Ibis over fact_stock_move and fact_order_line), per store and SKU:
    stopped_selling        on hand > 0, nothing sold in the last 14 days, at least 10 sold in the 28 days before,
                           and sold by another store in the last 14 days (phantom stock: the books say it is here)
    negative_adjustments   3 or more write-offs (negative adjustments) in the last 90 days
    count_disagrees        2 or more stocktake corrections in the last 180 days
Each store with suspicious SKUs gets a targeted blind cycle count (inventory.services.cycle_count_request) and a
finding for its manager naming the SKUs; a store with a count still open gets none that night.

Early warnings (`stock_warnings`), per store and SKU, from on hand (the ledger's sum) and units sold a day over the
last 28 days:
    cover      days of cover (on hand / units a day) below the supplier's lead time: it runs out before a delivery
               could come (lead time: the preferred supplier price's, else the replenishment rule's, else 3 days)
    overstock  more than 120 days of cover (the 10 that tie up the most money)
    expiry     units expiring within 14 days (inventory.StockExpiry: the ledger keeps no lots) beyond what will
               sell by then
"""
from __future__ import annotations

from datetime import date, timedelta

import ibis
from ibis import _

STOPPED_DAYS, BEFORE_DAYS, MIN_BEFORE_UNITS = 14, 28, 10  # 10 in 28 days: 0 in 14 is a 1-in-150 chance
ADJUST_DAYS, ADJUST_MIN = 90, 3
COUNT_DAYS, COUNT_MIN = 180, 2
RATE_DAYS, OVERSTOCK_DAYS, EXPIRY_DAYS, DEFAULT_LEAD = 28, 120, 14, 3


def _between(table, since: date, until: date):
    return table.filter((table.local_date >= since) & (table.local_date <= until))


def on_hand(moves: ibis.Table, *, day: date) -> ibis.Table:
    """Per store warehouse and SKU: store_id, warehouse_id, sku_id, category_id, on_hand and value (fen, at cost)
    at the end of `day`."""
    store = moves.filter((moves.warehouse_kind == "store") & (moves.local_date <= day))
    return store.group_by(["store_id", "warehouse_id", "sku_id"]).aggregate(
        category_id=_.category_id.max(), on_hand=_.quantity.sum(), value=_.value.sum())


def units_sold(lines: ibis.Table, *, since: date, until: date) -> ibis.Table:
    sold = _between(lines.filter(lines.is_sale & lines.store_id.notnull()), since, until)
    return sold.group_by(["store_id", "sku_id"]).aggregate(units=_.net_quantity.sum())


def suspicious_stock(moves: ibis.Table, lines: ibis.Table, *, day: date) -> ibis.Table:
    """Per (store_id, warehouse_id, sku_id): reason (see the module doc), one row per SKU (the first reason that
    holds, in the doc's order)."""
    stock = on_hand(moves, day=day)
    recent_from = day - timedelta(days=STOPPED_DAYS - 1)
    recent = units_sold(lines, since=recent_from, until=day)
    before = units_sold(lines, since=recent_from - timedelta(days=BEFORE_DAYS), until=recent_from - timedelta(days=1))
    # a SKU nobody sells here any more but somebody sold elsewhere: any seller in the last days is another store
    sellers = recent.filter(recent.units > 0).group_by("sku_id").aggregate(sellers=_.store_id.nunique())
    base = stock.filter(stock.on_hand > 0)
    r = recent.select(r_store=recent.store_id, r_sku=recent.sku_id, recent=recent.units)
    joined = base.left_join(r, (base.store_id == r.r_store) & (base.sku_id == r.r_sku))
    b = before.select(b_store=before.store_id, b_sku=before.sku_id, before=before.units)
    joined = joined.left_join(b, (joined.store_id == b.b_store) & (joined.sku_id == b.b_sku))
    e = sellers.select(e_sku=sellers.sku_id, sellers=sellers.sellers)
    joined = joined.left_join(e, joined.sku_id == e.e_sku)
    stopped = joined.filter((joined.recent.coalesce(0) <= 0) & (joined.before.coalesce(0) >= MIN_BEFORE_UNITS)
                            & (joined.sellers.coalesce(0) >= 1))
    stopped = stopped.select("store_id", "warehouse_id", "sku_id", reason=ibis.literal("stopped_selling"), rank=1)
    store_moves = moves.filter(moves.warehouse_kind == "store")
    adjusted = (_between(store_moves.filter((store_moves.kind == "adjustment") & (store_moves.quantity < 0)),
                         day - timedelta(days=ADJUST_DAYS - 1), day)
                .group_by(["store_id", "warehouse_id", "sku_id"]).aggregate(n=_.count())
                .filter(_.n >= ADJUST_MIN)
                .select("store_id", "warehouse_id", "sku_id", reason=ibis.literal("negative_adjustments"), rank=2))
    corrected = (_between(store_moves.filter(store_moves.kind == "stocktake_correction"),
                          day - timedelta(days=COUNT_DAYS - 1), day)
                 .group_by(["store_id", "warehouse_id", "sku_id"]).aggregate(n=_.count())
                 .filter(_.n >= COUNT_MIN)
                 .select("store_id", "warehouse_id", "sku_id", reason=ibis.literal("count_disagrees"), rank=3))
    every = ibis.union(stopped, adjusted, corrected, distinct=False)
    first = every.mutate(best=_.rank.min().over(ibis.window(group_by=["store_id", "warehouse_id", "sku_id"])))
    return first.filter(first.rank == first.best).select("store_id", "warehouse_id", "sku_id", "reason").distinct()


def stock_rates(moves: ibis.Table, lines: ibis.Table, *, day: date) -> ibis.Table:
    """Per (store_id, warehouse_id, sku_id): on_hand, value and rate (units sold a day over the last 28 days)."""
    stock = on_hand(moves, day=day)
    sold = units_sold(lines, since=day - timedelta(days=RATE_DAYS - 1), until=day)
    s = sold.select(s_store=sold.store_id, s_sku=sold.sku_id, units=sold.units)
    joined = stock.left_join(s, (stock.store_id == s.s_store) & (stock.sku_id == s.s_sku))
    return joined.select("store_id", "warehouse_id", "sku_id", "category_id", "on_hand", "value",
                         rate=joined.units.coalesce(0).cast("float64") / RATE_DAYS)
