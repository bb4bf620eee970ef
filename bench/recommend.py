"""Recommendation training at 1 M interactions and in-process serving latency (goal: p99 < 10 ms).

    python bench/recommend.py [--members 200000] [--products 5000] [--orders 450000] [--requests 2000]

Generates a synthetic purchase history with planted structure (members with a favourite category and their usual
products, products with companions), fits the four models with `recommend.learn.fit` step by step, then times the
serving calls the storefront makes (goes with a product, for a member with a history of 1-30 products), against a
baseline measured in the same process: the popularity lookup of the same model (a list read). Prints a table with the
machine load (`uptime`), as every bench here does.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def synthetic(members: int, products: int, orders: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    categories = max(products // 50, 2)
    category_of = rng.integers(0, categories, products)
    popularity = rng.lognormal(0, 1.0, products)
    favourite = rng.integers(0, categories, members)
    usual = rng.integers(0, products, members)
    companion = rng.integers(0, products, products)
    who = rng.integers(0, members, orders)
    size = rng.integers(1, 5, orders)
    weights = popularity / popularity.sum()
    rows_order, rows_product = [], []
    drawn = rng.choice(products, size=int(size.sum()), p=weights)
    cursor = 0
    for order in range(orders):
        n = int(size[order])
        items = drawn[cursor:cursor + n].copy()
        cursor += n
        if rng.random() < 0.5:
            items[0] = usual[who[order]]
        if n > 1 and rng.random() < 0.6:
            items[1] = companion[items[0]]
        for item in set(items.tolist()):
            rows_order.append(order)
            rows_product.append(item)
    rows_order = np.array(rows_order)
    start = datetime(2026, 1, 1)
    return pd.DataFrame({
        "order_id": rows_order + 1, "member_id": who[rows_order] + 1, "store_id": 1 + who[rows_order] % 50,
        "product_id": np.array(rows_product) + 1, "category_id": category_of[np.array(rows_product)] + 1,
        "placed_at": [start + timedelta(minutes=int(m)) for m in (rows_order * 525600 // orders)],
    })


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--orders", type=int, default=450_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()

    from yundian.recommend import learn

    load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    began = time.perf_counter()
    baskets = synthetic(args.members, args.products, args.orders)
    interactions = baskets.assign(weight=4.0).groupby(["member_id", "product_id"], as_index=False)["weight"].sum()
    generate = time.perf_counter() - began
    tables = learn.TrainingTables(baskets=baskets, interactions=interactions)
    steps: dict[str, float] = {}
    marks = [("start", time.perf_counter(), time.process_time())]

    def progress(step: str) -> None:
        marks.append((step, time.perf_counter(), time.process_time()))

    model = learn.fit(tables, progress=progress)
    marks.append(("end", time.perf_counter(), time.process_time()))
    for (name, wall, cpu), (_next, wall2, cpu2) in zip(marks[1:], marks[2:]):
        steps[name] = (wall2 - wall, cpu2 - cpu)
    total_wall, total_cpu = marks[-1][1] - marks[0][1], marks[-1][2] - marks[0][2]
    blob = model.dumps()
    # what the training task adds before the fit: ALS's settings and the blend's weights chosen on validation windows
    # of 28 days before the end (a fit on what precedes each, then up to evaluation.VALIDATION_MEMBERS members ranked
    # for each setting or weight tried)
    from yundian.recommend import evaluation

    wall, cpu = time.perf_counter(), time.process_time()
    als = evaluation.tune_als(tables)
    tune_als = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    weights = evaluation.tune_blend(tables, als=als)
    tune = (time.perf_counter() - wall, time.process_time() - cpu)

    rng = np.random.default_rng(2)
    histories = {}
    grouped = interactions.groupby("member_id")
    sample = rng.choice(interactions["member_id"].unique(), size=args.requests, replace=False)
    for member in sample:
        frame = grouped.get_group(member).head(30)
        histories[int(member)] = dict(zip(frame["product_id"].astype(int), frame["weight"].astype(float)))
    pages = rng.choice(model.product_ids, size=args.requests)

    cpu_spent: dict[int, list[float]] = {}

    def timed(call, inputs) -> list[float]:
        out, spent = [], []
        for item in inputs:
            t, c = time.perf_counter(), time.thread_time()
            call(item)
            out.append(time.perf_counter() - t)
            spent.append(time.thread_time() - c)
        cpu_spent[id(out)] = spent
        return out

    model.for_member(next(iter(histories.values())), k=10)  # first call builds the ALS solver and unit factors
    baseline = timed(lambda p: model.popular_for(store_id=int(p) % 50 + 1)[:10], pages)
    goes = timed(lambda p: model.goes_with([int(p)], k=6), pages)
    mine = timed(lambda m: model.for_member(histories[m], k=10), list(histories))
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    print(f"synthetic history: {args.members:,} members, {args.products:,} products, {args.orders:,} orders, "
          f"{len(baskets):,} order lines, {len(interactions):,} member x product interactions "
          f"(generated in {generate:.1f} s); model {len(blob) / 1e6:.1f} MB stored")
    print(f"load before: {load_before}")
    print(f"load after:  {load}")
    print()
    print("| training step | wall s | CPU s |")
    print("| --- | ---: | ---: |")
    for name, (wall, cpu) in steps.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    print(f"| **fit, all four models** | **{total_wall:.2f}** | **{total_cpu:.2f}** |")
    print(f"| ALS settings on validation windows (tune_als: {als}) | {tune_als[0]:.2f} | {tune_als[1]:.2f} |")
    print(f"| blend weights on validation windows (tune_blend: {weights}) | {tune[0]:.2f} | {tune[1]:.2f} |")
    print()
    print(f"| serving call ({args.requests:,} requests, in process) | p50 ms | p99 ms | p99 CPU ms | x baseline (p99) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    base99 = percentile(baseline, 99)
    for label, values in (("baseline: store best sellers (list read)", baseline),
                          ("goes with a product (co-purchase lift)", goes),
                          ("for a member, 1-30 products of history "
                           "(blend: buy again + ALS solve + lift + sequences + best sellers)", mine)):
        p99 = percentile(values, 99)
        print(f"| {label} | {percentile(values, 50):.3f} | {p99:.3f} | {percentile(cpu_spent[id(values)], 99):.3f} | "
              f"{p99 / base99:.0f} |")


if __name__ == "__main__":
    main()
