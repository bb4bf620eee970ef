"""Benchmark: the nightly diagnosis (事找人) at a large chain's shape, on a synthetic warehouse.

    .venv/bin/python bench/diagnosis.py                    # 2,000 stores in 8 regions, 126 days, 9 SKUs a store
    .venv/bin/python bench/diagnosis.py --stores 200       # a smoke run
Options: --stores 2000 --regions 8 --traffic 60 --warehouse FILE.duckdb (kept: built once, measured again later)

The warehouse is written straight into a DuckDB file (no OLTP) by the tests' generator
(yundian/analytics/tests/diagnosis_history.py): per store a daily footfall, one-line orders of 9 SKUs sold by 3
guides, stock received weekly and issued by the sales; one store in 100 has a planted problem (conversion down 40 %,
a guide selling 85 % less, a category out of stock). The day is 2026-11-29; the window its 14 days; the history
the 112 days before.

Rows (wall seconds and CPU seconds of one run; the machine's load beside them, 8 of us share 2 cores):
- baseline: `analytics.metrics.sales_summary` over the window for the whole chain (one scan of fact_order);
- store-days: the Ibis query of every store's KPIs by day (`diagnosis.store_days`, 126 days x stores);
- detect: every (store, KPI) and (region, KPI) series screened, the candidates fitted with ETS (forecast.py);
- explain: the flagged stores' lines by guide, category and SKU, and their stock-out days with lost sales;
- total: `diagnosis_engine.diagnose` end to end (what `yundian diagnose` runs before writing findings).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 29)


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def shape(stores: int, regions: int, traffic: float):
    from yundian.analytics.tests.diagnosis_history import Shape

    per = max(1, stores // regions)
    store_map, region_map, guides, plant = {}, {}, {}, []
    for r in range(regions):
        region_id = 10 + r
        region_map[region_id] = (f"Region {r + 1}", f"/1/{region_id}/")
    for i in range(stores):
        store_id = 1000 + i
        region_id = 10 + min(i // per, regions - 1)
        store_map[store_id] = (f"Store {i + 1}", f"/1/{region_id}/{store_id}/")
        guides[store_id] = [100000 + i * 3 + k for k in range(3)]
        if i % 100 == 7:
            plant.append([("conversion", store_id), ("guide", store_id, guides[store_id][1]),
                          ("stockout", store_id, 3)][(i // 100) % 3])
    skus = [(100 + c * 10 + k, c + 1, (8000, 3000, 1500)[c], 1.0) for c in range(3) for k in range(3)]
    return Shape(enterprise_id=1, day=DAY, stores=store_map, regions=region_map, guides=guides, skus=skus,
                 hq=(1, "/1/"), traffic=traffic, plant=plant)


def build(path: Path, s, seed: int = 1) -> float:
    """Write the synthetic history into the DuckDB file at `path`; seconds."""
    import django
    from django.conf import settings

    started = time.perf_counter()
    settings.WAREHOUSE_PATH = path
    from yundian.analytics.tests.diagnosis_history import write

    write(s, seed=seed)
    del django
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--traffic", type=float, default=60.0)
    parser.add_argument("--warehouse", help="a DuckDB file to build once and reuse")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings

    from yundian.analytics import diagnosis as D
    from yundian.analytics import metrics
    from yundian.analytics.diagnosis_engine import diagnose
    from yundian.core.warehouse import warehouse_read

    s = shape(args.stores, args.regions, args.traffic)
    path = Path(args.warehouse) if args.warehouse else Path(tempfile.mkdtemp()) / "diagnosis.duckdb"
    settings.WAREHOUSE_PATH = path
    built = None
    if not path.exists():
        built = build(path, s)
    rows = []

    def measure(name, work):
        wall, spent = time.perf_counter(), cpu()
        result = work()
        rows.append((name, time.perf_counter() - wall, cpu() - spent, load()))
        return result

    since = DAY - timedelta(days=D.WINDOW + D.HISTORY - 1)
    with warehouse_read() as wh:
        orders = wh.table("fact_order")
        measure("baseline: sales_summary, window", lambda: metrics.sales_summary(
            orders, DAY - timedelta(days=13), DAY).to_pyarrow())
        facts = {n: wh.table(n) for n in ("fact_order", "fact_event", "fact_stock_move", "fact_order_line")}
        measure("store-days (Ibis, 126 days)", lambda: D.store_days(
            facts["fact_order"], facts["fact_event"], facts["fact_stock_move"], facts["fact_order_line"],
            since=since, until=DAY).to_pyarrow())
        outcome = measure("diagnose, end to end", lambda: diagnose(wh, enterprise_id=1, day=DAY))
    base = rows[0][1]
    t = outcome.timings
    print(f"diagnosis bench: {args.stores:,} stores in {args.regions} regions, {len(s.plant)} planted problems, "
          f"window {D.WINDOW} days, history {D.HISTORY} days; warehouse {path}"
          + (f" (built in {built:.0f} s)" if built else " (reused)"))
    print(f"{'step':<34} {'wall s':>8} {'CPU s':>8} {'x baseline':>11}  load (1/5/15 min)")
    for name, wall, spent, at in rows:
        print(f"{name:<34} {wall:>8.2f} {spent:>8.2f} {wall / base:>11.1f}  {at}")
    for part in ("read", "detect", "explain"):
        print(f"{'  of which ' + part:<34} {t.get(part, 0):>8.2f} {'':>8} {t.get(part, 0) / base:>11.1f}")
    found = {}
    for d in outcome.drafts:
        found[d.explanation.driver] = found.get(d.explanation.driver, 0) + 1
    print(f"series {outcome.series:,}, ETS-fitted {outcome.fitted:,}, findings {len(outcome.drafts)}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(found.items())))


if __name__ == "__main__":
    main()
