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
    """One row: sales orders, net sales (fen), buyers (members), member orders, member net sales (fen), average
    order value (fen)."""
    sales = _between(orders.filter(orders.is_sale), since, until)
    return sales.aggregate(
        orders=_.order_id.count(),
        net_sales=_.net_total.sum().coalesce(0),
        buyers=_.member_id.nunique(),
        member_orders=_.member_id.notnull().sum().coalesce(0),
        member_sales=_.net_total.sum(where=_.member_id.notnull()).coalesce(0),
        aov=(_.net_total.sum() / _.order_id.count()).round(0).coalesce(0),
    )


Windows = dict[str, tuple[date, date]]


def _window_table(windows: Windows) -> ibis.Table:
    return ibis.memtable({"key": list(windows), "since": [a for a, _b in windows.values()],
                          "until": [b for _a, b in windows.values()]},
                         schema={"key": "string", "since": "date", "until": "date"})


def _windowed(table: ibis.Table, windows: Windows, column: str = "local_date") -> ibis.Table:
    """Each row once for every window its date falls in, with the window's `key`, `since` and `until` beside it.
    Rows in no window are dropped first (last year's windows are far from this year's: a range would read the year)."""
    day = table[column]
    spans = sorted(set(windows.values()))
    table = table.filter(ibis.or_(*[(day >= since) & (day <= until) for since, until in spans]))
    frame = _window_table(windows)
    return table.join(frame, [table[column] >= frame.since, table[column] <= frame.until])


def _every_window(result: ibis.Table, windows: Windows) -> ibis.Table:
    """`result` (one row per key that had rows) with a row of zeros for each window that had none, in window order."""
    frame = _window_table(windows).select("key", position=ibis.row_number())
    joined = frame.left_join(result, "key")
    figures = [c for c in result.columns if c != "key"]
    return (joined.select("key", "position", **{c: joined[c].coalesce(0) for c in figures})
            .order_by("position").drop("position"))


def sales_windows(orders: ibis.Table, windows: Windows) -> ibis.Table:
    """One row per window (key -> since, until inclusive) in window order: the `sales_summary` figures of each
    (orders, net_sales, buyers, member_orders, member_sales), in one grouped pass (a dashboard's today / week / month,
    their previous periods and last year's)."""
    sales = _windowed(orders.filter(orders.is_sale), windows)
    result = sales.group_by("key").aggregate(
        orders=_.order_id.count(), net_sales=_.net_total.sum(), buyers=_.member_id.nunique(),
        member_orders=_.member_id.notnull().sum(), member_sales=_.net_total.sum(where=_.member_id.notnull()))
    return _every_window(result, windows)


def repurchase_windows(orders: ibis.Table, windows: Windows) -> ibis.Table:
    """One row per window: member buyers in it (`buyers`) and of them those who have bought on two or more days up
    to the window's end (`repeat`: on two days inside it, or inside it and any time before). repeat / buyers is the
    repurchase rate; unlike `repeat_buyers` it means something for a single day too."""
    sold = orders.filter(orders.is_sale & orders.member_id.notnull())
    first = sold.group_by("member_id").aggregate(first_date=_.local_date.min())
    per_member = (_windowed(sold, windows).group_by(["key", "since", "member_id"])
                  .aggregate(days=_.local_date.nunique()))
    per_member = per_member.join(first, "member_id")
    result = per_member.group_by("key").aggregate(
        buyers=_.member_id.count(), repeat=((_.days >= 2) | (_.first_date < _.since)).sum())
    return _every_window(result, windows)


def new_members_windows(members: ibis.Table, windows: Windows) -> ibis.Table:
    """One row per window: members who joined in it (`new_members`), counted once (not the duplicates merged into
    another member) and at their home store's org path (filter `members` with `in_scope` first)."""
    joined = members.filter(members.member_id == members.canonical_member_id)
    result = (_windowed(joined, windows, "registered_date").group_by("key")
              .aggregate(new_members=_.member_id.count()))
    return _every_window(result, windows)


def sales_by_product(lines: ibis.Table, since: date | None = None, until: date | None = None) -> ibis.Table:
    """Per product: units sold and net sales (fen) net of returns, highest sales first."""
    sold = _between(lines.filter(lines.is_sale), since, until)
    return (sold.group_by("product_id")
            .aggregate(units=_.net_quantity.sum(), net_sales=_.net_amount.sum())
            .order_by([ibis.desc("net_sales"), "product_id"]))


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
