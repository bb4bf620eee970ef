"""Profile: where one POS checkout spends its time, in one process (no HTTP server, no client threads).

    .venv/bin/python bench/checkout_profile.py [--db sqlite|postgres] [--orders 200] [--top 25] [--profile]
        [--pg postgresql://postgres@127.0.0.1:54330/yd_perf_profile]

Builds a fresh database (SQLite in a temp dir; or the given PostgreSQL database, dropped and re-created), seeds the
same world as bench/checkout_http.py (test chain, 100 SKUs stocked in store A, a commission plan, an API token),
then measures, in this process:

- GET /api/v1/me through Django's test Client with the bearer token (the baseline: auth + routing + a schema),
- POST /api/v1/sales/orders through the test Client (2 lines, inline cash payment: the bench's request),
- sales.services.order_create called directly (the same sale without HTTP, auth and schemas),

each as ms per request, wall clock and this process's CPU time (best of 3 rounds of --orders; on a shared box
the CPU time is the steadier figure; with PostgreSQL the server's own CPU is not in it), SQL statements per
request (counted with CaptureQueriesContext in a separate round, so counting does not slow the timed rounds) and
the CPU ratio to the baseline. With --profile it also prints the top functions of a cProfile of the POST round (by own time and by
cumulative time) and the SQL statements of one order.
"""
import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import fresh_postgres, server_env  # noqa: E402


def setup(db: str, pg_url: str, data_dir: str) -> None:
    """Django set up in this process with the HTTP benchmarks' server settings (bench/_server.py) on a fresh
    database, plus the test Client's host."""
    os.environ.update(server_env(db, data_dir, pg_url), ALLOWED_HOSTS="127.0.0.1,localhost,testserver")
    if db == "postgres":
        fresh_postgres(pg_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of one order")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330/yd_perf_profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yd-perf-profile-") as data_dir:
        setup(args.db, args.pg, data_dir)
        run(args)


def run(args) -> None:
    import json
    import random

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from checkout_http import seed_world  # bench/ is on sys.path (this script's folder)
    from yundian.org.models import Staff
    from yundian.sales.services import order_create

    world = seed_world()
    actor = Staff.objects.get(pk=world["staff_id"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    rng = random.Random(7)
    counter = [0]

    def body() -> dict:
        counter[0] += 1
        a, b = rng.sample(world["sku_ids"], 2)
        return {"store_id": world["store_id"], "client_ref": f"profile-{counter[0]}",
                "lines": [{"sku_id": a, "quantity": 1}, {"sku_id": b, "quantity": 2}],
                "payments": [{"method": "cash", "client_ref": "cash", "tendered": 100000}]}

    def me() -> None:
        response = client.get("/api/v1/me")
        assert response.status_code == 200, response.content[:300]

    def post() -> None:
        response = client.post("/api/v1/sales/orders", json.dumps(body()), content_type="application/json")
        assert response.status_code == 201, response.content[:300]

    def direct() -> None:
        result = order_create(actor=Staff.objects.get(pk=actor.pk), **body())
        assert not result.replayed

    cases = [("GET /api/v1/me (baseline)", me), ("POST /api/v1/sales/orders", post),
             ("order_create() direct", direct)]
    rows = []
    for name, fn in cases:
        for _ in range(20):  # warm caches and the connection
            fn()
        best_wall = best_cpu = float("inf")
        for _round in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(args.orders):
                fn()
            best_wall = min(best_wall, (time.perf_counter() - started) / args.orders)
            best_cpu = min(best_cpu, (time.process_time() - started_cpu) / args.orders)
        with CaptureQueriesContext(connection) as captured:
            for _ in range(20):
                fn()
        rows.append((name, best_wall * 1000, best_cpu * 1000, len(captured.captured_queries) / 20))
    baseline = rows[0][2]
    load = os.getloadavg()[0]
    print(f"\nOne checkout in one process ({connection.vendor}, best of 3 x {args.orders} requests; load average "
          f"{load:.1f} on {os.cpu_count()} CPUs: wall time suffers from other processes, this process's CPU time "
          f"much less)\n")
    print(f"{'case':<30} {'wall ms':>8} {'CPU ms':>8} {'SQL':>6} {'CPU x baseline':>14} {'1/CPU per s':>11}")
    for name, wall, cpu, queries in rows:
        print(f"{name:<30} {wall:>8.2f} {cpu:>8.2f} {queries:>6.1f} {cpu / baseline:>14.2f} {1000 / cpu:>11.1f}")
    if args.sql:
        with CaptureQueriesContext(connection) as captured:
            post()
        print("\nSQL of one POST /api/v1/sales/orders:")
        for i, q in enumerate(captured.captured_queries, 1):
            print(f"{i:>3} {q['time']:>6}s {q['sql'][:220]}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.orders):
            post()
        profiler.disable()
        stats = pstats.Stats(profiler)
        areas: dict[str, float] = {}
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
            area = area_of(filename)
            areas[area] = areas.get(area, 0.0) + tottime
        total = sum(areas.values())
        print(f"\nOwn time by area over {args.orders} POSTs (cProfile, so inflated; shares are what matter):")
        for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1]):
            print(f"  {area:<34} {seconds / args.orders * 1000:>7.2f} ms/order {seconds / total:>6.1%}")
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
            print(f"\ncProfile of {args.orders} POSTs, by {key}:")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


AREAS = [("django/db/models/sql", "Django ORM: compiling SQL"), ("django/db/models", "Django ORM: models, querysets"),
         ("django/db/backends", "Django DB backend"), ("psycopg", "psycopg (driver, wire)"),
         ("sqlite3", "sqlite3 (driver, engine)"), ("django/test", "test client"), ("django/", "Django: request, rest"),
         ("ninja", "django-ninja"), ("pydantic", "pydantic"), ("yundian/", "Yundian code"), ("json", "json"),
         ("{built-in", "builtins (mostly called by the above)"), ("{method", "builtins (mostly called by the above)")]


def area_of(filename: str) -> str:
    for needle, area in AREAS:
        if needle in filename:
            return area
    return "other (stdlib)"


if __name__ == "__main__":
    main()
