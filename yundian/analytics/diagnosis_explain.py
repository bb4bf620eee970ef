"""Diagnosis: why a KPI is off, and whose job it is to fix it.

A deviation (analytics.diagnosis) is explained against the `BASELINE` days before the window (per day, so the
lengths need not match):
- the sales change split into traffic, conversion and AOV (analytics.gmv.change_split: the Shapley value, exact);
- which categories and SKUs carry the change, which guide, what the promotions' sales did, and the sales lost to
  stock-outs in the window (each out-of-stock SKU-day x the SKU's units per in-stock day before x its price).
The driver is the first that holds, in this order, and names the owner:
    stockout   lost sales are at least half the drop               -> the HQ buyer of the category that lost most
    guide      one guide's drop is at least half the drop, and they fell 25 points more than the store -> the guide
    promotion  the promotions' sales fell by at least half the drop -> the store manager (a promotion ended)
    category   one category's drop is at least 60 % of the drop and twice the rest's rate            -> its buyer
    traffic / conversion / aov   the Shapley factor that took most -> the store manager
KPIs of their own: stockouts -> the buyer of the category with the most out-of-stock days; returns, margin -> the
buyer of a category that carries 60 % of the change, else the store manager; shrink, member share -> the store
manager. A region's deviation that no single store carries (60 %) goes to the region manager.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import pandas as pd

from .gmv import change_split, round_fen

BASELINE = 28
STORE_MANAGER, GUIDE, BUYER, REGION_MANAGER = "store_manager", "guide", "buyer", "region_manager"


@dataclass
class Explanation:
    driver: str
    owner_role: str
    owner_ref: dict = field(default_factory=dict)  # {"guide_id"}, {"category_id"}, {"store_id"}, {"region_id"}
    numbers: dict = field(default_factory=dict)


def _per_day(frame: pd.DataFrame) -> dict:
    days = max(len(frame), 1)
    return {c: float(frame[c].sum()) / days for c in frame.columns}


def factor_split(before: pd.DataFrame, after: pd.DataFrame) -> dict:
    """Sales per day before and in the window, and its change split into traffic / conversion / AOV (fen/day)."""
    def factors(frame):
        days = max(len(frame), 1)
        traffic, orders, sales = (int(frame[c].sum()) for c in ("traffic", "orders", "sales"))
        return [Fraction(traffic, days), Fraction(orders, traffic) if traffic else Fraction(0),
                Fraction(sales, orders) if orders else Fraction(0)]
    parts = change_split(factors(before), factors(after))
    fen = round_fen(parts)
    b, a = _per_day(before), _per_day(after)
    return {"sales_before": round(b["sales"]), "sales_after": round(a["sales"]),
            "traffic_before": round(b["traffic"], 1), "traffic_after": round(a["traffic"], 1),
            "conversion_before": _rate(b["orders"], b["traffic"]), "conversion_after": _rate(a["orders"], a["traffic"]),
            "aov_before": round(b["sales"] / b["orders"]) if b["orders"] else 0,
            "aov_after": round(a["sales"] / a["orders"]) if a["orders"] else 0,
            "split": {"traffic": fen[0], "conversion": fen[1], "aov": fen[2]}}


def _rate(top: float, bottom: float) -> float:
    return round(top / bottom, 4) if bottom else 0.0


def _changes(lines: pd.DataFrame, key: str, days_before: int, days_after: int) -> pd.DataFrame:
    """Per `key`: sales per day before and in the window, the change and the relative change."""
    if lines.empty:
        return pd.DataFrame(columns=[key, "before", "after", "change", "relative"])
    pivot = lines.groupby([key, "period"])["amount"].sum().unstack(fill_value=0)
    before = pivot.get("before", pd.Series(0, index=pivot.index)) / days_before
    after = pivot.get("window", pd.Series(0, index=pivot.index)) / days_after
    out = pd.DataFrame({"before": before, "after": after})
    out["change"] = out["after"] - out["before"]
    out["relative"] = out["change"] / out["before"].where(out["before"] > 0)
    return out.reset_index().sort_values("change")


def explain_store(kpi: str, before: pd.DataFrame, after: pd.DataFrame, lines: pd.DataFrame, lost: pd.DataFrame,
                  names: dict) -> Explanation:
    """The driver and owner of a store's deviation in `kpi`. `before` / `after`: the store's days; `lines`: its order
    lines summed per period ("before" / "window"), guide_id, category_id, sku_id (amount, quantity, returned);
    `lost`: its out-of-stock SKU-days in the window with lost_sales (fen) per category_id and sku_id."""
    nb, na = max(len(before), 1), max(len(after), 1)
    split = factor_split(before, after)
    numbers = {"factors": split}
    change = split["sales_after"] - split["sales_before"]
    categories = _changes(lines, "category_id", nb, na)
    numbers["categories"] = _top(categories, "category_id", names.get("category", {}))
    skus = _changes(lines, "sku_id", nb, na)
    numbers["skus"] = _top(skus, "sku_id", names.get("sku", {}))
    lost_total = float(lost["lost_sales"].sum()) / na if len(lost) else 0.0
    numbers["lost_sales_per_day"] = round(lost_total)
    if kpi == "stockouts":
        return _stockout(lost, numbers, names)
    if kpi == "shrink":
        return Explanation("shrink", STORE_MANAGER, numbers=numbers)
    if kpi == "member_share":
        return Explanation("members", STORE_MANAGER, numbers=numbers)
    if kpi in ("returns", "margin"):
        column = "returned" if kpi == "returns" else "amount"
        carried = _carrier(lines, column, nb, na, rising=kpi == "returns")
        if carried is not None:
            numbers["category"] = {"id": int(carried), "name": names.get("category", {}).get(int(carried), "")}
            return Explanation(kpi, BUYER, {"category_id": int(carried)}, numbers)
        return Explanation(kpi, STORE_MANAGER, numbers=numbers)
    drop = -change if change < 0 else 0
    if drop and lost_total >= 0.5 * drop and len(lost):
        return _stockout(lost, numbers, names)
    guides = _changes(lines[lines["guide_id"].notnull()] if len(lines) else lines, "guide_id", nb, na)
    store_relative = change / split["sales_before"] if split["sales_before"] else 0
    if drop and len(guides):
        worst = guides.iloc[0]
        if (worst["change"] <= -0.5 * drop and pd.notna(worst["relative"])
                and worst["relative"] <= store_relative - 0.25 and kpi in ("sales", "conversion")):
            guide_id = int(worst["guide_id"])
            numbers["guide"] = {"id": guide_id, "name": names.get("guide", {}).get(guide_id, ""),
                                "before": round(worst["before"]), "after": round(worst["after"]),
                                "relative": round(float(worst["relative"]), 4)}
            return Explanation("guide", GUIDE, {"guide_id": guide_id}, numbers)
    promo_change = after["promo_sales"].sum() / na - before["promo_sales"].sum() / nb
    numbers["promotion_sales"] = {"before": round(before["promo_sales"].sum() / nb),
                                  "after": round(after["promo_sales"].sum() / na)}
    if drop and promo_change <= -0.5 * drop and kpi in ("sales", "conversion", "traffic"):
        return Explanation("promotion", STORE_MANAGER, numbers=numbers)
    if drop and len(categories) and kpi in ("sales", "aov"):
        worst = categories.iloc[0]
        rest_before = split["sales_before"] - worst["before"]
        rest_relative = (change - worst["change"]) / rest_before if rest_before else 0
        if (worst["change"] <= -0.6 * drop and pd.notna(worst["relative"])
                and worst["relative"] <= 2 * rest_relative - 0.2):
            category_id = int(worst["category_id"])
            numbers["category"] = {"id": category_id, "name": names.get("category", {}).get(category_id, "")}
            return Explanation("category", BUYER, {"category_id": category_id}, numbers)
    if kpi in ("traffic", "conversion", "aov"):
        return Explanation(kpi, STORE_MANAGER, numbers=numbers)
    parts = split["split"]
    return Explanation(min(parts, key=lambda k: parts[k]), STORE_MANAGER, numbers=numbers)


def _stockout(lost: pd.DataFrame, numbers: dict, names: dict) -> Explanation:
    if not len(lost):
        return Explanation("stockout", STORE_MANAGER, numbers=numbers)
    by_category = lost.groupby("category_id").agg(days=("sku_id", "size"), lost_sales=("lost_sales", "sum"))
    worst = by_category.sort_values(["lost_sales", "days"], ascending=False).index[0]
    category_id = int(worst)
    numbers["category"] = {"id": category_id, "name": names.get("category", {}).get(category_id, ""),
                           "sku_days": int(by_category.loc[worst, "days"]),
                           "lost_sales": int(round(by_category.loc[worst, "lost_sales"]))}
    top = (lost[lost["category_id"] == worst].groupby("sku_id")["lost_sales"].sum().sort_values(ascending=False)
           .head(3))
    numbers["out_skus"] = [{"id": int(s), "name": names.get("sku", {}).get(int(s), ""), "lost_sales": int(round(v))}
                           for s, v in top.items()]
    return Explanation("stockout", BUYER, {"category_id": category_id}, numbers)


def _carrier(lines: pd.DataFrame, column: str, nb: int, na: int, *, rising: bool):
    """The category carrying 60 % or more of the change in `column` per day (its direction), or None."""
    if lines.empty:
        return None
    pivot = lines.groupby(["category_id", "period"])[column].sum().unstack(fill_value=0)
    change = pivot.get("window", 0) / na - pivot.get("before", 0) / nb
    total = change.sum()
    if not total or (total > 0) != rising:
        return None
    worst = change.idxmax() if rising else change.idxmin()
    return worst if change[worst] / total >= 0.6 else None


def _top(changes: pd.DataFrame, key: str, names: dict, n: int = 3) -> list[dict]:
    return [{"id": int(r[key]), "name": names.get(int(r[key]), ""), "before": round(r["before"]),
             "after": round(r["after"]), "change": round(r["change"])}
            for _i, r in changes.head(n).iterrows() if r["change"] < 0]


def explain_region(stores_change: dict[int, float], names: dict[int, str]) -> Explanation | None:
    """A region's deviation: None when one store carries 60 % of the change (that store's own finding covers it),
    else the region manager with the stores' parts."""
    total = sum(stores_change.values())
    if not total:
        return None
    worst = min(stores_change, key=stores_change.get) if total < 0 else max(stores_change, key=stores_change.get)
    if stores_change[worst] / total >= 0.6:
        return None
    parts = sorted(stores_change.items(), key=lambda kv: kv[1] if total < 0 else -kv[1])[:5]
    return Explanation("stores", REGION_MANAGER, numbers={
        "stores": [{"id": s, "name": names.get(s, ""), "change": round(v)} for s, v in parts]})
