"""Proof under load: a store day of traffic against a real server (gunicorn + the task worker) on SQLite and
PostgreSQL, with crashes, and the bigger schemathesis pass.

    .venv/bin/python bench/store_day.py load  [--db sqlite,postgres] [--seconds 90] [--users 30]
    .venv/bin/python bench/store_day.py crash [--db sqlite,postgres] [--seconds 90] [--users 30] [--kills 4]
    .venv/bin/python bench/store_day.py fuzz  [--db sqlite,postgres] [--examples 300]
        [--pg postgresql://postgres@127.0.0.1:54330] [--workers 3] [--threads 8]

load   builds a fresh database (SQLite in a temp dir; PostgreSQL `yd_proof_load`, dropped and re-created), seeds the
       scale-1 demo enterprise plus the store day (seed.py), starts gunicorn and the worker on a loopback port and
       runs locust headless for --seconds: clerks scanning barcodes and checking out (racing for a scarce SKU; a
       quarter present a single-use coupon code, each code handed to two clerks at once), returns, member
       registration, points redemptions and stored-value sales, transfers from the central warehouse and cycle
       counts, storefront browsing, members signing in on the storefront with a one-time code (read from the
       server's code file) and ordering there for pickup (1-2 SKUs in the cart, stored value or pay at the store,
       once per checkout key), and a flash-sale burst. Prints orders/s and p50 / p99 / errors per action, the
       checks (acknowledged writes lost or duplicated, coupons redeemed twice, redemptions without their order,
       storefront orders under the wrong member or not held in their store) and ends with `yundian check-ledgers`.
crash  the same load, while the driver SIGKILLs the server, the worker or both --kills times and restarts them;
       locust clients retry every write under its key (a storefront checkout: the same form, the same key). Then
       proves: 0 lost acknowledged writes (orders, returns, flash claims, points redemptions, coupon redemptions,
       storefront orders), 0 duplicates (no checkout key with two orders), 0 ledger mismatches, 0 oversold units,
       0 caps exceeded.
fuzz   runs tests/proof/test_api_fuzz.py with --examples per generation mode and role (the suite uses 40).

Everything stays on 127.0.0.1 and stops by itself. Client and server share the machine (2 cores here), so the
figures are a floor for a dedicated server.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store_day import crash, report, servers  # noqa: E402

PG_DB = "yd_proof_load"
LOCUSTFILE = ROOT / "bench" / "store_day" / "locustfile.py"


def run_locust(env: dict, port: int, day_json: Path, acks: Path, out: Path, seconds: int, users: int) -> dict:
    locust = str(Path(sys.executable).with_name("locust"))
    locust_env = {**env, "STORE_DAY_JSON": str(day_json), "STORE_DAY_ACKS": str(acks), "PYTHONPATH": str(ROOT),
                  "STORE_DAY_RETRY": "60", "STORE_DAY_CODES": str(servers.codes_file(env))}
    started = time.perf_counter()
    proc = subprocess.run([locust, "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r", str(max(1, users // 3)),
                           "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", str(out / "locust"),
                           "--only-summary", "--stop-timeout", "70", "--exit-code-on-error", "0",
                           "--loglevel", "WARNING"], env=locust_env, cwd=ROOT, capture_output=True, text=True,
                          timeout=seconds + 300)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    rows = []
    with open(out / "locust_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                continue
            count, failures = int(row["Request Count"]), int(row["Failure Count"])
            rows.append({"action": row["Name"], "count": count, "errors": failures,
                         "per_s": float(row["Requests/s"]), "p50_ms": float(row["50%"] or "nan"),
                         "p99_ms": float(row["99%"] or "nan")})
    failures = []
    if (out / "locust_failures.csv").exists():
        with open(out / "locust_failures.csv", newline="") as fh:
            failures = [f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in csv.DictReader(fh)]
    lines = acks.read_text().splitlines() if acks.exists() else []
    acked = sum(1 for line in lines if '"kind": "order"' in line)
    online = sum(1 for line in lines if '"kind": "storefront"' in line)
    return {"rows": rows, "wall": wall, "seconds": seconds, "orders": acked, "orders_per_s": acked / seconds,
            "storefront_orders": online, "failures": failures}


def one_database(mode: str, db: str, args) -> dict:
    pg_url = f"{args.pg}/{PG_DB}"
    with tempfile.TemporaryDirectory(prefix=f"yd-store-day-{db}-") as tmp:
        tmp = Path(tmp)
        env = servers.server_env(db, str(tmp), pg_url)
        if db == "postgres":
            servers.fresh_postgres(pg_url)
        print(f"  {db}: seeding ...", file=sys.stderr, flush=True)
        seeded = servers.run_django(env, "seed", str(tmp / "day.json"), "--hot-units", str(args.hot_units),
                                    "--flash-cap", str(args.flash_cap), "--buyers", str(args.buyers),
                                    "--coupons", str(args.coupons))
        port = servers.free_port()
        web = servers.web(env, port, tmp / "web.log", workers=args.workers, threads=args.threads)
        worker = servers.worker(env, tmp / "worker.log")
        web.start()
        worker.start()
        chaos = None
        chaos_thread = None
        stop = threading.Event()
        if mode == "crash":
            # spread the kills over the run, alternating the server, the worker and both
            kinds = ["web", "both", "worker", "web", "both", "web"]
            step = args.seconds / (args.kills + 1)
            chaos = crash.Chaos([(step * (i + 1), kinds[i % len(kinds)]) for i in range(args.kills)])
            chaos_thread = threading.Thread(target=chaos.run, args=({"web": web, "worker": worker}, stop,
                                                                    time.monotonic() + 3))
            chaos_thread.start()
        print(f"  {db}: store day for {args.seconds} s with {args.users} users ...", file=sys.stderr, flush=True)
        try:
            result = run_locust(env, port, tmp / "day.json", tmp / "acks.jsonl", tmp, args.seconds, args.users)
        finally:
            stop.set()
            if chaos_thread is not None:
                chaos_thread.join()
            web.stop()
            worker.stop()
        result["db"] = db
        result["seeded"] = seeded
        result["kills"] = chaos.log if chaos else []
        result["verified"] = servers.run_django(env, "verify", str(tmp / "acks.jsonl"))
        result["ledgers_clean"], result["ledgers"] = servers.check_ledgers(env)
        if db == "postgres":
            servers.drop_postgres(pg_url)
        return result


def fuzz(db: str, args) -> dict:
    env = {**os.environ, "PROOF_FUZZ_EXAMPLES": str(args.examples), "YUNDIAN_DATA": tempfile.mkdtemp(prefix="yd-fuzz-")}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        env["DATABASE_URL"] = f"{args.pg}/yd_proof_fuzz"
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:logging", "-p", "no:cacheprovider",
                          "tests/proof/test_api_fuzz.py", "-k", "fuzzing", "-s"], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    lines = [line.split("FUZZ ", 1)[1] for line in out.stdout.splitlines() if "FUZZ {" in line]
    return {"db": db, "passed": out.returncode == 0, "seconds": time.perf_counter() - started,
            "roles": [json.loads(line) for line in lines], "tail": out.stdout[-2000:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["load", "crash", "fuzz"], nargs="?", default="load")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--seconds", type=int, default=90)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hot-units", type=int, default=40)
    parser.add_argument("--flash-cap", type=int, default=50)
    parser.add_argument("--buyers", type=int, default=400)
    parser.add_argument("--coupons", type=int, default=200)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330")
    args = parser.parse_args()
    databases = args.db.split(",")
    if args.mode == "fuzz":
        report.print_fuzz([fuzz(db, args) for db in databases], args)
        return
    results = [one_database(args.mode, db, args) for db in databases]
    report.print_load(results, args)
    if args.mode == "crash":
        report.print_crash(results, args)
    report.print_checks(results)
    ok = all(report.invariants_hold(r) for r in results)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
