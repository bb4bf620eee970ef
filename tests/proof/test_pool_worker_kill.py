"""The connection pool under a killed worker: a real server (gunicorn, 2 gthread workers x 4 threads, Django's pool of
at most 3 connections per worker) on a fresh PostgreSQL database, POS sales from client threads, one worker killed
with SIGKILL mid-load. The master starts a new worker; every sale answered 201 is in the database exactly once, a
sale sent again under its client key is answered with the same order (200) and not duplicated, sales go on after
the kill, no worker ever holds more connections than its pool allows (PostgreSQL's backends mapped to the worker
processes by their client ports), the killed worker's connections are gone, and `check-ledgers` is clean."""
import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest

from bench._server import drop_postgres, fresh_postgres, free_port, run_json, server_env, start_gunicorn, stop
from bench.checkout_http import check, children

pytestmark = pytest.mark.postgres_only

WORKERS, THREADS, POOL_MAX = 2, 4, 3
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def server_db(tmp_path):
    url = os.environ["DATABASE_URL"]
    pg_url = f"{url.rsplit('/', 1)[0]}/yd_proof_pool_{os.getpid()}"
    fresh_postgres(pg_url)
    env = {**server_env("postgres", str(tmp_path), pg_url), "DB_POOL_MAX": str(POOL_MAX), "DB_POOL_MIN": "1",
           "DB_POOL_TIMEOUT": "20"}
    try:
        yield pg_url, env, run_json(ROOT / "bench" / "checkout_http.py", "--seed-only", env=env)
    finally:
        drop_postgres(pg_url)


def socket_ports(pid: int) -> set[int]:
    """The local TCP ports of the sockets process `pid` holds (its /proc fds mapped through /proc/net/tcp)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def backends_by_worker(pg_url: str, workers: list[int]) -> tuple[dict[int, int], int]:
    """({worker pid: PostgreSQL backends connected from it}, all backends of the database)."""
    admin = f"{pg_url.rsplit('/', 1)[0]}/postgres"
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        client_ports = [row[0] for row in conn.execute(
            "SELECT client_port FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name])]
    owners = {}
    for pid in workers:
        try:
            owners[pid] = socket_ports(pid)
        except OSError:  # the worker just exited
            owners[pid] = set()
    return {pid: sum(1 for port in client_ports if port in ports) for pid, ports in owners.items()}, len(client_ports)


class Till(threading.Thread):
    """A client sending POS sales one after another; a sale that gets no answer (connection reset, 5xx) is sent again
    under the same client key until it is answered. Records each acknowledged client key with its order id."""

    def __init__(self, number: int, port: int, seeded: dict, stop_event: threading.Event):
        super().__init__(daemon=True)
        self.number, self.port, self.seeded, self.stop_event = number, port, seeded, stop_event
        self.acks: dict[str, int] = {}
        self.sent: dict[str, int] = {}  # client key -> the n of its body
        self.resent = 0

    def post(self, client_ref: str, n: int) -> tuple[int, dict]:
        skus = self.seeded["sku_ids"]
        body = json.dumps({"store_id": self.seeded["store_id"], "client_ref": client_ref,
                           "lines": [{"sku_id": skus[n % len(skus)], "quantity": 1}],
                           "payments": [{"method": "cash", "client_ref": "cash", "tendered": 100000}]})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/api/v1/sales/orders", body=body,
                         headers={"Authorization": f"Bearer {self.seeded['token']}",
                                  "Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def run(self) -> None:
        n = 0
        while not self.stop_event.is_set():
            n += 1
            client_ref = f"till-{self.number}-{n}"
            self.sent[client_ref] = n
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    status, body = self.post(client_ref, n)
                except (OSError, http.client.HTTPException):
                    status, body = 0, {}
                if status in (200, 201):
                    self.acks[client_ref] = body["id"]
                    break
                self.resent += 1
                time.sleep(0.2)


def test_a_worker_killed_mid_load_loses_and_duplicates_no_sale_and_leaks_no_connection(server_db):
    pg_url, env, seeded = server_db
    port = free_port()
    server = start_gunicorn(env, port, workers=WORKERS, threads=THREADS, timeout=120)
    stop_event = threading.Event()
    tills = [Till(i, port, seeded, stop_event) for i in range(3)]
    peaks: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60  # the master forks its workers once it listens
        while len(children(server.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = children(server.pid)
        assert len(workers) == WORKERS
        for till in tills:
            till.start()

        def acked() -> int:
            return sum(len(till.acks) for till in tills)

        def watch(until) -> None:
            """Sample the connections each live worker holds (its pool's) until `until()`, 120 s at most."""
            deadline = time.monotonic() + 120
            while not until() and time.monotonic() < deadline:
                per_worker, _ = backends_by_worker(pg_url, children(server.pid))
                for pid, count in per_worker.items():
                    peaks[pid] = max(peaks.get(pid, 0), count)
                time.sleep(0.1)

        watch(lambda: acked() >= 12)
        assert acked() >= 12
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = acked()
        # the master starts a new worker, and sales go on (through both workers) until 12 more were answered
        def recovered() -> bool:
            new = set(children(server.pid)) - set(workers)
            return acked() >= killed_at + 12 and len(new) == 1 and all(
                count >= 1 for count in backends_by_worker(pg_url, list(new))[0].values())

        watch(recovered)
        assert acked() >= killed_at + 12, (killed_at, acked())
        new_workers = children(server.pid)
        assert victim not in new_workers and len(new_workers) == WORKERS
        stop_event.set()
        for till in tills:
            till.join(timeout=90)
        assert not any(till.is_alive() for till in tills)
        # each acknowledged sale sent again under its client key is the same order (200), never a new one
        replays = [(ref, order_id) for till in tills for ref, order_id in list(till.acks.items())[:3]]
        for ref, order_id in replays:
            till = next(till for till in tills if ref in till.acks)
            status, body = till.post(ref, till.sent[ref])
            assert (status, body["id"]) == (200, order_id)
        # the killed worker's connections are gone; each live worker holds no more than its pool's maximum
        time.sleep(1)
        per_worker, total = backends_by_worker(pg_url, new_workers)
        assert all(count <= POOL_MAX for count in per_worker.values()), per_worker
        assert total == sum(per_worker.values()) <= POOL_MAX * WORKERS, (per_worker, total)
        assert peaks and max(peaks.values()) <= POOL_MAX, peaks
        assert all(1 <= count for count in per_worker.values()), per_worker  # the pools are open and in use
    finally:
        stop_event.set()
        stop(server)
    # every 201 is in the database exactly once, under its client key
    acks = {ref: order_id for till in tills for ref, order_id in till.acks.items()}
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(f"{pg_url.rsplit('/', 1)[0]}/{name}") as conn:
        rows = conn.execute("SELECT client_ref, id FROM sales_order WHERE client_ref LIKE %s", ["till-%"]).fetchall()
    by_ref: dict[str, list[int]] = {}
    for ref, order_id in rows:
        by_ref.setdefault(ref, []).append(order_id)
    assert all(len(ids) == 1 for ids in by_ref.values()), {r: i for r, i in by_ref.items() if len(i) > 1}
    assert {ref: ids[0] for ref, ids in by_ref.items() if ref in acks} == acks
    # an unanswered last attempt of a stopped till may have committed: never more than one per till
    assert len(set(by_ref) - set(acks)) <= len(tills)
    assert check(env) == "clean"
