"""The same metric and segment expressions on DuckDB and on Spark (pyspark, local mode) give the same answers.

The warehouse is exported as Parquet (`yundian warehouse export`, what a chain hands to a Spark cluster), Spark
reads those files, and every function of `analytics.metrics` and cdp's identity stitching runs
unchanged on both backends. Needs Java 17 (Debian's openjdk-17-jre-headless; CI installs it). Runs once, in the
SQLite pass: the engines read the warehouse, not the OLTP database."""
import os
import random
import shutil
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from yundian.analytics import metrics
from yundian.analytics.dashboard import period_windows
from yundian.analytics import warehouse_tables as T
from yundian.analytics.export import warehouse_export
from yundian.core.warehouse import rows_replace, warehouse_read, warehouse_write

pytestmark = [pytest.mark.once, pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17 for Spark")]

TODAY = date(2026, 11, 30)


def _facts(seed: int = 7, members: int = 300, orders: int = 4000) -> tuple[dict, dict]:
    """A small chain's orders and lines with repeat buyers, lapsed members, several stores and categories."""
    rng = random.Random(seed)
    stores = {101: "/1/2/101/", 102: "/1/2/102/", 103: "/1/3/103/"}
    order_cols = {k: [] for k in T.FACT_ORDER.columns}
    line_cols = {k: [] for k in T.FACT_ORDER_LINE.columns}
    line_id = 0
    for order_id in range(1, orders + 1):
        store = rng.choice(list(stores))
        member = rng.randint(1, members) if rng.random() < 0.7 else None
        day = TODAY - timedelta(days=int(rng.expovariate(1 / 60)) % 365)
        hour = rng.choice([10, 11, 12, 12, 13, 17, 18, 19, 19, 20, 21])
        placed = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour - 8, minutes=rng.randint(0, 59))
        is_sale = rng.random() > 0.03
        lines = [(rng.choice([11, 12, 13, 14]), rng.randint(1, 3), rng.choice([990, 2590, 12900])) for _ in
                 range(rng.randint(1, 4))]
        total = sum(q * p for _c, q, p in lines)
        refunded = lines[0][2] if is_sale and rng.random() < 0.05 else 0
        for key, value in (("order_id", order_id), ("enterprise_id", 1), ("org_path", stores[store]),
                           ("store_id", store), ("member_id", member), ("clerk_id", 5), ("channel", "pos"),
                           ("mode", "take_now"), ("status", "completed" if is_sale else "cancelled"),
                           ("placed_at", placed), ("paid_at", placed if is_sale else None), ("local_date", day),
                           ("local_hour", hour), ("is_sale", is_sale), ("subtotal", total), ("discount_total", 0),
                           ("total", total), ("paid_total", total if is_sale else 0), ("refunded_total", refunded),
                           ("net_total", total - refunded if is_sale else 0), ("line_count", len(lines)),
                           ("item_count", sum(q for _c, q, _p in lines)), ("share_code", ""),
                           ("has_promotion", False), ("updated_at", placed)):
            order_cols[key].append(value)
        for no, (category, qty, price) in enumerate(lines, start=1):
            line_id += 1
            for key, value in (("line_id", line_id), ("order_id", order_id), ("line_no", no), ("enterprise_id", 1),
                               ("org_path", stores[store]), ("store_id", store), ("member_id", member),
                               ("guide_id", 7), ("clerk_id", 5), ("channel", "pos"), ("status", "completed"),
                               ("placed_at", placed), ("local_date", day), ("local_hour", hour),
                               ("is_sale", is_sale), ("sku_id", category * 10 + qty), ("product_id", category * 10),
                               ("category_id", category), ("is_weighed", False), ("quantity", qty),
                               ("returned_quantity", 0), ("net_quantity", qty), ("list_price", price),
                               ("unit_price", price), ("discount", 0), ("line_total", qty * price),
                               ("returned_amount", 0), ("net_amount", qty * price)):
                line_cols[key].append(value)
    return order_cols, line_cols


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("yundian-engines")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "1g").getOrCreate())
    yield session
    session.stop()


def _rows(table) -> list[tuple]:
    def plain(value):
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if hasattr(value, "date") and isinstance(value, datetime):
            return value
        return value

    frame = table.to_pyarrow().to_pylist()
    return sorted((tuple(plain(v) for v in row.values()) for row in frame), key=repr)


def test_metrics_give_the_same_answers_on_duckdb_and_spark(spark, settings, tmp_path):
    import ibis

    settings.WAREHOUSE_PATH = tmp_path / "warehouse.duckdb"
    orders, lines = _facts()
    with warehouse_write() as con:
        rows_replace(con, T.FACT_ORDER, T.FACT_ORDER.arrow(orders))
        rows_replace(con, T.FACT_ORDER_LINE, T.FACT_ORDER_LINE.arrow(lines))
    warehouse_export(tmp_path / "parquet")
    for name in ("fact_order", "fact_order_line"):
        spark.read.parquet(str(tmp_path / "parquet" / name)).createOrReplaceTempView(name)
    on_spark = ibis.pyspark.connect(spark)

    def cases(backend):
        o, li = backend.table("fact_order"), backend.table("fact_order_line")
        region = metrics.in_scope(o, ["/1/2/"], 1)
        return {
            "summary": metrics.sales_summary(o, TODAY - timedelta(days=29), TODAY),
            "daily": metrics.sales_daily(region, TODAY - timedelta(days=60), TODAY),
            "by_store": metrics.sales_by_store(o),
            "by_hour": metrics.sales_by_hour(region),
            "lapsers": metrics.category_lapsers(li, [11, 12], today=TODAY),
            "repeat": metrics.repeat_buyers(o, TODAY - timedelta(days=89), TODAY),
            # the home dashboard's: nine windows through a joined window table, in one pass each
            "windows": metrics.sales_windows(region, period_windows(TODAY)),
            "repurchase": metrics.repurchase_windows(o, period_windows(TODAY)),
            "by_product": metrics.sales_by_product(li, TODAY - timedelta(days=29), TODAY),
        }

    with warehouse_read() as duck:
        expected = {name: _rows(expr) for name, expr in cases(duck).items()}
    got = {name: _rows(expr) for name, expr in cases(on_spark).items()}
    assert got == expected
    # the answers are not trivially empty: the data has what each metric looks for
    assert expected["lapsers"] and len(expected["by_store"]) == 3 and expected["summary"][0][0] > 1000
    assert {row[1] for row in expected["by_store"]} == {"/1/2/101/", "/1/2/102/", "/1/3/103/"}
    windows, repurchase = ({row[0]: row[1:] for row in expected[name]} for name in ("windows", "repurchase"))
    assert len(windows) == 9 and windows["month_now"][0] > 0 and repurchase["month_now"][1] > 0


def test_identity_stitching_gives_the_same_people_on_duckdb_and_spark(spark, settings, tmp_path):
    import ibis

    from yundian.cdp import identity

    from yundian.cdp.warehouse_tables import FACT_EVENT, IDENTITY_LINK

    settings.WAREHOUSE_PATH = tmp_path / "warehouse.duckdb"
    t0 = datetime(2026, 5, 1, 2)
    events = {k: [] for k in FACT_EVENT.columns}
    rng = random.Random(3)
    for n in range(600):
        device = f"dev-{rng.randint(1, 40)}"
        signed_in = rng.random() < 0.2
        for key, value in (("enterprise_id", 1), ("event_key", f"k{n}"), ("kind", "page_view"), ("name", ""),
                           ("occurred_at", t0 + timedelta(minutes=n)), ("received_at", t0 + timedelta(minutes=n)),
                           ("local_date", (t0 + timedelta(minutes=n, hours=8)).date()), ("local_hour", 10),
                           ("anonymous_id", device), ("member_id", int(device[4:]) % 15 + 1 if signed_in else None),
                           ("store_id", 101), ("org_path", "/1/2/101/"), ("channel", "storefront"),
                           ("properties", "{}")):
            events[key].append(value)
    events = {k: v for k, v in events.items() if v}  # the columns not given (sku, order, ...) are nulls
    links = {"enterprise_id": [], "anonymous_id": [], "member_id": [], "linked_at": [], "channel": []}
    for device, member, at in {(d, m, t) for d, m, t in zip(events["anonymous_id"], events["member_id"],
                                                              events["occurred_at"]) if m}:
        links["enterprise_id"].append(1), links["anonymous_id"].append(device), links["member_id"].append(member)
        links["linked_at"].append(at), links["channel"].append("storefront")
    members = {"member_id": list(range(1, 16)), "enterprise_id": [1] * 15,
               "canonical_member_id": [m if m != 3 else 5 for m in range(1, 16)]}  # member 3 merged into 5
    with warehouse_write() as con:
        rows_replace(con, FACT_EVENT, FACT_EVENT.arrow(events))
        rows_replace(con, IDENTITY_LINK, IDENTITY_LINK.arrow(links), key=("enterprise_id", "anonymous_id", "member_id",
                                                                              "linked_at"))
        rows_replace(con, T.DIM_MEMBER, T.DIM_MEMBER.arrow(members))
    warehouse_export(tmp_path / "parquet")
    for name in ("fact_event", "identity_link", "dim_member"):
        spark.read.parquet(str(tmp_path / "parquet" / name)).createOrReplaceTempView(name)
    on_spark = ibis.pyspark.connect(spark)

    def resolved(backend):
        expr = identity.events_resolved(backend.table("fact_event"), backend.table("identity_link"),
                                        backend.table("dim_member"))
        return expr.select("event_key", "person_id")

    with warehouse_read() as duck:
        expected = _rows(resolved(duck))
    assert _rows(resolved(on_spark)) == expected
    assert any(person == 5 for _k, person in expected) and not any(person == 3 for _k, person in expected)
