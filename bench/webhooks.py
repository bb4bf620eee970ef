"""Benchmark: webhook deliveries per second to a local receiver, and the lag from a paid order to its delivery.

    .venv/bin/python bench/webhooks.py [--orders 500] [--threads 8] [--rate 10] [--lag-orders 200]
    .venv/bin/python bench/webhooks.py --pg postgresql://postgres@127.0.0.1:54341/postgres   # PostgreSQL too

A chain with stock and one subscription (order.paid + stock.changed) pointing at a real http.server on 127.0.0.1
in a thread, which verifies every signature (the docs' receiver code) and deduplicates on the event id. Then:

    baseline POSTs          the same number of signed POSTs of a typical body, straight from a thread pool of
                            `--threads` (no database): the floor of the HTTP round trip and the receiver
    dispatch                `--orders` paid orders sold first (one order.changed + one stock.changed outbox row
                            each), then one `dispatch()` run: outbox rows -> events + deliveries, per second
    deliver                 `deliver_due()` until nothing is due: claim, POST signed on `--threads` threads, record
                            each attempt and outcome; deliveries per second and the ratio to the baseline
    lag                     a worker thread loops dispatch + deliver (idle 50 ms, `yundian webhooks worker`'s loop)
                            while the main thread sells `--lag-orders` orders at `--rate` a second; the lag is the
                            receiver's arrival time minus the order's payment time, p50 / p99 / max

Each database runs in its own process. SQLite has one writer: the worker and the till queue for it.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "yd_bench_webhooks"

from bench._common import per_database  # noqa: E402


def one(db: str, args) -> dict:
    scratch = tempfile.mkdtemp(prefix="bench-webhooks-")
    if db == "postgres":
        import psycopg

        with psycopg.connect(args.pg, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            c.execute(f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = args.pg.rsplit("/", 1)[0] + "/" + PG_DB
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["YUNDIAN_DATA"] = scratch
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_THREADS = args.threads
    call_command("migrate", verbosity=0)

    import urllib.request

    from yundian.integrations import webhooks_services as services
    from yundian.integrations.models import WebhookEvent
    from yundian.integrations.tests.receiver import Receiver
    from yundian.integrations.webhooks_delivery import deliver_due
    from yundian.integrations.webhooks_events import dispatch
    from yundian.integrations.webhooks_signing import signature_header
    from yundian.org.tests.factories import make_chain
    from yundian.sales.models import Order
    from yundian.sales.tests.factories import sell, stocked

    chain = make_chain()
    stock = stocked(chain, units=args.orders + args.lag_orders + 10)
    rows = []
    with Receiver() as receiver:
        sub = services.webhook_subscription_create(actor=chain.admin, name="bench", url=receiver.url,
                                                   events=["order.paid", "stock.changed"])
        receiver.secret = sub.secret
        n = args.orders

        # baseline: signed POSTs of a typical body from the same size of thread pool, no database
        sample = json.dumps({"id": "evt_1", "type": "order.paid", "data": {"id": 1, "lines": [{"sku_id": 1}] * 2}})

        def raw_post(i: int) -> None:
            body = sample.replace("evt_1", f"evt_b{i}").encode()
            req = urllib.request.Request(receiver.url, data=body, method="POST", headers={
                "Content-Type": "application/json", "Yundian-Event-Id": f"evt_b{i}",
                "Yundian-Signature": signature_header([sub.secret], int(time.time()), body)})
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()

        posts = 2 * n
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(raw_post, range(posts)))
        base_s = time.perf_counter() - t0
        rows.append(("baseline: signed POSTs, no database", posts, base_s))
        receiver.calls.clear()
        receiver.events.clear()

        for _ in range(n):
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        t0 = time.perf_counter()
        created = 0
        while True:
            made = dispatch()
            created += made
            if not made:
                break
        rows.append(("dispatch: outbox rows to events + deliveries", created, time.perf_counter() - t0))
        t0 = time.perf_counter()
        outcome = deliver_due()
        rows.append(("deliver: claim, POST signed, record", outcome.delivered, time.perf_counter() - t0))
        assert outcome.delivered == created == 2 * n, (outcome, created)
        assert len(receiver.events) == 2 * n

        # lag: a worker loop beside a till selling at a steady rate
        receiver.calls.clear()
        stop = threading.Event()

        def worker() -> None:
            while not stop.is_set():
                made = dispatch()
                done = deliver_due().claimed
                if not made and not done:
                    time.sleep(0.05)
            connection.close()

        thread = threading.Thread(target=worker)
        thread.start()
        gap = 1.0 / args.rate
        orders = []
        t_start = time.perf_counter()
        for i in range(args.lag_orders):
            due = t_start + i * gap
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            orders.append(sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 1)]).pk)
        deadline = time.monotonic() + 120
        paid_ids = set(WebhookEvent.objects.filter(type="order.paid", key__in=[f"order.paid:{o}" for o in orders])
                       .values_list("id", flat=True))
        while time.monotonic() < deadline:
            got = {c["event_id"] for c in receiver.calls if c["type"] == "order.paid"}
            paid_ids = set(WebhookEvent.objects.filter(type="order.paid", key__in=[f"order.paid:{o}" for o in orders])
                           .values_list("id", flat=True))
            if len(paid_ids) == len(orders) and {f"evt_{i}" for i in paid_ids} <= got:
                break
            time.sleep(0.1)
        stop.set()
        thread.join()
        arrived = {}
        for c in receiver.calls:
            if c["type"] == "order.paid":
                arrived.setdefault(json.loads(c["body"])["data"]["id"], c["at"])
        paid_at = dict(Order.objects.filter(pk__in=orders).values_list("id", "paid_at"))
        lags = sorted((arrived[o] - paid_at[o].timestamp()) * 1000 for o in orders if o in arrived)
    missing = len(orders) - len(lags)
    q = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) >= 2 else [lags[0]] * 99
    return {"db": db, "rows": [(label, count, secs) for label, count, secs in rows], "base": posts / base_s,
            "lag": {"n": len(lags), "missing": missing, "p50": q[49], "p99": q[98], "max": lags[-1],
                    "rate": args.rate}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=10.0, help="orders per second during the lag phase")
    parser.add_argument("--lag-orders", type=int, default=200)
    parser.add_argument("--pg", default=None, help="a PostgreSQL server URL (the bench creates and drops %s)" % PG_DB)
    parser.add_argument("--one", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args)))
        return
    results = per_database(__file__, args.pg, ["--orders", str(args.orders), "--threads", str(args.threads),
                                               "--rate", str(args.rate), "--lag-orders", str(args.lag_orders)])
    load = os.getloadavg()[0]
    print(f"\nWebhooks to a local receiver ({args.threads} sender threads; load average {load:.1f}, "
          f"{os.cpu_count()} cores)\n")
    print("| database | step | count | seconds | per second | vs baseline POSTs |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        for label, count, secs in r["rows"]:
            rate = count / secs if secs else 0
            print(f"| {r['db']} | {label} | {count:,} | {secs:.2f} | {rate:,.0f} | {rate / r['base']:.3f}x |")
    print("\n| database | orders paid at | delivered | lag p50 | lag p99 | lag max |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        lag = r["lag"]
        print(f"| {r['db']} | {lag['rate']:.0f}/s | {lag['n']:,} (missing {lag['missing']}) | {lag['p50']:.0f} ms "
              f"| {lag['p99']:.0f} ms | {lag['max']:.0f} ms |")


if __name__ == "__main__":
    main()
