"""The dashboard's metric functions against a hand-counted warehouse: nine windows of sales, repurchase and new
members, top products, the period arithmetic (month ends, 29 February). Warehouse only: marked once."""
from datetime import date

import ibis
import pytest

from yundian.analytics import metrics
from yundian.analytics import warehouse_tables as T
from yundian.analytics.dashboard import period_windows

pytestmark = pytest.mark.once

TODAY = date(2026, 12, 9)  # a Wednesday
D = date.fromisoformat
ORDERS = [  # order_id, enterprise, org_path, member, date, is_sale, net_total
    (1, 1, "/1/2/10/", 1, "2026-12-09", True, 10000),
    (2, 1, "/1/2/10/", None, "2026-12-09", True, 5000),
    (3, 1, "/1/3/20/", 2, "2026-12-08", True, 3000),
    (4, 1, "/1/3/20/", 1, "2026-12-01", True, 2000),
    (5, 1, "/1/2/10/", 3, "2026-12-09", False, 0),  # cancelled
    (6, 1, "/1/2/10/", 2, "2025-12-10", True, 7000),
    (7, 1, "/1/2/10/", 3, "2026-11-05", True, 1000),
    (8, 1, "/1/2/10/", 3, "2026-12-07", True, 4000),
    (9, 2, "/9/", 9, "2026-12-09", True, 99999),  # another enterprise
    (10, 1, "/1/3/20/", 4, "2026-12-05", True, 500),
]
MEMBERS = [  # member_id, org_path, registered, canonical
    (1, "/1/2/10/", "2026-12-09", 1), (2, "/1/3/20/", "2026-12-08", 2), (3, "/1/2/10/", "2026-11-03", 3),
    (4, "/1/3/20/", "2026-12-09", 1), (5, "/1/2/10/", "2025-12-10", 5),
]


def _table(con, spec, rows: list[dict]):
    columns = {name: [row.get(name) for row in rows] for name in spec.columns}
    con.con.from_arrow(spec.arrow(columns)).create(spec.name)
    return con.table(spec.name)


@pytest.fixture(scope="module")
def wh():
    con = ibis.duckdb.connect()
    _table(con, T.FACT_ORDER, [
        {"order_id": o, "enterprise_id": e, "org_path": p, "store_id": 10 if p.endswith("/10/") else 20,
         "member_id": m, "local_date": D(d), "is_sale": s, "net_total": n} for o, e, p, m, d, s, n in ORDERS])
    _table(con, T.DIM_MEMBER, [
        {"member_id": m, "enterprise_id": 1, "org_path": p, "registered_date": D(d), "canonical_member_id": c}
        for m, p, d, c in MEMBERS])
    _table(con, T.FACT_ORDER_LINE, [
        {"line_id": n, "order_id": n, "enterprise_id": 1, "org_path": "/1/2/10/", "product_id": product,
         "local_date": D(d), "is_sale": sale, "net_quantity": q, "net_amount": amount}
        for n, product, d, sale, q, amount in [
            (1, 1, "2026-12-02", True, 3, 300), (2, 2, "2026-12-03", True, 1, 500), (3, 1, "2026-12-09", True, 1, 90),
            (4, 3, "2026-12-09", False, 5, 0), (5, 3, "2026-11-30", True, 9, 9000)]])
    return con


def by_key(expr) -> dict[str, tuple]:
    return {row.pop("key"): tuple(row.values()) for row in expr.to_pyarrow().to_pylist()}


def test_the_nine_windows_of_a_wednesday_and_of_month_ends():
    w = period_windows(TODAY)
    assert w == {
        "day_now": (D("2026-12-09"),) * 2, "day_previous": (D("2026-12-08"),) * 2,
        "day_last_year": (D("2025-12-10"),) * 2,  # 52 weeks back: a Wednesday too
        "week_now": (D("2026-12-07"), TODAY), "week_previous": (D("2026-11-30"), D("2026-12-02")),
        "week_last_year": (D("2025-12-08"), D("2025-12-10")),
        "month_now": (D("2026-12-01"), TODAY), "month_previous": (D("2026-11-01"), D("2026-11-09")),
        "month_last_year": (D("2025-12-01"), D("2025-12-09")),
    }
    assert period_windows(D("2026-03-31"))["month_previous"] == (D("2026-02-01"), D("2026-02-28"))
    assert period_windows(D("2028-02-29"))["month_last_year"] == (D("2027-02-01"), D("2027-02-28"))


def test_sales_windows_count_orders_net_sales_buyers_and_member_sales_per_window(wh):
    orders = metrics.in_scope(wh.table("fact_order"), None, 1)
    got = by_key(metrics.sales_windows(orders, period_windows(TODAY)))
    # orders, net_sales, buyers, member_orders, member_sales
    assert list(got) == list(period_windows(TODAY))
    assert got == {
        "day_now": (2, 15000, 1, 1, 10000), "day_previous": (1, 3000, 1, 1, 3000),
        "day_last_year": (1, 7000, 1, 1, 7000),
        "week_now": (4, 22000, 3, 3, 17000), "week_previous": (1, 2000, 1, 1, 2000),
        "week_last_year": (1, 7000, 1, 1, 7000),
        "month_now": (6, 24500, 4, 5, 19500), "month_previous": (1, 1000, 1, 1, 1000),
        "month_last_year": (0, 0, 0, 0, 0),
    }
    region = by_key(metrics.sales_windows(metrics.in_scope(wh.table("fact_order"), ["/1/3/"], 1),
                                          period_windows(TODAY)))
    assert region["month_now"] == (3, 5500, 3, 3, 5500) and region["day_now"] == (0, 0, 0, 0, 0)
    summary = metrics.sales_summary(orders, D("2026-12-01"), TODAY).to_pyarrow().to_pylist()[0]
    assert (summary["orders"], summary["net_sales"], summary["member_sales"], summary["aov"]) == (6, 24500, 19500, 4083)


def test_repurchase_counts_a_buyer_who_bought_on_another_day_before_or_within_the_window(wh):
    orders = metrics.in_scope(wh.table("fact_order"), None, 1)
    got = by_key(metrics.repurchase_windows(orders, period_windows(TODAY)))  # buyers, repeat
    assert got == {
        "day_now": (1, 1),  # member 1 bought on 12-01 before
        "day_previous": (1, 1),  # member 2 bought a year before
        "day_last_year": (1, 0),  # member 2's first purchase
        "week_now": (3, 3), "week_previous": (1, 0), "week_last_year": (1, 0),
        "month_now": (4, 3),  # member 4 bought once only
        "month_previous": (1, 0), "month_last_year": (0, 0),
    }
    region = by_key(metrics.repurchase_windows(metrics.in_scope(wh.table("fact_order"), ["/1/3/"], 1),
                                               period_windows(TODAY)))
    assert region["month_now"] == (3, 0)  # within the region each bought on one day only


def test_new_members_count_each_person_once_in_the_window_they_joined(wh):
    members = metrics.in_scope(wh.table("dim_member"), None, 1)
    got = by_key(metrics.new_members_windows(members, period_windows(TODAY)))
    assert {k: v[0] for k, v in got.items()} == {
        "day_now": 1, "day_previous": 1, "day_last_year": 1, "week_now": 2, "week_previous": 0,
        "week_last_year": 1, "month_now": 2, "month_previous": 1, "month_last_year": 0}  # member 4 merged into 1
    store = by_key(metrics.new_members_windows(metrics.in_scope(wh.table("dim_member"), ["/1/3/"], 1),
                                               period_windows(TODAY)))
    assert store["month_now"] == (1,)


def test_sales_by_product_nets_returns_and_leaves_non_sales_out(wh):
    rows = metrics.sales_by_product(wh.table("fact_order_line"), D("2026-12-01"), TODAY).to_pyarrow().to_pylist()
    assert rows == [{"product_id": 2, "units": 1, "net_sales": 500}, {"product_id": 1, "units": 4, "net_sales": 390}]
