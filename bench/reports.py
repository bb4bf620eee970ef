"""The heaviest reports on a large chain's warehouse: 2,000 stores, N order lines (10 M by default) over a year.

    python bench/reports.py [--lines 10000000]

Builds a throwaway DuckDB warehouse with DuckDB's own generator (the data is synthetic: stores under 20 regions,
50,000 SKUs in 200 categories, 1 M members, 1-4 lines an order), then times, best of 3, the reports through the
same functions the pages call (`analytics.reports.report_run`, `analytics.gmv.gmv_figures`) for HQ over the last
30 days and over the whole year. Goal: under 1 s each. Prints a table. (When bench/dashboards.py lands, this row
moves there.)
"""
import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import setup_django  # noqa: E402

END = date(2026, 11, 30)


def build(con, lines: int) -> None:
    orders = lines // 2  # 1-4 lines an order, 2 on average... close enough: lines are generated per order below
    start = END - timedelta(days=364)
    con.execute(f"""
        INSERT INTO fact_order (order_id, enterprise_id, org_path, store_id, member_id, channel, local_date,
                                local_hour, is_sale, net_total, share_code)
        SELECT i, 1, '/1/' || (10 + i % 20) || '/' || (1000 + i % 2000) || '/', 1000 + i % 2000,
               CASE WHEN i % 3 = 0 THEN NULL ELSE (i * 7919) % 1000000 END,
               CASE WHEN i % 5 = 0 THEN 'storefront' ELSE 'pos' END,
               DATE '{start}' + CAST((i * 31) % 365 AS INTEGER), CAST(9 + i % 13 AS INTEGER), i % 50 <> 0,
               1000 + (i * 37) % 40000, CASE WHEN i % 11 = 0 THEN 'S' || (i % 97) ELSE '' END
        FROM range({orders}) t(i)""")
    con.execute("""
        INSERT INTO fact_order_line (line_id, order_id, line_no, enterprise_id, org_path, store_id, member_id,
                                     guide_id, channel, local_date, local_hour, is_sale, sku_id, category_id,
                                     net_quantity, net_amount)
        SELECT o.order_id * 4 + n, o.order_id, n, 1, o.org_path, o.store_id, o.member_id, 5000 + o.store_id * 3 + n % 3,
               o.channel, o.local_date, o.local_hour, o.is_sale, (o.order_id * 13 + n * 7) % 50000,
               ((o.order_id * 13 + n * 7) % 50000) % 200, 1 + n % 2, o.net_total // 2
        FROM fact_order o, range(2) r(n)""")
    con.execute("""
        INSERT INTO dim_member (member_id, enterprise_id, org_path, canonical_member_id, registered_date, guide_id)
        SELECT i, 1, '/1/' || (10 + i % 20) || '/' || (1000 + i % 2000) || '/', i,
               DATE '2024-01-01' + CAST(i % 1060 AS INTEGER), 5000 + (i % 2000) * 3
        FROM range(1000000) t(i)""")
    con.execute("""
        INSERT INTO dim_org (node_id, enterprise_id, kind, name, org_path)
        SELECT 1000 + i, 1, 'store', 'Store ' || i, '/1/' || (10 + i % 20) || '/' || (1000 + i) || '/'
        FROM range(2000) t(i)""")
    con.execute("""
        INSERT INTO dim_sku (sku_id, enterprise_id, name, category_id, category_name)
        SELECT i, 1, 'SKU ' || i, i % 200, 'Category ' || (i % 200) FROM range(50000) t(i)""")


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--only", default="", help="comma-separated report slugs (and 'gmv') to time")
    parser.add_argument("--keep", default="", help="a folder to build the warehouse in once and reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = args.keep or scratch
        setup_django(data_dir)
        from yundian.analytics import gmv
        from yundian.analytics.reports import Query, report_run
        from yundian.core.warehouse import warehouse_read, warehouse_write

        began = time.perf_counter()
        with warehouse_write() as con:
            if con.execute("SELECT count(*) FROM fact_order_line").fetchone()[0] == 0:
                build(con, args.lines)
            count = con.execute("SELECT count(*) FROM fact_order_line").fetchone()[0]
        print(f"{count:,} order lines ready in {time.perf_counter() - began:.1f} s")
        only = set(filter(None, args.only.split(",")))
        month = (END - timedelta(days=29), END)
        year = (END - timedelta(days=364), END)
        rows = []
        with warehouse_read() as wh:
            for slug in ("sales-by-store", "sales-by-sku", "sales-by-category", "store-ranking", "guides",
                         "cohorts"):
                if only and slug not in only:
                    continue
                for label, (since, until) in (("30 days", month), ("365 days", year)):
                    q = Query(enterprise_id=1, paths=["/1/"], since=since, until=until)
                    rows.append((slug, label, best(lambda: report_run(slug, wh, q))))
            for label, (since, until) in (("30 days", month), ("365 days", year)) if not only or "gmv" in only else ():
                rows.append(("gmv tree, regions", label, best(lambda: gmv.gmv_figures(
                    wh, enterprise_id=1, paths=["/1/"], since=since, until=until, by="children:/1/"))))
        print(f"\n| report (HQ, {count:,} lines, 2,000 stores) | period | best of 3, s | goal < 1 s |")
        print("| --- | --- | ---: | --- |")
        for slug, label, seconds in rows:
            print(f"| {slug} | {label} | {seconds:.2f} | {'yes' if seconds < 1 else 'no'} |")


if __name__ == "__main__":
    main()
