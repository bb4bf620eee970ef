"""Benchmark: PostgreSQL connection settings under POS sales through HTTP — per-thread persistent connections (the
baseline), Django's connection pool, server-side prepared statements, and both — each alone, in alternating rounds.

    .venv/bin/python bench/pg_connections.py [--configs baseline,pool,prepared,both] [--rounds 2] [--clients 1,4,16]
        [--seconds 5] [--workers 3] [--threads 8] [--pool-max 8] [--prepare-threshold 5]
        [--pg postgresql://postgres@127.0.0.1:54330/yd_bench_conn]

The same sale as bench/checkout_http.py (its seed, its clients, its CPU meter). The database is migrated and seeded
once (`<name>_template`); every run gets a fresh copy of it (CREATE DATABASE ... TEMPLATE), so runs start equal and
seeding is paid once. The settings are the environment of config/settings/base.py:

    baseline   DB_POOL_MAX=0 (CONN_MAX_AGE 60 s: one persistent connection per thread), DB_PREPARE_THRESHOLD unset
    pool       DB_POOL_MAX=--pool-max (each worker's threads share at most that many connections)
    prepared   DB_PREPARE_THRESHOLD=--prepare-threshold (server-side binding; a statement run that many times on a
               connection is prepared on the server)
    both       the two together

Configurations run in rounds (baseline, pool, prepared, both, then again), so a machine shared with other work
loads them alike; each row gives its load average. Besides checkout_http.py's columns: `conns`, the most
connections PostgreSQL held for the bench database during the row (pg_stat_activity, sampled every 0.2 s).
Every run ends with `check-ledgers` on its database. At the end, the median orders/s and CPU ms per order of each
configuration over the rounds, and its ratio to the baseline.
"""
import argparse
import os
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import drop_postgres, pg_admin, run_json, server_env, serving  # noqa: E402
from bench.checkout_http import CpuMeter, check, db_backends, drive  # noqa: E402

CONFIGS = ("baseline", "pool", "prepared", "both")


def config_env(name: str, pool_max: int, threshold: int) -> dict:
    pool = name in ("pool", "both")
    prepared = name in ("prepared", "both")
    return {"DB_POOL_MAX": str(pool_max if pool else 0), "DB_PREPARE_THRESHOLD": str(threshold) if prepared else ""}


def with_name(pg_url: str, name: str) -> str:
    return f"{pg_url.rsplit('/', 1)[0]}/{name}"


def copy_database(pg_url: str, template: str, name: str) -> str:
    import psycopg

    admin, _ = pg_admin(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return with_name(pg_url, name)


class ConnectionPeak:
    """The most backends PostgreSQL holds for one database, sampled in a thread while the block runs."""

    def __init__(self, pg_url: str):
        self.pg_url, self.peak, self._stop = pg_url, 0, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, len(db_backends(self.pg_url)))
            self._stop.wait(0.2)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pool-max", type=int, default=8)
    parser.add_argument("--prepare-threshold", type=int, default=5)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:54330/yd_bench_conn")
    parser.add_argument("--keep-template", action="store_true", help="reuse <name>_template if it exists")
    args = parser.parse_args()
    configs = args.configs.split(",")
    assert set(configs) <= set(CONFIGS), configs
    _, name = pg_admin(args.pg)
    template = f"{name}_template"
    template_url = with_name(args.pg, template)
    data_dir = Path(f"/tmp/yd-bench-conn-{os.getpid()}")
    data_dir.mkdir(parents=True, exist_ok=True)
    seed_file = data_dir.parent / f"{template}.json"
    import json

    import psycopg

    admin, _ = pg_admin(args.pg)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
    if not (args.keep_template and exists and seed_file.exists()):
        from bench._server import fresh_postgres

        fresh_postgres(template_url)
        env = {**server_env("postgres", str(data_dir), template_url), **config_env("baseline", 0, 0)}
        seeded = run_json(ROOT / "bench" / "checkout_http.py", "--seed-only", env=env)
        seed_file.write_text(json.dumps(seeded))
    seeded = json.loads(seed_file.read_text())
    rows = []
    for round_no in range(1, args.rounds + 1):
        for config in configs:
            run_url = copy_database(args.pg, template, name)
            env = {**server_env("postgres", str(data_dir), run_url),
                   **config_env(config, args.pool_max, args.prepare_threshold)}
            with serving(env, workers=args.workers, threads=args.threads) as (port, server):
                meter = CpuMeter(server, run_url)
                # every worker booted and warm (on a loaded machine a worker can still be importing Django when the
                # port already accepts)
                drive(port, seeded, 8, 8, f"{config}-{round_no}-warmup")
                for clients in (int(c) for c in args.clients.split(",")):
                    with ConnectionPeak(run_url) as peak:
                        result = drive(port, seeded, clients, args.seconds, f"{config}-{round_no}-{clients}", meter)
                    result["conns"] = peak.peak
                    rows.append((config, round_no, clients, result))
                    print(f"  round {round_no} {config:<9} {clients:>3} clients: {result['rate']:7.1f} orders/s "
                          f"{result['errors']} errors, load {result['load']:.1f}", file=sys.stderr)
            ledgers = check(env)
            rows.append((config, round_no, "ledgers", ledgers))
            if result["errors"]:
                print((data_dir / "server.log").read_text(errors="replace")[-2000:], file=sys.stderr)
    drop_postgres(args.pg)
    print(f"\nPostgreSQL connections, POS checkout through HTTP (gunicorn gthread {args.workers} workers x "
          f"{args.threads} threads, {os.cpu_count()} CPUs, {args.seconds:.0f} s per row; pool max {args.pool_max} "
          f"per worker, prepare threshold {args.prepare_threshold}; CPU ms per order: app = gunicorn workers, db = "
          f"PostgreSQL backends; conns = most backends held for the database)\n")
    print(f"{'config':<9} {'round':>5} {'clients':>7} {'orders':>7} {'errors':>6} {'orders/s':>8} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'app ms':>7} {'db ms':>6} {'conns':>5} {'load':>5}")
    for config, round_no, clients, result in rows:
        if clients == "ledgers":
            print(f"{config:<9} {round_no:>5} check-ledgers: {result}")
            continue
        print(f"{config:<9} {round_no:>5} {clients:>7} {result['orders']:>7} {result['errors']:>6} "
              f"{result['rate']:>8.1f} {result['p50']:>7.1f} {result['p99']:>7.1f} {result['app_ms']:>7.1f} "
              f"{result['db_ms']:>6.1f} {result['conns']:>5} {result['load']:>5.1f}")
    print(f"\nMedians over {args.rounds} round(s), ratio to the baseline's median (orders/s: higher is better; CPU ms "
          f"per order, app + db: lower is better)\n")
    print(f"{'config':<9} {'clients':>7} {'orders/s':>8} {'x base':>6} {'p99 ms':>7} {'app+db ms':>9} {'x base':>6}")
    medians = {}
    for config in configs:
        for clients in (int(c) for c in args.clients.split(",")):
            runs = [r for c, _, n, r in rows if c == config and n == clients]
            medians[config, clients] = (statistics.median(r["rate"] for r in runs),
                                        statistics.median(r["p99"] for r in runs),
                                        statistics.median(r["app_ms"] + r["db_ms"] for r in runs))
    for config in configs:
        for clients in (int(c) for c in args.clients.split(",")):
            rate, p99, cpu = medians[config, clients]
            base = medians.get(("baseline", clients))
            print(f"{config:<9} {clients:>7} {rate:>8.1f} {rate / base[0] if base else float('nan'):>6.2f} "
                  f"{p99:>7.1f} {cpu:>9.1f} {cpu / base[2] if base else float('nan'):>6.2f}")


if __name__ == "__main__":
    main()
