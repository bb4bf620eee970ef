"""Benchmark: a flash sale (秒杀) of 100 units rushed by 10,000 buyers over HTTP, on SQLite and PostgreSQL.

    .venv/bin/python bench/flash_sale_http.py [--db sqlite,postgres] [--buyers 10000] [--units 100]
        [--clients 32] [--workers 3] [--threads 8] [--pg postgresql://postgres@127.0.0.1:54330]

For each database it builds a fresh one (SQLite in a temp dir; PostgreSQL database `yd_bench_flash`, dropped and
re-created), migrates, seeds the test chain, one SKU, a flash sale of `units` units (one per member) and `buyers`
members with their signed member tokens, then starts a real server process (gunicorn, gthread workers) on a
loopback port. `clients` client threads with keep-alive connections send every buyer's one attempt,
POST /p/f/<id>/buy, all at once. It checks the cap is exact (201s == units == sold == claims, nobody holds more
than the limit, ledger checks clean) and prints the throughput and p50 / p99 latency of all attempts, of the
winners and of the rejected (409 sold_out, answered by a read once the sale is sold out).

Client and server share the machine, so the figures are a floor for a dedicated server.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import percentile as pct, run_json, seeded_database, serving  # noqa: E402

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
    print(json.dumps({"sale_id": sale.pk, "tokens": [member_token(m) for m in members]}))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.buyers, args.units)
        return
    if args.verify_only:
        verify_only()
        return
    rows = []
    for db in args.db.split(","):
        print(f"  {db}: seeding {args.buyers} members ...", file=sys.stderr, flush=True)
        with seeded_database(db, prefix="yd-bench-flash-", pg_url=f"{args.pg}/{PG_DB}", script=__file__,
                             seed_args=["--buyers", str(args.buyers), "--units", str(args.units)]) as (env, seeded):
            with serving(env, workers=args.workers, threads=args.threads, backlog=2048) as (port, _server):
                # warm every worker: a page view each (no buy, nothing sold)
                for _ in range(args.workers * 4):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("GET", f"/p/f/{seeded['sale_id']}/")
                    conn.getresponse().read()
                    conn.close()
                result = rush(port, seeded, args.clients)
            checked = verify(env)
            rows.append((db, result, checked))
            print(f"  {db}: done in {result['wall']:.1f} s", file=sys.stderr, flush=True)
    print(f"\nFlash sale over HTTP: {args.units} units, {args.buyers} buyers (1 attempt each, limit 1 per member), "
          f"{args.clients} client threads; gunicorn gthread {args.workers} workers x {args.threads} threads")
    print(f"{'db':9} {'201 won':>8} {'409 sold out':>13} {'other':>6} {'sold/cap':>9} {'max/member':>11} "
          f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'win p99':>8} {'reject p99':>11} {'ledgers':>8}")
    for db, result, checked in rows:
        by = result["by_status"]
        every = [x for values in by.values() for x in values]
        won, rejected = by.get(201, []), by.get(409, [])
        other = sum(len(v) for k, v in by.items() if k not in (201, 409))
        exact = len(won) == checked["sold"] == checked["claims"] == checked["cap"] and checked["max_per_member"] <= 1
        print(f"{db:9} {len(won):8d} {len(rejected):13d} {other:6d} {checked['sold']:>4}/{checked['cap']:<4} "
              f"{checked['max_per_member']:11d} {len(every) / result['wall']:8.0f} {pct(every, 0.5):8.1f} "
              f"{pct(every, 0.99):8.1f} {pct(won, 0.99):8.1f} {pct(rejected, 0.99):11.1f} "
              f"{'clean' if not checked['ledgers'] else 'MISMATCH':>8}")
        print(f"{'':9} exact cap: {'yes' if exact else 'NO'}; sold-out flag set: {checked['sold_out_flag']}; "
              f"mean {statistics.mean(every) * 1000:.1f} ms over {len(every)} attempts in {result['wall']:.1f} s")


if __name__ == "__main__":
    main()
