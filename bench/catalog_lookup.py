"""Benchmark: barcode scan lookup and price resolution at 50,000 SKUs x 500 stores (embedded SQLite).

    .venv/bin/python bench/catalog_lookup.py [--skus 50000] [--stores 500] [--samples 3000]

Builds the data in a temporary SQLite database (YUNDIAN_DATA points at a temp dir before django.setup()):
an HQ standard price list covering every SKU, a dated HQ promotion on 10 % of SKUs, one list per region
(10 regions) on 10 % of SKUs, one override list per store on 100 SKUs each, and a weighed-barcode scheme
with 200 weighed SKUs. Then times each operation on random inputs and prints mean / p50 / p99 in
microseconds, and the ratio of each mean to a baseline measured in the same process (a primary-key fetch
of one SKU through the ORM).
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import setup_django  # noqa: E402


def ean13(n: int, prefix: str = "690") -> str:
    from yundian.catalog.barcodes import check_digit

    body = f"{prefix}{n:09d}"
    return body + check_digit(body)


def build(skus_wanted: int, stores_wanted: int, rng: random.Random) -> dict:
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from yundian.catalog.models import (Barcode, BarcodeKind, PriceEntry, PriceList, Product, Sku,
                                        WeighedBarcodeScheme)
    from yundian.org.models import OrgNode
    from yundian.org.roles import NodeKind
    from yundian.org.services import enterprise_bootstrap

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        enterprise, admin = enterprise_bootstrap(name="Bench", code="bench", hq_name="HQ", hq_code="HQ",
                                                 admin_username="bench-admin", admin_password="bench-pass-2026",
                                                 admin_display_name="Bench")
        hq = admin.home
        regions = [OrgNode(enterprise=enterprise, parent=hq, kind=NodeKind.REGION, name=f"R{i}", code=f"R{i}",
                           depth=1, path="") for i in range(10)]
        OrgNode.objects.bulk_create(regions)
        for r in regions:
            r.path = f"{hq.path}{r.pk}/"
        OrgNode.objects.bulk_update(regions, ["path"])
        stores = [OrgNode(enterprise=enterprise, parent=regions[i % 10], kind=NodeKind.STORE, name=f"S{i}",
                          code=f"S{i}", depth=2, path="") for i in range(stores_wanted)]
        OrgNode.objects.bulk_create(stores, batch_size=1000)
        for s in stores:
            s.path = f"{s.parent.path}{s.pk}/"
        OrgNode.objects.bulk_update(stores, ["path"], batch_size=1000)

        per_product = 5
        products = [Product(enterprise=enterprise, code=f"P{i:06d}", name=f"Product {i}")
                    for i in range(skus_wanted // per_product)]
        Product.objects.bulk_create(products, batch_size=2000)
        skus = []
        for i in range(skus_wanted):
            weighed = i < 200
            skus.append(Sku(enterprise=enterprise, product=products[i // per_product], code=f"K{i:07d}",
                            name=f"v{i % per_product}", base_price=rng.randrange(100, 100_000), is_weighed=weighed,
                            plu=str(1000 + i) if weighed else None, unit="kg" if weighed else "pcs"))
        Sku.objects.bulk_create(skus, batch_size=2000)
        Barcode.objects.bulk_create([Barcode(enterprise=enterprise, sku=s, code=ean13(i), kind=BarcodeKind.EAN13,
                                             is_primary=True) for i, s in enumerate(skus)], batch_size=2000)
        WeighedBarcodeScheme.objects.create(enterprise=enterprise, prefix="21", item_digits=5, value_digits=5,
                                            value_kind="weight")

        now = timezone.now()
        entries = []
        std = PriceList.objects.create(enterprise=enterprise, node=hq, channel="store", code="HQ-STD", name="std")
        entries += [PriceEntry(price_list=std, sku=s, price=s.base_price) for s in skus]
        promo = PriceList.objects.create(enterprise=enterprise, node=hq, channel="store", code="HQ-PROMO",
                                         name="promo", valid_from=now - timedelta(days=1),
                                         valid_to=now + timedelta(days=6))
        entries += [PriceEntry(price_list=promo, sku=s, price=s.base_price * 9 // 10)
                    for s in rng.sample(skus, len(skus) // 10)]
        for r in regions:
            pl = PriceList.objects.create(enterprise=enterprise, node=r, channel="store", code=f"L-{r.code}",
                                          name=r.name)
            entries += [PriceEntry(price_list=pl, sku=s, price=s.base_price * 95 // 100)
                        for s in rng.sample(skus, len(skus) // 10)]
        store_lists = PriceList.objects.bulk_create([
            PriceList(enterprise=enterprise, node=s, channel="store", code=f"L-{s.code}", name=s.name)
            for s in stores], batch_size=1000)
        for pl in store_lists:
            entries += [PriceEntry(price_list=pl, sku=s, price=s.base_price * 98 // 100) for s in rng.sample(skus, min(100, len(skus)))]
        PriceEntry.objects.bulk_create(entries, batch_size=5000)
    stores = list(OrgNode.objects.filter(kind=NodeKind.STORE).select_related("enterprise"))
    return {"enterprise": enterprise, "stores": stores, "sku_ids": [s.pk for s in skus],
            "barcodes": [ean13(i) for i in range(skus_wanted)], "entries": len(entries),
            "weighed_plus": [str(1000 + i) for i in range(200)]}


def timed(fn, inputs) -> list[float]:
    out = []
    for item in inputs:
        start = time.perf_counter_ns()
        fn(item)
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def summarise(name: str, samples: list[float], per: int = 1) -> dict:
    samples = sorted(s / per for s in samples)
    return {"op": name, "n": len(samples), "mean": statistics.fmean(samples), "p50": samples[len(samples) // 2],
            "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="yd-bench-catalog-") as data_dir:
        setup_django(data_dir)
        from django.db import connection

        from yundian.catalog import barcodes as codes
        from yundian.catalog.models import Barcode, Sku
        from yundian.catalog.pricing import price_resolve, price_resolve_many
        from yundian.catalog.selectors import scan_resolve

        started = time.perf_counter()
        data = build(args.skus, args.stores, rng)
        build_seconds = time.perf_counter() - started
        enterprise_id = data["enterprise"].pk
        stores, sku_ids, barcodes = data["stores"], data["sku_ids"], data["barcodes"]
        skus = {s.pk: s for s in Sku.objects.filter(pk__in=rng.sample(sku_ids, min(5000, len(sku_ids))))}
        sample_skus = list(skus.values())
        layout = codes.SchemeLayout("21", 5, 5, "weight")
        n = args.samples

        pk_inputs = [rng.choice(sku_ids) for _ in range(n)]
        code_inputs = [(rng.choice(barcodes), rng.choice(stores)) for _ in range(n)]
        weighed_inputs = [(codes.weighed_encode(layout, rng.choice(data["weighed_plus"]), rng.randrange(50, 5000)),
                           rng.choice(stores)) for _ in range(n)]
        price_inputs = [(rng.choice(sample_skus), rng.choice(stores)) for _ in range(n)]
        basket_inputs = [(rng.sample(sample_skus, 20), rng.choice(stores)) for _ in range(n // 10)]
        page_inputs = [(rng.sample(sample_skus, 200), rng.choice(stores)) for _ in range(n // 50)]

        # warm up the connection and caches
        for item in pk_inputs[:200]:
            Sku.objects.get(pk=item)
        for code, store in code_inputs[:200]:
            scan_resolve(enterprise_id=enterprise_id, code=code, node=store)

        rows = [
            summarise("baseline: Sku.objects.get(pk) (ORM)", timed(lambda pk: Sku.objects.get(pk=pk), pk_inputs)),
            summarise("barcode -> SKU via ORM select_related (compare)", timed(
                lambda item: Barcode.objects.select_related("sku__product").filter(
                    enterprise_id=enterprise_id, code=item[0]).first(), code_inputs)),
            summarise("price_resolve(sku, store) (1 query)", timed(
                lambda item: price_resolve(item[0], item[1]), price_inputs)),
            summarise("scan: EAN-13 -> SKU + store price", timed(
                lambda item: scan_resolve(enterprise_id=enterprise_id, code=item[0], node=item[1]), code_inputs)),
            summarise("scan: weighed 21xxxxx -> SKU + grams + price", timed(
                lambda item: scan_resolve(enterprise_id=enterprise_id, code=item[0], node=item[1]), weighed_inputs)),
            summarise("price_resolve_many, 20-line basket (per call)", timed(
                lambda item: price_resolve_many(item[0], item[1]), basket_inputs)),
            summarise("price_resolve_many, 20-line basket (per SKU)", timed(
                lambda item: price_resolve_many(item[0], item[1]), basket_inputs), per=20),
            summarise("price_resolve_many, 200-SKU page (per SKU)", timed(
                lambda item: price_resolve_many(item[0], item[1]), page_inputs), per=200),
        ]
        baseline = rows[0]["mean"]
        print(f"catalog lookup benchmark — {connection.vendor}, {args.skus:,} SKUs, {len(stores):,} stores, "
              f"{data['entries']:,} price entries in {len(stores) + 12:,} lists; built in {build_seconds:.1f} s")
        print(f"{'operation':<48} {'n':>6} {'mean µs':>9} {'p50 µs':>9} {'p99 µs':>9} {'x baseline':>10}")
        print("-" * 96)
        for r in rows:
            print(f"{r['op']:<48} {r['n']:>6} {r['mean']:>9.1f} {r['p50']:>9.1f} {r['p99']:>9.1f} "
                  f"{r['mean'] / baseline:>10.2f}")
        connection.close()


if __name__ == "__main__":
    main()
