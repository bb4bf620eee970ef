"""Synthetic store histories written straight into a warehouse, with problems planted on purpose (tests, bench).

Each store has a daily footfall (weekends busier), a conversion near 25 %, one-line orders of SKUs chosen by
popularity, each sold by one of the store's guides, 40 % to members, 20 % under a promotion, 2 % refunded. Stock:
every SKU is received weekly to cover the next week, sales issue it at 60 % cost, a rare small write-off.

Problems (`plant`), each in the last `window` days only:
    ("conversion", store)            the store converts 40 % fewer of its visitors
    ("guide", store, guide)          the guide sells 85 % less (their customers walk out)
    ("stockout", store, category)    the category's SKUs run out at the window's start and are not received again
    ("phantom", store, sku)          the SKU stops selling while the system still shows it in stock (it is gone)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

@dataclass
class Shape:
    enterprise_id: int
    day: date  # the window's last day
    stores: dict[int, tuple[str, str]]  # store id -> (name, org path)
    regions: dict[int, tuple[str, str]]  # region id -> (name, org path)
    guides: dict[int, list[int]]  # store id -> guide staff ids
    skus: list[tuple[int, int, int, float]]  # (sku id, category id, price fen, popularity weight)
    category_names: dict[int, str] = field(default_factory=dict)
    hq: tuple[int, str] = (0, "/0/")
    days: int = 126
    window: int = 14
    traffic: float = 120.0
    plant: list[tuple] = field(default_factory=list)
    warehouses: dict[int, int] = field(default_factory=dict)  # store id -> its warehouse id (default: the store id)

def generate(shape: Shape, seed: int = 0) -> dict[str, dict]:
    """Columns per warehouse table for the shape's history (see the module doc), built with numpy arrays."""
    rng = np.random.default_rng(seed)
    start = np.datetime64(shape.day - timedelta(days=shape.days - 1), "D")
    dates = start + np.arange(shape.days)
    window_from = shape.days - shape.window
    weekday = np.where(((dates.astype("int64") + 3) % 7) >= 5, 1.3, 1.0)  # 1970-01-01 was a Thursday (3)
    sku_ids = np.array([s[0] for s in shape.skus])
    sku_cat = np.array([s[1] for s in shape.skus])
    price = np.array([s[2] for s in shape.skus])
    weights = np.array([s[3] for s in shape.skus], dtype=float)
    weights /= weights.sum()
    conversion = {p[1] for p in shape.plant if p[0] == "conversion"}
    guide_drop = {(p[1], p[2]) for p in shape.plant if p[0] == "guide"}
    out_cats = {(p[1], p[2]) for p in shape.plant if p[0] == "stockout"}
    phantom = {(p[1], p[2]) for p in shape.plant if p[0] == "phantom"}
    orders, events, moves = [], [], []
    for store_id, (_name, path) in shape.stores.items():
        traffic = rng.poisson(shape.traffic * rng.uniform(0.8, 1.2) * weekday)
        rate = np.full(shape.days, 0.25)
        if store_id in conversion:
            rate[window_from:] *= 0.6
        count = rng.binomial(traffic, rate)
        day = np.repeat(np.arange(shape.days), count)
        n = len(day)
        pick = rng.choice(len(sku_ids), size=n, p=weights)
        guides = np.array(shape.guides.get(store_id) or [0])
        guide = guides[rng.integers(0, len(guides), size=n)]
        keep = np.ones(n, dtype=bool)
        late = day >= window_from
        for (s, category) in out_cats:
            if s == store_id:
                keep &= ~(late & (sku_cat[pick] == category))
        for (s, sku) in phantom:
            if s == store_id:
                keep &= ~(late & (sku_ids[pick] == sku))
        for (s, g) in guide_drop:
            if s == store_id:
                keep &= ~(late & (guide == g) & (rng.random(n) < 0.85))
        day, pick, guide = day[keep], pick[keep], guide[keep]
        n = len(day)
        member = np.where(rng.random(n) < 0.4, rng.integers(1, 5000, size=n), -1)
        amount = price[pick]
        refunded = np.where(rng.random(n) < 0.02, amount, 0)
        orders.append({"store": np.full(n, store_id), "path": [path] * n, "day": day, "hour": rng.integers(10, 21, n),
                       "member": member, "guide": guide, "sku": sku_ids[pick], "category": sku_cat[pick],
                       "amount": amount, "refunded": refunded, "promo": rng.random(n) < 0.2})
        events.append((store_id, path, np.repeat(np.arange(shape.days), traffic)))
        for k, sku in enumerate(sku_ids):
            sold = np.bincount(day[pick == k], minlength=shape.days)
            cost = int(price[k] * 0.6)
            out = (store_id, int(sku_cat[k])) in out_cats
            stock = 0
            rows = []
            for i in range(shape.days):
                if i % 7 == 0 and not (out and i >= window_from):
                    need = int(sold[i:i + 7].sum()) + (0 if out and i + 7 > window_from else 3)
                    rows.append(("receipt", need, i))
                    stock += need
                if sold[i]:
                    rows.append(("sale_issue", -int(sold[i]), i))
                    stock -= int(sold[i])
                if stock > 0 and rng.random() < 0.003:
                    rows.append(("adjustment", -1, i))
                    stock -= 1
            if out and stock > 0:
                rows.append(("sale_issue", -stock, window_from - 1))
            moves.extend((store_id, path, int(sku), int(sku_cat[k]), kind, q, q * cost, i) for kind, q, i in rows)
    return _columns(shape, orders, events, moves, dates)

def _columns(shape: Shape, orders, events, moves, dates) -> dict[str, dict]:
    ent = shape.enterprise_id
    nodes = [(shape.hq[0], None, "hq", "HQ", shape.hq[1])]
    nodes += [(r, shape.hq[0], "region", name, path) for r, (name, path) in shape.regions.items()]
    for s, (name, path) in shape.stores.items():
        parent = int(path.strip("/").split("/")[-2])
        nodes.append((s, parent, "store", name, path))
    staff = [(g, s) for s, gs in shape.guides.items() for g in gs if g]
    o = {k: np.concatenate([np.asarray(x[k]) for x in orders]) for k in orders[0]}
    n = len(o["day"])
    ids = np.arange(1, n + 1)
    local = dates[o["day"]]
    at = local.astype("datetime64[s]") + o["hour"].astype("timedelta64[h]")
    member = [None if m < 0 else int(m) for m in o["member"]]
    guide = [int(g) if g else None for g in o["guide"]]
    net = o["amount"] - o["refunded"]
    e_store = np.concatenate([np.full(len(d), s) for s, _p, d in events])
    e_path = [p for _s, p, d in events for _i in range(len(d))]
    e_day = dates[np.concatenate([d for _s, _p, d in events])]
    m = len(moves)
    m_day = dates[np.array([r[7] for r in moves])]
    same = {"enterprise_id": np.full(n, ent), "org_path": o["path"], "store_id": o["store"], "member_id": member,
            "channel": ["pos"] * n, "status": ["completed"] * n, "placed_at": at, "local_date": local,
            "local_hour": o["hour"].astype(np.int32), "is_sale": np.ones(n, dtype=bool)}
    return {
        "dim_org": {"node_id": [x[0] for x in nodes], "enterprise_id": [ent] * len(nodes),
                    "parent_id": [x[1] for x in nodes], "kind": [x[2] for x in nodes],
                    "code": [f"N{x[0]}" for x in nodes], "name": [x[3] for x in nodes],
                    "org_path": [x[4] for x in nodes], "depth": [x[4].count("/") - 2 for x in nodes],
                    "is_active": [True] * len(nodes)},
        "dim_sku": {"sku_id": [s[0] for s in shape.skus], "enterprise_id": [ent] * len(shape.skus),
                    "code": [f"SKU{s[0]}" for s in shape.skus], "name": [f"SKU {s[0]}" for s in shape.skus],
                    "product_id": [s[0] for s in shape.skus], "product_name": [f"Product {s[0]}" for s in shape.skus],
                    "brand": [""] * len(shape.skus), "category_id": [s[1] for s in shape.skus],
                    "category_name": [shape.category_names.get(s[1], f"Category {s[1]}") for s in shape.skus],
                    "category_path": [f"/{s[1]}/" for s in shape.skus], "base_price": [s[2] for s in shape.skus],
                    "is_active": [True] * len(shape.skus)},
        "dim_staff": {"staff_id": [g for g, _s in staff], "enterprise_id": [ent] * len(staff),
                      "home_id": [s for _g, s in staff], "org_path": [shape.stores[s][1] for _g, s in staff],
                      "display_name": [f"Guide {g}" for g, _s in staff], "is_active": [True] * len(staff)},
        "fact_order": {**same, "order_id": ids, "clerk_id": guide, "mode": ["take_now"] * n, "paid_at": at,
                       "subtotal": o["amount"], "discount_total": np.zeros(n, dtype=np.int64), "total": o["amount"],
                       "paid_total": o["amount"], "refunded_total": o["refunded"], "net_total": net,
                       "line_count": np.ones(n, dtype=np.int32), "item_count": np.ones(n, dtype=np.int64),
                       "share_code": [None] * n, "has_promotion": o["promo"], "updated_at": at},
        "fact_order_line": {**same, "line_id": ids, "order_id": ids, "line_no": np.ones(n, dtype=np.int32),
                            "guide_id": guide, "clerk_id": guide, "sku_id": o["sku"], "product_id": o["sku"],
                            "category_id": o["category"], "is_weighed": np.zeros(n, dtype=bool),
                            "quantity": np.ones(n, dtype=np.int64),
                            "returned_quantity": (o["refunded"] > 0).astype(np.int64),
                            "net_quantity": (o["refunded"] == 0).astype(np.int64), "list_price": o["amount"],
                            "unit_price": o["amount"], "discount": np.zeros(n, dtype=np.int64),
                            "line_total": o["amount"], "returned_amount": o["refunded"], "net_amount": net},
        "fact_event": {"enterprise_id": np.full(len(e_day), ent), "event_key": [f"v{i}" for i in range(len(e_day))],
                       "kind": ["store_visit"] * len(e_day), "name": ["store_visit"] * len(e_day),
                       "occurred_at": e_day.astype("datetime64[s]"), "received_at": e_day.astype("datetime64[s]"),
                       "local_date": e_day, "local_hour": np.full(len(e_day), 12, dtype=np.int32),
                       "store_id": e_store, "org_path": e_path, "channel": ["pos"] * len(e_day)},
        "fact_stock_move": {
            "move_id": np.arange(1, m + 1), "enterprise_id": np.full(m, ent), "org_path": [r[1] for r in moves],
            "store_id": [r[0] for r in moves], "warehouse_id": [shape.warehouses.get(r[0], r[0]) for r in moves],
            "warehouse_kind": ["store"] * m, "sku_id": [r[2] for r in moves], "product_id": [r[2] for r in moves],
            "category_id": [r[3] for r in moves], "kind": [r[4] for r in moves], "quantity": [r[5] for r in moves],
            "reserved_delta": np.zeros(m, dtype=np.int64), "source_type": [""] * m, "source_id": [""] * m,
            "occurred_at": m_day.astype("datetime64[s]"), "local_date": m_day, "value": [r[6] for r in moves]},
    }

def write(shape: Shape, seed: int = 0) -> None:
    """Generate the shape's history and write it into the warehouse (settings.WAREHOUSE_PATH), replacing it."""
    from yundian.core.warehouse import rows_insert, tables, warehouse_write

    data = generate(shape, seed)
    specs = tables()
    with warehouse_write() as con:
        for name, columns in data.items():
            con.execute(f'DELETE FROM "{name}"')
            rows_insert(con, specs[name], specs[name].arrow(columns))


def clean_frames(seed: int, stores: int = 9, days: int = 126, traffic: float = 60.0) -> dict[int, "object"]:
    """Day frames as analytics.diagnosis.dense makes them, for clean stores drawn like `generate`'s (no warehouse):
    for measuring the false-positive rate over many seeds quickly."""
    import pandas as pd

    from yundian.analytics.diagnosis import COLUMNS

    rng = np.random.default_rng(seed)
    index = pd.date_range(date(2026, 11, 29) - timedelta(days=days - 1), periods=days, freq="D").date
    weekday = np.array([1.3 if d.weekday() >= 5 else 1.0 for d in index])
    frames = {}
    for store in range(stores):
        visits = rng.poisson(traffic * rng.uniform(0.8, 1.2) * weekday)
        orders = rng.binomial(visits, 0.25)
        # each order one of 9 SKUs at 80 / 30 / 15 yuan, 40 % members, 20 % under a promotion, 2 % refunded
        baskets = [rng.choice([8000, 3000, 1500], size=n) for n in orders]
        sales = np.array([b.sum() for b in baskets])
        refunds = np.array([(b * (rng.random(len(b)) < 0.02)).sum() for b in baskets])
        member = np.array([(b * (rng.random(len(b)) < 0.4)).sum() for b in baskets])
        promo = np.array([(b * (rng.random(len(b)) < 0.2)).sum() for b in baskets])
        columns = {"sales": sales - refunds, "orders": orders, "traffic": visits, "member_sales": member,
                   "promo_sales": promo, "returns": refunds, "shrink": np.where(rng.random(days) < 0.02, 2400, 0),
                   "cogs": (sales * 0.6).astype(int), "stockouts": np.zeros(days, dtype=int)}
        frames[store] = pd.DataFrame({c: columns[c] for c in COLUMNS}, index=index)
    return frames
