"""The demo catalogue step writes exactly its documented shape, with valid barcodes and working prices."""
from yundian.catalog import barcodes as codes
from yundian.catalog.models import Barcode, Category, PriceEntry, PriceList, Product, ProductMedia, Sku
from yundian.catalog.pricing import price_resolve
from yundian.catalog.selectors import scan_resolve
from yundian.demo import generators
from yundian.demo.generators import catalog as catalog_step
from yundian.demo.generators import org as org_step


def test_scale_one_writes_the_documented_shape_with_valid_barcodes(db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # the org and catalogue steps alone, whatever else the registry holds
    monkeypatch.setattr(generators, "STEPS", lambda: [org_step.step, catalog_step.step])
    ctx = generators.run_seed(scale=1, seed=3, code="catdemo")
    shape = catalog_step.counts_for(1)
    assert shape["skus"] == 282 + 18 and shape["products"] == 60 + 17  # the cycling range + the 母婴 department
    enterprise = ctx.enterprise
    assert {k: ctx.counts[k] for k in shape} == shape
    assert Category.objects.filter(enterprise=enterprise).count() == shape["categories"]
    assert Product.objects.filter(enterprise=enterprise).count() == shape["products"]
    assert Sku.objects.filter(enterprise=enterprise).count() == shape["skus"]
    assert ProductMedia.objects.filter(product__enterprise=enterprise).count() == shape["product_media"]
    assert PriceList.objects.filter(enterprise=enterprise).count() == shape["price_lists"]
    assert PriceEntry.objects.filter(price_list__enterprise=enterprise).count() == shape["price_entries"]
    codes_written = list(Barcode.objects.filter(enterprise=enterprise).values_list("code", flat=True))
    assert len(codes_written) == shape["barcodes"]
    assert all(codes.classify(c) == "ean13" for c in codes_written)
    assert (tmp_path / ProductMedia.objects.filter(product__enterprise=enterprise).first().file.name).exists()
    # a scan at a store finds the SKU and a price; weighed produce decodes through scheme 21
    store = ctx.created["stores"][0]
    barcode = Barcode.objects.filter(enterprise=enterprise).select_related("sku").first()
    result = scan_resolve(enterprise_id=enterprise.pk, code=barcode.code, node=store)
    assert result.sku.pk == barcode.sku_id
    assert result.resolution.price == price_resolve(barcode.sku, store).price
    apples = Sku.objects.filter(enterprise=enterprise, is_weighed=True).first()
    weighed = codes.weighed_encode(codes.SchemeLayout("21", 5, 5, "weight"), apples.plu, 500)
    result = scan_resolve(enterprise_id=enterprise.pk, code=weighed, node=store)
    assert (result.sku.pk, result.grams) == (apples.pk, 500)


def test_the_shape_grows_linearly_to_the_large_chain():
    small, large = catalog_step.counts_for(1), catalog_step.counts_for(400)
    assert large["products"] == 10_035 + 17
    assert 45_000 <= large["skus"] <= 50_000
    assert catalog_step.counts_for(2)["products"] - small["products"] == 25
