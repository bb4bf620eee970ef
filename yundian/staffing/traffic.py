"""The warehouse read behind the forecast: customers (till sales) and sales per store-hour, as a pure Ibis
function of fact_order, so the same expression runs on DuckDB and on a distributed engine."""
from __future__ import annotations

from datetime import date

import pandas as pd

from yundian.core.warehouse import warehouse_read


def store_hour_traffic(fact_order, *, enterprise_id: int, store_ids: list[int], since: date, until: date):
    """One row per (store, local day, local hour) with till sales: customers (orders) and sales (net, fen)."""
    o = fact_order
    sold = o.filter((o.enterprise_id == enterprise_id) & o.store_id.isin(store_ids) & (o.channel == "pos")
                    & o.is_sale & (o.local_date >= since) & (o.local_date <= until))
    return sold.group_by(["store_id", "local_date", "local_hour"]).aggregate(
        customers=sold.order_id.count(), sales=sold.net_total.sum())


def store_hour_history(*, enterprise_id: int, store_ids: list[int], since: date, until: date) -> pd.DataFrame:
    with warehouse_read() as wh:
        expr = store_hour_traffic(wh.table("fact_order"), enterprise_id=enterprise_id, store_ids=store_ids,
                                  since=since, until=until)
        return wh.execute(expr)
