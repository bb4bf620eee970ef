"""Metrics as pure functions from Ibis tables to Ibis expressions: no SQL strings, no engine-specific calls.

Pages, tags, journeys, benches and the DuckDB-vs-Spark test call these same functions; the backend that executes
them is the caller's choice (`core.warehouse.warehouse_read()` for DuckDB, an Ibis pyspark backend for Spark).
Tables are the warehouse's (`analytics.warehouse_tables`): pass `backend.table("fact_order")` and so on.
Dates are the chain's local dates (`local_date`), money is fen.
"""
from __future__ import annotations

from datetime import date, timedelta

import ibis
from ibis import _


def in_scope(table: ibis.Table, paths: list[str] | None, enterprise_id: int | None = None) -> ibis.Table:
    """Rows whose org path lies under one of `paths` (None: no path filter), of one enterprise if given."""
    if enterprise_id is not None:
        table = table.filter(table.enterprise_id == enterprise_id)
    if paths is None:
        return table
    if not paths:
        return table.filter(ibis.literal(False))
    condition = None
    for path in paths:
        part = table.org_path.startswith(path)
        condition = part if condition is None else condition | part
    return table.filter(condition)


def _between(table: ibis.Table, since: date | None, until: date | None) -> ibis.Table:
    if since is not None:
        table = table.filter(table.local_date >= since)
    if until is not None:
        table = table.filter(table.local_date <= until)
    return table


def sales_summary(orders: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """One row: sales orders, net sales (fen), buyers (members), member orders, average order value (fen)."""
    sales = _between(orders.filter(orders.is_sale), since, until)
    return sales.aggregate(
        orders=_.order_id.count(),
        net_sales=_.net_total.sum().coalesce(0),
        buyers=_.member_id.nunique(),
        member_orders=_.member_id.notnull().sum().coalesce(0),
        aov=(_.net_total.sum() / _.order_id.count()).round(0).coalesce(0),
    )


def sales_daily(orders: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """Per local date: sales orders, net sales (fen) and member buyers, in date order."""
    sales = _between(orders.filter(orders.is_sale), since, until)
    return (sales.group_by("local_date")
            .aggregate(orders=_.order_id.count(), net_sales=_.net_total.sum(), buyers=_.member_id.nunique())
            .order_by("local_date"))


def sales_by_store(orders: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """Per store: sales orders, net sales (fen), average order value (fen), highest sales first."""
    sales = _between(orders.filter(orders.is_sale), since, until)
    return (sales.group_by(["store_id", "org_path"])
            .aggregate(orders=_.order_id.count(), net_sales=_.net_total.sum())
            .mutate(aov=(_.net_sales / _.orders).round(0))
            .order_by([ibis.desc("net_sales"), "store_id"]))


def sales_by_hour(orders: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """Per local hour of the day: sales orders and net sales (fen)."""
    sales = _between(orders.filter(orders.is_sale), since, until)
    return (sales.group_by("local_hour").aggregate(orders=_.order_id.count(), net_sales=_.net_total.sum())
            .order_by("local_hour"))


def category_lapsers(lines: ibis.Table, category_ids: list[int], *, today: date, window_days: int = 90,
                     min_orders: int = 2, quiet_days: int = 30) -> ibis.Table:
    """Members with at least `min_orders` orders in the categories within `window_days` before `today` and no order
    at all in the last `quiet_days`: the segment "bought regularly, gone quiet" (member_id, orders, last_date)."""
    sold = lines.filter(lines.is_sale & lines.member_id.notnull())
    window = sold.filter((sold.local_date >= today - timedelta(days=window_days)) & (sold.local_date <= today)
                         & sold.category_id.isin(category_ids))
    regular = (window.group_by("member_id").aggregate(orders=_.order_id.nunique())
               .filter(_.orders >= min_orders))
    last = sold.group_by("member_id").aggregate(last_date=_.local_date.max())
    joined = regular.join(last, "member_id")
    return (joined.filter(joined.last_date < today - timedelta(days=quiet_days))
            .select("member_id", "orders", "last_date").order_by("member_id"))


def repeat_buyers(orders: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """One row: members who bought, of whom bought on two or more days (the repurchase rate's two counts)."""
    sales = _between(orders.filter(orders.is_sale & orders.member_id.notnull()), since, until)
    per_member = sales.group_by("member_id").aggregate(days=_.local_date.nunique())
    return per_member.aggregate(buyers=_.member_id.count(), repeat=(_.days >= 2).sum().coalesce(0))
