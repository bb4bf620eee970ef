"""A tiny chain written straight into a warehouse, small enough to compute every report by hand.

Org: HQ 1 (/1/) -> east 2 (/1/2/) -> stores A 4 (/1/2/4/) and B 5 (/1/2/5/); west 3 (/1/3/) -> store C 6 (/1/3/6/).
The week under test is Mon 2026-11-02 .. Sun 2026-11-08; the week before holds two orders.

 order store channel    member day    net    guide(s)         note
 1     A     pos        100    11-02  10000  7
 2     A     pos        100    11-04   5000  7 (two lines: 3000 + 2000)
 3     A     storefront 101    11-04   8000  8                share code S1, a coupon of campaign 70 (¥5)
 4     A     pos        -      11-05   2000  7                paid half cash, half card
 5     B     pos        102    11-03   6000  9                hour 22 (store hours 10-22)
 6     C     pos        103    11-06   4000  10               103 lives in A
 7     A     pos        100    11-05   0     7                cancelled (not a sale)
 8     A     pos        100    10-27   7000  7                the week before
 9     B     pos        -      10-28   3000  9                the week before

Members: 100 (A, joined 2026-01-01, guide 7), 101 (A, 2026-11-03, guide 8), 102 (B, 2026-05-01), 103 (A, 2026-02-01),
104 (B, 2026-11-10, after the week), 105 (C, 2026-03-01), 106 (merged into 100).
Events: store A 11-02 five door counts and device d1 browsing; 11-04 four door counts, member 101 on d2 and d3
browsing; store B 11-03 three door counts; nothing else.
"""
from datetime import date, datetime

from yundian.analytics import warehouse_tables as T
from yundian.cdp import warehouse_tables as C
from yundian.core.warehouse import rows_replace, warehouse_write

PATHS = {4: "/1/2/4/", 5: "/1/2/5/", 6: "/1/3/6/"}
WEEK = (date(2026, 11, 2), date(2026, 11, 8))
WEEK_BEFORE = (date(2026, 10, 26), date(2026, 11, 1))

ORDERS = [
    # order, store, channel, member, day, hour, net, is_sale, share code, [(guide, amount, category, sku, qty)]
    (1, 4, "pos", 100, date(2026, 11, 2), 11, 10000, True, "", [(7, 10000, 11, 111, 2)]),
    (2, 4, "pos", 100, date(2026, 11, 4), 12, 5000, True, "", [(7, 3000, 11, 112, 1), (7, 2000, 12, 121, 1)]),
    (3, 4, "storefront", 101, date(2026, 11, 4), 20, 8000, True, "S1", [(8, 8000, 12, 122, 4)]),
    (4, 4, "pos", None, date(2026, 11, 5), 15, 2000, True, "", [(7, 2000, 11, 111, 1)]),
    (5, 5, "pos", 102, date(2026, 11, 3), 22, 6000, True, "", [(9, 6000, 12, 121, 3)]),
    (6, 6, "pos", 103, date(2026, 11, 6), 18, 4000, True, "", [(10, 4000, 11, 112, 2)]),
    (7, 4, "pos", 100, date(2026, 11, 5), 16, 0, False, "", [(7, 0, 11, 111, 0)]),
    (8, 4, "pos", 100, date(2026, 10, 27), 11, 7000, True, "", [(7, 7000, 11, 111, 1)]),
    (9, 5, "pos", None, date(2026, 10, 28), 13, 3000, True, "", [(9, 3000, 12, 121, 1)]),
]
MEMBERS = [  # member, home store, joined, guide, canonical
    (100, 4, date(2026, 1, 1), 7, 100), (101, 4, date(2026, 11, 3), 8, 101), (102, 5, date(2026, 5, 1), None, 102),
    (103, 4, date(2026, 2, 1), None, 103), (104, 5, date(2026, 11, 10), None, 104),
    (105, 6, date(2026, 3, 1), None, 105), (106, 4, date(2026, 1, 1), 7, 100),
]
NODES = [(1, None, "hq", "总部", "/1/"), (2, 1, "region", "华东", "/1/2/"), (3, 1, "region", "华西", "/1/3/"),
         (4, 2, "store", "Store A", "/1/2/4/"), (5, 2, "store", "Store B", "/1/2/5/"),
         (6, 3, "store", "Store C", "/1/3/6/")]
STAFF = [(7, 4, "Guide Seven"), (8, 4, "Guide Eight"), (9, 5, "Guide Nine"), (10, 6, "Guide Ten")]
SKUS = [(111, 11, "Tee S", "Tees"), (112, 11, "Tee M", "Tees"), (121, 12, "Mug", "Mugs"), (122, 12, "Cup", "Mugs")]


def _cols(spec, rows: list[dict]) -> dict:
    return {name: [r.get(name) for r in rows] for name in spec.columns}


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour) 


def _events() -> list[dict]:
    rows, n = [], 0

    def add(store, day, kind, channel, member=None, device=None):
        nonlocal n
        n += 1
        rows.append({"enterprise_id": 1, "event_key": f"e{n}", "kind": kind, "name": kind, "occurred_at": _at(day, 12),
                     "received_at": _at(day, 12), "local_date": day, "local_hour": 12, "anonymous_id": device,
                     "member_id": member, "store_id": store, "org_path": PATHS[store], "channel": channel})
    for _ in range(5):
        add(4, date(2026, 11, 2), "store_visit", "pos")
    add(4, date(2026, 11, 2), "page_view", "storefront", device="d1")
    add(4, date(2026, 11, 2), "product_view", "storefront", device="d1")
    for _ in range(4):
        add(4, date(2026, 11, 4), "store_visit", "pos")
    for _ in range(3):
        add(4, date(2026, 11, 4), "page_view", "storefront", member=101, device="d2")
    add(4, date(2026, 11, 4), "page_view", "miniprogram", device="d3")
    for _ in range(3):
        add(5, date(2026, 11, 3), "store_visit", "pos")
    return rows


def write_facts() -> None:
    """Write the chain above into the (empty) warehouse of settings.WAREHOUSE_PATH."""
    orders, lines, payments = [], [], []
    line_id = 0
    for order_id, store, channel, member, day, hour, net, is_sale, share, parts in ORDERS:
        orders.append({"order_id": order_id, "enterprise_id": 1, "org_path": PATHS[store], "store_id": store,
                       "member_id": member, "clerk_id": parts[0][0], "channel": channel, "mode": "take_now",
                       "status": "completed" if is_sale else "cancelled", "placed_at": _at(day, hour),
                       "local_date": day, "local_hour": hour, "is_sale": is_sale, "subtotal": net, "total": net,
                       "paid_total": net, "refunded_total": 0, "net_total": net, "share_code": share,
                       "has_promotion": order_id == 3})
        for no, (guide, amount, category, sku, qty) in enumerate(parts, start=1):
            line_id += 1
            lines.append({"line_id": line_id, "order_id": order_id, "line_no": no, "enterprise_id": 1,
                          "org_path": PATHS[store], "store_id": store, "member_id": member, "guide_id": guide,
                          "clerk_id": guide, "channel": channel, "placed_at": _at(day, hour), "local_date": day,
                          "local_hour": hour, "is_sale": is_sale, "sku_id": sku, "product_id": sku,
                          "category_id": category, "quantity": qty, "returned_quantity": 0, "net_quantity": qty,
                          "line_total": amount, "returned_amount": 0, "net_amount": amount})
        if is_sale:
            tenders = [("cash", 1000), ("card", 1000)] if order_id == 4 else [("wallet" if channel != "pos"
                                                                               else "cash", net)]
            for method, amount in tenders:
                payments.append({"payment_id": len(payments) + 1, "order_id": order_id, "enterprise_id": 1,
                                 "org_path": PATHS[store], "store_id": store, "method": method, "amount": amount,
                                 "refunded_amount": 0, "local_date": day})
    members = [{"member_id": m, "enterprise_id": 1, "home_id": home, "org_path": PATHS[home],
                "canonical_member_id": canonical, "status": "active", "guide_id": guide, "registered_date": joined,
                "registered_at": _at(joined, 9), "is_erased": False}
               for m, home, joined, guide, canonical in MEMBERS]
    nodes = [{"node_id": i, "enterprise_id": 1, "parent_id": parent, "kind": kind, "code": f"N{i}", "name": name,
              "org_path": path, "depth": path.count("/") - 2, "is_active": True} for i, parent, kind, name, path in NODES]
    staff = [{"staff_id": i, "enterprise_id": 1, "home_id": home, "org_path": PATHS[home], "display_name": name,
              "is_active": True} for i, home, name in STAFF]
    skus = [{"sku_id": s, "enterprise_id": 1, "code": f"SKU{s}", "name": name, "product_id": s,
             "product_name": name, "category_id": cat, "category_name": cat_name, "base_price": 1000,
             "is_active": True} for s, cat, name, cat_name in SKUS]
    redemptions = [{"redemption_id": 1, "enterprise_id": 1, "org_path": PATHS[4], "store_id": 4, "campaign_id": 70,
                    "member_id": 101, "order_ref": "3", "discount": 500, "status": "redeemed",
                    "created_at": _at(date(2026, 11, 4), 20), "local_date": date(2026, 11, 4)}]
    with warehouse_write() as con:
        for spec, rows in ((T.FACT_ORDER, orders), (T.FACT_ORDER_LINE, lines), (T.FACT_PAYMENT, payments),
                           (T.DIM_MEMBER, members), (T.DIM_ORG, nodes), (T.DIM_STAFF, staff), (T.DIM_SKU, skus),
                           (T.FACT_COUPON_REDEMPTION, redemptions), (C.FACT_EVENT, _events())):
            rows_replace(con, spec, spec.arrow(_cols(spec, rows)))
