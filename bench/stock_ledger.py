"""Benchmark: stock ledger writes per second, and posting a 50,000-line stocktake (target < 10 s).

    .venv/bin/python bench/stock_ledger.py                  # both databases, one after the other
    .venv/bin/python bench/stock_ledger.py --db sqlite      # embedded SQLite (a temp dir, WAL, IMMEDIATE)
    .venv/bin/python bench/stock_ledger.py --db postgres    # DATABASE_URL, default
                                                            # postgresql://postgres@127.0.0.1:54330/yd_inventory_bench
Options: --ops 400 (transactions per write benchmark), --lines 50000 (stocktake lines).

Each database run builds its data from scratch (the PostgreSQL database is dropped and recreated), then times
each write through the real services, one transaction per operation, and prints operations/s, ledger rows/s
and the ratio of each operation's mean time to a baseline measured in the same process: the smallest write
transaction (one balance row +1 with F(), no ledger, no checks). The stocktake table compares posting with a
single UPDATE touching the same 50,000 balance rows. Ends with `check-ledgers` over everything written.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_URL = "postgresql://postgres@127.0.0.1:54330/yd_inventory_bench"


def setup_django(db: str, data_dir: str) -> None:
    os.environ["YUNDIAN_DATA"] = data_dir
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"  # DEBUG would record every query
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    if db == "postgres":
        url = os.environ.setdefault("DATABASE_URL", PG_URL)
        recreate_pg(url)
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def recreate_pg(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(sku_count: int, rng: random.Random) -> dict:
    from django.core.management import call_command
    from django.db import transaction

    from yundian.catalog.models import Product, Sku
    from yundian.inventory.models import MoveKind, StockBalance, StockMove
    from yundian.inventory.services import warehouse_create
    from yundian.org.roles import NodeKind
    from yundian.org.services import enterprise_bootstrap, org_node_create
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        enterprise, admin = enterprise_bootstrap(name="Bench", code="bench", hq_name="HQ", hq_code="HQ",
                                                 admin_username="bench-admin", admin_password="bench-pass-2026",
                                                 admin_display_name="Bench")
        stores = [org_node_create(actor=admin, parent_id=admin.home.id, kind=NodeKind.STORE, name=f"S{i}",
                                  code=f"S{i}") for i in range(2)]
        central = warehouse_create(actor=admin, node_id=admin.home.id, kind="central", code="CW", name="Central")
        wh = [warehouse_create(actor=admin, node_id=s.id, kind="store", code=f"WH{i}", name=f"WH{i}")
              for i, s in enumerate(stores)]
        products = Product.objects.bulk_create([Product(enterprise=enterprise, code=f"P{i:05d}", name=f"P{i}")
                                                for i in range(sku_count // 50)], batch_size=2000)
        skus = Sku.objects.bulk_create([Sku(enterprise=enterprise, product=products[i // 50], code=f"K{i:06d}",
                                            base_price=100) for i in range(sku_count)], batch_size=2000)
        # opening stock written as ledger + balance (what a migration from an old system would load)
        now = timezone.now()
        moves, balances = [], []
        for warehouse in [central, *wh]:
            for sku in skus:
                quantity = rng.randrange(50, 500)
                moves.append(StockMove(enterprise=enterprise, sku=sku, warehouse=warehouse, kind=MoveKind.RECEIPT,
                                       quantity=quantity, source_type="bench_opening", occurred_at=now))
                balances.append(StockBalance(sku=sku, warehouse=warehouse, on_hand=quantity))
        StockMove.objects.bulk_create(moves, batch_size=5000)
        StockBalance.objects.bulk_create(balances, batch_size=5000)
    return {"admin": admin, "central": central, "wh": wh, "skus": skus}


def timed(fn, ops: int) -> float:
    start = time.perf_counter()
    for i in range(ops):
        fn(i)
    return (time.perf_counter() - start) / ops


def run(db: str, ops: int, lines: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(db, data_dir)
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.db.models import F

        from yundian.inventory.models import StockBalance, StockMove, Stocktake, StocktakeLine
        from yundian.inventory.services import (receipt_create, stock_issue, stock_release, stock_reserve,
                                                stocktake_post, stocktake_start, stocktake_submit,
                                                transfer_approve, transfer_request, transfer_ship)
        from yundian.org.models import Staff

        rng = random.Random(7)
        t0 = time.perf_counter()
        data = build(lines, rng)
        build_s = time.perf_counter() - t0
        admin = Staff.objects.select_related("enterprise", "home").get(pk=data["admin"].pk)
        wh_a, wh_b, central, skus = data["wh"][0], data["wh"][1], data["central"], data["skus"]
        ids = [s.id for s in skus]
        engine = f"{connection.vendor} ({connection.settings_dict['NAME']})"
        print(f"\n== {engine}: {lines:,} SKUs x 3 warehouses built in {build_s:.1f} s ==")

        balance_pks = list(StockBalance.objects.filter(warehouse=wh_a).values_list("pk", flat=True)[:ops])

        def baseline(i):
            with transaction.atomic():
                StockBalance.objects.filter(pk=balance_pks[i % len(balance_pks)]).update(on_hand=F("on_hand") + 1)

        # the baseline changed balances without ledger rows: undo it the same way before anything checks them
        base = timed(baseline, ops)
        with transaction.atomic():
            StockBalance.objects.filter(pk__in=balance_pks).update(on_hand=F("on_hand") - 1)

        def sale1(i):
            stock_issue(actor=admin, lines=[(ids[i], wh_a.id, 1)], source_type="bench", source_id=f"s1-{i}")

        def sale5(i):
            stock_issue(actor=admin, lines=[(ids[(i * 5 + k) % len(ids)], wh_a.id, 1) for k in range(5)],
                        source_type="bench", source_id=f"s5-{i}")

        def reserve_release(i):
            stock_reserve(actor=admin, lines=[(ids[i], wh_b.id, 1)], source_type="bench", source_id=f"r-{i}")
            stock_release(actor=admin, source_type="bench", source_id=f"r-{i}")

        def receipt10(i):
            receipt_create(actor=admin, warehouse_id=wh_b.id, lines=[(ids[(i * 10 + k) % len(ids)], 5) for k in range(10)])

        transfers = []
        with transaction.atomic():
            for i in range(ops):
                t = transfer_request(actor=admin, from_warehouse_id=central.id, to_warehouse_id=wh_a.id,
                                     lines=[(ids[(i * 5 + k) % len(ids)], 1) for k in range(5)])
                transfer_approve(actor=admin, transfer_id=t.id)
                transfers.append(t.id)

        def ship5(i):
            transfer_ship(actor=admin, transfer_id=transfers[i])

        rows = [("baseline: one balance row +1, one transaction", base, 0)]
        for label, fn, moves_per_op in [
            ("sale, 1 line (stock_issue)", sale1, 1),
            ("sale, 5 lines (stock_issue)", sale5, 5),
            ("reserve + release, 1 line (2 transactions)", reserve_release, 2),
            ("receipt, 10 lines (receipt_create)", receipt10, 10),
            ("transfer ship, 5 lines (10 moves)", ship5, 10),
        ]:
            rows.append((label, timed(fn, ops), moves_per_op))
        print(f"\nLedger writes ({ops} operations each, one transaction per operation, single client)")
        print(f"{'operation':<46} {'ms/op':>8} {'ops/s':>8} {'moves/s':>9} {'x baseline':>10}")
        for label, mean, per in rows:
            print(f"{label:<46} {mean * 1000:>8.2f} {1 / mean:>8.0f} {per / mean if per else 0:>9.0f} {mean / base:>10.1f}")

        # --- stocktake of every SKU in store A: counts differ on 10 % of lines ---------------------------------
        t0 = time.perf_counter()
        count = stocktake_start(actor=admin, warehouse_id=wh_a.id, kind="full")
        start_s = time.perf_counter() - t0
        system = dict(StockBalance.objects.filter(warehouse=wh_a).values_list("sku_id", "on_hand"))
        counted = []
        for line in StocktakeLine.objects.filter(stocktake=count).only("id", "sku_id"):
            on_hand = system[line.sku_id]
            line.counted = on_hand + (rng.choice([-2, -1, 1, 3]) if rng.random() < 0.10 else 0)
            line.counted = max(line.counted, 0)
            line.system_at_count = on_hand
            counted.append(line)
        StocktakeLine.objects.bulk_update(counted, ["counted", "system_at_count"], batch_size=5000)
        stocktake_submit(actor=admin, stocktake_id=count.id)
        moves_before = StockMove.objects.count()
        t0 = time.perf_counter()
        stocktake_post(actor=admin, stocktake_id=count.id)
        post_s = time.perf_counter() - t0
        corrections = StockMove.objects.count() - moves_before
        assert Stocktake.objects.get(pk=count.id).status == "posted"
        t0 = time.perf_counter()
        with transaction.atomic():
            StockBalance.objects.filter(warehouse=wh_a).update(on_hand=F("on_hand") + 0)
        floor_s = time.perf_counter() - t0
        print(f"\nStocktake of {len(counted):,} lines ({corrections:,} corrections)")
        print(f"{'step':<46} {'seconds':>8} {'lines/s':>9} {'x baseline':>10}")
        print(f"{'baseline: one UPDATE over the same rows':<46} {floor_s:>8.2f} {len(counted) / floor_s:>9.0f} {1.0:>10.1f}")
        print(f"{'start (freeze system quantities)':<46} {start_s:>8.2f} {len(counted) / start_s:>9.0f} {start_s / floor_s:>10.1f}")
        print(f"{'post (lock, correct, ledger, balances)':<46} {post_s:>8.2f} {len(counted) / post_s:>9.0f} {post_s / floor_s:>10.1f}")
        print(f"target: posting < 10 s -> {'met' if post_s < 10 else 'MISSED'}")
        call_command("check_ledgers", "--only", "stock", "--only", "reservations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--ops", type=int, default=400)
    parser.add_argument("--lines", type=int, default=50_000)
    args = parser.parse_args()
    if args.db == "both":
        for db in ("sqlite", "postgres"):
            subprocess.run([sys.executable, __file__, "--db", db, "--ops", str(args.ops), "--lines", str(args.lines)],
                           check=True)
        return
    run(args.db, args.ops, args.lines)


if __name__ == "__main__":
    main()
