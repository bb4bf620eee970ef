"""Benchmark: POS checkouts through the HTTP API with 1, 4 and 16 concurrent clients, on SQLite and PostgreSQL.

    .venv/bin/python bench/checkout_http.py [--db sqlite,postgres] [--clients 1,4,16] [--seconds 10]
        [--workers 3] [--threads 8] [--pg postgresql://postgres@127.0.0.1:54330]

For each database it builds a fresh one (SQLite in a temp dir; PostgreSQL database `yd_bench_checkout`, dropped
and re-created), migrates, seeds the test chain with 100 SKUs stocked in store A and an API token, then starts a
real server process (gunicorn, gthread workers) on a loopback port and drives it from client threads, each with
its own keep-alive connection. Every request is one complete POS sale: POST /api/v1/sales/orders with a fresh
client key, 2 random lines and an inline cash payment (stock issued, order paid, commission earned, all in one
transaction). Non-201 answers are counted as errors. Prints orders/s, p50 and p99 latency and the throughput
ratio to the 1-client baseline of the same database, then checks the ledgers of each database.

Client and server share the machine: on a 2-core box the client threads take CPU from the server, so the
figures are a floor for a dedicated server. On a box shared with other work the wall-clock figures also move
with everything else that runs; so each row also reports the CPU time spent per order, read from /proc: by the
gunicorn workers (`app ms`), by the PostgreSQL backends serving the bench database (`db ms`) and by this client
(`client ms`), the load average during the row, and `cap/s`, the orders per second those CPU costs would allow on
this machine's cores if nothing else ran (cores x 1000 / (app + db + client ms)).
"""
import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import latency_ms, pg_admin, seeded_database, serving  # noqa: E402

SKUS = 100
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU seconds of each live process in pids (from /proc/<pid>/stat)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return out


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def db_backends(pg_url: str | None) -> list[int]:
    """The PostgreSQL server processes serving the bench database (its pg_stat_activity), none for SQLite."""
    if pg_url is None:
        return []
    import psycopg

    admin, name = pg_admin(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])]


class CpuMeter:
    """CPU seconds spent by the server's workers, the database's backends and this process over one run."""

    def __init__(self, server: subprocess.Popen, pg_url: str | None):
        self.server, self.pg_url = server, pg_url

    def snapshot(self) -> tuple[dict, dict, float]:
        return (cpu_seconds([self.server.pid, *children(self.server.pid)]), cpu_seconds(db_backends(self.pg_url)),
                time.process_time())

    @staticmethod
    def spent(before: tuple[dict, dict, float], after: tuple[dict, dict, float]) -> tuple[float, float, float]:
        def delta(b: dict, a: dict) -> float:
            return sum(v - b.get(pid, 0.0) for pid, v in a.items())
        return delta(before[0], after[0]), delta(before[1], after[1]), after[2] - before[2]


def seed() -> None:
    import django

    django.setup()
    print(json.dumps(seed_world()))


def seed_world() -> dict:
    """Migrate and seed the bench's world (Django already set up); returns token, store, SKU ids and the admin."""
    from django.core.management import call_command
    from django.db import transaction

    from yundian.catalog import services as catalog
    from yundian.catalog.models import Sku
    from yundian.guides.services import commission_plan_create
    from yundian.inventory.services import receipt_create, warehouse_create
    from yundian.org.services import api_token_create
    from yundian.org.tests.factories import make_chain

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        chain = make_chain("bench")
        wh = warehouse_create(actor=chain.admin, node_id=chain.store_a.id, kind="store", code="WH-A", name="Store A")
        for p in range(SKUS // 5):
            catalog.product_create(actor=chain.admin, code=f"P{p:03d}", name=f"商品 {p}",
                                   skus=[{"code": f"P{p:03d}-{v}", "base_price": 1000 + 37 * (p * 5 + v)}
                                         for v in range(5)])
        sku_ids = list(Sku.objects.filter(enterprise_id=chain.admin.enterprise_id).values_list("pk", flat=True))
        receipt_create(actor=chain.admin, warehouse_id=wh.id, lines=[(s, 10**7) for s in sku_ids])
        commission_plan_create(actor=chain.admin, node_id=chain.hq.id, name="Standard", default_rate="0.03")
        _token, secret = api_token_create(actor=chain.admin, name="bench till")
    return {"token": secret, "store_id": chain.store_a.id, "sku_ids": sku_ids, "staff_id": chain.admin.id}


def drive(port: int, seeded: dict, clients: int, seconds: float, run_tag: str, meter: CpuMeter | None = None) -> dict:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]
    headers = {"Authorization": f"Bearer {seeded['token']}", "Content-Type": "application/json"}

    def client(i: int) -> None:
        rng = random.Random(f"{run_tag}:{i}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            n += 1
            skus = rng.sample(seeded["sku_ids"], 2)
            body = json.dumps({"store_id": seeded["store_id"], "client_ref": f"{run_tag}-{i}-{n}",
                               "lines": [{"sku_id": skus[0], "quantity": 1}, {"sku_id": skus[1], "quantity": 2}],
                               "payments": [{"method": "cash", "client_ref": "cash", "tendered": 100000}]})
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/sales/orders", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 201
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            if ok:
                latencies[i].append(elapsed)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    before = meter.snapshot() if meter else None
    started = time.perf_counter()
    stop_at[0] = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    app = db = own = float("nan")
    if meter:
        app, db, own = meter.spent(before, meter.snapshot())
    flat = sorted(x for per in latencies for x in per)
    n = max(1, len(flat))
    return {"orders": len(flat), "errors": sum(errors), "rate": len(flat) / wall,
            "app_ms": app * 1000 / n, "db_ms": db * 1000 / n, "client_ms": own * 1000 / n, "load": os.getloadavg()[0],
            **latency_ms(flat)}


def check(env: dict) -> str:
    out = subprocess.run([sys.executable, "manage.py", "check_ledgers"], env=env, cwd=ROOT, capture_output=True,
                         text=True)
    return "clean" if out.returncode == 0 else f"MISMATCH: {(out.stdout + out.stderr)[-300:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330/yd_bench_checkout",
                        help="PostgreSQL database URL (dropped and re-created); query options go to the server's settings "
                             "(e.g. ?server_side_binding=true)")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed()
        return
    rows = []
    for db in args.db.split(","):
        # a fresh database seeded in a child process (so each database gets its own Django setup)
        with seeded_database(db, prefix="yd-bench-checkout-", pg_url=args.pg, script=__file__) as (env, seeded):
            with serving(env, workers=args.workers, threads=args.threads) as (port, server):
                meter = CpuMeter(server, args.pg if db == "postgres" else None)
                drive(port, seeded, 2, 2, f"{db}-warmup")  # warm every worker's connections and caches
                baseline = None
                for clients in (int(c) for c in args.clients.split(",")):
                    result = drive(port, seeded, clients, args.seconds, f"{db}-{clients}", meter)
                    baseline = baseline or result["rate"]
                    rows.append((db, clients, result, result["rate"] / baseline if baseline else float("nan")))
                    print(f"  {db:<8} {clients:>3} clients: {result['rate']:7.1f} orders/s", file=sys.stderr)
            rows.append((db, "ledgers", check(env), None))
    print(f"\nPOS checkout through HTTP (gunicorn gthread {args.workers} workers x {args.threads} threads, "
          f"{os.cpu_count()} CPUs, {args.seconds:.0f} s per row; CPU ms per order: app = gunicorn workers, db = "
          f"PostgreSQL backends, client = this load generator; cap/s = {os.cpu_count()} cores x 1000 / their sum)\n")
    print(f"{'database':<10} {'clients':>7} {'orders':>8} {'errors':>6} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'x 1-client':>10} {'app ms':>7} {'db ms':>6} {'client ms':>9} {'cap/s':>6} {'load':>5}")
    for db, clients, result, ratio in rows:
        if clients == "ledgers":
            print(f"{db:<10} check-ledgers: {result}")
            continue
        cpu = result["app_ms"] + (result["db_ms"] if db == "postgres" else 0) + result["client_ms"]
        print(f"{db:<10} {clients:>7} {result['orders']:>8} {result['errors']:>6} {result['rate']:>9.1f} "
              f"{result['p50']:>8.1f} {result['p99']:>8.1f} {ratio:>10.2f} {result['app_ms']:>7.1f} "
              f"{result['db_ms'] if db == 'postgres' else 0:>6.1f} {result['client_ms']:>9.1f} "
              f"{(os.cpu_count() or 1) * 1000 / cpu if cpu else float('nan'):>6.0f} {result['load']:>5.1f}")


if __name__ == "__main__":
    main()
