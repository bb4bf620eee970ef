"""Runs with Django (in a child process, on the database of the environment):

    python bench/store_day/seed.py seed OUT.json [--hot-units N] [--flash-cap N] [--buyers N]
    python bench/store_day/seed.py verify ACKS.jsonl [ACKS2.jsonl ...]

`seed` migrates, generates the scale-1 demo enterprise (6 stores, guides, SKUs with barcodes, members) through the
real generator, then adds what the store day needs: deep stock for the everyday SKUs, one "hot" SKU with only a
few units per store (clerks race for it), a live flash sale with signed tokens for its buyers, members with stored
value and points to spend (the points earned by a seed purchase, through the members' own earn hook), a coupon
campaign of single-use codes, and the phones of members who will sign in on the storefront. It writes the logins,
ids, barcodes, codes, phones and the SKUs shoppers can put in a storefront cart as JSON.

`verify` proves the invariants after a day with crashes and prints them as JSON: every acknowledged order, return,
flash claim and points redemption exists exactly once with the acknowledged id; every acknowledged storefront
checkout is one storefront order of its shopper under its checkout key, and every storefront order holds its goods
as reservations in its store's warehouse; every acknowledged coupon order holds its code's redemption; no code
redeemed by two orders, no redemption without its order, no order discounted by a code it did not redeem; no ledger
mismatch; no negative stock; no flash sale past its cap or a member past the limit; no negative points or stored
value.
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
SEED_PURCHASE = 500_000  # fen: a seed purchase earns each member with points enough to redeem all day
POINTS_MEMBERS = 10  # per store, of the members with stored value
COUPON_CAMPAIGN = "DAY-COUPON"
COUPON_OFF = 100  # fen off any basket
SIGN_IN_PHONES = 20  # phones of existing members per store who sign in on the storefront


def seed(out: str, hot_units: int, flash_cap: int, buyers: int, coupons: int) -> None:
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from yundian.catalog import services as catalog
    from yundian.catalog.models import Barcode, Sku
    from yundian.demo.generators import DEFAULT_PASSWORD, run_seed
    from yundian.inventory import services as inventory
    from yundian.inventory.models import StockBalance, Warehouse
    from yundian.members import services as members
    from yundian.members.models import IdentityKind, Member, MemberIdentity, PointsBalance
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
            for member_id in store_members[:POINTS_MEMBERS]:
                members.points_earn_for_order(actor=admin, member_id=member_id, order_ref=f"day-seed-{member_id}",
                                              store_id=profile.node_id,
                                              lines=[members.EarnLine(amount_fen=SEED_PURCHASE)])
            # what a shopper can put in the storefront cart: the stocked SKUs sold by the piece, on sale
            shop_skus = list(Sku.objects.filter(pk__in=stocked, is_active=True, product__is_active=True,
                                                is_weighed=False).order_by("id").values_list("id", flat=True))
            phones = list(MemberIdentity.objects.filter(member__home=profile.node, member__status="active",
                                                        kind=IdentityKind.PHONE).order_by("member_id")
                          .values_list("value", flat=True)[:SIGN_IN_PHONES])
            stores.append({
                "id": profile.node_id, "name": profile.node.name, "slug": profile.slug, "warehouse_id": warehouse.id,
                "clerks": sorted(r.staff.user.username for r in roles if r.role == "guide"),
                "manager": next(r.staff.user.username for r in roles if r.role == "store_manager"),
                "barcodes": barcodes, "sku_ids": stocked, "members_with_value": store_members,
                "members_with_points": store_members[:POINTS_MEMBERS],
                "products": _storefront_products(profile), "sign_in_phones": phones, "shop_sku_ids": shop_skus,
            })
        central_skus = list(StockBalance.objects.filter(warehouse=central).values_list("sku_id", flat=True))
        inventory.receipt_create(actor=admin, warehouse_id=central.id, lines=[(s, DEEP_STOCK) for s in central_skus])
        now = timezone.now()
        flash_sku = Barcode.objects.filter(code=stores[0]["barcodes"][0]).values_list("sku_id", flat=True).get()
        sale = promotions.flash_sale_create(actor=admin, node_id=admin.home_id, code="FS-DAY", name="整点秒杀",
                                            sku_id=flash_sku, price=990, cap=flash_cap, per_member_limit=1,
                                            starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=6))
        campaign = promotions.coupon_campaign_create(
            actor=admin, node_id=admin.home_id, code=COUPON_CAMPAIGN, name="到店立减券", kind="threshold_amount",
            tiers=[{"min": 0, "off": COUPON_OFF}], restore_rule="never", valid_from=now - timedelta(minutes=1),
            valid_to=now + timedelta(hours=6))
        codes = [c.code for c in promotions.coupon_issue(actor=admin, campaign_id=campaign.pk, count=coupons)]
        buyer_ids = list(Member.objects.filter(enterprise_id=admin.enterprise_id, status="active")
                         .order_by("-id").values_list("id", flat=True)[:buyers])
        tokens = [member_token(m) for m in Member.objects.filter(pk__in=buyer_ids).order_by("id")]
    data = {
        "password": DEFAULT_PASSWORD, "admin": f"{CODE}-admin", "stores": stores, "central_warehouse_id": central.id,
        "central_sku_ids": central_skus, "hot": {"sku_id": hot_sku.id, "barcode": hot_barcode, "units": hot_units},
        "flash": {"id": sale.id, "cap": flash_cap, "tokens": tokens},
        "coupons": {"campaign_id": campaign.pk, "codes": codes},
    }
    Path(out).write_text(json.dumps(data))
    with_points = PointsBalance.objects.filter(member_id__in=[m for s in stores for m in s["members_with_points"]],
                                               points__gt=0).count()
    print(json.dumps({"stores": len(stores), "buyers": len(tokens), "coupons": len(codes),
                      "members_with_points": with_points}))


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
    from yundian.members.models import (
        IdentityKind, MemberIdentity, PointsBalance, PointsEntry, PointsKind, StoredValueBalance,
    )
    from yundian.promotions.models import CouponCampaign, CouponRedemption, FlashSale, FlashSaleBuyer, FlashSaleClaim
    from yundian.sales.models import Order, OrderReturn

    acks: dict[str, dict[tuple, set]] = {"order": {}, "return": {}, "flash": {}, "redeem": {}, "coupon": {},
                                         "sign_in": {}, "storefront": {}}
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

    def check(kind: str, rows, fields: tuple[str, ...]) -> tuple[int, int]:
        keys = acks[kind]
        lost = duplicated = 0
        found: dict[tuple, list[int]] = {}
        if keys:
            first = fields[0]
            for row in rows.filter(**{f"{first}__in": {k[0] for k in keys}}).values_list("pk", *fields):
                found.setdefault(tuple(row[1:]), []).append(row[0])
        for key, ids in keys.items():
            rows = found.get(key, [])
            if not rows or not set(rows) >= ids:
                lost += 1
            if len(rows) > 1:
                duplicated += 1
        return lost, duplicated

    lost_orders, dup_orders = check("order", Order.objects, ("store_id", "client_ref"))
    lost_returns, dup_returns = check("return", OrderReturn.objects, ("store_id", "client_ref"))
    lost_claims, dup_claims = check("flash", FlashSaleClaim.objects, ("client_ref",))
    # a points redemption is acknowledged with its ledger entry's source id (the API derives it from the key)
    lost_redemptions, dup_redemptions = check(
        "redeem", PointsEntry.objects.filter(kind=PointsKind.REDEEM, source_type="api_redeem"), ("source_id",))
    coupons = _verify_coupons(acks["coupon"], CouponCampaign, CouponRedemption, Order)
    storefront = _verify_storefront(acks["storefront"])
    # a member who signed in on the storefront holds their phone (an existing member, or one who joined there)
    phones = [key[0] for key in acks["sign_in"]]
    held = dict(MemberIdentity.objects.filter(kind=IdentityKind.PHONE, value__in=phones).values("value")
                .annotate(n=Count("id")).values_list("value", "n"))
    lost_sign_ins = sum(1 for phone in phones if not held.get(phone))
    dup_sign_ins = sum(1 for phone in phones if held.get(phone, 0) > 1)
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
        "lost": {"orders": lost_orders, "returns": lost_returns, "flash_claims": lost_claims,
                 "points_redemptions": lost_redemptions, "coupon_redemptions": coupons["lost"],
                 "sign_ins": lost_sign_ins, "storefront_orders": storefront["lost"]},
        "duplicates": dup_orders + dup_returns + dup_claims + dup_redemptions + db_duplicates + client_duplicates
        + coupons["redeemed_twice"] + dup_sign_ins + storefront["duplicated"], "coupons": coupons,
        "storefront": storefront,
        "points_redeemed": -(PointsEntry.objects.filter(kind=PointsKind.REDEEM, source_type="api_redeem")
                             .aggregate(n=Sum("points"))["n"] or 0),
        "ledger_mismatches": sum(len(v) for v in mismatches.values()), "mismatch_detail": mismatches,
        "oversold": negative_stock + (1 if hot["sold"] > hot["received"] else 0), "hot": hot,
        "caps_exceeded": over_cap + negative_balances,
        "flash": {"sold": sum(FlashSale.objects.values_list("sold", flat=True)), "claimed": claimed},
        "orders_in_db": Order.objects.count(),
    })
    print(json.dumps(result))


def _verify_storefront(acked: dict[tuple, set]) -> dict:
    """The storefront checkouts: every acknowledged one — (store, checkout key, phone) with the order number the
    redirect named — is exactly one order of that store under client_ref "sf-<key>", with that number, channel
    storefront, mode pickup, for the member holding that phone; no checkout key of any store holds two orders; and
    every storefront order of the day (acknowledged or not) still holds its goods as active reservations in its
    store's warehouse, line for line (open, or paid with stored value: nobody collects during the day)."""
    from django.db.models import Count, Sum

    from yundian.inventory.models import Reservation, Warehouse
    from yundian.members.models import IdentityKind, MemberIdentity
    from yundian.sales.models import Order, OrderChannel, OrderLine, OrderMode, OrderStatus

    refs = {f"sf-{key}" for _store, key, _phone in acked}
    found: dict[tuple, list[dict]] = {}
    for row in Order.objects.filter(client_ref__in=refs).values("pk", "store_id", "client_ref", "channel", "mode",
                                                                "member_id"):
        found.setdefault((row["store_id"], row["client_ref"]), []).append(row)
    phones: dict[int, set] = {}
    for member_id, value in MemberIdentity.objects.filter(
            kind=IdentityKind.PHONE, member_id__in={r["member_id"] for rows in found.values() for r in rows}) \
            .values_list("member_id", "value"):
        phones.setdefault(member_id, set()).add(value)
    lost = duplicated = wrong_channel = wrong_member = 0
    for (store, key, phone), numbers in acked.items():
        rows = found.get((store, f"sf-{key}"), [])
        if not rows or not numbers <= {Order(pk=r["pk"]).number for r in rows}:
            lost += 1
        duplicated += len(rows) > 1
        wrong_channel += sum(1 for r in rows
                             if (r["channel"], r["mode"]) != (OrderChannel.STOREFRONT, OrderMode.PICKUP))
        wrong_member += sum(1 for r in rows if phone not in phones.get(r["member_id"], ()))
    keys_with_two_orders = Order.objects.filter(client_ref__startswith="sf-").values("store_id", "client_ref") \
        .annotate(n=Count("id")).filter(n__gt=1).count()
    # every storefront order's goods held in its store's warehouse: active reservations == its lines, SKU for SKU
    # the day's own storefront orders (the seed's demo history has some of its own, e.g. a live session's)
    orders = dict(Order.objects.filter(channel=OrderChannel.STOREFRONT, client_ref__startswith="sf-")
                  .values_list("pk", "store_id"))
    statuses = dict(Order.objects.filter(pk__in=orders).values("status").annotate(n=Count("id"))
                    .values_list("status", "n"))
    store_warehouse = dict(Warehouse.objects.filter(kind="store", node_id__in=set(orders.values()))
                           .values_list("node_id", "id"))
    wanted: dict[int, dict] = {pk: {} for pk in orders}
    for order_id, sku_id, quantity in OrderLine.objects.filter(order_id__in=orders).values("order_id", "sku_id") \
            .annotate(q=Sum("quantity")).values_list("order_id", "sku_id", "q"):
        wanted[order_id][(sku_id, store_warehouse.get(orders[order_id]))] = quantity
    held: dict[int, dict] = {pk: {} for pk in orders}
    for source_id, sku_id, warehouse_id, quantity in Reservation.objects.filter(
            source_type="order", source_id__in=[str(pk) for pk in orders], status="active") \
            .values("source_id", "sku_id", "warehouse_id").annotate(q=Sum("quantity")) \
            .values_list("source_id", "sku_id", "warehouse_id", "q"):
        held[int(source_id)][(sku_id, warehouse_id)] = quantity
    not_held = sum(1 for pk in orders if not wanted[pk] or held[pk] != wanted[pk])
    return {"acknowledged": len(acked), "lost": lost, "duplicated": duplicated, "wrong_channel": wrong_channel,
            "wrong_member": wrong_member, "keys_with_two_orders": keys_with_two_orders, "orders": len(orders),
            "paid_stored_value": statuses.get(OrderStatus.PAID, 0), "open": statuses.get(OrderStatus.OPEN, 0),
            "not_held": not_held,
            "units_held": sum(Reservation.objects.filter(source_type="order", source_id__in=[str(pk) for pk in orders],
                                                         status="active").values_list("quantity", flat=True))}


def _verify_coupons(acked: dict[tuple, set], CouponCampaign, CouponRedemption, Order) -> dict:
    """The store day's single-use codes: each redeemed by at most one order; every redemption on an existing order of
    its store; every order that the pricing discounted by a code holds that code's redemption; every acknowledged
    coupon order holds its code."""
    campaign = CouponCampaign.objects.get(promotion__code=COUPON_CAMPAIGN)
    redemptions = list(CouponRedemption.objects.filter(campaign=campaign).values_list("code", "order_ref", "store_id",
                                                                                       "status"))
    by_code: dict[str, list[str]] = {}
    for code, order_ref, _store, _status in redemptions:
        by_code.setdefault(code, []).append(order_ref)
    order_ids = {int(r[1]) for r in redemptions if r[1].isdigit()}
    orders = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "store_id"))
    orphans = sum(1 for _code, ref, store, _s in redemptions if not ref.isdigit() or orders.get(int(ref)) != store)
    standing = {(code, ref) for code, ref, _store, status in redemptions if status == "redeemed"}
    discounted = 0
    unredeemed = 0
    for order_id, pricing in Order.objects.filter(pricing__has_key="applied").values_list("pk", "pricing").iterator():
        for entry in pricing.get("applied", []):
            if entry.get("source") == "coupon" and entry.get("source_id") == campaign.pk:
                discounted += 1
                unredeemed += (entry.get("coupon_code"), str(order_id)) not in standing
    lost = sum(1 for (code,), ids in acked.items() if not all((code, str(i)) in standing for i in ids))
    return {"codes": campaign.issued_count, "redeemed": len(by_code), "redemptions": len(redemptions),
            "redeemed_twice": sum(1 for refs in by_code.values() if len(refs) > 1), "orphans": orphans,
            "unredeemed_discounts": unredeemed, "discounted_orders": discounted, "lost": lost}


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "seed":
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("out")
        parser.add_argument("--hot-units", type=int, default=60)
        parser.add_argument("--flash-cap", type=int, default=40)
        parser.add_argument("--buyers", type=int, default=400)
        parser.add_argument("--coupons", type=int, default=200)
        args = parser.parse_args(rest)
        seed(args.out, args.hot_units, args.flash_cap, args.buyers, args.coupons)
    elif command == "verify":
        verify(rest)
    else:
        raise SystemExit(__doc__)
