"""The reports' metrics: pure functions from warehouse tables (already scoped with `metrics.in_scope`) to Ibis
expressions, no SQL strings, like `metrics`. `reports` turns their rows into tables, charts and exports.

Definitions (dates are the chain's local dates, both ends included; money is fen, net of refunds and returns):
- sales by a dimension: sale orders only. Order-level dimensions (store, day, hour, channel) count orders and
  their net totals; line-level ones (category, SKU, guide) count the orders with a line in the group and the lines'
  net amounts and units; payment methods count what each tender paid less what was refunded to it.
- order hours: sale orders per weekday (Monday = 0) and local hour; an order in hour h is outside store hours when
  the store is closed for the whole of [h:00, h+1:00) that weekday (hours per store and weekday as minutes).
- store ranking: net sales in the period against the same dates 52 weeks earlier (364 days, so weekdays line up);
  a store is comparable when it sold in both; same-store growth = comparable stores' sales / their sales a year
  earlier - 1.
- stock: units and value on hand at the period's end are the ledger's sums up to then; cost of goods sold is the
  value that sale issues (less customer returns) took out in the period; turnover = cost of goods sold / the
  average of the value on hand at the start and at the end; days of cover = units on hand / units sold per day;
  a slow mover has units on hand and sold none in the period; a stock-out has none on hand but sold in the period.
- promotion results (coupon campaigns): participants are the members who redeemed a coupon of the campaign in the
  period; uplift = their net sales in the period - their net sales in the same number of days just before
  (the same members' baseline); cost = the discounts redeemed (restored ones excluded); ROI = (uplift - cost) /
  cost.
- member cohorts: members by month of joining; retained in month k = bought in the k-th month after joining.
- guide performance: net sales and orders of the guide's lines, members bound to the guide who joined in the
  period, commission booked in the period; an effective guide averages at least 3 orders a week
  (orders x 7 / days >= 3).
"""
from __future__ import annotations

from datetime import date, timedelta

import ibis
from ibis import _

EFFECTIVE_ORDERS_PER_WEEK = 3


def _dates(table: ibis.Table, since: date, until: date, column: str = "local_date") -> ibis.Table:
    return table.filter((table[column] >= since) & (table[column] <= until))


ORDER_DIMENSIONS = {"store": "store_id", "day": "local_date", "hour": "local_hour", "channel": "channel"}
LINE_DIMENSIONS = {"category": "category_id", "sku": "sku_id", "guide": "guide_id"}


def sales_by(orders: ibis.Table, lines: ibis.Table, dimension: str, *, since: date, until: date,
             category_id: int | None = None) -> ibis.Table:
    """Sales per `dimension` (store, day, hour, channel: orders; category, sku, guide: lines): key, orders, units
    (lines only, else null), net_sales, aov (net_sales / orders rounded half up to the fen)."""
    if dimension in ORDER_DIMENSIONS and category_id is None:
        sales = _dates(orders.filter(orders.is_sale), since, until)
        grouped = sales.group_by(key=sales[ORDER_DIMENSIONS[dimension]]).aggregate(
            orders=_.count(), units=ibis.null("int64"), net_sales=_.net_total.sum())
    else:
        column = LINE_DIMENSIONS.get(dimension) or ORDER_DIMENSIONS[dimension]
        sold = _dates(lines.filter(lines.is_sale), since, until)
        if category_id is not None:
            sold = sold.filter(sold.category_id == category_id)
        grouped = sold.group_by(key=sold[column]).aggregate(
            orders=_.order_id.nunique(), units=_.net_quantity.sum(), net_sales=_.net_amount.sum())
    return grouped.mutate(aov=(grouped.net_sales * 2 + grouped.orders).floordiv(grouped.orders * 2)) \
        .order_by([ibis.desc("net_sales"), "key"] if dimension not in ("day", "hour") else ["key"])


def sales_by_payment(orders: ibis.Table, payments: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Per payment method of sale orders in the period: orders, paid, refunded, net (fen)."""
    sales = _dates(orders.filter(orders.is_sale), since, until).select("order_id")
    paid = payments.join(sales, "order_id")
    return (paid.group_by(key=paid.method)
            .aggregate(orders=_.order_id.nunique(), paid=_.amount.sum(), refunded=_.refunded_amount.sum())
            .mutate(net_sales=_.paid - _.refunded).order_by([ibis.desc("net_sales"), "key"]))


def order_hours(orders: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Sale orders per weekday (0 = Monday) and local hour: weekday, hour, orders, net_sales."""
    sales = _dates(orders.filter(orders.is_sale), since, until)
    return (sales.group_by(weekday=sales.local_date.day_of_week.index(), hour=sales.local_hour)
            .aggregate(orders=_.count(), net_sales=_.net_total.sum()).order_by(["weekday", "hour"]))


def outside_hours(orders: ibis.Table, hours: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """One row: storefront orders and those of them placed outside their store's hours. `hours` has store_id,
    weekday (0 = Monday), opens and closes (minutes after midnight), one row per opening interval; a store with
    no row for a weekday is closed that day (stores without any hours are left out: nothing to compare with)."""
    online = _dates(orders.filter(orders.is_sale & (orders.channel != "pos")), since, until)
    online = online.select("order_id", "store_id", weekday=online.local_date.day_of_week.index().cast("int64"),
                           hour=online.local_hour)
    known = hours.select(known_store=hours.store_id).distinct()
    online = online.join(known, online.store_id == known.known_store).drop("known_store")
    intervals = hours.view()
    overlaps = online.join(intervals, [online.store_id == intervals.store_id,
                                       online.weekday == intervals.weekday])
    overlaps = overlaps.filter((overlaps.opens < (overlaps.hour + 1) * 60) & (overlaps.closes > overlaps.hour * 60))
    inside = overlaps.select(inside_id=overlaps.order_id).distinct()
    flagged = online.left_join(inside, online.order_id == inside.inside_id)
    return flagged.aggregate(online_orders=_.count(), outside=_.inside_id.isnull().sum().coalesce(0))


def store_ranking(orders: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Per store: net_sales, orders, last_year (net sales on the same dates 364 days earlier), comparable (sold in
    both), rank (1 = most sales)."""
    shift = timedelta(days=364)
    sales = orders.filter(orders.is_sale)
    now = _dates(sales, since, until).group_by("store_id").aggregate(net_sales=_.net_total.sum(), orders=_.count())
    before = (_dates(sales, since - shift, until - shift).group_by("store_id")
              .aggregate(last_year=_.net_total.sum()))
    joined = now.left_join(before, "store_id")
    ranked = joined.select(now.store_id, now.net_sales, now.orders, last_year=joined.last_year.coalesce(0),
                           comparable=joined.last_year.notnull() & (joined.last_year > 0))
    return ranked.mutate(rank=ibis.rank().over(order_by=ibis.desc(ranked.net_sales)) + 1).order_by(["rank",
                                                                                                   "store_id"])


def stock_position(moves: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Per store and SKU: on_hand and value at the end, value_start (before `since`), sold units and cogs in the
    period (sales less customer returns)."""
    upto = moves.filter(moves.local_date <= until)
    period = (upto.local_date >= since)
    selling = upto.kind.isin(["sale_issue", "return"])
    return (upto.group_by(["store_id", "sku_id"])
            .aggregate(on_hand=_.quantity.sum(), value=_.value.sum(),
                       value_start=(~period).ifelse(upto.value, 0).sum(),
                       sold=(period & selling).ifelse(-upto.quantity, 0).sum(),
                       cogs=(period & selling).ifelse(-upto.value, 0).sum())
            .order_by(["store_id", "sku_id"]))


def promotion_results(orders: ibis.Table, redemptions: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Per coupon campaign redeemed in the period: participants, redemptions, cost, sales (participants' net sales
    in the period), baseline (theirs in the same number of days before), uplift = sales - baseline."""
    days = (until - since).days + 1
    used = _dates(redemptions.filter(redemptions.status == "redeemed"), since, until)
    per = used.group_by("campaign_id").aggregate(participants=_.member_id.nunique(), redemptions=_.count(),
                                                 cost=_.discount.sum())
    who = used.select("campaign_id", "member_id").distinct()
    sales = orders.filter(orders.is_sale & orders.member_id.notnull())
    during = _dates(sales, since, until).group_by("member_id").aggregate(spent=_.net_total.sum())
    earlier = (_dates(sales, since - timedelta(days=days), since - timedelta(days=1)).group_by("member_id")
               .aggregate(spent_before=_.net_total.sum()))
    spend = (who.left_join(during, "member_id").select("campaign_id", "member_id", "spent"))
    spend = spend.left_join(earlier, "member_id").select("campaign_id", "spent", "spent_before")
    totals = spend.group_by("campaign_id").aggregate(sales=_.spent.sum().coalesce(0),
                                                     baseline=_.spent_before.sum().coalesce(0))
    return (per.join(totals, "campaign_id").mutate(uplift=_.sales - _.baseline)
            .order_by([ibis.desc("cost"), "campaign_id"]))


def _month_index(column) -> ibis.Value:
    return column.year() * 12 + column.month() - 1


def member_cohorts(members: ibis.Table, orders: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """Members who joined from `since`'s month to `until`'s, per month of joining and month after it (0 = the month
    they joined): cohort (first day of the month), offset, size (cohort members), retained (of them, buyers)."""
    canonical = members.filter(members.member_id == members.canonical_member_id.coalesce(members.member_id))
    first = since.replace(day=1)
    joined = canonical.filter((canonical.registered_date >= first) & (canonical.registered_date <= until))
    joined = joined.select("member_id", cohort=_month_index(joined.registered_date))
    sizes = joined.group_by("cohort").aggregate(size=_.count())
    sales = orders.filter(orders.is_sale & orders.member_id.notnull() & (orders.local_date >= first)
                          & (orders.local_date <= until))
    bought = sales.select("member_id", month=_month_index(sales.local_date)).distinct()
    active = joined.join(bought, "member_id").filter(_.month >= _.cohort)
    retained = (active.mutate(offset=active.month - active.cohort).group_by(["cohort", "offset"])
                .aggregate(retained=_.member_id.nunique()))
    return retained.join(sizes, "cohort").select("cohort", "offset", "size", "retained").order_by(
        ["cohort", "offset"])


def guide_performance(lines: ibis.Table, members: ibis.Table, commission: ibis.Table, *, since: date, until: date
                      ) -> ibis.Table:
    """Per guide with sales, new members or commission in the period: net_sales, orders, new_members, commission,
    effective (orders x 7 >= 3 x days)."""
    days = (until - since).days + 1
    sold = _dates(lines.filter(lines.is_sale & lines.guide_id.notnull()), since, until)
    sales = sold.group_by("guide_id").aggregate(net_sales=_.net_amount.sum(), orders=_.order_id.nunique())
    canonical = members.filter(members.member_id == members.canonical_member_id.coalesce(members.member_id))
    joined = _dates(canonical.filter(canonical.guide_id.notnull()), since, until, "registered_date")
    new = joined.group_by("guide_id").aggregate(new_members=_.count())
    earned = _dates(commission, since, until).group_by("guide_id").aggregate(commission=_.amount.sum())
    zero = ibis.literal(0, "int64")
    stacked = ibis.union(
        sales.select("guide_id", net_sales=_.net_sales.cast("int64"), orders=_.orders.cast("int64"),
                     new_members=zero, commission=zero),
        new.select("guide_id", net_sales=zero, orders=zero, new_members=_.new_members.cast("int64"),
                   commission=zero),
        earned.select("guide_id", net_sales=zero, orders=zero, new_members=zero,
                      commission=_.commission.cast("int64")), distinct=False)
    per = stacked.group_by("guide_id").aggregate(net_sales=_.net_sales.sum(), orders=_.orders.sum(),
                                                 new_members=_.new_members.sum(), commission=_.commission.sum())
    return per.mutate(effective=per.orders * 7 >= EFFECTIVE_ORDERS_PER_WEEK * days).order_by(
        [ibis.desc("net_sales"), "guide_id"])
