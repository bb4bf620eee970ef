"""Dynamic staffing: how long the hourly forecast and the CP-SAT shift plan take for a region of N stores x a week.

    python bench/staffing.py [--stores 1 3 6 12] [--time-limit 20]

Pure (no database): a synthetic region where every store is open 10:00-22:00 with a lunch and an evening peak
(weekends busier), five people a store (three full-time, two part-time evenings and weekends, one full-timer shared
across the region at ¥15 a trip), China's default rules. Per N: the forecast's fit on a year of hourly history
and its predict for the week, the solver's variables, time and status, and the plan against the fixed schedule on
the same need (cost, hours short, hours over; ratio = plan cost / fixed cost). Prints a table and `uptime`.
"""
import argparse
import math
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from yundian.core.progress import format_table  # noqa: E402
from yundian.staffing.forecast import fit  # noqa: E402
from yundian.staffing.need import Standard, need_from_forecast  # noqa: E402
from yundian.staffing.rules import CHINA_DEFAULTS, Person  # noqa: E402
from yundian.staffing.solver import evaluate, fixed_schedule, solve  # noqa: E402

MONDAY = date(2026, 12, 7)
PROFILE = {h: 1.0 + 5.0 * math.exp(-((h - 12) ** 2) / 2) + 7.0 * math.exp(-((h - 19) ** 2) / 2)
           for h in range(10, 22)}


def history(stores: list[int], rng: random.Random):
    import numpy as np
    import pandas as pd

    rows = []
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    for store in stores:
        scale = 0.7 + 0.6 * rng.random()
        for i in range(364):
            day = MONDAY - timedelta(days=364 - i)
            lift = 1.4 if day.weekday() >= 5 else 1.0
            counts = np_rng.poisson([PROFILE[h] * scale * lift for h in range(10, 22)])
            rows += [(store, day, h, int(n), int(n) * 9000) for h, n in zip(range(10, 22), counts) if n]
    return pd.DataFrame(rows, columns=["store_id", "local_date", "local_hour", "customers", "sales"])


def region(n: int) -> tuple[list[Person], dict]:
    stores = list(range(1, n + 1))
    people, pid = [], 0
    for s in stores:
        for k in range(5):
            pid += 1
            part = k >= 3
            people.append(Person(pid, f"p{pid}", s, 2200 if part else 2600 + 100 * k,
                                 frozenset({"cashier", "floor", "stock"} if k != 2 else {"cashier", "floor"}),
                                 part_time=part,
                                 availability={w: ((9, 23) if w >= 5 else (16, 23)) if part else (7, 23)
                                               for w in range(7)},
                                 travel={t: 1500 for t in stores if t != s} if k == 0 else {}))
    return people, {s: {w: (10, 22) for w in range(7)} for s in stores}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stores", type=int, nargs="+", default=[1, 3, 6, 12])
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    rng = random.Random(7)
    days = [MONDAY + timedelta(days=i) for i in range(7)]
    rows = []
    for n in args.stores:
        people, open_hours = region(n)
        frame = history(list(open_hours), rng)
        started = time.perf_counter()
        model = fit(frame, since=MONDAY - timedelta(days=364), until=MONDAY - timedelta(days=1), open_hours=open_hours)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        forecast = [r for s in open_hours for r in model.predict(s, days, open_hours[s])]
        predict_s = time.perf_counter() - started
        need = need_from_forecast(forecast, {s: Standard(customers_per_staff_hour=3) for s in open_hours}, open_hours)
        fixed = fixed_schedule(people, open_hours, days, CHINA_DEFAULTS)
        result = solve(people, need, days, CHINA_DEFAULTS, time_limit=args.time_limit, hint=fixed)
        ours, theirs = result.summary, evaluate(fixed, need, {p.id: p for p in people})
        rows.append([str(n), str(len(people)), f"{fit_s:.2f}", f"{predict_s * 1000:.0f}", f"{result.variables:,}",
                     f"{result.seconds:.1f}", result.status, str(ours.hours_needed),
                     f"¥{ours.cost / 100:,.0f} / ¥{theirs.cost / 100:,.0f}", f"{ours.cost / max(theirs.cost, 1):.2f}",
                     f"{ours.hours_short} / {theirs.hours_short}", f"{ours.hours_over} / {theirs.hours_over}"])
        print(f"  {n} stores done", file=sys.stderr)
    print(format_table(["stores", "people", "fit s", "predict ms", "variables", "solve s", "status", "need h",
                        "cost plan / fixed", "ratio", "short plan / fixed", "over plan / fixed"], rows,
                       align="r" * 6 + "l" + "r" * 5))
    print(f"time limit {args.time_limit:.0f} s of CP-SAT deterministic time a region, 2 workers; uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
