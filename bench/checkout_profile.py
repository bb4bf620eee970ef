"""Profile: where one POS checkout spends its time, in one process (no HTTP server, no client threads).

    .venv/bin/python bench/checkout_profile.py [--db sqlite|postgres] [--orders 200] [--top 25] [--profile] [--sql]
        [--pg postgresql://postgres@127.0.0.1:54330/yd_perf_profile] [--pg-template yd_migrated]

Builds a fresh database (SQLite in a temp dir; or the given PostgreSQL database, dropped and re-created), seeds the
same world as bench/checkout_http.py (test chain, 100 SKUs stocked in store A, a commission plan, an API token),
plus a member (a points rule and two tiers, so the sale earns points and growth) and store A's guide, then
measures, in this process:

- GET /api/v1/me through Django's test Client with the bearer token (the baseline: auth + routing + a schema),
- POST /api/v1/sales/orders through the test Client (2 lines, inline cash payment, the member, the guide),
- sales.services.order_create called directly (the same sale without HTTP, auth and schemas),

each as ms per request, wall clock and this process's CPU time (best of 3 rounds of --orders; on a shared box
the CPU time is the steadier figure; with PostgreSQL the server's own CPU is not in it), SQL statements per
request (counted with CaptureQueriesContext in a separate round, so counting does not slow the timed rounds) and
the CPU ratio to the baseline.

Always: the statements of one POST as a table, each with the Yundian function that issued it (the first frame
inside yundian/ that is not a low-level helper, found by walking the stack in a connection.execute_wrapper). On
PostgreSQL also PostgreSQL's own time per sale from pg_stat_statements (calls, execution and planning time per
statement over --orders POSTs) beside this process's CPU. That needs the server started with
`-c shared_preload_libraries=pg_stat_statements` (a throwaway server, as in the HTTP benches); the bench creates the
extension in its database, and says so and skips that table when the server cannot.
With --profile it also prints the top functions of a cProfile of the POST round (by own time and by
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

from bench._server import fresh_postgres, pg_admin, server_env  # noqa: E402


def setup(db: str, pg_url: str, data_dir: str, pg_template: str | None = None) -> None:
    """Django set up in this process with the HTTP benchmarks' server settings (bench/_server.py) on a fresh
    database (on PostgreSQL a copy of `pg_template` when given: a migrated database, so a slow machine does not
    migrate for every run), plus the test Client's host."""
    os.environ.update(server_env(db, data_dir, pg_url), ALLOWED_HOSTS="127.0.0.1,localhost,testserver")
    if db == "postgres" and pg_template:
        import psycopg

        admin, name = pg_admin(pg_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    elif db == "postgres":
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
    parser.add_argument("--pg-template", help="copy this migrated PostgreSQL database instead of migrating a new one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yd-perf-profile-") as data_dir:
        setup(args.db, args.pg, data_dir, args.pg_template)
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
    world.update(seed_sale_extras(world))
    actor = Staff.objects.get(pk=world["staff_id"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    rng = random.Random(7)
    counter = [0]

    def body() -> dict:
        counter[0] += 1
        a, b = rng.sample(world["sku_ids"], 2)
        return {"store_id": world["store_id"], "client_ref": f"profile-{counter[0]}",
                "member_id": world["member_id"], "guide_id": world["guide_id"],
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
    statements_of_one_sale(post, show_sql=args.sql)
    if connection.vendor == "postgresql":
        pg_time_per_sale(post, args.orders, rows[1][2])
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


def seed_sale_extras(world: dict) -> dict:
    """The member (with a points rule and tiers, so a sale earns points and growth) and store A's guide."""
    from django.db import transaction

    from yundian.members.services import member_register, points_rule_create, tier_create
    from yundian.org.models import Staff

    admin = Staff.objects.get(pk=world["staff_id"])
    guide = Staff.objects.get(user__username="bench-guide-a")
    with transaction.atomic():
        points_rule_create(actor=admin, name="Everything", points_per_yuan="1")
        tier_create(actor=admin, code="SILVER", name="Silver", rank=1, min_growth=0)
        tier_create(actor=admin, code="GOLD", name="Gold", rank=2, min_growth=10**9, discount_rate="0.95")
        member = member_register(actor=admin, store_id=world["store_id"], channel="pos", phone="13800138000",
                                 name="Bench member")
    return {"member_id": member.pk, "guide_id": guide.pk}


# helpers whose caller is the interesting frame: the issuing service is the first yundian/ frame outside these
LOW_LEVEL = ("yundian/core/outbox.py", "yundian/sales/services/_common.py:raw_rows", "yundian/sales/locks.py",
             "yundian/inventory/locks.py", "yundian/members/locks.py", "yundian/guides/locks.py",
             "yundian/promotions/locks.py", "yundian/core/locks.py")


def issuer() -> str:
    """The first frame inside yundian/ on the stack that is not a low-level helper: `module.function`."""
    frame = sys._getframe(2)
    first = None
    while frame is not None:
        filename = frame.f_code.co_filename.replace(os.sep, "/")
        if "/yundian/" in filename:
            rel = filename[filename.index("/yundian/") + 1:]
            here = f"{rel}:{frame.f_code.co_name}"
            name = f"{rel[:-3].replace('/', '.').removeprefix('yundian.')}.{frame.f_code.co_name}"
            first = first or name
            if not any(here.startswith(low) for low in LOW_LEVEL) and "/tests/" not in rel:
                return name
        frame = frame.f_back
    return first or "(outside yundian: auth, framework)"


def statements_of_one_sale(post, *, show_sql: bool) -> list[tuple[str, str]]:
    """Run one POST with an execute_wrapper that records each statement and its issuing function; print them."""
    from django.db import connection

    seen: list[tuple[str, str]] = []

    def wrapper(execute, sql, params, many, context):
        seen.append((issuer(), sql))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        post()
    print(f"\nStatements of one POST /api/v1/sales/orders ({connection.vendor}): {len(seen)}")
    print(f"{'#':>3} {'issued by':<52} {'statement'}")
    for i, (who, sql) in enumerate(seen, 1):
        text = " ".join(sql.split())
        print(f"{i:>3} {who:<52} {text[:220] if show_sql else short_sql(text)}")
    return seen


def short_sql(sql: str) -> str:
    """`SELECT FROM table`, `UPDATE table`, ... : the verb and the first table."""
    import re

    verb = sql.split(" ", 1)[0].upper()
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.I)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    returning = " RETURNING" if " RETURNING " in sql.upper() else ""
    return f"{verb} {table.group(1) if table else ''}{lock}{returning}".strip()


def pg_time_per_sale(post, orders: int, cpu_ms: float) -> None:
    """PostgreSQL's own time per sale over `orders` POSTs, from pg_stat_statements (per statement and in all)."""
    from django.db import connection

    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute("SELECT pg_stat_statements_reset()")
            cursor.execute("SELECT count(*) FROM pg_stat_statements")
        except Exception as exc:  # noqa: BLE001 - the server was not started with the library
            print(f"\nPostgreSQL time per sale: skipped, the server has no pg_stat_statements ({str(exc).strip()[:120]});"
                  " start it with -c shared_preload_libraries=pg_stat_statements")
            return
    for _ in range(orders):
        post()
    with connection.cursor() as cursor:
        # top-level statements only (with pg_stat_statements.track=all the foreign-key checks run inside an INSERT
        # are listed too, and their time is already in the INSERT's); savepoints have a name each: one line for all
        cursor.execute("SELECT CASE WHEN query ~ '^(RELEASE )?SAVEPOINT' THEN split_part(query, ' \"', 1) "
                       "ELSE query END AS q, sum(calls), sum(total_exec_time), sum(total_plan_time) "
                       "FROM pg_stat_statements WHERE toplevel "
                       "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                       "AND query NOT ILIKE '%%pg_stat_statements%%' GROUP BY 1 ORDER BY 3 DESC")
        stats = [(int(n), float(ex), float(pl), q) for q, n, ex, pl in cursor.fetchall()]
    # the foreign-key checks PostgreSQL runs inside an INSERT (listed as top-level on PostgreSQL 15): their time is
    # the INSERT's already, so they are shown as one line and not added in
    fk = [r for r in stats if r[3].startswith("SELECT 1 FROM ONLY")]
    stats = [r for r in stats if not r[3].startswith("SELECT 1 FROM ONLY")]
    calls = sum(r[0] for r in stats)
    exec_ms = sum(r[1] for r in stats)
    plan_ms = sum(r[2] for r in stats)
    print(f"\nPostgreSQL's own time per sale over {orders} POSTs (pg_stat_statements, top-level statements; planning "
          f"is counted only with pg_stat_statements.track_planning=on):")
    print(f"{'calls/sale':>10} {'exec ms/sale':>12} {'plan ms/sale':>12}  statement")
    for n, ex, pl, query in stats:
        print(f"{n / orders:>10.2f} {ex / orders:>12.4f} {pl / orders:>12.4f}  {' '.join(query.split())[:150]}")
    if fk:
        print(f"{sum(r[0] for r in fk) / orders:>10.2f} {sum(r[1] for r in fk) / orders:>12.4f} {0:>12.4f}  "
              f"(foreign-key checks inside the INSERTs above: already in their time, not added in)")
    print(f"{calls / orders:>10.2f} {exec_ms / orders:>12.4f} {plan_ms / orders:>12.4f}  in all "
          f"(this process's CPU: {cpu_ms:.2f} ms a sale; PostgreSQL's share "
          f"{(exec_ms + plan_ms) / orders / (cpu_ms + (exec_ms + plan_ms) / orders):.0%})")


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
