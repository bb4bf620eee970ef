"""CLV fit on a large chain's members: BG/NBD + Gamma-Gamma on N members (1 M by default) from the warehouse.

    python bench/clv.py [--members 1000000] [--no-baseline]

Simulates a year of purchases of N members from known BG/NBD and Gamma-Gamma parameters (the test's Truth,
analytics/tests/clv_data.py; vectorised here: each member's repeat purchases are the first min(J, N) of N Poisson
arrivals, J the geometric drop-out point), writes them into a throwaway DuckDB warehouse as fact_order and
dim_member rows, then times the steps of `analytics.clv_services.clv_refit` that do not touch the OLTP database:
the RFM summary in DuckDB (`clv_summary_frame`, pure Ibis), the fit (`clv.fit`), the predictions and bands
(`ClvModel.predict`, `clv_bands`). Goal: the whole under 60 s on the 2-core machine. The baseline is lifetimes'
BetaGeoFitter on one row per member (no pattern weights), as the package's examples use it.
bench/dashboards.py has the same work as one "CLV fit" row on its synthetic chain; this script breaks it into steps.
"""
import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import setup_django  # noqa: E402

END = date(2026, 11, 30)
DAYS = 365


def simulate(members: int, truth, seed: int = 7) -> tuple[dict, dict]:
    """fact_order and dim_member columns for `members` members' purchases in the year up to END."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(truth.r, 1 / truth.alpha, members)
    dropout = rng.beta(truth.a, truth.b, members)
    nu = rng.gamma(truth.q, 1 / truth.v, members)
    first = rng.integers(0, DAYS // 2, members)  # day of the first purchase
    span = DAYS - 1 - first  # days after it up to END
    arrivals = rng.poisson(rate * span)
    repeats = np.minimum(rng.geometric(dropout), arrivals)
    # the k-th smallest of n uniforms, k = 1..x: 1 - prod_{i<=k} V_i^(1/(n-i+1)), cumulated per member
    owner = np.repeat(np.arange(members), repeats)
    start = np.cumsum(repeats) - repeats
    k = np.arange(len(owner)) - np.repeat(start, repeats)  # 0-based rank within the member
    steps = np.log(rng.random(len(owner))) / (arrivals[owner] - k)
    total = np.cumsum(steps)
    before = np.concatenate([[0.0], total])[np.repeat(start, repeats)]
    offsets = np.floor((1 - np.exp(total - before)) * span[owner]).astype(np.int64) + 1
    member = np.concatenate([np.arange(members), owner])
    day = np.concatenate([first, first[owner] + np.minimum(offsets, span[owner])])
    amount = np.maximum(1, np.round(rng.gamma(truth.p, 1, len(member)) / nu[member] * 100)).astype(np.int64)
    base = np.datetime64(END - timedelta(days=DAYS - 1))
    dates = (base + day.astype("timedelta64[D]")).astype("datetime64[D]")
    orders = {"order_id": np.arange(1, len(member) + 1), "enterprise_id": np.ones(len(member), np.int64),
              "org_path": np.full(len(member), "/1/2/3/"), "store_id": np.full(len(member), 3),
              "member_id": member + 1, "local_date": dates, "is_sale": np.ones(len(member), bool),
              "net_total": amount, "item_count": np.ones(len(member), np.int64)}
    people = {"member_id": np.arange(1, members + 1), "enterprise_id": np.ones(members, np.int64),
              "canonical_member_id": np.arange(1, members + 1), "is_erased": np.zeros(members, bool),
              "org_path": np.full(members, "/1/2/3/"), "home_id": np.full(members, 3),
              "registered_date": (base + (first - rng.integers(0, 400, members)).astype("timedelta64[D]"))
              .astype("datetime64[D]")}
    return orders, people


def load(orders: dict, people: dict) -> None:
    import pyarrow as pa

    from yundian.analytics import warehouse_tables as T
    from yundian.core.warehouse import rows_insert, warehouse_write

    def table(spec, columns):
        n = len(next(iter(columns.values())))
        arrays = [pa.array(columns[c]) if c in columns else pa.nulls(n) for c in spec.columns]
        return pa.Table.from_arrays(arrays, names=list(spec.columns)).cast(spec.arrow_schema)

    with warehouse_write() as con:
        rows_insert(con, T.FACT_ORDER, table(T.FACT_ORDER, orders))
        rows_insert(con, T.DIM_MEMBER, table(T.DIM_MEMBER, people))


def timed(step):
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from yundian.analytics import clv
        from yundian.analytics.clv_services import clv_summary_frame
        from yundian.analytics.tests.clv_data import Truth

        truth = Truth()
        (orders, people), wall, _cpu = timed(lambda: simulate(args.members, truth))
        load(orders, people)
        print(f"simulated and loaded {len(orders['order_id']):,} orders of {args.members:,} members in {wall:.1f} s")
        rows = []
        frame, wall, cpu = timed(lambda: clv_summary_frame(1, observation_end=END))
        rows.append(("RFM summary from fact_order (DuckDB, Ibis)", wall, cpu, f"{len(frame):,} members"))
        model, wall, cpu = timed(lambda: clv.fit(frame))
        # amounts are fen (spend x 100): the Gamma-Gamma scale v is 100 times the simulated one
        expected = {**truth.as_dict(), "v": truth.v * 100}
        worst = max(abs(model.params[k] / v - 1) for k, v in expected.items())
        rows.append(("fit BG/NBD + Gamma-Gamma (pattern weights)", wall, cpu,
                     f"{model.diagnostics['patterns']:,} patterns; worst parameter {100 * worst:.1f} % off"))
        predictions, wall, cpu = timed(lambda: model.predict(frame))
        rows.append(("predict 90-day purchases, P(alive), 12-month CLV", wall, cpu, ""))
        bands, wall, cpu = timed(lambda: clv.clv_bands(predictions))
        rows.append(("bands", wall, cpu, f"{len(bands):,} members"))
        total_wall, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
        rows.append(("total (goal < 60 s)", total_wall, total_cpu, ""))
        if not args.no_baseline:
            from lifetimes import BetaGeoFitter

            def weighted():
                patterns = frame.groupby(["frequency", "recency", "T"], sort=False).size().reset_index(name="w")
                return BetaGeoFitter().fit(patterns["frequency"], patterns["recency"], patterns["T"],
                                           weights=patterns["w"])

            _, wall, cpu = timed(lambda: clv._quiet(weighted))
            rows.append(("BG/NBD alone, pattern weights (as clv.fit)", wall, cpu, ""))
            _, base_wall, base_cpu = timed(lambda: clv._quiet(lambda: BetaGeoFitter().fit(
                frame["frequency"], frame["recency"], frame["T"])))
            rows.append(("baseline: BG/NBD alone, one row per member", base_wall, base_cpu,
                         f"pattern weights use {base_cpu / max(cpu, 1e-9):.1f}x less CPU"))
        load_average = os.getloadavg()[0]
        print(f"\n{args.members:,} members; load average {load_average:.1f} on {os.cpu_count()} cores\n")
        print(f"| step | wall s | CPU s | note |\n| --- | ---: | ---: | --- |")
        for name, wall, cpu, note in rows:
            print(f"| {name} | {wall:.1f} | {cpu:.1f} | {note} |")


if __name__ == "__main__":
    main()
