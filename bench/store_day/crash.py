"""The crash driver: store-day clients in threads (clerks with coupons, member desks redeeming points, managers,
shoppers signing in, members ordering on the storefront, flash-sale buyers) against gunicorn + the task worker,
while a chaos thread SIGKILLs the server and the worker and restarts them. Clients retry every write under its key
until the server answers. Used by tests/proof/test_crash.py (one kill, ~15 s) and by `bench/store_day.py crash`
(several kills of both, longer, alongside the locust load)."""
import random
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench._server import percentile

from . import actions
from .actions import Day


class Stats:
    """Latencies of answered requests and outcome counts, per action name; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.outcomes: dict[str, dict[str, int]] = {}
        self.errors: list[str] = []
        self.started = time.perf_counter()
        self.ended: float | None = None

    def report(self, name: str, seconds: float, outcome: str) -> None:
        with self.lock:
            kind = "error" if outcome.startswith("error") else outcome
            self.outcomes.setdefault(name, {}).setdefault(kind, 0)
            self.outcomes[name][kind] += 1
            if kind != "error":
                self.latencies.setdefault(name, []).append(seconds)
            elif len(self.errors) < 50:
                self.errors.append(f"{name}: {outcome}")

    def rows(self) -> list[dict]:
        wall = (self.ended or time.perf_counter()) - self.started
        rows = []
        for name in sorted(self.outcomes):
            values = self.latencies.get(name, [])
            counts = self.outcomes[name]
            rows.append({"action": name, "count": sum(counts.values()), "ok": counts.get("ok", 0),
                         "rejected": counts.get("rejected", 0), "errors": counts.get("error", 0),
                         "per_s": sum(counts.values()) / wall if wall else 0,
                         "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99)})
        return rows


@dataclass
class Chaos:
    """When (seconds from the start) to SIGKILL which process group ("web", "worker" or "both")."""

    schedule: list[tuple[float, str]]
    restart_after: float = 0.5
    log: list[dict] = field(default_factory=list)
    ready: object = None  # optional callable: a kill also waits until it is true (e.g. some orders acknowledged)
    acks: object = None  # optional callable: the acknowledged count, logged at each kill

    def run(self, processes: dict, stop: threading.Event, started: float) -> None:
        for at, which in self.schedule:
            if stop.wait(max(0.0, started + at - time.monotonic())):
                return
            while self.ready is not None and not self.ready():
                if stop.wait(0.1):
                    return
            names = ("web", "worker") if which == "both" else (which,)
            down = time.monotonic()
            for name in names:
                processes[name].kill()
            time.sleep(self.restart_after)
            for name in names:
                processes[name].start()
            self.log.append({"at": round(time.monotonic() - started, 1), "killed": "+".join(names),
                             "down_s": round(time.monotonic() - down, 2),
                             "acks_before": self.acks() if self.acks is not None else None})


def run_day(day: Day, *, seconds: float, clerks_per_store: int = 2, stores: int | None = None, flash_buyers: int = 2,
            shoppers: int = 1, processes: dict | None = None, chaos: Chaos | None = None, seed: int = 1,
            until=None, max_seconds: float | None = None, coupons: float = 0.3, sign_ins: float = 0.3,
            online_shoppers: int = 1) -> Stats:
    """Drive the store day for `seconds` with client threads (then on until `until()` is true, at most
    `max_seconds`, so a slow machine still sees enough traffic); the chaos schedule runs alongside. `coupons` is the
    share of clerk checkouts that present a coupon code, `sign_ins` the share of shopper visits that sign in;
    `online_shoppers` members sign in on a storefront and order for pickup, one order after another."""
    stats = Stats()
    stop = threading.Event()
    chosen = day.stores[:stores] if stores else day.stores
    threads: list[threading.Thread] = []

    def loop(name: str, body) -> None:
        rng = random.Random(f"{seed}:{name}")
        try:
            state = body(rng, None)
            while not stop.is_set():
                state = body(rng, state)
        except Exception as exc:  # noqa: BLE001 - a client thread must not die silently
            stats.report(name, 0, f"error: client crashed: {type(exc).__name__}: {exc}"[:200])

    for store in chosen:
        for i in range(clerks_per_store):
            username = store["clerks"][i % len(store["clerks"])]

            def clerk(rng, client, store=store, username=username):
                if client is None:
                    return day.signed_in(username)
                actions.clerk_checkout(day, client, store, rng, stats.report, coupons=coupons)
                if rng.random() < 0.15:
                    actions.clerk_return(day, client, store, rng, stats.report)
                return client

            threads.append(threading.Thread(target=loop, args=(f"clerk {username}", lambda r, s, f=clerk: f(r, s))))

        def desk(rng, client, store=store):
            if client is None:
                return day.signed_in(store["clerks"][-1])
            actions.member_desk(day, client, store, rng, stats.report)
            return client

        def manager(rng, clients, store=store):
            if clients is None:
                return day.signed_in(store["manager"]), day.signed_in(day.data["admin"])
            mine, hq = clients
            if rng.random() < 0.5:
                actions.manager_transfer(day, mine, hq, store, rng, stats.report)
            else:
                actions.manager_stocktake(day, mine, store, rng, stats.report)
            time.sleep(0.2)
            return clients

        threads.append(threading.Thread(target=loop, args=(f"desk {store['id']}", lambda r, s, f=desk: f(r, s))))
        threads.append(threading.Thread(target=loop, args=(f"manager {store['id']}", lambda r, s, f=manager: f(r, s))))

    for i in range(shoppers):
        def shopper(rng, client):
            client = client or day.client()
            store = rng.choice(chosen)
            actions.shopper_browse(day, client, store, rng, stats.report)
            if rng.random() < sign_ins:
                actions.member_sign_in(day, store, rng, stats.report)
            return client

        threads.append(threading.Thread(target=loop, args=(f"shopper {i}", lambda r, s, f=shopper: f(r, s))))
    for i in range(online_shoppers):
        def online(rng, signed):
            if signed is None:  # sign in (again, after a sign-in that did not go through)
                store = rng.choice(chosen)
                client_phone = actions.storefront_sign_in(day, store, rng, stats.report)
                if client_phone is None:
                    time.sleep(0.2)
                    return None
                return (store, *client_phone)
            store, client, phone = signed
            actions.storefront_order(day, client, store, phone, rng, stats.report)
            return signed

        threads.append(threading.Thread(target=loop, args=(f"online {i}", lambda r, s, f=online: f(r, s))))
    for i in range(flash_buyers):
        def buyer(rng, client):
            client = client or day.client()
            if not day.flash_tokens:
                time.sleep(0.2)
                return client
            actions.flash_buy(day, client, rng, stats.report)
            return client

        threads.append(threading.Thread(target=loop, args=(f"flash {i}", lambda r, s, f=buyer: f(r, s))))

    started = time.monotonic()
    stats.started = time.perf_counter()
    for t in threads:
        t.start()
    chaos_thread = None
    if chaos is not None:
        chaos_thread = threading.Thread(target=chaos.run, args=(processes, stop, started))
        chaos_thread.start()
    stop.wait(seconds)
    while until is not None and not until() and time.monotonic() - started < (max_seconds or seconds):
        time.sleep(0.2)
    stop.set()
    if chaos_thread is not None:
        chaos_thread.join()
    for t in threads:
        t.join(timeout=day.retry_for + 30)
    stats.ended = time.perf_counter()
    return stats


def summary(stats: Stats) -> dict:
    orders = sum(stats.outcomes.get(n, {}).get("ok", 0) for n in ("order", "coupon order", "stored-value sale"))
    wall = (stats.ended or time.perf_counter()) - stats.started
    every = [x for values in stats.latencies.values() for x in values]
    return {"orders": orders, "orders_per_s": orders / wall if wall else 0,
            "errors": sum(o.get("error", 0) for o in stats.outcomes.values()),
            "mean_ms": statistics.mean(every) * 1000 if every else float("nan"), "wall_s": wall}
