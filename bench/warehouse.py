"""Benchmark: the warehouse. Event ingest in bulk and through the API, sync throughput from SQLite and PostgreSQL,
and one segment query on DuckDB against the same Ibis expression on PostgreSQL.

    .venv/bin/python bench/warehouse.py --pg postgresql://postgres@127.0.0.1:PORT/yd_bench_warehouse
    .venv/bin/python bench/warehouse.py --quick              # a tiny smoke run of every part
    .venv/bin/python bench/warehouse.py --parts segment --scale 10 --db sqlite   # 10 M members / 100 M lines, DuckDB only
Options: --parts ingest,api,sync,segment  --db sqlite,postgres (the sync's databases; postgres also runs the segment
query there) --pg URL (a database dropped and re-created)  --events-batch 100000 --event-batches 10
--api-seconds 10 --workers 2 --threads 4  --history-scale 5 --history-days 365 --new-sales 200
--scale 1 (x 1 M members / 10 M order lines; a list such as 1,10 runs several shapes; PostgreSQL up to --pg-max-scale)

Every figure is a ratio against a baseline measured in the same process, as the other bench/ scripts do:
- Event ingest in bulk (`cdp.ingest.events_load_bulk`, batches of Arrow events into a fresh warehouse): rows/s, and
  the time against a plain DuckDB INSERT of the very same Arrow batches into a table of the sender's columns (what
  the enrichment, the key deduplication and the identity links cost). Then the first batch again (all duplicates).
- Event ingest through the API (POST /api/v1/events, staff token, real gunicorn server on SQLite): events/s and
  batch latency for 1 and 4 client threads and batches of 100 and 1,000, against 1 client x 100; then the sync run
  that moves the inbox into the warehouse.
- Sync (`analytics.sync.sync_run`) from a database holding the demo's history (`seed --scale 5 --history 365`:
  orders, lines, payments, returns, stock, points and commission ledgers), then M real sales through `order_create`:
  order lines/s of the first full sync and of the incremental one, against the floor of the same move: one query
  reading every line with its order's columns, an Arrow table of them and a DuckDB INSERT.
- Segment: `analytics.metrics.category_lapsers` (members with >= 2 orders in a category in 90 days and none at all in
  the last 30), the same Ibis expression on a synthetic fact_order_line in DuckDB and in PostgreSQL (COPY, indexes on
  (member_id, local_date), (category_id, local_date), (local_date), VACUUM ANALYZE); both answers must be equal.
  PostgreSQL is the baseline: the DuckDB column is its speed-up.

The PostgreSQL server is yours (see scripts/test for a throwaway one); shared_buffers / work_mem are its own. The
machine's load average is printed beside each table: on a shared box the seconds move with everything else that runs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql://postgres@127.0.0.1:54330/yd_bench_warehouse"
TODAY = date(2026, 11, 30)  # the synthetic history's last day (the segment's "today")
TZ_HOURS = 8  # Asia/Shanghai, the chain's zone: local = UTC + 8 h
KINDS = ["page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "share", "coupon_view",
         "store_visit", "scan", "custom"]
KIND_WEIGHTS = [40, 25, 10, 8, 2, 2, 3, 4, 5, 1]
API_ROWS = [(1, 100), (1, 1000), (4, 100), (4, 1000)]  # (client threads, events a batch)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


# --- a chain to sell in (Django set up) --------------------------------------------------------------------------

def world(code: str = "bench", categories: int = 20, products: int = 100, members: int = 500) -> dict:
    """The test chain with `categories` categories of `products` products (2 SKUs each) stocked in store A and B, a
    commission plan, `members` members and an API token of the admin: ids of what the benches write against."""
    from django.db import transaction

    from yundian.catalog.models import Sku
    from yundian.catalog.services import category_create, product_create
    from yundian.guides.services import commission_plan_create
    from yundian.inventory.services import receipt_create, warehouse_create
    from yundian.members.models import Member
    from yundian.org.services import api_token_create
    from yundian.org.tests.factories import make_chain

    with transaction.atomic():
        chain = make_chain(code)
        whs = [warehouse_create(actor=chain.admin, node_id=s.id, kind="store", code=f"WH-{s.code}", name=s.name)
               for s in (chain.store_a, chain.store_b)]
        cats = [category_create(actor=chain.admin, name=f"品类 {c}", code=f"C{c:03d}").id for c in range(categories)]
        for p in range(products):
            product_create(actor=chain.admin, code=f"P{p:04d}", name=f"商品 {p}", category_id=cats[p % categories],
                           skus=[{"code": f"P{p:04d}-{v}", "base_price": 990 + 37 * (p * 2 + v)} for v in range(2)])
        skus = list(Sku.objects.filter(enterprise_id=chain.admin.enterprise_id).order_by("id")
                    .values_list("id", "product__category_id", "base_price", "code"))
        for wh in whs:
            receipt_create(actor=chain.admin, warehouse_id=wh.id, lines=[(s[0], 10**7) for s in skus])
        commission_plan_create(actor=chain.admin, node_id=chain.hq.id, name="Standard", default_rate="0.03")
        members = Member.objects.bulk_create(
            [Member(enterprise_id=chain.admin.enterprise_id, home_id=(chain.store_a, chain.store_b)[i % 2].id,
                    name=f"会员 {i}", channel="pos") for i in range(members)], batch_size=2000)
        _token, secret = api_token_create(actor=chain.admin, name="bench events")
    return {"enterprise_id": chain.admin.enterprise_id, "stores": [chain.store_a.id, chain.store_b.id],
            "guides": [chain.guide_a.id, chain.guide_b.id], "admin_id": chain.admin.id, "skus": skus,
            "members": [m.id for m in members], "token": secret}


# --- 1. event ingest in bulk ---------------------------------------------------------------------------------------

def events_batch(n: int, *, first: int, enterprise_id: int, store_ids: list[int], sku_ids: list[int],
                 received: datetime, rng: np.random.Generator, devices: int = 50_000,
                 members: int = 20_000) -> pa.Table:
    """`n` behaviour events (the sender's columns) with keys ev-<first>.. : a storefront and till mix, 30 % of them
    from a signed-in device, times spread over the hour before `received` (a few senders' clocks a little off)."""
    kinds = np.array(KINDS)[rng.choice(len(KINDS), n, p=np.array(KIND_WEIGHTS) / sum(KIND_WEIGHTS))]
    device = rng.integers(0, devices, n)
    signed_in = rng.random(n) < 0.30
    member = np.where(signed_in, 1 + device % members, 0)
    with_sku = np.isin(kinds, ["product_view", "add_to_cart", "remove_from_cart", "scan", "share"])
    sku = np.where(with_sku, np.array(sku_ids)[rng.integers(0, len(sku_ids), n)], 0)
    store = np.array(store_ids)[rng.integers(0, len(store_ids), n)]
    received_us = np.datetime64(received, "us")
    occurred = received_us - rng.integers(0, 3_600_000_000, n).astype("timedelta64[us]")
    channel = np.where(kinds == "scan", "pos", "storefront")
    props = np.where(kinds == "search", '{"q":"连衣裙"}', np.where(with_sku, '{"list":"home"}', "{}"))
    return pa.table({
        "enterprise_id": pa.array(np.full(n, enterprise_id, np.int64)),
        "event_key": pa.array([f"ev-{i}" for i in range(first, first + n)]),
        "kind": pa.array(kinds), "name": pa.array(np.where(kinds == "custom", "quiz_done", "")),
        "occurred_at": pa.array(occurred), "received_at": pa.array(np.full(n, received_us)),
        "anonymous_id": pa.array(np.char.add("dev-", device.astype(str))),
        "member_id": pa.array(member, mask=~signed_in), "store_id": pa.array(store.astype(np.int64)),
        "channel": pa.array(channel), "sku_id": pa.array(sku.astype(np.int64), mask=~with_sku),
        "order_id": pa.array(np.zeros(n, np.int64), mask=np.ones(n, bool)),
        "amount": pa.array(np.zeros(n, np.int64), mask=np.ones(n, bool)), "properties": pa.array(props),
    })


def measure_ingest(w: dict, *, batch: int, batches: int, scratch: Path, seed: int = 7) -> dict:
    """Load `batches` event batches through events_load_bulk into the (fresh) warehouse of the settings, then the
    first batch again; the same batches into a plain DuckDB table for the baseline."""
    import duckdb

    from yundian.cdp.ingest import events_load_bulk
    from yundian.core.warehouse import warehouse_read

    rng = np.random.default_rng(seed)
    start = datetime(2026, 11, 1, 2, 0)
    tables = [events_batch(batch, first=k * batch, enterprise_id=w["enterprise_id"], store_ids=w["stores"],
                           sku_ids=[s[0] for s in w["skus"]], received=start + timedelta(minutes=10 * k), rng=rng)
              for k in range(batches)]
    base = duckdb.connect(str(scratch / "baseline-events.duckdb"))
    base.register("_first", tables[0])
    base.execute("CREATE TABLE ev AS SELECT * FROM _first LIMIT 0")
    base.unregister("_first")
    base_times, base_cpu = [], 0.0
    for t in tables:
        base.register("_b", t)
        started, cpu = time.perf_counter(), time.process_time()
        base.execute("INSERT INTO ev SELECT * FROM _b")
        base_times.append(time.perf_counter() - started)
        base_cpu += time.process_time() - cpu
        base.unregister("_b")
    base.close()
    kept, times, cpus = [], [], []
    for t in tables:
        started, cpu = time.perf_counter(), time.process_time()
        kept.append(events_load_bulk(t))
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    started, cpu = time.perf_counter(), time.process_time()
    again = events_load_bulk(tables[0])
    again_s, again_cpu = time.perf_counter() - started, time.process_time() - cpu
    with warehouse_read() as wh:
        stored = wh.table("fact_event").count().to_pyarrow().as_py()
        links = wh.table("identity_link").count().to_pyarrow().as_py()
    return {"batch": batch, "batches": batches, "kept": kept, "seconds": times, "cpu": cpus, "again_kept": again,
            "again_seconds": again_s, "again_cpu": again_cpu, "baseline_seconds": base_times, "baseline_cpu": base_cpu, "stored": stored, "links": links,
            "load": load()}


def print_ingest(r: dict, *, goal: int = 100_000) -> None:
    b, n = r["batch"], r["batches"]
    secs, base = r["seconds"], r["baseline_seconds"]
    print(f"\nEvent ingest in bulk: cdp.ingest.events_load_bulk, {n} batches of {b:,} events into a fresh warehouse "
          f"(load {r['load']})")
    print("(x baseline: seconds over the plain INSERT's for the same batches; rows/cpu s: rows per CPU second of this "
          "process, DuckDB's threads included: a figure the load moves far less than the wall clock)")
    print(f"{'load':<52} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'rows/cpu s':>10} {'x baseline':>10}")
    cpus = r["cpu"]
    rows = [("baseline: plain DuckDB INSERT of the same batches", b * n, sum(base), r["baseline_cpu"], None),
            ("first batch, empty warehouse (tables created)", r["kept"][0], secs[0], cpus[0], secs[0] / base[0])]
    if n > 1:
        rows.append((f"batches 2..{n}, warehouse growing to {b * n:,}", sum(r["kept"][1:]), sum(secs[1:]),
                     sum(cpus[1:]), sum(secs[1:]) / sum(base[1:])))
    rows.append(("all batches", sum(r["kept"]), sum(secs), sum(cpus), sum(secs) / sum(base)))
    rows.append(("first batch again (all duplicates, none kept)", b, r["again_seconds"], r["again_cpu"],
                 r["again_seconds"] / base[0]))
    for label, count, s, cpu, ratio in rows:
        print(f"{label:<52} {count:>10,} {s:>8.2f} {count / s:>10,.0f} {count / cpu if cpu else float('nan'):>10,.0f} "
              f"{'1.0' if ratio is None else f'{ratio:.1f}':>10}")
    rate = sum(r["kept"]) / sum(secs)
    print(f"kept {sum(r['kept']):,} events ({r['stored']:,} in fact_event, {r['links']:,} device links), "
          f"again kept {r['again_kept']}; goal >= {goal:,} events/s in bulk -> {'met' if rate >= goal else 'MISSED'}")


# --- 2. sync throughput ---------------------------------------------------------------------------------------------

def history(scale: int, days: int) -> dict:
    """`yundian seed --scale S --history DAYS` (the demo's year of history, written in bulk into the ledgers) as
    enterprise "hist": what it wrote, and how long it took."""
    from yundian.demo.generators import run_seed

    started = time.perf_counter()
    ctx = run_seed(scale=scale, seed=1, code="hist", history=days)
    return {"scale": scale, "days": days, "orders": ctx.counts.get("history_orders", 0),
            "lines": ctx.counts.get("history_order_lines", 0), "seconds": time.perf_counter() - started}


def sales_real(w: dict, n: int, *, seed: int = 13) -> int:
    """`n` sales through order_create (2-3 lines, half with a member, card): the order lines written."""
    from yundian.org.models import Staff
    from yundian.sales import services

    rng = np.random.default_rng(seed)
    guides = {g.home_id: g for g in Staff.objects.select_related("enterprise", "home").filter(id__in=w["guides"])}
    member_ids = w["members"]
    lines = 0
    for i in range(n):
        store = w["stores"][i % 2]
        picked = rng.choice(len(w["skus"]), int(rng.integers(2, 4)), replace=False)
        member = member_ids[int(rng.integers(0, len(member_ids)))] if member_ids and i % 2 else None
        services.order_create(actor=guides[store], store_id=store, client_ref=f"bench-sale-{i}", member_id=member,
                              lines=[{"sku_id": w["skus"][int(p)][0], "quantity": 1} for p in picked],
                              payments=[{"method": "card", "client_ref": "card"}])
        lines += len(picked)
    return lines


def sync_floor(scratch: Path) -> tuple[int, float]:
    """The floor of moving every order line: one query of the lines with their order's columns, an Arrow table of
    them and a DuckDB INSERT into a scratch file. (rows, seconds)"""
    import duckdb

    from yundian.sales.models import OrderLine

    names = ["id", "order_id", "line_no", "guide_id", "sku_id", "category_id", "is_weighed", "quantity",
             "returned_quantity", "list_price", "unit_price", "discount", "line_total", "returned_amount",
             "order__enterprise_id", "order__store_id", "order__member_id", "order__clerk_id", "order__channel",
             "order__status", "order__placed_at"]
    started = time.perf_counter()
    rows = list(OrderLine.objects.order_by().values_list(*names))
    columns = list(zip(*rows)) if rows else [[] for _ in names]
    table = pa.table({n.replace("order__", "o_"): pa.array(list(c)) for n, c in zip(names, columns)})
    con = duckdb.connect(str(scratch / "floor.duckdb"))
    con.register("_t", table)
    con.execute("CREATE OR REPLACE TABLE lines AS SELECT * FROM _t")
    con.close()
    return len(rows), time.perf_counter() - started


def measure_sync(w: dict, *, scale: int, days: int, new_sales: int, scratch: Path) -> dict:
    """Seed the history, time the first full sync against the floor, then `new_sales` real sales and the
    incremental sync, then a sync with nothing new."""
    from django.db import connection

    from yundian.analytics.sync import sync_run
    from yundian.core.warehouse import warehouse_read

    seeded = history(scale, days)
    floor_rows, floor_s = sync_floor(scratch)
    started = time.perf_counter()
    first = sync_run()
    first_s = time.perf_counter() - started
    with warehouse_read() as wh:
        first_lines = wh.table("fact_order_line").count().to_pyarrow().as_py()
    started = time.perf_counter()
    new_lines = sales_real(w, new_sales)
    sales_s = time.perf_counter() - started
    started = time.perf_counter()
    incremental = sync_run()
    incremental_s = time.perf_counter() - started
    started = time.perf_counter()
    idle = sync_run()
    idle_s = time.perf_counter() - started
    with warehouse_read() as wh:
        lines_now = wh.table("fact_order_line").count().to_pyarrow().as_py()
    return {"db": connection.vendor, "history": seeded, "floor_rows": floor_rows, "floor_seconds": floor_s,
            "first_seconds": first_s, "first_rows": first.total, "first_lines": first_lines,
            "sales": new_sales, "sales_seconds": sales_s, "new_lines": new_lines,
            "incremental_seconds": incremental_s, "incremental_rows": incremental.total,
            "idle_seconds": idle_s, "idle_rows": idle.total, "lines_after": lines_now, "load": load()}


def print_sync(results: list[dict]) -> None:
    print("\nSync (analytics.sync.sync_run) from the OLTP database; baseline: one query of every order line with its "
          "order's columns + a DuckDB INSERT of them (the floor of moving the rows)")
    print("(lines: the order lines the run moved into the warehouse; rows: every row it wrote, all tables)")
    print(f"{'database':<9} {'run':<44} {'lines':>9} {'rows':>9} {'seconds':>8} {'lines/s':>9} {'x baseline':>10} "
          f"{'load':>14}")
    for r in results:
        h = r["history"]
        floor_rate = r["floor_rows"] / r["floor_seconds"]
        print(f"{r['db']:<9} {'baseline: read + Arrow + INSERT, all lines':<44} {r['floor_rows']:>9,} {'':>9} "
              f"{r['floor_seconds']:>8.2f} {floor_rate:>9,.0f} {1.0:>10.1f} {r['load']:>14}")
        rate = r["first_lines"] / r["first_seconds"]
        label = f"first full sync ({h['orders']:,} orders)"
        print(f"{r['db']:<9} {label:<44} ", end="")
        print(f"{r['first_lines']:>9,} {r['first_rows']:>9,} {r['first_seconds']:>8.2f} {rate:>9,.0f} "
              f"{r['first_seconds'] / (r['floor_seconds'] * r['first_lines'] / r['floor_rows']):>10.1f}")
        rate = r["new_lines"] / r["incremental_seconds"]
        label = f"incremental after {r['sales']} real sales"
        print(f"{r['db']:<9} {label:<44} {r['new_lines']:>9,} {r['incremental_rows']:>9,} "
              f"{r['incremental_seconds']:>8.2f} {rate:>9,.0f} "
              f"{r['incremental_seconds'] / (r['floor_seconds'] * r['new_lines'] / r['floor_rows']):>10.1f}")
        print(f"{r['db']:<9} {'idle (nothing new)':<44} {0:>9} {r['idle_rows']:>9,} {r['idle_seconds']:>8.2f}")
        print(f"{'':<9} seed --scale {h['scale']} --history {h['days']} wrote {h['orders']:,} orders, {h['lines']:,} "
              f"lines in {h['seconds']:.0f} s; {r['sales']} sales through order_create in {r['sales_seconds']:.1f} s; "
              f"fact_order_line holds {r['lines_after']:,}")


# --- 2. event ingest through the API --------------------------------------------------------------------------------

def api_batch(w: dict, rng: random.Random, size: int, tag: str) -> bytes:
    """One POST /api/v1/events body of `size` events from a till or a staff tool (keys <tag>-<n>): views, searches,
    carts and scans in the two stores, a third with a member."""
    events = []
    for n in range(size):
        kind = rng.choices(KINDS[:-1], weights=KIND_WEIGHTS[:-1])[0]
        event = {"event_id": f"{tag}-{n}", "kind": kind, "anonymous_id": f"dev-{rng.randrange(50_000)}",
                 "store_id": rng.choice(w["stores"]), "channel": "pos" if kind == "scan" else "storefront"}
        if kind in ("product_view", "add_to_cart", "remove_from_cart", "share", "scan"):
            event["sku_id"] = rng.choice(w["skus"])[0]
        if kind == "search":
            event["properties"] = {"query": "连衣裙"}
        elif kind in ("add_to_cart", "remove_from_cart"):
            event["properties"] = {"quantity": 1}
        elif kind == "coupon_view":
            event["properties"] = {"code": "WELCOME10"}
        elif kind == "scan":
            event["properties"] = {"barcode": rng.choice(w["skus"])[3]}
        if rng.random() < 0.3:
            event["member_id"] = rng.choice(w["members"])
        events.append(event)
    return json.dumps({"sent_at": datetime.now(UTC).isoformat(), "events": events}).encode()


def drive_events(port: int, w: dict, *, clients: int, batch: int, seconds: float, tag: str) -> dict:
    """`clients` threads POSTing batches of `batch` events for `seconds`, each on its own keep-alive connection:
    events/s accepted and the batch latency percentiles. Bodies are built before the clock starts."""
    from bench._server import latency_ms

    headers = {"Authorization": f"Bearer {w['token']}", "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    accepted = [0] * clients
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    go = threading.Event()
    stop_at = [0.0]

    def client(i: int) -> None:
        rng = random.Random(f"{tag}:{i}")
        bodies = [api_batch(w, rng, batch, f"{tag}-{i}-{k}") for k in range(int(seconds * 3000 / batch) + 4)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        go.wait()
        k = 0
        while time.perf_counter() < stop_at[0] and k < len(bodies):
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/events", body=bodies[k], headers=headers)
                response = conn.getresponse()
                answer = json.loads(response.read() or b"{}")
                ok = response.status == 200 and not answer.get("rejected")
            except (OSError, http.client.HTTPException, ValueError):
                ok, answer = False, {}
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            k += 1
            if ok:
                latencies[i].append(time.perf_counter() - started)
                accepted[i] += answer.get("accepted", 0)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()  # every client has built its bodies
    started = time.perf_counter()
    stop_at[0] = started + seconds
    go.set()  # only now may the clients read stop_at
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    flat = [x for per in latencies for x in per]
    return {"clients": clients, "batch": batch, "batches": len(flat), "errors": sum(errors),
            "events": sum(accepted), "rate": sum(accepted) / wall, "load": load(), **latency_ms(flat)}


def measure_api(args) -> dict:
    """A fresh SQLite database with the bench world, a gunicorn server, rows of (clients, batch size); then the
    sync that moves the inbox into the warehouse, timed."""
    from bench._server import run_json, server_env, serving

    rows = []
    with tempfile.TemporaryDirectory(prefix="yd-bench-warehouse-api-") as data_dir:
        env = server_env("sqlite", data_dir, None)
        w = run_json(__file__, "--child", "world", env=env)
        with serving(env, workers=args.workers, threads=args.threads) as (port, _server):
            # every worker thread past its first request (Django loaded, connections open) before the clock runs
            drive_events(port, w, clients=args.workers * args.threads, batch=100, seconds=min(5, args.api_seconds),
                         tag="warm")
            for clients, batch in API_ROWS:
                rows.append(drive_events(port, w, clients=clients, batch=batch, seconds=args.api_seconds,
                                         tag=f"c{clients}b{batch}"))
                print(f"  api: {clients} clients x {batch}: {rows[-1]['rate']:,.0f} events/s", file=sys.stderr)
        flush = run_json(__file__, "--child", "flush", env=env)
    return {"rows": rows, "flush": flush, "workers": args.workers, "threads": args.threads,
            "seconds": args.api_seconds}


def child_flush(args) -> dict:
    """The sync run that moves the events inbox into the warehouse (and everything else, all new): its time."""
    import django

    django.setup()
    from yundian.analytics.sync import sync_run

    started = time.perf_counter()
    result = sync_run()
    return {"seconds": time.perf_counter() - started, "inbox": result.rows.get("cdp.inbox", 0), "total": result.total}


def print_api(r: dict) -> None:
    print(f"\nEvent ingest through the API: POST /api/v1/events with a staff token into the OLTP inbox (SQLite; gunicorn "
          f"gthread {r['workers']} workers x {r['threads']} threads; {r['seconds']:.0f} s a row; client threads on the "
          f"same machine); baseline: 1 client, batches of 100")
    print(f"{'clients':>7} {'batch':>6} {'batches':>8} {'errors':>6} {'events':>9} {'events/s':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'x baseline':>10} {'load':>14}")
    base = r["rows"][0]["rate"] if r["rows"] and r["rows"][0]["rate"] else float("nan")
    for row in r["rows"]:
        print(f"{row['clients']:>7} {row['batch']:>6} {row['batches']:>8} {row['errors']:>6} {row['events']:>9,} "
              f"{row['rate']:>9,.0f} {row['p50']:>8.1f} {row['p99']:>8.1f} {row['rate'] / base:>10.1f} {row['load']:>14}")
    f = r["flush"]
    print(f"then one sync moved the inbox into the warehouse: {f['inbox']:,} events in {f['seconds']:.1f} s "
          f"({f['inbox'] / f['seconds']:,.0f} events/s; {f['total']:,} rows in all)")


# --- 3. the segment query on DuckDB and PostgreSQL ------------------------------------------------------------------

def fact_spec():
    from yundian.analytics.warehouse_tables import FACT_ORDER_LINE

    return FACT_ORDER_LINE


def order_lines(members: int, lines: int, *, seed: int = 3, today: date = TODAY, categories: int = 40,
                stores: int = 200, chunk_orders: int = 2_000_000) -> Iterator[pa.Table]:
    """A synthetic fact_order_line of about `lines` lines over the year up to `today`, in chunks of Arrow tables.

    Members buy at gamma-distributed rates (a few heavy buyers, a long tail of one-off ones) while they are
    customers: half were customers before the year began, the rest join during it, and each stays for an
    exponentially distributed while (mean 300 days), so people lapse the way real customers do. A quarter of the
    orders have no member. Categories follow a Zipf law (a few heavy ones) and each member has a favourite that
    takes 45 % of their lines; weekends sell 40 % more; 1..6 lines per order (mean 2.5); 3 % of orders cancelled."""
    spec = fact_spec()
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, members)
    begin = np.where(rng.random(members) < 0.5, 0, rng.integers(0, 365, members))
    end = np.minimum(365, begin + rng.exponential(300, members).astype(np.int64))
    span = end - begin + 1
    weight = np.cumsum(rate * span)
    popularity = 1.0 / np.arange(1, categories + 1) ** 1.1
    popularity /= popularity.sum()
    favourite = rng.choice(categories, members, p=popularity)
    home = rng.integers(0, stores, members)
    paths = np.array([f"/1/{2 + s % 8}/{100 + s}/" for s in range(stores)], dtype=object)
    first_day = np.datetime64(today - timedelta(days=364), "D")
    orders_total = max(1, int(lines / 2.5))
    order_id = line_id = 0
    while order_id < orders_total:
        n = min(chunk_orders, orders_total - order_id)
        # weekday acceptance (weekends 1.4x): draw a bit more, keep the accepted, trim to n
        draw = int(n * 1.45) + 16
        member_ix = np.searchsorted(weight, rng.random(draw) * weight[-1])
        day = begin[member_ix] + (rng.random(draw) * span[member_ix]).astype(np.int64)
        dates = first_day + day
        weekend = ((dates.astype("datetime64[D]").view("int64") - 4) % 7) >= 5  # 1970-01-01 was a Thursday
        keep = rng.random(draw) < np.where(weekend, 1.0, 1 / 1.4)
        member_ix, dates = member_ix[keep][:n], dates[keep][:n]
        n = len(member_ix)
        anonymous = rng.random(n) < 0.25
        cancelled = rng.random(n) < 0.03
        store = np.where(rng.random(n) < 0.8, home[member_ix], rng.integers(0, stores, n))
        hour = np.clip(rng.normal(15, 3.2, n).astype(np.int64), 8, 22)
        per_order = 1 + np.minimum(rng.poisson(1.5, n), 5)
        k = int(per_order.sum())
        o = np.repeat(np.arange(n), per_order)
        line_no = np.arange(k) - np.repeat(np.cumsum(per_order) - per_order, per_order) + 1
        fav = rng.random(k) < 0.45
        category = np.where(fav & ~anonymous[o], favourite[member_ix[o]], rng.choice(categories, k, p=popularity))
        sku = 100_000 + category * 1000 + rng.integers(0, 150, k)
        price = (rng.lognormal(8.3, 0.7, k) // 10 * 10).astype(np.int64)
        quantity = 1 + rng.poisson(0.3, k)
        discount = np.where(rng.random(k) < 0.2, price * quantity // 10, 0)
        total = price * quantity - discount
        returned = np.where(rng.random(k) < 0.02, 1, 0)
        returned_amount = np.where(returned > 0, total // quantity, 0)
        local = (dates[o].astype("datetime64[us]") + (hour[o] * 3600 + rng.integers(0, 3600, k)).astype("timedelta64[s]"))
        member = member_ix[o] + 1
        is_sale = ~cancelled[o]
        columns = {
            "line_id": np.arange(line_id + 1, line_id + k + 1), "order_id": order_id + 1 + o,
            "line_no": line_no.astype(np.int32), "enterprise_id": np.ones(k, np.int64),
            "org_path": pa.array(paths[store[o]], pa.string()), "store_id": 100 + store[o],
            "member_id": pa.array(member, mask=anonymous[o]), "guide_id": 10_000 + store[o] * 4 + o % 4,
            "clerk_id": 10_000 + store[o] * 4 + (o + 1) % 4,
            "channel": pa.array(np.where(o % 10 == 0, "storefront", "pos")),
            "status": pa.array(np.where(is_sale, np.where(returned > 0, "partially_returned", "completed"), "cancelled")),
            "placed_at": local - np.timedelta64(TZ_HOURS, "h"), "local_date": dates[o],
            "local_hour": hour[o].astype(np.int32), "is_sale": is_sale, "sku_id": sku, "product_id": sku // 3,
            "category_id": 1000 + category, "is_weighed": np.zeros(k, bool), "quantity": quantity,
            "returned_quantity": returned, "net_quantity": quantity - returned, "list_price": price,
            "unit_price": price, "discount": discount, "line_total": total, "returned_amount": returned_amount,
            "net_amount": total - returned_amount,
        }
        yield pa.Table.from_arrays([pa.array(columns[c]) if not isinstance(columns[c], pa.Array) else columns[c]
                                    for c in spec.columns], schema=spec.arrow_schema)
        order_id += n
        line_id += k


def heavy_category(rank: int = 3) -> int:
    """The id of the category at popularity `rank` in order_lines (1 = the heaviest)."""
    return 1000 + rank - 1


_PG = {"int64": "BIGINT", "int32": "INTEGER", "string": "TEXT", "timestamp": "TIMESTAMP", "date": "DATE",
       "boolean": "BOOLEAN", "float64": "DOUBLE PRECISION"}


def duck_load(path: Path, chunks: Iterator[pa.Table], table: str = "fact_order_line") -> tuple[int, float]:
    """Create `table` (the warehouse's column types) in the DuckDB file and append the chunks: (rows, seconds)."""
    import duckdb

    con = duckdb.connect(str(path))
    rows, spent = 0, 0.0
    for chunk in chunks:
        started = time.perf_counter()
        con.register("_chunk", chunk)
        if rows == 0:  # the Arrow schema is the warehouse table's (TableSpec.arrow_schema)
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _chunk LIMIT 0')
        con.execute(f'INSERT INTO "{table}" SELECT * FROM _chunk')
        con.unregister("_chunk")
        spent += time.perf_counter() - started
        rows += chunk.num_rows
        print(f"  duckdb: {rows:,} lines", file=sys.stderr, flush=True)
    con.execute("CHECKPOINT")
    con.close()
    return rows, spent


def pg_load(pg_url: str, duck_path: Path, scratch: Path, table: str = "fact_order_line") -> dict:
    """COPY the DuckDB table into PostgreSQL (CSV streamed through psycopg), add the indexes a PostgreSQL user
    would for this workload, VACUUM ANALYZE: seconds of each step."""
    import duckdb
    import psycopg

    spec = fact_spec()
    csv = scratch / "lines.csv"
    con = duckdb.connect(str(duck_path), read_only=True)
    con.execute(f"COPY \"{table}\" TO '{csv}' (FORMAT csv, HEADER false)")
    con.close()
    out = {}
    with psycopg.connect(pg_url, autocommit=True) as pg:
        pg.execute(f'DROP TABLE IF EXISTS "{table}"')
        pg.execute(f'CREATE TABLE "{table}" ({", ".join(f"{c} {_PG[k]}" for c, k in spec.columns.items())})')
        started = time.perf_counter()
        with pg.cursor() as cur, cur.copy(f'COPY "{table}" FROM STDIN (FORMAT csv)') as copy, open(csv, "rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        out["copy"] = time.perf_counter() - started
        print(f"  postgres: COPY {out['copy']:.0f} s", file=sys.stderr, flush=True)
        started = time.perf_counter()
        for columns in ("member_id, local_date", "category_id, local_date", "local_date"):
            pg.execute(f'CREATE INDEX ON "{table}" ({columns})')
        out["index"] = time.perf_counter() - started
        started = time.perf_counter()
        pg.execute(f'VACUUM ANALYZE "{table}"')
        out["analyze"] = time.perf_counter() - started
        out["size"] = pg.execute("SELECT pg_total_relation_size(%s)", [table]).fetchone()[0]
    csv.unlink()
    return out


def lapsers_expr(backend, table: str = "fact_order_line", today: date = TODAY):
    from yundian.analytics.metrics import category_lapsers

    return category_lapsers(backend.table(table), [heavy_category()], today=today)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def pg_cpu(postmaster: int | None) -> float:
    """CPU seconds spent by a local PostgreSQL server's processes so far: its live children's own time plus what
    its reaped children (parallel workers that came and went) left in its children's time. nan if not local."""
    if postmaster is None:
        return float("nan")
    fields = _stat(postmaster)
    total = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(int(entry.name))
            except OSError:
                continue
            if int(child[1]) == postmaster:
                total += (int(child[11]) + int(child[12])) / CLOCK_TICKS
    return total


def postmaster_of(backend) -> int | None:
    """The pid of the PostgreSQL server behind an ibis postgres backend when it runs on this machine."""
    try:
        [(directory,)] = backend.raw_sql("SHOW data_directory").fetchall()
        return int((Path(directory) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def timed_runs(expr, runs: int, cpu=time.process_time) -> tuple[list[float], list[float], pa.Table]:
    """Wall seconds and CPU seconds (`cpu()`: this process's for DuckDB, the server's for PostgreSQL) of each run."""
    times, cpus, result = [], [], None
    for _ in range(runs):
        before = cpu()
        started = time.perf_counter()
        result = expr.to_pyarrow()
        times.append(time.perf_counter() - started)
        cpus.append(cpu() - before)
    return times, cpus, result


def measure_segment(members: int, lines: int, *, scratch: Path, pg_url: str | None, runs: int = 3,
                    pg_runs: int = 2, table: str = "fact_order_line") -> dict:
    """Generate and load the synthetic lines, run category_lapsers on DuckDB (and PostgreSQL when pg_url is given),
    check both give the same members: timings and the answer."""
    import ibis

    duck_path = scratch / f"segment-{members}.duckdb"
    started = time.perf_counter()
    rows, duck_insert = duck_load(duck_path, order_lines(members, lines), table)
    generate_and_load = time.perf_counter() - started
    out = {"members": members, "lines": rows, "duck_load": duck_insert, "generated": generate_and_load - duck_insert,
           "duck_size": duck_path.stat().st_size, "category": heavy_category()}
    duck = ibis.duckdb.connect(str(duck_path), read_only=True)
    out["duck_times"], out["duck_cpu"], duck_answer = timed_runs(lapsers_expr(duck, table), runs)
    out["segment"] = duck_answer.num_rows
    out["duck_load_avg"] = load()
    if pg_url is not None:
        out["pg"] = pg_load(pg_url, duck_path, scratch, table)
        pg = ibis.connect(pg_url)
        try:
            postmaster = postmaster_of(pg)
            out["pg_times"], out["pg_cpu"], pg_answer = timed_runs(lapsers_expr(pg, table), pg_runs,
                                                                   cpu=lambda: pg_cpu(postmaster))
        finally:
            pg.disconnect()
        out["equal"] = duck_answer.to_pylist() == pg_answer.to_pylist()
        if not out["equal"]:
            raise SystemExit(f"DuckDB and PostgreSQL disagree: {duck_answer.num_rows} vs {pg_answer.num_rows} members")
        out["pg_load_avg"] = load()
    duck.disconnect()
    out["answer"] = duck_answer
    return out


def print_segment(results: list[dict]) -> None:
    print("\nSegment: analytics.metrics.category_lapsers (>= 2 orders in a category in 90 days, no order in 30), "
          "the same Ibis expression on each engine; baseline: PostgreSQL")
    print("(first s / best s: wall seconds of the first and the fastest run; cpu s: CPU seconds of the fastest run, "
          "DuckDB's threads or every PostgreSQL process incl. parallel workers; x baseline: PostgreSQL's over DuckDB's)")
    print(f"{'shape':<24} {'engine':<11} {'load s':>7} {'size':>9} {'first s':>8} {'best s':>7} {'cpu s':>6} "
          f"{'members':>8} {'x baseline':>10} {'x cpu':>6} {'load avg':>14}")
    for r in results:
        shape = f"{r['members'] / 1e6:g} M / {r['lines'] / 1e6:.4g} M lines"
        duck_best = min(r["duck_times"])
        pg = r.get("pg")
        duck_cpu = r["duck_cpu"][r["duck_times"].index(duck_best)]
        speedup = f"{min(r['pg_times']) / duck_best:.1f}" if pg else "-"
        if pg:
            pg_best = min(r["pg_times"])
            pg_cpu_s = r["pg_cpu"][r["pg_times"].index(pg_best)]
            print(f"{shape:<24} {'postgresql':<11} {pg['copy'] + pg['index'] + pg['analyze']:>7.0f} "
                  f"{pg['size'] / 2**30:>7.2f} G {r['pg_times'][0]:>8.2f} {pg_best:>7.2f} {pg_cpu_s:>6.2f} "
                  f"{r['segment']:>8,} {1.0:>10.1f} {1.0:>6.1f} {r['pg_load_avg']:>14}")
        cpu_ratio = f"{pg_cpu_s / duck_cpu:.1f}" if pg and duck_cpu > 0 else "-"
        print(f"{shape:<24} {'duckdb':<11} {r['duck_load']:>7.0f} {r['duck_size'] / 2**30:>7.2f} G "
              f"{r['duck_times'][0]:>8.2f} {duck_best:>7.2f} {duck_cpu:>6.2f} {r['segment']:>8,} {speedup:>10} "
              f"{cpu_ratio:>6} {r['duck_load_avg']:>14}")
        notes = [f"category {r['category']}, {r['lines']:,} lines generated in {r['generated']:.0f} s"]
        if pg:
            notes.append(f"PostgreSQL COPY {pg['copy']:.0f} s + indexes {pg['index']:.0f} s + VACUUM ANALYZE "
                         f"{pg['analyze']:.0f} s; same members on both: {'yes' if r['equal'] else 'NO'}")
            met = duck_best < 2 and min(r["pg_times"]) / duck_best >= 20
            notes.append(f"goal DuckDB < 2 s and >= 20x PostgreSQL -> {'met' if met else 'MISSED'}")
        print(f"{'':<24} " + "; ".join(notes))


# --- the runs ---------------------------------------------------------------------------------------------------------

def child_world(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return world()


def child_ingest(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    w = world()
    return measure_ingest(w, batch=args.events_batch, batches=args.event_batches, scratch=Path(os.environ["YUNDIAN_DATA"]))


def child_sync(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    w = world()
    return measure_sync(w, scale=args.history_scale, days=args.history_days, new_sales=args.new_sales,
                        scratch=Path(os.environ["YUNDIAN_DATA"]))


def child_segment(args) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    scale = float(args.scale)
    members, lines = (2_000, 20_000) if args.quick else (int(1_000_000 * scale), int(10_000_000 * scale))
    pg_url = args.pg if ("postgres" in args.db.split(",") and scale <= args.pg_max_scale) else None
    if pg_url:
        from bench._server import fresh_postgres

        fresh_postgres(pg_url)
    try:
        result = measure_segment(members, lines, scratch=Path(os.environ["YUNDIAN_DATA"]), pg_url=pg_url,
                                 runs=2 if args.quick else 3, pg_runs=1 if args.quick else 2)
    finally:
        if pg_url:
            from bench._server import drop_postgres

            drop_postgres(pg_url)
    result.pop("answer")
    return result


def in_child(part: str, args, db: str = "sqlite", extra: list[str] | None = None) -> dict:
    """Run `--child part` in a fresh process with Django on a fresh database in a temporary folder: its JSON."""
    from bench._server import fresh_postgres, server_env

    with tempfile.TemporaryDirectory(prefix=f"yd-bench-warehouse-{part}-") as data_dir:
        env = server_env(db, data_dir, args.pg)
        if db == "postgres":
            fresh_postgres(args.pg)
        argv = [sys.executable, __file__, "--child", part, *forwarded(args), *(extra or [])]
        out = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{part} on {db} failed")
        if db == "postgres":
            from bench._server import drop_postgres

            drop_postgres(args.pg)
        return json.loads(out.stdout.strip().splitlines()[-1])


def forwarded(args) -> list[str]:
    return ["--events-batch", str(args.events_batch), "--event-batches", str(args.event_batches), "--history-scale",
            str(args.history_scale), "--history-days", str(args.history_days), "--new-sales", str(args.new_sales), "--db", args.db, "--pg", args.pg,
            "--pg-max-scale", str(args.pg_max_scale), *(["--quick"] if args.quick else [])]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="ingest,api,sync,segment")
    p.add_argument("--db", default="sqlite,postgres", help="databases of the sync part; 'postgres' also runs the "
                   "segment query on PostgreSQL")
    p.add_argument("--pg", default=PG_URL)
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run in seconds")
    p.add_argument("--events-batch", type=int, default=100_000)
    p.add_argument("--event-batches", type=int, default=10)
    p.add_argument("--history-scale", type=int, default=5, help="the sync's chain: seed --scale")
    p.add_argument("--history-days", type=int, default=365, help="the sync's history: seed --history")
    p.add_argument("--api-seconds", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--new-sales", type=int, default=200)
    p.add_argument("--scale", default="1", help="segment shapes, x (1 M members, 10 M lines), comma-separated")
    p.add_argument("--pg-max-scale", type=float, default=1, help="largest shape also loaded into PostgreSQL")
    p.add_argument("--child", help=argparse.SUPPRESS)
    return p


def main() -> None:
    args = parser().parse_args()
    if args.quick:
        args.events_batch, args.event_batches, args.new_sales, args.api_seconds = 2_000, 3, 5, 2
        args.history_scale, args.history_days = 1, 7
    if args.child:
        result = {"world": child_world, "ingest": child_ingest, "sync": child_sync, "segment": child_segment,
                  "flush": child_flush}[args.child](args)
        print(json.dumps(result, default=str))
        return
    parts = args.parts.split(",")
    dbs = [d for d in args.db.split(",") if d in ("sqlite", "postgres")]
    print(f"bench/warehouse.py on {os.cpu_count()} CPUs, load average {load()} at the start")
    if "ingest" in parts:
        print_ingest(in_child("ingest", args))
    if "api" in parts:
        print_api(measure_api(args))
    if "sync" in parts:
        print_sync([in_child("sync", args, db) for db in dbs])
    if "segment" in parts:
        print_segment([in_child("segment", args, extra=["--scale", s]) for s in args.scale.split(",")])
    print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
