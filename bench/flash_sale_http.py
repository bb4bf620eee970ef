"""Benchmark: a flash sale (秒杀) of 100 units rushed by 10,000 buyers over HTTP, on SQLite and PostgreSQL.

    .venv/bin/python bench/flash_sale_http.py [--db sqlite,postgres] [--buyers 10000] [--units 100]
        [--clients 32] [--workers 3] [--threads 8] [--pg postgresql://postgres@127.0.0.1:54330]
        [--before /work/wt/base] [--repeat 1] [--profile-requests 300] [--no-profile]

For each database it builds a fresh one (SQLite in a temp dir; PostgreSQL database `yd_bench_flash`, dropped and
re-created), migrates, seeds the test chain, one SKU, a flash sale of `units` units (one per member) and `buyers`
members with their signed member tokens, then starts a real server process (gunicorn, gthread workers) on a
loopback port. `clients` client threads with keep-alive connections send every buyer's one attempt,
POST /p/f/<id>/buy, all at once. It checks the cap is exact (201s == units == sold == claims, nobody holds more
than the limit, ledger checks clean) and prints the throughput and p50 / p99 latency of all attempts, of the
winners and of the rejected (409 sold_out, answered by a read once the sale is sold out).

Then, in one process on the same database (the server stopped; Django's test Client, no HTTP), the CPU of one
losing attempt of each kind (sold out, already claimed, not started, ended) and of a winning one beside
GET /api/v1/me with a bearer token (the floor: auth, routing, a schema), best of 3 rounds of --profile-requests,
with the SQL statements of each and the ratio to the floor (goal for a losing attempt: <= 1.2x).

--before TREE runs the same bench against the code of another checkout too (e.g. a worktree of an older main),
alternating before and after --repeat times in the same run, so both see the same load on a shared machine.

Client and server share the machine, so the figures are a floor for a dedicated server.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import server_url  # noqa: E402
from bench._server import code_root, percentile as pct, run_json, seeded_database, serving  # noqa: E402

if os.environ.get("BENCH_CODE"):  # a child measuring another checkout's code (--before): its yundian and config
    sys.path.insert(0, os.environ["BENCH_CODE"])

PG_DB = "yd_bench_flash"


def seed(buyers: int, units: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from yundian.catalog import services as catalog
    from yundian.members.models import Channel, Member, MemberStatus
    from yundian.org.services import api_token_create
    from yundian.org.tests.factories import make_chain
    from yundian.promotions import services
    from yundian.promotions.member_tokens import member_token

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        chain = make_chain("bench")
        product = catalog.product_create(actor=chain.admin, code="HOT", name="爆款",
                                         skus=[{"code": "HOT-1", "base_price": 19900}])
        sku = product.skus.get()
        now = timezone.now()
        sale = services.flash_sale_create(actor=chain.admin, node_id=chain.hq.id, code="FS-BENCH", name="秒杀",
                                          sku_id=sku.pk, price=990, cap=units, per_member_limit=1,
                                          starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2))
        Member.objects.bulk_create([Member(enterprise_id=chain.hq.enterprise_id, home=chain.store_a,
                                           channel=Channel.STOREFRONT, status=MemberStatus.ACTIVE)
                                    for _ in range(buyers)], batch_size=1000)
        members = list(Member.objects.filter(enterprise_id=chain.hq.enterprise_id).order_by("id"))
        # for the in-process profile: a sale that stays open (winners, then "already claimed"), one not started
        # yet, one ended; and an API token for the floor (GET /api/v1/me)
        extra = {}
        for code, starts, hours in (("FS-OPEN", now - timedelta(minutes=1), 2), ("FS-SOON", now + timedelta(hours=1), 2),
                                    ("FS-OVER", now - timedelta(hours=3), 1)):
            extra[code] = services.flash_sale_create(
                actor=chain.admin, node_id=chain.hq.id, code=code, name="秒杀", sku_id=sku.pk, price=990,
                cap=10_000_000, per_member_limit=1, starts_at=starts, ends_at=starts + timedelta(hours=hours)).pk
        _token, secret = api_token_create(actor=chain.admin, name="bench floor")
    print(json.dumps({"sale_id": sale.pk, "tokens": [member_token(m) for m in members], "api_token": secret,
                      "open_id": extra["FS-OPEN"], "soon_id": extra["FS-SOON"], "over_id": extra["FS-OVER"]}))


def verify(env: dict) -> dict:
    return run_json(__file__, "--verify-only", env=env)


def verify_only() -> None:
    import django

    django.setup()
    from django.db.models import Count, Max, Sum

    from yundian.core.ledgers import ledger_checks
    from yundian.promotions.models import FlashSale, FlashSaleClaim

    sale = FlashSale.objects.get(code="FS-BENCH")
    claims = FlashSaleClaim.objects.filter(flash_sale=sale)
    per_member = claims.values("member_id").annotate(n=Sum("quantity")).aggregate(m=Max("n"))["m"] or 0
    checks = ledger_checks()
    mismatches = [str(m) for name in ("flash_sales", "flash_buyers") for m in checks[name]()]
    print(json.dumps({"sold": sale.sold, "cap": sale.cap, "claims": claims.aggregate(c=Count("id"))["c"],
                      "max_per_member": per_member, "sold_out_flag": sale.is_sold_out, "ledgers": mismatches}))


def rush(port: int, seeded: dict, clients: int) -> dict:
    """Every buyer tries once; returns outcome counts and latencies (seconds) by outcome."""
    tokens = seeded["tokens"]
    path = f"/p/f/{seeded['sale_id']}/buy"
    results: list[tuple[int, float]] = [(0, 0.0)] * len(tokens)
    next_index = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(tokens):
                break
            body = json.dumps({"member_token": tokens[i], "client_ref": f"buy-{i}", "quantity": 1})
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                payload = response.read()
                status = response.status
                if status == 409 and json.loads(payload)["error"]["code"] != "sold_out":
                    status = 4090
            except (OSError, http.client.HTTPException):
                status = -1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            results[i] = (status, time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    by_status: dict[int, list[float]] = {}
    for status, latency in results:
        by_status.setdefault(status, []).append(latency)
    return {"wall": wall, "by_status": by_status}


PROFILE_CASES = ("GET /api/v1/me (floor)", "lose: sold out", "lose: already claimed", "lose: not started",
                 "lose: ended", "win: 201")


def profile_only(api_token: str, requests: int) -> None:
    """In this process (Django's test Client, no HTTP): CPU and statements of GET /api/v1/me and of one buy of each
    outcome, best of 3 rounds; prints them as JSON."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from yundian.members.models import Member
    from yundian.promotions.member_tokens import member_token
    from yundian.promotions.models import FlashSale, FlashSaleClaim

    sales = dict(FlashSale.objects.values_list("code", "pk"))
    won = set(FlashSaleClaim.objects.filter(flash_sale_id=sales["FS-BENCH"]).values_list("member_id", flat=True))
    losers = [member_token(m) for m in Member.objects.order_by("id") if m.pk not in won]
    me_client, client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token}"), Client()
    counter = [0]
    fresh = iter(losers)  # each winner of FS-OPEN once (limit 1); they are "already claimed" afterwards
    open_winners: list[str] = []

    def buy(code: str, token: str, status: int, error: str | None) -> None:
        counter[0] += 1
        response = client.post(f"/p/f/{sales[code]}/buy", json.dumps(
            {"member_token": token, "client_ref": f"p-{counter[0]}", "quantity": 1}), content_type="application/json")
        assert response.status_code == status, response.content[:300]
        assert error is None or response.json()["error"]["code"] == error, response.content[:300]

    def me() -> None:
        response = me_client.get("/api/v1/me")
        assert response.status_code == 200, response.content[:300]

    def win() -> None:
        token = next(fresh)
        buy("FS-OPEN", token, 201, None)
        open_winners.append(token)

    def pick(tokens: list[str]) -> str:
        return tokens[counter[0] % len(tokens)]

    cases = {
        PROFILE_CASES[0]: me,
        PROFILE_CASES[1]: lambda: buy("FS-BENCH", pick(losers), 409, "sold_out"),
        PROFILE_CASES[2]: lambda: buy("FS-OPEN", pick(open_winners), 409, "member_limit_reached"),
        PROFILE_CASES[3]: lambda: buy("FS-SOON", pick(losers), 409, "not_started"),
        PROFILE_CASES[4]: lambda: buy("FS-OVER", pick(losers), 409, "ended"),
        PROFILE_CASES[5]: win,
    }
    order = [PROFILE_CASES[i] for i in (0, 5, 1, 2, 3, 4)]  # winners first: "already claimed" needs them
    rows = {}
    for name in order:
        fn = cases[name]
        for _ in range(20):
            fn()
        best_wall = best_cpu = float("inf")
        for _round in range(3):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(requests):
                fn()
            best_wall = min(best_wall, (time.perf_counter() - started) / requests)
            best_cpu = min(best_cpu, (time.process_time() - started_cpu) / requests)
        with CaptureQueriesContext(connection) as captured:
            for _ in range(20):
                fn()
        rows[name] = {"wall_ms": best_wall * 1000, "cpu_ms": best_cpu * 1000,
                      "sql": len(captured.captured_queries) / 20}
    print(json.dumps({"rows": rows, "vendor": connection.vendor}))


@contextmanager
def seeded_copy(db: str, args, template: tuple[dict, dict] | None) -> Iterator[tuple[dict, dict]]:
    """(server env, seed) on a fresh database: on SQLite a copy of the template's file when given (the seed, with its
    migrations, is the slow part on a loaded machine, and both codes share the schema), else seeded anew."""
    if db == "sqlite" and template is not None:
        with tempfile.TemporaryDirectory(prefix="yd-bench-flash-") as data_dir:
            shutil.copy(Path(template[0]["YUNDIAN_DATA"]) / "yundian.sqlite3", Path(data_dir) / "yundian.sqlite3")
            yield {**template[0], "YUNDIAN_DATA": data_dir}, template[1]
        return
    print(f"  {db}: seeding {args.buyers} members ...", file=sys.stderr, flush=True)
    with seeded_database(db, prefix="yd-bench-flash-", pg_url=f"{server_url(args.pg)}/{PG_DB}", script=__file__,
                         seed_args=["--buyers", str(args.buyers), "--units", str(args.units)]) as (env, seeded):
        yield env, seeded


def one_run(db: str, args, code: str | None, template: tuple[dict, dict] | None = None) -> dict:
    """Serve, rush, check and profile one checkout's code (None: this one) on a fresh copy of the seeded database."""
    label = "before" if code else "after"
    with seeded_copy(db, args, template) as (env, seeded):
        env = dict(env)
        if code:
            env.update(BENCH_CODE=code, PYTHONPATH=code)
        if template is not None:  # a copy seeded by another code: this code's migrations on it (none if the same)
            import subprocess

            subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], env=env,
                           cwd=code_root(env), check=True)
        print(f"  {db} {label}: serving ...", file=sys.stderr, flush=True)
        with serving(env, workers=args.workers, threads=args.threads, backlog=2048) as (port, _server):
            # warm every worker: a page view each (no buy, nothing sold)
            for _ in range(args.workers * 4):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)  # workers boot slowly when loaded
                conn.request("GET", f"/p/f/{seeded['sale_id']}/")
                conn.getresponse().read()
                conn.close()
            load = os.getloadavg()
            result = rush(port, seeded, args.clients)
        checked = verify(env)
        print(f"  {db} {label}: done in {result['wall']:.1f} s", file=sys.stderr, flush=True)
        print_rush([{"db": db, "code": label, "result": result, "checked": checked, "load": load}], args)
        profile = None
        if not args.no_profile:
            profile = run_json(__file__, "--profile-only", "--api-token", seeded["api_token"],
                               "--profile-requests", str(args.profile_requests),
                               env={**env, "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver"})
    return {"db": db, "code": label, "result": result, "checked": checked, "profile": profile, "load": load}


def print_rush(runs: list[dict], args) -> None:
    print(f"\nFlash sale over HTTP: {args.units} units, {args.buyers} buyers (1 attempt each, limit 1 per member), "
          f"{args.clients} client threads; gunicorn gthread {args.workers} workers x {args.threads} threads")
    print(f"{'db':9} {'code':7} {'201 won':>8} {'409 sold out':>13} {'other':>6} {'sold/cap':>9} {'max/member':>11} "
          f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'win p99':>8} {'reject p99':>11} {'ledgers':>8} "
          f"{'load avg at start':>18}")
    for run in runs:
        result, checked = run["result"], run["checked"]
        by = result["by_status"]
        every = [x for values in by.values() for x in values]
        won, rejected = by.get(201, []), by.get(409, [])
        other = sum(len(v) for k, v in by.items() if k not in (201, 409))
        exact = len(won) == checked["sold"] == checked["claims"] == checked["cap"] and checked["max_per_member"] <= 1
        print(f"{run['db']:9} {run['code']:7} {len(won):8d} {len(rejected):13d} {other:6d} "
              f"{checked['sold']:>4}/{checked['cap']:<4} {checked['max_per_member']:11d} "
              f"{len(every) / result['wall']:8.0f} {pct(every, 0.5):8.1f} {pct(every, 0.99):8.1f} {pct(won, 0.99):8.1f} "
              f"{pct(rejected, 0.99):11.1f} {'clean' if not checked['ledgers'] else 'MISMATCH':>8} "
              f"{' / '.join(f'{x:.1f}' for x in run['load']):>18}")
        print(f"{'':17} exact cap: {'yes' if exact else 'NO'}; sold-out flag set: {checked['sold_out_flag']}; "
              f"mean {statistics.mean(every) * 1000:.1f} ms over {len(every)} attempts in {result['wall']:.1f} s")


def print_profile(runs: list[dict], args) -> None:
    runs = [r for r in runs if r["profile"]]
    if not runs:
        return
    print(f"\nOne attempt in one process (test Client, no HTTP; best of 3 x {args.profile_requests}; CPU of this "
          f"process; ratio to GET /api/v1/me in the same process; goal for a losing attempt <= 1.2x)")
    print(f"{'db':9} {'code':7} {'case':<24} {'wall ms':>8} {'CPU ms':>8} {'SQL':>5} {'CPU x floor':>12}")
    for run in runs:
        rows = run["profile"]["rows"]
        floor = rows[PROFILE_CASES[0]]["cpu_ms"]
        for name in PROFILE_CASES:
            row = rows[name]
            print(f"{run['db']:9} {run['code']:7} {name:<24} {row['wall_ms']:8.2f} {row['cpu_ms']:8.2f} "
                  f"{row['sql']:5.1f} {row['cpu_ms'] / floor:12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330",
                        help="a PostgreSQL server URL; a database name at its end is ignored (the bench uses %s)" % PG_DB)
    parser.add_argument("--before", default="", help="another checkout (an older main) to measure in the same run")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each code on each database, alternating")
    parser.add_argument("--profile-requests", type=int, default=300)
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.buyers, args.units)
        return
    if args.verify_only:
        verify_only()
        return
    if args.profile_only:
        profile_only(args.api_token, args.profile_requests)
        return
    codes = ([str(Path(args.before).resolve())] if args.before else []) + [None]
    runs = []
    for db in args.db.split(","):
        if db == "sqlite":  # seeded once; each run gets a copy of the file
            with seeded_copy(db, args, None) as template:
                for _ in range(args.repeat):
                    runs.extend(one_run(db, args, code, template) for code in codes)
        else:
            for _ in range(args.repeat):
                runs.extend(one_run(db, args, code) for code in codes)
    print_rush(runs, args)
    print_profile(runs, args)


if __name__ == "__main__":
    main()
