"""Each report's metric against the hand-computed chain of `facts` (warehouse only)."""
from datetime import date
from decimal import Decimal

import pytest

from yundian.analytics import report_metrics as M
from yundian.analytics.metrics import in_scope
from yundian.analytics.reports import Query, report_run
from yundian.core.money import Money
from yundian.core.warehouse import rows_replace, warehouse_read, warehouse_write
from yundian.analytics import warehouse_tables as T

from .facts import PATHS, WEEK, write_facts

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    from django.test import override_settings

    with override_settings(WAREHOUSE_PATH=tmp_path_factory.mktemp("reports") / "warehouse.duckdb"):
        write_facts()
        moves = []
        # store A, SKU 111: 10 received 10-20 (value 5000), sold 2 on 11-02 and 1 on 11-05 (cost 500 each);
        # SKU 112: 3 received, none sold (slow mover); SKU 121: 1 received 10-20, sold 1 on 11-04 (stock-out)
        for n, (sku, kind, qty, value, day) in enumerate([
                (111, "receipt", 10, 5000, date(2026, 10, 20)), (111, "sale_issue", -2, -1000, date(2026, 11, 2)),
                (111, "sale_issue", -1, -500, date(2026, 11, 5)), (112, "receipt", 3, 2400, date(2026, 10, 20)),
                (121, "receipt", 1, 700, date(2026, 10, 20)), (121, "sale_issue", -1, -700, date(2026, 11, 4))]):
            moves.append({"move_id": n + 1, "enterprise_id": 1, "org_path": PATHS[4], "store_id": 4,
                          "warehouse_id": 40, "sku_id": sku, "category_id": sku // 10, "kind": kind,
                          "quantity": qty, "value": value, "local_date": day})
        commission = [{"entry_id": 1, "enterprise_id": 1, "org_path": PATHS[4], "store_id": 4, "guide_id": 7,
                       "kind": "earned", "amount": 850, "local_date": date(2026, 11, 2)}]
        with warehouse_write() as con:
            rows_replace(con, T.FACT_STOCK_MOVE, T.FACT_STOCK_MOVE.arrow({k: [m.get(k) for m in moves]
                                                                          for k in T.FACT_STOCK_MOVE.columns}))
            rows_replace(con, T.FACT_COMMISSION_ENTRY, T.FACT_COMMISSION_ENTRY.arrow(
                {k: [m.get(k) for m in commission] for k in T.FACT_COMMISSION_ENTRY.columns}))
        yield


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _run(expr):
    return expr.to_pyarrow().to_pylist()


def _tables(wh, paths=("/1/",)):
    return {name: in_scope(wh.table(name), list(paths), 1) for name in
            ("fact_order", "fact_order_line", "fact_payment", "fact_stock_move", "fact_coupon_redemption",
             "fact_commission_entry", "dim_member")}


def test_sales_by_store_channel_category_guide_and_payment(facts):
    with warehouse_read() as wh:
        t = _tables(wh)
        by_store = _run(M.sales_by(t["fact_order"], t["fact_order_line"], "store", since=WEEK[0], until=WEEK[1]))
        by_channel = _run(M.sales_by(t["fact_order"], t["fact_order_line"], "channel", since=WEEK[0], until=WEEK[1]))
        by_category = _run(M.sales_by(t["fact_order"], t["fact_order_line"], "category", since=WEEK[0],
                                      until=WEEK[1]))
        by_guide = _run(M.sales_by(t["fact_order"], t["fact_order_line"], "guide", since=WEEK[0], until=WEEK[1]))
        by_hour = _run(M.sales_by(t["fact_order"], t["fact_order_line"], "hour", since=WEEK[0], until=WEEK[1]))
        paid = _run(M.sales_by_payment(t["fact_order"], t["fact_payment"], since=WEEK[0], until=WEEK[1]))
    assert [(r["key"], r["orders"], r["net_sales"], r["aov"]) for r in by_store] == [
        (4, 4, 25000, 6250), (5, 1, 6000, 6000), (6, 1, 4000, 4000)]
    assert [(r["key"], r["orders"], r["net_sales"]) for r in by_channel] == [("pos", 5, 27000), ("storefront", 1, 8000)]
    # tees: orders 1, 2, 4, 6 (10000 + 3000 + 2000 + 4000); mugs: 2, 3, 5 (2000 + 8000 + 6000)
    assert [(r["key"], r["orders"], r["units"], r["net_sales"], r["aov"]) for r in by_category] == [
        (11, 4, 6, 19000, 4750), (12, 3, 8, 16000, 5333)]
    assert [(r["key"], r["orders"], r["net_sales"]) for r in by_guide] == [
        (7, 3, 17000), (8, 1, 8000), (9, 1, 6000), (10, 1, 4000)]
    assert [(r["key"], r["orders"]) for r in by_hour] == [(11, 1), (12, 1), (15, 1), (18, 1), (20, 1), (22, 1)]
    assert [(r["key"], r["orders"], r["net_sales"]) for r in paid] == [
        ("cash", 5, 26000), ("wallet", 1, 8000), ("card", 1, 1000)]


def test_order_hours_and_storefront_orders_outside_store_hours(facts):
    with warehouse_read() as wh:
        t = _tables(wh)
        grid = _run(M.order_hours(t["fact_order"], since=WEEK[0], until=WEEK[1]))
        q = Query(enterprise_id=1, paths=["/1/"], since=WEEK[0], until=WEEK[1],
                  store_hours={4: {"wed": [["10:00", "20:00"]]}})
        report = report_run("order-hours", wh, q)
        q.store_hours = {4: {"wed": [["10:00", "20:30"]]}}
        inside = report_run("order-hours", wh, q)
    assert [(r["weekday"], r["hour"], r["orders"]) for r in grid] == [
        (0, 11, 1), (1, 22, 1), (2, 12, 1), (2, 20, 1), (3, 15, 1), (4, 18, 1)]
    assert report.rows[2][1 + 20] == 1 and report.rows[2][-1] == 2  # Wednesday 20:00 and the day's total
    # order 3, storefront, Wednesday 20:xx: outside 10:00-20:00, inside 10:00-20:30
    assert "1 of 1 (100.0%)" in report.notes[0] and "0 of 1 (0.0%)" in inside.notes[0]


def test_store_ranking_compares_the_same_dates_a_year_before(facts):
    with warehouse_write() as con:  # store B sold 4000 on the same weekday 52 weeks earlier
        rows_replace(con, T.FACT_ORDER, T.FACT_ORDER.arrow({
            "order_id": [900], "enterprise_id": [1], "org_path": [PATHS[5]], "store_id": [5], "channel": ["pos"],
            "local_date": [date(2025, 11, 4)], "local_hour": [10], "is_sale": [True], "net_total": [4000]}))
    try:
        with warehouse_read() as wh:
            report = report_run("store-ranking", wh, Query(enterprise_id=1, paths=["/1/"], since=WEEK[0],
                                                           until=WEEK[1]))
    finally:
        with warehouse_write() as con:
            con.execute("DELETE FROM fact_order WHERE order_id = 900")
    assert [row[:2] + row[3:] for row in report.rows] == [
        [1, "Store A", Money(25000), Money(0), None], [2, "Store B", Money(6000), Money(4000), Decimal("50.0")],
        [3, "Store C", Money(4000), Money(0), None]]
    assert "(1 " in report.notes[0] and "50.0%" in report.notes[0]


def test_stock_turnover_cover_slow_movers_and_stock_outs(facts):
    with warehouse_read() as wh:
        report = report_run("stock", wh, Query(enterprise_id=1, paths=["/1/"], since=WEEK[0], until=WEEK[1]))
    rows = {row[1]: row for row in report.rows}
    # Tee S: 7 left worth 3500, sold 3 (cost 1500); average stock (5000 + 3500) / 2 = 4250; cover 7 x 7 / 3
    assert rows["Tee S"][2:] == [7, Money(3500), 3, Money(1500), Decimal("0.35"), Decimal("16.3"), ""]
    assert rows["Tee M"][2:] == [3, Money(2400), 0, Money(0), Decimal("0.00"), None, "Slow mover"]
    assert rows["Mug"][2:] == [0, Money(0), 1, Money(700), Decimal("2.00"), Decimal("0.0"), "Stock-out"]


def test_promotion_uplift_against_the_same_members_baseline(facts):
    with warehouse_read() as wh:
        t = _tables(wh)
        rows = _run(M.promotion_results(t["fact_order"], t["fact_coupon_redemption"], since=WEEK[0], until=WEEK[1]))
    # member 101 redeemed campaign 70 (¥5): spent 8000 this week, nothing the week before
    assert rows == [{"campaign_id": 70, "participants": 1, "redemptions": 1, "cost": 500, "sales": 8000,
                     "baseline": 0, "uplift": 8000}]


def test_member_cohorts_retention_by_month_of_joining(facts):
    with warehouse_read() as wh:
        t = _tables(wh)
        rows = _run(M.member_cohorts(t["dim_member"], t["fact_order"], since=date(2026, 1, 1),
                                     until=date(2026, 11, 30)))
    month = lambda y, m: y * 12 + m - 1  # noqa: E731
    # January: 100 (106 merged into it) bought in October (9 months on) and November (10); February: 103 in
    # November (9); November: 101 bought that month (0), 104 joined and did not buy
    assert [(r["cohort"], r["offset"], r["size"], r["retained"]) for r in rows] == [
        (month(2026, 1), 9, 1, 1), (month(2026, 1), 10, 1, 1), (month(2026, 2), 9, 1, 1),
        (month(2026, 5), 6, 1, 1), (month(2026, 11), 0, 2, 1)]


def test_guide_performance_and_effective_guides(facts):
    with warehouse_read() as wh:
        t = _tables(wh)
        rows = _run(M.guide_performance(t["fact_order_line"], t["dim_member"], t["fact_commission_entry"],
                                        since=WEEK[0], until=WEEK[1]))
    assert [(r["guide_id"], r["orders"], r["net_sales"], r["new_members"], r["commission"], r["effective"])
            for r in rows] == [(7, 3, 17000, 0, 850, True), (8, 1, 8000, 1, 0, False), (9, 1, 6000, 0, 0, False),
                               (10, 1, 4000, 0, 0, False)]


def test_a_region_never_sees_the_other_regions_rows(facts):
    with warehouse_read() as wh:
        west = report_run("sales-by-store", wh, Query(enterprise_id=1, paths=["/1/3/"], since=WEEK[0],
                                                      until=WEEK[1]))
        east = report_run("sales-by-guide", wh, Query(enterprise_id=1, paths=["/1/2/"], since=WEEK[0],
                                                      until=WEEK[1]))
    assert [row[0] for row in west.rows] == ["Store C"]
    assert [row[0] for row in east.rows] == ["Guide Seven", "Guide Eight", "Guide Nine"]
