"""Shared by the HTTP benchmarks (checkout_http.py, flash_sale_http.py, store_day, warehouse.py): a fresh database, a child process with
Django for seeding and checks, and a real server process (gunicorn, gthread workers) on a loopback port.

    with seeded_database(db, prefix="yd-bench-x-", pg_url=pg_url, script=__file__) as (env, seeded):
        with serving(env, workers=3, threads=8) as (port, server):
            ...                                  # drive the server
        ...                                      # check the database (the server is stopped, the data kept)

`seeded_database` runs `script --seed-only` in a child process with Django set up on the fresh database; the
script prints the seed's result as JSON on its last line.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db: str, data_dir: str, pg_url: str | None) -> dict:
    """The environment of a production-like server on `db`: "sqlite" (a file in data_dir) or "postgres" (pg_url)."""
    env = {**os.environ, "YUNDIAN_DATA": data_dir, "SECRET_KEY": "bench-only", "DEBUG": "0",
           "DJANGO_SETTINGS_MODULE": "config.settings.base", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "SECURE_COOKIES": "0", "LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        env["DATABASE_URL"] = pg_url
    return env


def pg_admin(pg_url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, the named database) for a database URL (query ignored)."""
    parts = urlsplit(pg_url)
    return urlunsplit(parts._replace(path="/postgres", query="")), parts.path.lstrip("/")


def fresh_postgres(pg_url: str) -> None:
    """Drop (forcing out any session) and create the database named in pg_url."""
    import psycopg

    admin, name = pg_admin(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def drop_postgres(pg_url: str) -> None:
    import psycopg

    admin, name = pg_admin(pg_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def code_root(env: dict) -> Path:
    """The checkout whose code a server or child runs: env BENCH_CODE (e.g. a worktree of an older main, to measure
    before and after in the same run), else this one."""
    return Path(env.get("BENCH_CODE") or ROOT)


def run_json(script: str | Path, *args: str, env: dict) -> dict:
    """Run `script args` with Python in a child process (its own Django setup); the JSON it printed last.
    Exits with the child's error output if it fails."""
    out = subprocess.run([sys.executable, str(script), *args], env=env, cwd=code_root(env), capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def seeded_database(db: str, *, prefix: str, pg_url: str | None, script: str | Path,
                    seed_args: Sequence[str] = ()) -> Iterator[tuple[dict, dict]]:
    """A temporary data folder and a fresh database on `db` ("sqlite" in that folder, or "postgres" at pg_url, dropped
    and re-created), migrated and seeded by `script --seed-only *seed_args`: yields (server env, the seed's JSON).
    The folder is removed on the way out."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        env = server_env(db, data_dir, pg_url)
        if db == "postgres":
            fresh_postgres(pg_url)
        yield env, run_json(script, "--seed-only", *seed_args, env=env)


@contextmanager
def serving(env: dict, *, workers: int, threads: int, backlog: int = 256) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn for `env` on a free loopback port: yields (port, server process); stops it on the way out."""
    port = free_port()
    server = start_gunicorn(env, port, workers=workers, threads=threads, backlog=backlog)
    try:
        yield port, server
    finally:
        stop(server)


def gunicorn_argv(port: int, *, workers: int, threads: int, backlog: int) -> list[str]:
    """The command line of gunicorn serving config.wsgi on 127.0.0.1:port with gthread workers."""
    return [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi:application", "-b", f"127.0.0.1:{port}",
            "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--log-level", "warning",
            "--backlog", str(backlog)]


def start_gunicorn(env: dict, port: int, *, workers: int, threads: int, backlog: int = 256,
                   timeout: float = 30) -> subprocess.Popen:
    """gunicorn serving config.wsgi on 127.0.0.1:port, returned once the port accepts connections.

    Its log goes to YUNDIAN_DATA/server.log, not a pipe: every 4xx is a logged warning, and an unread pipe would
    fill up and stall the server."""
    log_path = Path(env["YUNDIAN_DATA"]) / "server.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(gunicorn_argv(port, workers=workers, threads=threads, backlog=backlog), env=env,
                                cwd=code_root(env), stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
    stop(proc)
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen) -> None:
    """Stop the server politely (SIGTERM), and wait for it."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank, 0 < q < 1) of latencies in seconds, in milliseconds; NaN when there are none."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def latency_ms(values: list[float]) -> dict[str, float]:
    """p50 (the median) and p99 of latencies in seconds, in milliseconds (NaN when there are none)."""
    return {"p50": statistics.median(values) * 1000 if values else float("nan"), "p99": percentile(values, 0.99)}
