"""Diagnosis (事找人), the warehouse half: each store's and region's KPIs by day, forecast from their own history
and their peers, and the significant deviations of the last window.

KPIs (per store and local day; a window's figure is its days' sum, or the ratio of its sums):
    sales         net sales of sale orders (fen)                       bad when low
    traffic       store footfall + storefront visitors (analytics.gmv's rule: never below the orders)   low
    conversion    orders / traffic (ratios: over the 7 days up to each day)   low
    aov           sales / orders (fen)                                  low
    member_share  member sales / sales                                  low
    stockouts     SKUs out of stock at the day's end, among those the store sold in the data's range     high
    returns       refunds of the day's orders (fen)                     high
    shrink        stock written off by adjustments and count corrections, at cost (fen)                  high
    margin        (sales - cost of goods sold) / sales                  low

How a deviation is found (`deviations`): the window is the `window` days ending on `day`; the history the
`history` days before it. Every (node, KPI) series is screened at once (forecast.screen: a seasonal-naive forecast
and a z-score); the peers' surprise (the median, over the other stores of the region, of actual / forecast in the
window, when they all moved the same way by 5 % or more) scales the forecast, so a chain-wide dip (weather, a holiday) is expected and not a finding. The series that
pass the screen are fitted with ETS (forecast.window_forecast) and flagged when the window lies outside the
prediction interval (99 %) on the bad side by at least the KPI's material gap. Regions are compared the same way
against the other regions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
from ibis import _

from . import forecast

KPIS = ("sales", "traffic", "conversion", "aov", "member_share", "stockouts", "returns", "shrink", "margin")
LOW_IS_BAD = {"sales", "traffic", "conversion", "aov", "member_share", "margin"}
RATIOS = {"conversion": ("orders", "traffic"), "aov": ("sales", "orders"), "member_share": ("member_sales", "sales"),
          "margin": ("gross", "sales")}
MONEY_KPIS = {"sales", "aov", "returns", "shrink"}
PERCENT_KPIS = {"conversion", "member_share", "margin"}
# the smallest gap worth a person's time, relative to the forecast (and for counts that may be 0, an absolute floor)
MATERIAL = {"sales": 0.10, "traffic": 0.10, "conversion": 0.10, "aov": 0.10, "member_share": 0.15, "margin": 0.10,
            "stockouts": 0.50, "returns": 0.50, "shrink": 0.50}
SCREEN_Z = 3.0
LEVEL = 0.99
WINDOW = 14
HISTORY = 112
COLUMNS = ("sales", "orders", "traffic", "member_sales", "promo_sales", "returns", "shrink", "cogs", "stockouts")


def _dates(table: ibis.Table, since: date, until: date) -> ibis.Table:
    return table.filter((table.local_date >= since) & (table.local_date <= until))


def store_days(orders: ibis.Table, events: ibis.Table, moves: ibis.Table, lines: ibis.Table, *, since: date,
               until: date) -> ibis.Table:
    """Per store and local day: sales, orders, traffic, member_sales, promo_sales, returns, shrink, cogs (fen) and
    stockouts (SKUs out at the day's end). Pure Ibis over fact_order, fact_event, fact_stock_move, fact_order_line."""
    sold = _dates(orders.filter(orders.is_sale & orders.store_id.notnull()), since, until)
    keys = ["store_id", "local_date"]
    sales = sold.group_by(keys).aggregate(
        sales=_.net_total.sum(), orders=_.count(), member_sales=_.net_total.sum(where=_.member_id.notnull()),
        promo_sales=_.net_total.sum(where=_.has_promotion), returns=_.refunded_total.sum(),
        online_orders=(_.channel != "pos").sum(), store_orders=(_.channel == "pos").sum())
    seen = _dates(events.filter(events.store_id.notnull()), since, until)
    door = (seen.filter((seen.kind == "store_visit") & (seen.channel == "pos")).group_by(keys)
            .aggregate(footfall=_.count()))
    online = seen.filter(seen.channel.isin(("storefront", "miniprogram")))
    who = online.member_id.cast("string").coalesce("") + ":" + online.anonymous_id.coalesce("")
    visitors = online.mutate(who=who).group_by(keys).aggregate(visitors=_.who.nunique())
    store_moves = _dates(moves.filter(moves.warehouse_kind == "store"), since, until)
    losses = store_moves.kind.isin(("adjustment", "stocktake_correction")) & (store_moves.quantity < 0)
    stock = store_moves.group_by(keys).aggregate(
        shrink=(-store_moves.value).sum(where=losses),
        cogs=(-store_moves.value).sum(where=store_moves.kind.isin(("sale_issue", "return"))))
    outs = stockout_days(moves, lines, since=since, until=until).group_by(keys).aggregate(stockouts=_.count())
    frames = [sales, door, visitors, stock, outs]
    spine = ibis.union(*[f.select(*keys) for f in frames], distinct=True)
    joined = spine
    for frame in frames:
        joined = joined.left_join(frame, keys).select(~ibis.selectors.endswith("_right"))
    zero = ibis.literal(0, "int64")
    return joined.select(
        "store_id", "local_date", sales=_.sales.coalesce(zero).cast("int64"), orders=_.orders.coalesce(zero),
        traffic=(ibis.greatest(_.footfall.coalesce(zero), _.store_orders.coalesce(zero))
                 + ibis.greatest(_.visitors.coalesce(zero), _.online_orders.coalesce(zero))).cast("int64"),
        member_sales=_.member_sales.coalesce(zero).cast("int64"), promo_sales=_.promo_sales.coalesce(zero).cast("int64"),
        returns=_.returns.coalesce(zero).cast("int64"), shrink=_.shrink.coalesce(zero).cast("int64"),
        cogs=_.cogs.coalesce(zero).cast("int64"), stockouts=_.stockouts.coalesce(zero).cast("int64"))


def stockout_days(moves: ibis.Table, lines: ibis.Table, *, since: date, until: date) -> ibis.Table:
    """One row per (store_id, sku_id, category_id, local_date) in [since, until] on which a store warehouse ended the
    day with no stock of a SKU that store sold in that range: spans between moves where the running balance is <= 0,
    laid over the days (a sparse range join: only out-of-stock days are produced)."""
    store = moves.filter((moves.warehouse_kind == "store") & (moves.local_date <= until))
    daily = store.group_by(["store_id", "sku_id", "category_id", "local_date"]).aggregate(net=_.quantity.sum())
    by_sku = ibis.window(group_by=["store_id", "sku_id"], order_by="local_date")
    daily = daily.mutate(balance=_.net.sum().over(ibis.window(group_by=["store_id", "sku_id"], order_by="local_date",
                                                              preceding=None, following=0)),
                         next_day=_.local_date.lead().over(by_sku))
    out = daily.filter(daily.balance <= 0).mutate(
        ends=daily.next_day.coalesce(ibis.literal(until + timedelta(days=1))))
    sold = (_dates(lines.filter(lines.is_sale & lines.store_id.notnull()), since, until)
            .select("store_id", "sku_id").distinct())
    out = out.semi_join(sold, ["store_id", "sku_id"])
    days = ibis.memtable({"day": pd.date_range(since, until, freq="D").date.tolist()}, schema={"day": "date"})
    spans = out.join(days, (days.day >= out.local_date) & (days.day < out.ends))
    return spans.select("store_id", "sku_id", "category_id", local_date=spans.day)


# --- frames ----------------------------------------------------------------------------------------------------------

@dataclass
class Node:
    node_id: int
    kind: str  # store | region
    name: str
    path: str
    region_id: int | None = None  # a store's region (its peers are the region's other stores)


@dataclass
class Deviation:
    """One KPI of one node off its forecast in the window."""

    node: Node
    kpi: str
    actual: float
    expected: float
    lower: float
    upper: float
    z: float
    peer_factor: float
    method: str
    daily_actual: list = field(default_factory=list)  # the history's last weeks and the window, day by day
    daily_expected: list = field(default_factory=list)  # the window's days: (mean, lower, upper)

    @property
    def gap(self) -> float:
        return self.actual - self.expected

    @property
    def relative_gap(self) -> float:
        return self.gap / abs(self.expected) if self.expected else 0.0


def kpi_values(frame: pd.DataFrame, kpi: str) -> pd.Series:
    """A KPI day by day from the day columns. A ratio is taken over the 7 days up to each day (ratio of sums: a
    quiet day's few orders would swing a day's own ratio wildly); NaN where the denominator is 0."""
    if kpi in RATIOS:
        top, bottom = RATIOS[kpi]
        numerator = frame["sales"] - frame["cogs"] if top == "gross" else frame[top]
        numerator = numerator.rolling(7, min_periods=1).sum()
        denominator = frame[bottom].rolling(7, min_periods=1).sum()
        return numerator / denominator.where(denominator != 0)
    return frame[kpi].astype(float)


def window_value(frame: pd.DataFrame, kpi: str) -> float:
    """The window's figure: the mean of an additive KPI per day, the ratio of sums for a ratio."""
    if kpi in RATIOS:
        top, bottom = RATIOS[kpi]
        numerator = (frame["sales"] - frame["cogs"]).sum() if top == "gross" else frame[top].sum()
        denominator = frame[bottom].sum()
        return float(numerator / denominator) if denominator else float("nan")
    return float(frame[kpi].mean())


def dense(days: pd.DataFrame, ids: list[int], since: date, until: date) -> dict[int, pd.DataFrame]:
    """{node id: its days from since to until, every day present (0 where nothing happened)}."""
    index = pd.date_range(since, until, freq="D").date
    out = {}
    grouped = {k: g for k, g in days.groupby("node_id")} if len(days) else {}
    for node_id in ids:
        frame = grouped.get(node_id)
        if frame is None:
            frame = pd.DataFrame(columns=["local_date", *COLUMNS])
        frame = frame.set_index("local_date").reindex(index)[list(COLUMNS)].fillna(0)
        out[node_id] = frame
    return out


def _filled(values: pd.Series) -> np.ndarray:
    """A ratio's days with no denominator take the series' mean (so the forecast is not pulled to 0)."""
    mean = values.mean()
    return values.fillna(0 if pd.isna(mean) else mean).to_numpy(dtype=float)


def deviations(frames: dict[int, pd.DataFrame], nodes: dict[int, Node], *, window: int = WINDOW,
               peers_of: dict[int, list[int]], kpis=KPIS, level: float = LEVEL,
               stats: dict | None = None) -> list[Deviation]:
    """The significant deviations of `nodes` in the last `window` days of their frames (see the module doc);
    `stats["fitted"]` counts the ETS fits (the series that passed the screen)."""
    ids = [n for n in nodes if n in frames]
    if not ids:
        return []
    found = []
    for kpi in kpis:
        series = {n: kpi_values(frames[n], kpi) for n in ids}
        histories = np.vstack([_filled(series[n].iloc[:-window]) for n in ids])
        actual_days = np.vstack([_filled(series[n]).astype(float)[-window:] for n in ids])
        actual = actual_days.mean(axis=1)  # the mean of the window's days, as the forecast is of days
        usable = histories.shape[1] - histories.shape[1] % forecast.SEASON
        expected, spread_of = forecast.screen(histories[:, histories.shape[1] - usable:], actual_days)
        surprise = {n: (actual[i] / expected[i]) if expected[i] and np.isfinite(actual[i]) else np.nan
                    for i, n in enumerate(ids)}
        for i, node_id in enumerate(ids):
            if not np.isfinite(actual[i]):
                continue
            peers = [surprise[p] for p in peers_of.get(node_id, []) if np.isfinite(surprise.get(p, np.nan))]
            # a shock the peers share (all up or all down by 5 %+) moves the expectation; one peer's noise does not
            shared = len(peers) >= 2 and (min(peers) > 1.05 or max(peers) < 0.95)
            factor = float(np.clip(np.median(peers), 0.5, 2.0)) if shared else 1.0
            scaled = expected[i] * factor
            floor = MATERIAL[kpi]
            bad = actual[i] < scaled * (1 - floor) if kpi in LOW_IS_BAD else actual[i] > scaled * (1 + floor)
            if abs(actual[i] - scaled) < SCREEN_Z * spread_of[i]:  # the cheap screen: no ETS fit for this one
                continue
            if not bad or (kpi not in LOW_IS_BAD and actual[i] - scaled < _absolute_floor(kpi, frames[node_id],
                                                                                            window)):
                continue
            band = forecast.window_forecast(histories[i], window, level=level)
            if stats is not None:
                stats["fitted"] = stats.get("fitted", 0) + 1
            lower, upper = band.window_lower * factor, band.window_upper * factor
            outside = actual[i] < lower if kpi in LOW_IS_BAD else actual[i] > upper
            if not outside:
                continue
            mean = band.window_mean * factor
            if kpi in RATIOS:  # the window's ratio of sums against the forecast of its daily ratios
                mean = scaled if not np.isfinite(mean) else mean
            spread = max((upper - lower) / (2 * forecast._z(level)), 1e-9)
            shown = _filled(series[node_id]).tolist()[-(window + 42):]
            found.append(Deviation(
                node=nodes[node_id], kpi=kpi, actual=float(actual[i]), expected=float(mean), lower=float(lower),
                upper=float(upper), z=float((actual[i] - mean) / spread), peer_factor=factor, method=band.method,
                daily_actual=shown,
                daily_expected=[(float(m * factor), float(lo * factor), float(hi * factor))
                                for m, lo, hi in zip(band.mean, band.lower, band.upper)]))
    return found


def _absolute_floor(kpi: str, frame: pd.DataFrame, window: int) -> float:
    """For KPIs that may sit at 0: a rise smaller than this per day is not material (1 SKU out; returns or shrink
    of 3 % of the day's sales and at least ¥10 a day: a small store's single write-off is not a pattern)."""
    if kpi == "stockouts":
        return 1.0
    return max(0.03 * float(frame["sales"].iloc[:-window].mean()), 1000.0)
