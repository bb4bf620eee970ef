"""Diagnosis on the warehouse alone: which stores and regions are off, and why (no OLTP read, no write).

`diagnose(backend, enterprise_id=..., day=...)` reads the org tree, names and facts from the warehouse, finds the
deviations (analytics.diagnosis) and explains each (analytics.diagnosis_explain); it returns `Draft`s that
`diagnosis_services.diagnosis_run` routes to people and stores as findings. Tests and the bench call it directly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import pandas as pd
from ibis import _

from . import diagnosis as D
from .diagnosis_explain import BASELINE, Explanation, explain_region, explain_store

KPI_ORDER = {k: i for i, k in enumerate(("sales", "conversion", "traffic", "stockouts", "aov", "member_share",
                                         "margin", "returns", "shrink"))}


@dataclass
class Draft:
    deviation: D.Deviation
    explanation: Explanation
    also: list[str] = field(default_factory=list)  # other KPIs of the node with the same driver and owner


@dataclass
class Outcome:
    drafts: list[Draft]
    window: tuple[date, date]
    stores: int = 0
    regions: int = 0
    series: int = 0
    fitted: int = 0  # series fitted with ETS (those the screen let through)
    timings: dict = field(default_factory=dict)


def _nodes(backend, enterprise_id: int) -> tuple[dict[int, D.Node], dict[int, D.Node]]:
    org = backend.table("dim_org")
    rows = (org.filter((org.enterprise_id == enterprise_id) & org.is_active)
            .select("node_id", "kind", "name", "org_path").to_pyarrow().to_pylist())
    kinds = {r["node_id"]: r["kind"] for r in rows}
    stores, regions = {}, {}
    for r in rows:
        if r["kind"] == "region":
            regions[r["node_id"]] = D.Node(r["node_id"], "region", r["name"], r["org_path"])
    for r in rows:
        if r["kind"] != "store":
            continue
        chain = [int(p) for p in r["org_path"].strip("/").split("/")]
        region = next((p for p in reversed(chain[:-1]) if kinds.get(p) == "region"), None)
        stores[r["node_id"]] = D.Node(r["node_id"], "store", r["name"], r["org_path"], region)
    return stores, regions


def _peers(stores: dict[int, D.Node]) -> dict[int, list[int]]:
    """A store's peers: the other stores of its region, or every other store when its region has fewer than 3."""
    by_region: dict = {}
    for s in stores.values():
        by_region.setdefault(s.region_id, []).append(s.node_id)
    everyone = list(stores)
    return {s.node_id: [p for p in (by_region[s.region_id] if len(by_region[s.region_id]) >= 3 else everyone)
                        if p != s.node_id] for s in stores.values()}


def _names(backend, enterprise_id: int) -> dict:
    sku = backend.table("dim_sku").filter(_.enterprise_id == enterprise_id)
    staff = backend.table("dim_staff").filter(_.enterprise_id == enterprise_id)
    skus = sku.select("sku_id", "name", "product_name", "category_id", "category_name").to_pyarrow().to_pylist()
    return {"sku": {r["sku_id"]: f"{r['product_name'] or ''} {r['name'] or ''}".strip() for r in skus},
            "category": {r["category_id"]: r["category_name"] for r in skus},
            "guide": {r["staff_id"]: r["display_name"] for r in staff.select("staff_id", "display_name")
                      .to_pyarrow().to_pylist()}}


def _detail(backend, enterprise_id: int, store_ids: list[int], before: tuple[date, date],
            window: tuple[date, date]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flagged stores' order lines per period, guide, category and SKU, and their out-of-stock SKU-days in the
    window with the sales each lost (units per in-stock day before x average price)."""
    lines = backend.table("fact_order_line").filter((_.enterprise_id == enterprise_id) & _.is_sale
                                                    & _.store_id.isin(store_ids))
    lines = lines.filter((lines.local_date >= before[0]) & (lines.local_date <= window[1]))
    period = (lines.local_date >= window[0]).ifelse(ibis.literal("window"), ibis.literal("before"))
    detail = (lines.mutate(period=period)
              .group_by(["store_id", "period", "guide_id", "category_id", "sku_id"])
              .aggregate(amount=_.net_amount.sum(), quantity=_.net_quantity.sum(),
                         returned=_.returned_amount.sum())).to_pyarrow().to_pandas()
    moves = backend.table("fact_stock_move").filter((_.enterprise_id == enterprise_id) & _.store_id.isin(store_ids))
    outs = D.stockout_days(moves, lines, since=before[0], until=window[1]).to_pyarrow().to_pandas()
    if outs.empty:
        return detail, outs.assign(lost_sales=[])
    out_before = outs[outs["local_date"] < window[0]].groupby(["store_id", "sku_id"]).size()
    sold = detail[detail["period"] == "before"].groupby(["store_id", "sku_id"])[["amount", "quantity"]].sum()
    days_before = (before[1] - before[0]).days + 1
    lost = outs[outs["local_date"] >= window[0]].copy()
    rates = []
    for store_id, sku_id in zip(lost["store_id"], lost["sku_id"]):
        if (store_id, sku_id) in sold.index:
            amount, quantity = sold.loc[(store_id, sku_id)]
            in_stock = max(days_before - int(out_before.get((store_id, sku_id), 0)), 1)
            rates.append(float(amount) / in_stock)
        else:
            rates.append(0.0)
    lost["lost_sales"] = rates
    return detail, lost


def diagnose(backend, *, enterprise_id: int, day: date, window: int = D.WINDOW, history: int = D.HISTORY,
             progress=None) -> Outcome:
    """Deviations of every store and region of the enterprise in the `window` days ending on `day`, explained."""
    clock = time.perf_counter()
    timings = {}
    since = day - timedelta(days=window + history - 1)
    window_range = (day - timedelta(days=window - 1), day)
    before_range = (window_range[0] - timedelta(days=BASELINE), window_range[0] - timedelta(days=1))
    stores, regions = _nodes(backend, enterprise_id)
    if progress:
        progress(1, 4)
    facts = {name: backend.table(name).filter(_.enterprise_id == enterprise_id)
             for name in ("fact_order", "fact_event", "fact_stock_move", "fact_order_line")}
    days = D.store_days(facts["fact_order"], facts["fact_event"], facts["fact_stock_move"],
                        facts["fact_order_line"], since=since, until=day).to_pyarrow().to_pandas()
    days = days.rename(columns={"store_id": "node_id"})
    timings["read"] = time.perf_counter() - clock
    if progress:
        progress(2, 4)
    frames = D.dense(days, list(stores), since, day)
    stats: dict = {}
    store_devs = D.deviations(frames, stores, window=window, peers_of=_peers(stores), stats=stats)
    region_frames = {}
    for region_id in regions:
        members = [frames[s] for s, node in stores.items() if node.region_id == region_id]
        if members:
            region_frames[region_id] = sum(members[1:], members[0])
    region_peers = {r: [p for p in region_frames if p != r] for r in region_frames}
    region_devs = D.deviations(region_frames, regions, window=window, peers_of=region_peers, stats=stats)
    timings["detect"] = time.perf_counter() - clock - timings["read"]
    if progress:
        progress(3, 4)
    drafts = []
    names = _names(backend, enterprise_id)
    flagged = sorted({d.node.node_id for d in store_devs})
    detail, lost = (_detail(backend, enterprise_id, flagged, before_range, window_range) if flagged
                    else (pd.DataFrame(), pd.DataFrame()))
    w = window
    for dev in store_devs:
        frame = frames[dev.node.node_id]
        lines = detail[detail["store_id"] == dev.node.node_id] if len(detail) else pd.DataFrame(
            columns=["period", "guide_id", "category_id", "sku_id", "amount", "quantity", "returned"])
        out = lost[lost["store_id"] == dev.node.node_id] if len(lost) else pd.DataFrame(
            columns=["category_id", "sku_id", "lost_sales"])
        explanation = explain_store(dev.kpi, frame.iloc[-w - BASELINE:-w], frame.iloc[-w:], lines, out, names)
        drafts.append(Draft(dev, explanation))
    store_names = {s: n.name for s, n in stores.items()}
    for dev in region_devs:
        change = {}
        for s, node in stores.items():
            if node.region_id == dev.node.node_id:
                values = D.kpi_values(frames[s], dev.kpi).fillna(0)
                weight = frames[s]["sales"].iloc[-w:].sum() if dev.kpi in D.RATIOS else 1
                change[s] = float((values.iloc[-w:].mean() - values.iloc[-w - BASELINE:-w].mean()) * (weight or 1))
        explanation = explain_region(change, store_names)
        if explanation is not None:
            drafts.append(Draft(dev, explanation))
    timings["explain"] = time.perf_counter() - clock - timings["read"] - timings["detect"]
    if progress:
        progress(4, 4)
    return Outcome(_merged(drafts), window_range, len(stores), len(regions),
                   (len(stores) + len(regions)) * len(D.KPIS), stats.get("fitted", 0), timings)


def _merged(drafts: list[Draft]) -> list[Draft]:
    """One finding per node, driver and owner: the most telling KPI leads, the others are listed with it."""
    groups: dict = {}
    for draft in sorted(drafts, key=lambda d: KPI_ORDER[d.deviation.kpi]):
        e = draft.explanation
        key = (draft.deviation.node.node_id, e.driver, e.owner_role, tuple(sorted(e.owner_ref.items())))
        if key in groups:
            groups[key].also.append(draft.deviation.kpi)
        else:
            groups[key] = draft
    return list(groups.values())
