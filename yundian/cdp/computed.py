"""Computed tags as pure Ibis functions over the warehouse (no SQL strings, no engine-specific calls), so the
nightly refresh, the after-sync refresh, the tests and the bench run the same expressions on DuckDB or Spark.

Inputs are warehouse tables: `fact_order`, `fact_order_line`, `dim_member`. Members are canonical: an order of a
member merged into another counts for the survivor (dim_member.canonical_member_id); erased and merged-away
members get nothing. A *sale* is an order with `is_sale` and a positive `net_total` (net of refunds), dated by its
local date; `today` is the chain's local date.

RFM (`rfm_scores`), among the enterprise's members with a sale in the last RFM_WINDOW_DAYS days (today included):
  recency   days from the latest sale in the window to today (fewer is better);
  frequency sales in the window;  monetary  their net total (fen).
  Each becomes a score 1-5 by quintile: with n members ranked from worst to best (ties share the lowest rank r,
  0-based), score = floor(5 r / n) + 1. Ties therefore always share a score, and the best fifth score 5.
The eight classic RFM groups (`RFM_GROUPS`) read each score as high (≥ RFM_HIGH, the two top quintiles) or low:
  R F M high/low → important value (重要价值) HHH, important development (重要发展) H L H, important retention
  (重要保持) L H H, important win-back (重要挽留) L L H, and the general (一般) four with M low likewise.
Lifecycle (`lifecycle_stages`): see cdp.models.LifecycleSettings for the rules; every canonical member gets one.
Preferred store / category: where / what the member spent most on in the window (then more sales, then the
smaller id). Price band: the member's net spend per item in the window, in thirds among the enterprise's buyers
(low, mid, high; same ranking rule as RFM with 3 instead of 5).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
from ibis import _

RFM_WINDOW_DAYS = 365
RFM_HIGH = 4

RFM_GROUPS: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): "important_value",
    (True, False, True): "important_development",
    (False, True, True): "important_retention",
    (False, False, True): "important_winback",
    (True, True, False): "general_value",
    (True, False, False): "general_development",
    (False, True, False): "general_retention",
    (False, False, False): "general_winback",
}
PRICE_BANDS = ("low", "mid", "high")


@dataclass(frozen=True)
class Thresholds:
    """Lifecycle thresholds in days (cdp.models.LifecycleSettings holds the enterprise's)."""

    new_days: int = 30
    active_days: int = 90
    dormant_days: int = 180
    lost_days: int = 365
    won_back_days: int = 30


def canonical_members(members: ibis.Table, enterprise_id: int) -> ibis.Table:
    """The enterprise's members that stand for themselves: not merged away, not erased."""
    return members.filter((members.enterprise_id == enterprise_id) & (members.member_id == members.canonical_member_id)
                          & ~members.is_erased.fill_null(False))


def member_sales(orders: ibis.Table, members: ibis.Table, enterprise_id: int) -> ibis.Table:
    """One row per sale, attributed to the canonical member: member_id, order_id, store_id, local_date, net_total,
    item_count."""
    sales = orders.filter((orders.enterprise_id == enterprise_id) & orders.is_sale & (orders.net_total > 0)
                          & orders.member_id.notnull())
    links = members.filter(members.enterprise_id == enterprise_id).select(
        link_id=_.member_id, canonical=_.canonical_member_id)
    joined = sales.join(links, sales.member_id == links.link_id)
    alive = canonical_members(members, enterprise_id).select(alive_id=_.member_id)
    joined = joined.join(alive, joined.canonical == alive.alive_id)
    return joined.select(member_id=_.canonical, order_id=_.order_id, store_id=_.store_id, local_date=_.local_date,
                         net_total=_.net_total, item_count=_.item_count)


def _score(column: ibis.Value, buckets: int) -> ibis.Value:
    """floor(buckets · rank / n) + 1 with rank the 0-based min rank of `column` ascending (ties share it)."""
    window = ibis.window(order_by=column)
    rank = ibis.rank().over(window)
    n = column.count().over(ibis.window())  # the column is never null here
    return ((rank * buckets) // n + 1).cast("int16")


def _days(column: ibis.Value, today: date) -> ibis.Value:
    """Whole days from the date in `column` to `today`."""
    return ibis.literal(today).delta(column, unit="day").cast("int32")


def _window(sales: ibis.Table, today: date, days: int) -> ibis.Table:
    return sales.filter((sales.local_date > today - timedelta(days=days)) & (sales.local_date <= today))


def rfm_scores(sales: ibis.Table, today: date, window_days: int = RFM_WINDOW_DAYS) -> ibis.Table:
    """Per member with a sale in the window: recency_days, frequency, monetary, r_score, f_score, m_score and
    rfm_group (see the module docstring)."""
    per = _window(sales, today, window_days).group_by("member_id").aggregate(
        last_date=_.local_date.max(), frequency=_.order_id.nunique(), monetary=_.net_total.sum())
    per = per.mutate(recency_days=_days(per.last_date, today))
    scored = per.mutate(r_score=_score(per.last_date, 5), f_score=_score(per.frequency, 5),
                        m_score=_score(per.monetary, 5))
    group = ibis.literal("general_winback")
    for (r, f, m), name in RFM_GROUPS.items():
        condition = ((scored.r_score >= RFM_HIGH) == r) & ((scored.f_score >= RFM_HIGH) == f) & \
            ((scored.m_score >= RFM_HIGH) == m)
        group = ibis.ifelse(condition, name, group)
    return scored.mutate(rfm_group=group).select(
        "member_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_group")


def lifecycle_stages(sales: ibis.Table, members: ibis.Table, enterprise_id: int, today: date,
                     thresholds: Thresholds) -> ibis.Table:
    """Per canonical member: first_date, last_date (of their sales, ever; null without), lifecycle stage."""
    days = sales.select("member_id", "local_date").distinct()
    ordered = days.mutate(
        previous=days.local_date.lag().over(ibis.window(group_by="member_id", order_by="local_date")),
        n=ibis.row_number().over(ibis.window(group_by="member_id", order_by=ibis.desc("local_date"))))
    latest = ordered.filter(ordered.n == 0).select(lm=_.member_id, last_date=_.local_date, previous_date=_.previous)
    first = days.group_by("member_id").aggregate(first_date=_.local_date.min()).rename(fm="member_id")
    base = canonical_members(members, enterprise_id).select("member_id", "registered_date")
    table = base.left_join(latest, base.member_id == latest.lm).left_join(first, _.member_id == first.fm)
    t = thresholds

    def age(column):
        return _days(column, today)

    since_last = age(table.last_date)
    stage = (ibis.cases(
        ((table.last_date.notnull() & (since_last <= t.won_back_days) & table.previous_date.notnull()
          & (table.last_date.delta(table.previous_date, unit="day") >= t.dormant_days)), "won_back"),
        ((table.first_date.notnull() & (age(table.first_date) <= t.new_days)), "new"),
        ((table.first_date.isnull() & (age(table.registered_date) <= t.new_days)), "new"),
        (table.first_date.isnull(), "dormant"),
        (since_last <= t.active_days, "active"),
        (since_last <= t.dormant_days, "at_risk"),
        (since_last <= t.lost_days, "dormant"),
        else_="lost"))
    return table.select("member_id", "first_date", "last_date", lifecycle=stage)


def _top(table: ibis.Table, key: str) -> ibis.Table:
    """Per member, the `key` with the highest spend (then more sales, then the smaller key)."""
    per = table.group_by(["member_id", key]).aggregate(spend=_.amount.sum(), sales=_.order_id.nunique())
    ranked = per.mutate(n=ibis.row_number().over(ibis.window(
        group_by="member_id", order_by=[ibis.desc("spend"), ibis.desc("sales"), key])))
    return ranked.filter(ranked.n == 0).select("member_id", key)


def preferred_store(sales: ibis.Table, today: date, window_days: int = RFM_WINDOW_DAYS) -> ibis.Table:
    """Per member with a sale in the window: store_id where they spent most."""
    recent = _window(sales, today, window_days)
    return _top(recent.mutate(amount=recent.net_total), "store_id")


def preferred_category(sales: ibis.Table, lines: ibis.Table, today: date,
                       window_days: int = RFM_WINDOW_DAYS) -> ibis.Table:
    """Per member with a sale in the window: category_id of the goods they spent most on (net of returns)."""
    recent = _window(sales, today, window_days).select("member_id", "order_id")
    goods = lines.filter(lines.is_sale & (lines.net_amount > 0) & lines.category_id.notnull()).select(
        line_order=_.order_id, category_id=_.category_id, amount=_.net_amount)
    joined = recent.join(goods, recent.order_id == goods.line_order)
    return _top(joined.select("member_id", "order_id", "category_id", "amount"), "category_id")


def price_band(sales: ibis.Table, today: date, window_days: int = RFM_WINDOW_DAYS) -> ibis.Table:
    """Per member with items bought in the window: spend_per_item (fen) and price_band low / mid / high."""
    per = _window(sales, today, window_days).group_by("member_id").aggregate(
        spend=_.net_total.sum(), items=_.item_count.sum())
    per = per.filter(per.items > 0)
    per = per.mutate(spend_per_item=(per.spend / per.items))
    band = _score(per.spend_per_item, 3)
    return per.mutate(price_band=ibis.cases((band == 1, "low"), (band == 2, "mid"), else_="high")).select(
        "member_id", "spend_per_item", "price_band")


def member_profiles(orders: ibis.Table, lines: ibis.Table, members: ibis.Table, *, enterprise_id: int, today: date,
                    thresholds: Thresholds, window_days: int = RFM_WINDOW_DAYS) -> ibis.Table:
    """One row per canonical member with everything the computed tags need: lifecycle, first/last sale dates,
    RFM (null without a sale in the window), preferred store and category, price band."""
    sales = member_sales(orders, members, enterprise_id)
    life = lifecycle_stages(sales, members, enterprise_id, today, thresholds)
    rfm = rfm_scores(sales, today, window_days).rename(rm="member_id")
    store = preferred_store(sales, today, window_days).rename(sm="member_id")
    category = preferred_category(sales, lines, today, window_days).rename(cm="member_id")
    band = price_band(sales, today, window_days).rename(bm="member_id")
    joined = (life.left_join(rfm, life.member_id == rfm.rm)
              .left_join(store, _.member_id == store.sm)
              .left_join(category, _.member_id == category.cm)
              .left_join(band, _.member_id == band.bm))
    return joined.select("member_id", "first_date", "last_date", "lifecycle", "recency_days", "frequency",
                         "monetary", "r_score", "f_score", "m_score", "rfm_group", "store_id", "category_id",
                         "price_band")
