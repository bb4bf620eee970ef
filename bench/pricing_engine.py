"""Benchmark: pricing a 50-line cart with 20 active promotions (goal: < 5 ms per pricing).

    .venv/bin/python bench/pricing_engine.py [--samples 2000] [--lines 50] [--promotions 20]

Builds a chain in a temporary SQLite database (YUNDIAN_DATA points at a temp dir before django.setup()): 50 SKUs in
5 categories, 20 active HQ promotions of every kind (percentage and amount off by category, multi-tier 满减 and
满折, buy-2-get-1, bundles, a member tier price, two exclusive ones), a category price floor, a member with a
discounting tier. Then times, on the same cart:

    list price only      catalog.price_resolve_many for the 50 SKUs: what cart_price did before promotions (baseline)
    engine only          promotions.engine.price_cart on a Cart already built (pure computation)
    promotions pricing   promotions.pricing.price_lines: load rules, floors, tier, claims + the engine
    sales cart_price     list prices + promotions + order discount: what POS / storefront / API orders call

and prints mean / p50 / p99 in milliseconds and each mean's ratio to the baseline.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django  # noqa: E402


def build(lines: int, promotions: int):
    from django.core.management import call_command
    from django.db import transaction

    from yundian.catalog import services as catalog
    from yundian.catalog.models import Sku
    from yundian.members.models import Member
    from yundian.members.services import member_register, tier_create
    from yundian.org.tests.factories import make_chain
    from yundian.promotions import services

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        chain = make_chain("bench")
        admin = chain.admin
        categories = [catalog.category_create(actor=admin, name=f"类目{i}", code=f"C{i}") for i in range(5)]
        for i in range(lines):
            catalog.product_create(actor=admin, code=f"P{i:03d}", name=f"商品{i}", category_id=categories[i % 5].id,
                                   skus=[{"code": f"S{i:03d}", "base_price": 1000 + 137 * i}])
        skus = list(Sku.objects.filter(enterprise_id=admin.enterprise_id).select_related("product__category")
                    .order_by("id"))
        gold = tier_create(actor=admin, code="GOLD", name="金卡", rank=1, min_growth=100, discount_rate="0.95")
        member = member_register(actor=chain.manager_a, store_id=chain.store_a.id, channel="pos", phone="13900000001")
        Member.objects.filter(pk=member.pk).update(tier=gold)
        member.refresh_from_db()
        hq = chain.hq.id
        kinds = [
            dict(kind="percent_off", rate="0.9", category_ids=[categories[0].id]),
            dict(kind="percent_off", rate="0.85", category_ids=[categories[1].id], priority=2),
            dict(kind="amount_off", amount=200, category_ids=[categories[2].id]),
            dict(kind="amount_off", amount=100, sku_ids=[s.pk for s in skus[:10]]),
            dict(kind="threshold_amount", tiers=[{"min": 20000, "off": 2000}, {"min": 50000, "off": 6000},
                                                 {"min": 100000, "off": 15000}]),
            dict(kind="threshold_amount", tiers=[{"min": 10000, "off": 1000}], repeat=True, max_off=10000,
                 category_ids=[categories[3].id]),
            dict(kind="threshold_percent", tiers=[{"min": 3, "rate": "0.95"}, {"min": 5, "rate": "0.9"}],
                 threshold_by="quantity", category_ids=[categories[4].id]),
            dict(kind="threshold_percent", tiers=[{"min": 200000, "rate": "0.98"}]),
            dict(kind="buy_x_get_y", buy_quantity=2, get_quantity=1, category_ids=[categories[2].id]),
            dict(kind="buy_x_get_y", buy_quantity=3, get_quantity=1, get_rate="0.5", category_ids=[categories[4].id]),
            dict(kind="bundle", bundle_items=[{"sku_id": skus[0].pk, "quantity": 1}, {"sku_id": skus[1].pk,
                                                                                       "quantity": 1}],
                 bundle_price=2000),
            dict(kind="bundle", bundle_items=[{"sku_id": skus[2].pk, "quantity": 2}, {"sku_id": skus[3].pk,
                                                                                       "quantity": 1}],
                 bundle_price=5000),
            dict(kind="tier_rate", tier_codes=["GOLD"]),
            dict(kind="percent_off", rate="0.7", is_exclusive=True, priority=5),
            dict(kind="threshold_amount", tiers=[{"min": 300000, "off": 90000}], is_exclusive=True),
            dict(kind="percent_off", rate="0.95", channels=["storefront"]),
            dict(kind="amount_off", amount=50, members_only=True),
            dict(kind="percent_off", rate="0.88", product_ids=[skus[5].product_id, skus[6].product_id]),
            dict(kind="amount_off", amount=300, category_ids=[categories[1].id], priority=-1),
            dict(kind="threshold_amount", tiers=[{"min": 0, "off": 500}]),
        ]
        for i, fields in enumerate((kinds * 3)[:promotions]):
            services.promotion_create(actor=admin, node_id=hq, code=f"BP{i}", name=f"促销{i}", status="active",
                                      **fields)
        services.price_floor_set(actor=admin, category_id=categories[1].id, min_percent=75)
    return chain, skus, member


def timed(fn, samples: int) -> list[float]:
    for _ in range(20):
        fn()
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--promotions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        from django.utils import timezone

        from yundian.catalog.models import Channel
        from yundian.catalog.pricing import price_resolve_many
        from yundian.promotions.engine import price_cart
        from yundian.promotions.pricing import LineIn, cart_build, price_lines
        from yundian.sales.pricing import CartLine, cart_price

        print(f"building: {args.lines} SKUs, {args.promotions} promotions (migrations take a while) ...", flush=True)
        chain, skus, member = build(args.lines, args.promotions)
        store, at = chain.store_a, timezone.now()
        quantities = [1 + (i % 3) for i in range(len(skus))]
        resolved = price_resolve_many(skus, store, Channel.STORE, at)
        lines = [LineIn(sku=s, quantity=q, unit_price=resolved[s.pk].price.amount,
                        gross=resolved[s.pk].price.amount * q, list_price=resolved[s.pk].price.amount)
                 for s, q in zip(skus, quantities)]
        cart = cart_build(store=store, channel="pos", lines=lines, member=member, at=at)
        result = price_cart(cart)
        sales_lines = [CartLine(sku=s, quantity=q) for s, q in zip(skus, quantities)]
        cases = [
            ("list price only (baseline)", lambda: price_resolve_many(skus, store, Channel.STORE, at)),
            ("engine only (pure)", lambda: price_cart(cart)),
            ("promotions pricing (load + engine)",
             lambda: price_lines(store=store, channel="pos", lines=lines, member=member, at=at)),
            ("sales cart_price (list + promotions)",
             lambda: cart_price(store=store, channel="pos", lines=sales_lines, member=member, at=at, order_discount=100)),
        ]
        rows = [(name, timed(fn, args.samples)) for name, fn in cases]
        base = statistics.mean(rows[0][1])
        print()
        print(f"cart: {len(lines)} lines, {len(cart.rules)} active promotions; applied {len(result.applied)}, "
              f"not applicable {len(result.not_applicable)}; subtotal {result.subtotal} fen, total {result.total} fen")
        print(f"{'operation':40} {'mean ms':>9} {'p50 ms':>9} {'p99 ms':>9} {'x baseline':>11}")
        for name, values in rows:
            values = sorted(values)
            mean = statistics.mean(values)
            print(f"{name:40} {mean:9.3f} {values[len(values) // 2]:9.3f} {values[int(len(values) * 0.99) - 1]:9.3f} "
                  f"{mean / base:11.2f}")
        goal = statistics.mean(rows[2][1])
        print(f"\ngoal < 5 ms per pricing (promotions pricing, load + engine): {'met' if goal < 5 else 'MISSED'} "
              f"({goal:.3f} ms)")


if __name__ == "__main__":
    main()
