"""Runs with Django (in a child process, on the database of the environment):

    python bench/store_day/seed.py seed OUT.json [--hot-units N] [--flash-cap N] [--buyers N]
    python bench/store_day/seed.py verify ACKS.jsonl [ACKS2.jsonl ...]

`seed` migrates, generates the scale-1 demo enterprise (6 stores, guides, SKUs with barcodes, members) through the
real generator, then adds what the store day needs: deep stock for the everyday SKUs, one "hot" SKU with only a
few units per store (clerks race for it), a live flash sale with signed tokens for its buyers, members with stored
value to spend. It writes the logins, ids and barcodes the clients need as JSON.

`verify` proves the invariants after a day with crashes and prints them as JSON: every acknowledged order, return
and flash claim exists exactly once with the acknowledged id; no ledger mismatch; no negative stock; no flash sale
past its cap or a member past the limit; no negative points or stored value.
"""
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

CODE = "sd"
DEEP_STOCK = 1_000_000
STORED_VALUE = 1_000_000  # fen per member with stored value


def seed(out: str, hot_units: int, flash_cap: int, buyers: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from yundian.catalog import services as catalog
    from yundian.catalog.models import Barcode
    from yundian.demo.generators import DEFAULT_PASSWORD, run_seed
    from yundian.inventory import services as inventory
    from yundian.inventory.models import StockBalance, Warehouse
    from yundian.members import services as members
    from yundian.members.models import Member
    from yundian.org.models import RoleAssignment, Staff
    from yundian.promotions import services as promotions
    from yundian.promotions.member_tokens import member_token
    from yundian.stores.models import StoreProfile

    call_command("migrate", verbosity=0)
    run_seed(scale=1, seed=1, code=CODE, password=DEFAULT_PASSWORD)
    admin = Staff.objects.select_related("enterprise", "home", "user").get(user__username=f"{CODE}-admin")
    with transaction.atomic():
        hot = catalog.product_create(actor=admin, code="HOT-DAY", name="今日爆款",
                                     skus=[{"code": "HOT-DAY-1", "base_price": 2990, "generate_barcode": True}])
        hot_sku = hot.skus.get()
        hot_barcode = Barcode.objects.filter(sku=hot_sku).values_list("code", flat=True).first()
        central = Warehouse.objects.get(enterprise_id=admin.enterprise_id, kind="central")
        stores = []
        for profile in StoreProfile.objects.filter(node__enterprise_id=admin.enterprise_id).select_related("node") \
                .order_by("node_id"):
            warehouse = Warehouse.objects.get(node=profile.node, kind="store")
            stocked = list(StockBalance.objects.filter(warehouse=warehouse).values_list("sku_id", flat=True))
            inventory.receipt_create(actor=admin, warehouse_id=warehouse.id,
                                     lines=[(s, DEEP_STOCK) for s in stocked] + [(hot_sku.id, hot_units)])
            barcodes = list(Barcode.objects.filter(sku_id__in=stocked).order_by("id").values_list("code", flat=True))
            roles = RoleAssignment.objects.filter(node=profile.node).select_related("staff__user")
            store_members = list(Member.objects.filter(home=profile.node, status="active").order_by("id")
                                 .values_list("id", flat=True)[:40])
            for member_id in store_members:
                members.stored_value_topup(actor=admin, member_id=member_id, amount_fen=STORED_VALUE,
                                           store_id=profile.node_id, payment_ref=f"day-topup-{member_id}")
            stores.append({
                "id": profile.node_id, "name": profile.node.name, "slug": profile.slug, "warehouse_id": warehouse.id,
                "clerks": sorted(r.staff.user.username for r in roles if r.role == "guide"),
                "manager": next(r.staff.user.username for r in roles if r.role == "store_manager"),
                "barcodes": barcodes, "sku_ids": stocked, "members_with_value": store_members,
                "products": _storefront_products(profile),
            })
        central_skus = list(StockBalance.objects.filter(warehouse=central).values_list("sku_id", flat=True))
        inventory.receipt_create(actor=admin, warehouse_id=central.id, lines=[(s, DEEP_STOCK) for s in central_skus])
        now = timezone.now()
        flash_sku = Barcode.objects.filter(code=stores[0]["barcodes"][0]).values_list("sku_id", flat=True).get()
        sale = promotions.flash_sale_create(actor=admin, node_id=admin.home_id, code="FS-DAY", name="整点秒杀",
                                            sku_id=flash_sku, price=990, cap=flash_cap, per_member_limit=1,
                                            starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=6))
        buyer_ids = list(Member.objects.filter(enterprise_id=admin.enterprise_id, status="active")
                         .order_by("-id").values_list("id", flat=True)[:buyers])
        tokens = [member_token(m) for m in Member.objects.filter(pk__in=buyer_ids).order_by("id")]
    data = {
        "password": DEFAULT_PASSWORD, "admin": f"{CODE}-admin", "stores": stores, "central_warehouse_id": central.id,
        "central_sku_ids": central_skus, "hot": {"sku_id": hot_sku.id, "barcode": hot_barcode, "units": hot_units},
        "flash": {"id": sale.id, "cap": flash_cap, "tokens": tokens},
    }
    Path(out).write_text(json.dumps(data))
    print(json.dumps({"stores": len(stores), "buyers": len(tokens)}))


def _storefront_products(profile) -> list[int]:
    """Products the store's storefront shows (its assortment)."""
    from yundian.stores.selectors import storefront_products

    return [p.pk for p in storefront_products(profile)[:20]]


def verify(paths: list[str]) -> None:
    import django

    django.setup()
    from django.db.models import Count, F, Sum

    from yundian.core.ledgers import ledger_checks
    from yundian.inventory.models import StockBalance, StockMove
    from yundian.members.models import PointsBalance, StoredValueBalance
    from yundian.promotions.models import FlashSale, FlashSaleBuyer, FlashSaleClaim
    from yundian.sales.models import Order, OrderReturn

    acks: dict[str, dict[tuple, set]] = {"order": {}, "return": {}, "flash": {}}
    for path in paths:
        if not Path(path).exists():
            continue
        for line in Path(path).read_text().splitlines():
            if not line.strip():
                continue
            ack = json.loads(line)
            acks[ack["kind"]].setdefault(tuple(ack["key"]), set()).add(ack["id"])
    result = {"acknowledged": {k: len(v) for k, v in acks.items()}}
    # a key acknowledged with two different ids is a duplicate the client saw
    client_duplicates = sum(1 for kind in acks.values() for ids in kind.values() if len(ids) > 1)

    def check(kind: str, model, fields: tuple[str, ...]) -> tuple[int, int]:
        keys = acks[kind]
        lost = duplicated = 0
        found: dict[tuple, list[int]] = {}
        if keys:
            first = fields[0]
            for row in model.objects.filter(**{f"{first}__in": {k[0] for k in keys}}).values_list("pk", *fields):
                found.setdefault(tuple(row[1:]), []).append(row[0])
        for key, ids in keys.items():
            rows = found.get(key, [])
            if not rows or not set(rows) >= ids:
                lost += 1
            if len(rows) > 1:
                duplicated += 1
        return lost, duplicated

    lost_orders, dup_orders = check("order", Order, ("store_id", "client_ref"))
    lost_returns, dup_returns = check("return", OrderReturn, ("store_id", "client_ref"))
    lost_claims, dup_claims = check("flash", FlashSaleClaim, ("client_ref",))
    # duplicates the database could hold whatever the clients saw: two orders under one (store, key)
    db_duplicates = Order.objects.exclude(client_ref="").values("store_id", "client_ref").annotate(n=Count("id")) \
        .filter(n__gt=1).count()
    mismatches = {}
    for name, fn in ledger_checks().items():
        found = list(fn())
        if found:
            mismatches[name] = [str(m) for m in found[:5]] + ([f"... {len(found)} in all"] if len(found) > 5 else [])
    negative_stock = StockBalance.objects.filter(on_hand__lt=0).count() + \
        StockBalance.objects.filter(reserved__gt=F("on_hand")).count()
    hot = {}
    hot_code = "HOT-DAY-1"
    moves = StockMove.objects.filter(sku__code=hot_code)
    hot["received"] = moves.filter(quantity__gt=0).aggregate(n=Sum("quantity"))["n"] or 0  # receipts, returns
    hot["sold"] = -(moves.filter(quantity__lt=0).aggregate(n=Sum("quantity"))["n"] or 0)
    hot["on_hand"] = StockBalance.objects.filter(sku__code=hot_code).aggregate(n=Sum("on_hand"))["n"] or 0
    over_cap = FlashSale.objects.filter(sold__gt=F("cap")).count() + \
        FlashSaleBuyer.objects.filter(quantity__gt=F("flash_sale__per_member_limit")).count()
    claimed = FlashSaleClaim.objects.aggregate(n=Sum("quantity"))["n"] or 0
    negative_balances = PointsBalance.objects.filter(points__lt=0).count() + \
        StoredValueBalance.objects.filter(principal__lt=0).count() + StoredValueBalance.objects.filter(bonus__lt=0).count()
    result.update({
        "lost": {"orders": lost_orders, "returns": lost_returns, "flash_claims": lost_claims},
        "duplicates": dup_orders + dup_returns + dup_claims + db_duplicates + client_duplicates,
        "ledger_mismatches": sum(len(v) for v in mismatches.values()), "mismatch_detail": mismatches,
        "oversold": negative_stock + (1 if hot["sold"] > hot["received"] else 0), "hot": hot,
        "caps_exceeded": over_cap + negative_balances,
        "flash": {"sold": sum(FlashSale.objects.values_list("sold", flat=True)), "claimed": claimed},
        "orders_in_db": Order.objects.count(),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "seed":
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("out")
        parser.add_argument("--hot-units", type=int, default=60)
        parser.add_argument("--flash-cap", type=int, default=40)
        parser.add_argument("--buyers", type=int, default=400)
        args = parser.parse_args(rest)
        seed(args.out, args.hot_units, args.flash_cap, args.buyers)
    elif command == "verify":
        verify(rest)
    else:
        raise SystemExit(__doc__)
