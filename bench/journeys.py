"""Benchmark: members stepping through a 5-node journey (goal >= 5,000 steps/s), on SQLite and on PostgreSQL.

    .venv/bin/python bench/journeys.py                                   # 1,000,000 enrolments, SQLite only
    .venv/bin/python bench/journeys.py --members 100000 --pg postgresql://postgres@127.0.0.1:54403/postgres
Options: --members N  --pg URL (a server where the bench may create and drop the database yd_bench_journeys)
         --batch 1000 (enrolments a worker leases at once)

The journey (API entry, never re-entry):  entry -> coupon (a unique-code campaign) -> wait 1 day -> tag (add) -> end
that is 5 steps per member: 2 when they enter (the entry, the coupon chained in one batch), 3 a day later (the
wait ends, the tag, the end). Members 1..N are bulk-inserted; `runner.enrol` enrols them all (one trigger firing
for everyone, as a schedule over a segment does); `runner.step_due` runs until nothing is due (one worker, as the
minute's task does); the project clock (core.when) moves one day; the rest runs. Every step is claimed, acted and
recorded as in production: a StepRun per step, a Coupon per member (keyed), a MemberTag and a TagChange per member.

Trigger to action: with the 1 M done, 1,000 members place their first paid order (an order and its outbox row,
committed together); a journey "first purchase -> coupon" reads the outbox and issues the coupons in one
`journeys_work()` call (what the minute's task does). The figure is the coupon's issue time minus the order's
commit, per member (median and max); in production add up to a minute for the scheduler's tick.

Each database runs in its own process (`--one sqlite|postgres`); the table has wall seconds, steps per second and
the load average beside (the box is shared by several people). BENCH_PROFILE=<folder> writes a cProfile of each
phase there (<db>-<phase>.prof), to see where a step's Python time goes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "yd_bench_journeys"

from bench._common import bench_store, cpu, load, markdown_table, per_database  # noqa: E402


def _members(n: int) -> tuple[object, object]:
    """The enterprise, a store and members 1..N with their points balances (raw bulk inserts); (admin, store)."""
    from django.db import connection, transaction
    from django.utils import timezone

    admin, store = bench_store()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(1, n + 1, 50_000):
            ids = range(start, min(start + 50_000, n + 1))
            cursor.executemany(
                "INSERT INTO members_member (id, enterprise_id, home_id, name, gender, channel, status, created_at, "
                "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(m, admin.enterprise_id, store.id, "", "", "pos", "active", now, now) for m in ids])
            cursor.executemany("INSERT INTO members_pointsbalance (member_id, points, updated_at) VALUES (%s, 0, %s)",
                               [(m, now) for m in ids])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('members_member', 'id'), %s)", [n])
    return admin, store


def one(db: str, members: int, batch: int, pg: str | None) -> dict:
    scratch = tempfile.mkdtemp(prefix="bench-journeys-")
    if db == "postgres":
        import psycopg

        with psycopg.connect(pg, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            c.execute(f"CREATE DATABASE {PG_DB}")
        os.environ["DATABASE_URL"] = pg.rsplit("/", 1)[0] + "/" + PG_DB
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ["YUNDIAN_DATA"] = scratch
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from yundian.cdp import tags
    from yundian.core import when
    from yundian.core.outbox import outbox_emit_many
    from yundian.journeys import runner, services, tasks
    from yundian.journeys.models import StepRun
    from yundian.promotions import services as promotions
    from yundian.promotions.models import Coupon
    from yundian.sales.models import Order

    started = time.perf_counter()
    admin, store = _members(members)
    group = tags.tag_group_create(actor=admin, name="旅程", code="journey")
    tag = tags.tag_create(actor=admin, group_id=group.id, name="已触达", code="reached")
    campaign = promotions.coupon_campaign_create(actor=admin, node_id=admin.home_id, code="WELCOME", name="Welcome",
                                                 kind="threshold_amount", tiers=[{"min": 0, "off": 500}],
                                                 per_member_limit=5)

    def node(nid, kind, **config):
        return {"id": nid, "kind": kind, "config": config, "x": 0, "y": 0}

    def chain_of(*nodes):
        return {"nodes": list(nodes),
                "edges": [{"source": a["id"], "port": "out", "target": b["id"]} for a, b in zip(nodes, nodes[1:])]}

    journey = services.journey_create(actor=admin, name="bench", graph=chain_of(
        node("entry", "entry", trigger="api", reentry="never"), node("c", "coupon", campaign_id=campaign.pk),
        node("w", "wait", mode="duration", amount=1, unit="days"), node("t", "tag", tag_id=tag.pk, action="add"),
        node("end", "end")))
    services.journey_publish(actor=admin, journey_id=journey.pk)
    journey.refresh_from_db()
    setup_s = time.perf_counter() - started
    rows = []

    def timed(name, fn, steps=None):
        t0, c0 = time.perf_counter(), cpu()
        if os.environ.get("BENCH_PROFILE"):  # a folder: cProfile of each phase into <folder>/<db>-<phase>.prof
            import cProfile

            with cProfile.Profile() as profile:
                out = fn()
            profile.dump_stats(Path(os.environ["BENCH_PROFILE"]) / f"{db}-{name.split(' (')[0].replace(' ', '-')}.prof")
        else:
            out = fn()
        wall, spent = time.perf_counter() - t0, cpu() - c0
        n = out if steps is None else steps
        rows.append({"step": name, "wall": wall, "cpu": spent, "count": n, "rate": n / wall if wall else 0,
                     "load": load()})
        print(f"  [{db}] {name}: {n:,} in {wall:.1f} s", file=sys.stderr, flush=True)
        return out

    timed("enrol (bulk)", lambda: runner.enrol(journey=journey,
                                                candidates=[(m, "bench", {}) for m in range(1, members + 1)]))
    first = timed("steps on entry (entry, coupon)", lambda: runner.step_all(limit=batch))
    when.travel(timedelta(days=1, minutes=1))
    later = timed("steps a day later (wait, tag, end)", lambda: runner.step_all(limit=batch))
    total_wall = rows[-1]["wall"] + rows[-2]["wall"]
    rows.append({"step": "all steps", "wall": total_wall, "cpu": rows[-1]["cpu"] + rows[-2]["cpu"],
                 "count": first + later,
                 "rate": (first + later) / total_wall, "load": load()})
    assert first + later == 5 * members, (first, later)
    assert Coupon.objects.filter(campaign=campaign).count() == members
    assert StepRun.objects.filter(status="running").count() == 0
    when.travel_reset()

    # trigger to action: 1,000 first orders -> coupons through the outbox scan
    fp = services.journey_create(actor=admin, name="first purchase", graph=chain_of(
        node("entry", "entry", trigger="first_purchase", reentry="never"),
        node("c", "coupon", campaign_id=campaign.pk), node("end", "end")))
    services.journey_publish(actor=admin, journey_id=fp.pk)
    buyers = list(range(1, 1001))
    with transaction.atomic():
        now = timezone.now()
        orders = Order.objects.bulk_create([
            Order(enterprise_id=admin.enterprise_id, store=store, channel="pos", mode="take_now", status="completed",
                  total=990, paid_total=990, subtotal=990, member_id=m, placed_at=now, paid_at=now) for m in buyers])
        outbox_emit_many([(admin.enterprise_id, "order.changed", o.pk, None) for o in orders])
    committed = timezone.now()
    t0 = time.perf_counter()
    work = tasks.journeys_work(seconds=120)
    tick = time.perf_counter() - t0
    lags = sorted((c - committed).total_seconds() for c in Coupon.objects.filter(
        campaign=campaign, source__startswith=f"jy{fp.pk}:").values_list("issued_at", flat=True))
    assert len(lags) == 1000, (len(lags), work)
    if db == "postgres":
        from django.db import connections

        for conn in connections.all():
            if hasattr(conn, "close_pool"):
                conn.close_pool()  # Django's pool keeps its connections open past close_all()
        connections.close_all()
        import psycopg

        with psycopg.connect(pg, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
    return {"db": db, "members": members, "batch": batch, "setup": setup_s, "rows": rows,
            "trigger": {"members": len(lags), "median": lags[len(lags) // 2], "max": lags[-1], "tick": tick,
                        "load": load()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL; the bench creates and drops its database")
    parser.add_argument("--one", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    if args.members < 1000:
        parser.error("--members must be at least 1000 (the trigger-to-action phase has members 1..1000 order)")
    if args.one:
        print(json.dumps(one(args.one, args.members, args.batch, args.pg)))
        return
    results = per_database(__file__, args.pg, ["--members", str(args.members), "--batch", str(args.batch)])
    print(f"\nJourneys: {args.members:,} enrolments through entry -> coupon -> wait 1 day -> tag -> end "
          f"({5 * args.members:,} steps), one worker, batches of {args.batch:,} (goal >= 5,000 steps/s)\n")
    markdown_table(["database", "phase", "steps", "wall s", "steps/s", "CPU s (bench process)", "load avg"],
                   [[r["db"], row["step"], f"{row['count']:,}", f"{row['wall']:.1f}", f"{row['rate']:,.0f}",
                     f"{row['cpu']:.1f}", row["load"]] for r in results for row in r["rows"]], right={2, 3, 4, 5})
    print()
    markdown_table(["database", "trigger to action (1,000 first orders -> coupons)", "median s", "max s", "load avg"],
                   [[r["db"], f"outbox scan + steps in one tick ({r['trigger']['tick']:.1f} s)",
                     f"{r['trigger']['median']:.2f}", f"{r['trigger']['max']:.2f}", r["trigger"]["load"]]
                    for r in results], right={2, 3})


if __name__ == "__main__":
    main()
