"""Computed tags as Ibis functions, against a hand-computed fixture (an in-memory DuckDB, no OLTP involved).

Today is 2026-12-07; the RFM window is the 365 days up to it (2025-12-08 .. 2026-12-07).
member  sales (local date: net fen, items, store)                               registered
 10     2026-01-01: 100 ×1 @5, 2026-11-30: 200 ×2 @6                            2025-01-01
 11     2026-12-01: 300 ×3 @5                                                   2025-01-01
 12     2026-06-01: 50 ×1 @5                                                    2025-01-01
 13     2026-12-05: 1000 ×1 @6, and a fully refunded order (net 0) on 2026-12-06 2025-01-01
 14     2025-01-01: 10 ×1 @6 (outside the window)                               2025-01-01
 15     none                                                                    2026-12-01
 16     none                                                                    2025-01-01
 17     merged into 10: 2026-10-01: 400 ×1 @5 counts for 10                     2025-01-01
 18     erased: 2026-12-01: 999 ×1 @5 counts for nobody                         2025-01-01
 99     another enterprise's member, 2026-12-06: 5000                           2025-01-01
"""
from datetime import date

import ibis
import pytest

from yundian.analytics.warehouse_tables import DIM_MEMBER, FACT_ORDER, FACT_ORDER_LINE
from yundian.cdp import computed as C

pytestmark = pytest.mark.once
TODAY = date(2026, 12, 7)
D = date


@pytest.fixture(scope="module")
def tables():
    orders = [  # order, member, store, date, net, items
        (1, 10, 5, D(2026, 1, 1), 100, 1), (2, 10, 6, D(2026, 11, 30), 200, 2), (3, 11, 5, D(2026, 12, 1), 300, 3),
        (4, 12, 5, D(2026, 6, 1), 50, 1), (5, 13, 6, D(2026, 12, 5), 1000, 1), (6, 13, 6, D(2026, 12, 6), 0, 1),
        (7, 14, 6, D(2025, 1, 1), 10, 1), (8, 17, 5, D(2026, 10, 1), 400, 1), (9, 18, 5, D(2026, 12, 1), 999, 1),
        (10, 99, 7, D(2026, 12, 6), 5000, 1),
    ]
    con = ibis.duckdb.connect()
    con.create_table("fact_order", FACT_ORDER.arrow({
        "order_id": [o[0] for o in orders], "enterprise_id": [2 if o[1] == 99 else 1 for o in orders],
        "member_id": [o[1] for o in orders], "store_id": [o[2] for o in orders], "local_date": [o[3] for o in orders],
        "net_total": [o[4] for o in orders], "item_count": [o[5] for o in orders], "is_sale": [True] * len(orders)}))
    lines = [(1, 70, 100), (2, 71, 150), (2, 70, 50), (3, 70, 300), (4, 72, 50), (5, 71, 1000), (8, 72, 400)]
    con.create_table("fact_order_line", FACT_ORDER_LINE.arrow({
        "order_id": [l[0] for l in lines], "category_id": [l[1] for l in lines], "net_amount": [l[2] for l in lines],
        "is_sale": [True] * len(lines)}))
    members = [10, 11, 12, 13, 14, 15, 16, 17, 18, 99]
    con.create_table("dim_member", DIM_MEMBER.arrow({
        "member_id": members, "enterprise_id": [2 if m == 99 else 1 for m in members],
        "canonical_member_id": [10 if m == 17 else m for m in members],
        "is_erased": [m == 18 for m in members],
        "registered_date": [D(2026, 12, 1) if m == 15 else D(2025, 1, 1) for m in members]}))
    return con


def profiles(con, thresholds=C.Thresholds()) -> dict[int, dict]:
    expr = C.member_profiles(con.table("fact_order"), con.table("fact_order_line"), con.table("dim_member"),
                             enterprise_id=1, today=TODAY, thresholds=thresholds)
    return {row["member_id"]: row for row in expr.to_pyarrow().to_pylist()}


def test_rfm_quintiles_and_groups_match_the_hand_computed_figures(tables):
    got = profiles(tables)
    # buyers in the window: 10 (3 sales incl. merged 17's, 700 fen, last 11-30), 11 (1, 300, 12-01),
    # 12 (1, 50, 06-01), 13 (1, 1000, 12-05); n = 4, score = floor(5 * min rank / 4) + 1
    # recency ascending by last date: 12 (rank 0 -> 1), 10 (1 -> 2), 11 (2 -> 3), 13 (3 -> 4)
    # frequency: 11, 12, 13 tie at 1 (rank 0 -> 1), 10 has 3 (rank 3 -> 4)
    # monetary: 12 50 (1), 11 300 (2), 10 700 (3 -> floor(10/4)+1 = 3), 13 1000 (4)
    rfm = {m: (r["recency_days"], r["frequency"], r["monetary"], r["r_score"], r["f_score"], r["m_score"], r["rfm_group"])
           for m, r in got.items() if r["r_score"] is not None}
    assert rfm == {
        10: (7, 3, 700, 2, 4, 3, "general_retention"),
        11: (6, 1, 300, 3, 1, 2, "general_winback"),
        12: (189, 1, 50, 1, 1, 1, "general_winback"),
        13: (2, 1, 1000, 4, 1, 4, "important_development"),
    }
    assert set(got) == {10, 11, 12, 13, 14, 15, 16}  # merged-away 17, erased 18 and 99 of another chain: none


def test_lifecycle_stages_follow_the_thresholds(tables):
    got = profiles(tables)
    # 10: latest 11-30 after 10-01: gap 60 < 180, first sale 2026-01-01 -> active (7 days)
    # 11: first sale 6 days ago -> new; 12: 189 days -> dormant (180 < 189 <= 365); 13: first sale 2 days ago -> new
    # 14: 705 days -> lost; 15: no sale, registered 6 days ago -> new; 16: no sale, registered long ago -> dormant
    assert {m: r["lifecycle"] for m, r in got.items()} == {
        10: "active", 11: "new", 12: "dormant", 13: "new", 14: "lost", 15: "new", 16: "dormant"}
    # thresholds moved: active only 5 days, dormant after 6, lost after 100, new 1 day, won back 5 days:
    # 10 (7 days > 6) dormant, 11 (6 days: > 5, <= 6) at risk, 12 (189 > 100) lost, 13 (2 days, first sale 2 days
    # ago > 1) active, 15 (no sale, registered 6 days ago > 1) dormant
    tight = C.Thresholds(new_days=1, active_days=5, dormant_days=6, lost_days=100, won_back_days=5)
    assert {m: r["lifecycle"] for m, r in profiles(tables, tight).items()} == {
        10: "dormant", 11: "at_risk", 12: "lost", 13: "active", 14: "lost", 15: "dormant", 16: "dormant"}


def test_a_member_back_after_a_long_gap_is_won_back(tables):
    # 10 with won back for 30 days after a 50-day gap: latest 11-30 came 60 days after 10-01
    got = profiles(tables, C.Thresholds(new_days=5, active_days=40, dormant_days=50, lost_days=300, won_back_days=30))
    assert got[10]["lifecycle"] == "won_back"
    assert got[12]["lifecycle"] == "dormant"  # 189 days: more than dormant (50), not more than lost (300)


def test_preferred_store_category_and_price_band(tables):
    got = profiles(tables)
    # 10: store 5 (100 + 400) beats store 6 (200); category 72 (400) beats 70 (150) and 71 (150)
    # price band by net spend per item: 10 700/4 = 175, 11 100, 12 50, 13 1000 -> thirds of n = 4:
    # 12 rank 0 -> low, 11 rank 1 -> floor(3/4)+1 = 1 low, 10 rank 2 -> floor(6/4)+1 = 2 mid, 13 rank 3 -> high
    assert {m: (r["store_id"], r["category_id"], r["price_band"]) for m, r in got.items()
            if r["store_id"] is not None} == {
        10: (5, 72, "mid"), 11: (5, 70, "low"), 12: (5, 72, "low"), 13: (6, 71, "high")}
