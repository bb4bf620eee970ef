"""Catalogue console pages: list/detail/create, price lists, import with its error report; scoping and errors."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yundian.catalog import services
from yundian.catalog.models import PriceEntry, Product, Sku
from yundian.catalog.tests.factories import EAN_TEE_S, make_catalogue
from yundian.catalog.tests.utils import catalog_state
from yundian.org.tests.utils import client_for


@pytest.fixture
def cat(chain):
    catalogue = make_catalogue(chain)
    catalogue.a_list = services.price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store",
                                                  code="A-OWN", name="Store A prices")
    services.price_entry_set(actor=chain.admin, price_list_id=catalogue.a_list.id, sku_id=catalogue.tee_s.id,
                             price=7900)
    return catalogue


def test_the_catalogue_list_searches_by_barcode_and_shows_in_the_nav(chain, cat):
    client = client_for(chain.guide_a)
    page = client.get("/catalog/", {"q": EAN_TEE_S})
    assert page.status_code == 200
    html = page.content.decode()
    assert "纯棉T恤" in html and "马克杯" not in html
    assert 'href="/catalog/"' in html and 'href="/catalog/prices/"' in html  # nav entries
    assert "/catalog/products/new/" not in html  # guides do not manage the catalogue
    partial = client.get("/catalog/", {"q": "马克"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "马克杯" in partial.content.decode()


def test_the_detail_page_shows_store_prices_with_the_reason(chain, cat):
    client = client_for(chain.manager_a)
    html = client.get(f"/catalog/products/{cat.tee.id}/").content.decode()
    assert "¥79.00" in html and "A-OWN" in html and EAN_TEE_S in html
    # store B is outside the manager's scope: not found, rather than revealing its prices
    assert client.get(f"/catalog/products/{cat.tee.id}/", {"store": chain.store_b.id}).status_code == 404
    admin = client_for(chain.admin)
    html = admin.get(f"/catalog/products/{cat.tee.id}/", {"store": chain.store_b.id, "partial": "prices"},
                     headers={"HX-Request": "true"}).content.decode()
    assert "¥99.00" in html and "<html" not in html


def test_hq_creates_a_product_from_the_form_and_bad_input_re_renders_with_the_error(chain, cat):
    client = client_for(chain.admin)
    form = {"code": "BAG-1", "name": "帆布包", "category_id": str(cat.household.id), "sku_code": "BAG-1",
            "unit": "pcs", "base_price": "49.90", "generate_barcode": "on"}
    before = catalog_state()
    bad = client.post("/catalog/products/new/", {**form, "base_price": "49.999"})
    assert bad.status_code == 422 and 'data-code="too_many_decimals"' in bad.content.decode()
    assert catalog_state() == before
    bad = client.post("/catalog/products/new/", {**form, "barcode": "6901234567890"})
    assert bad.status_code == 422 and 'data-code="barcode_bad_check_digit"' in bad.content.decode()
    assert catalog_state() == before
    done = client.post("/catalog/products/new/", form)
    product = Product.objects.get(code="BAG-1")
    assert done.status_code == 302 and done["Location"] == f"/catalog/products/{product.id}/"
    sku = Sku.objects.get(code="BAG-1")
    assert (sku.base_price, sku.barcodes.get().kind) == (4990, "internal")


def test_detail_actions_change_barcodes_and_base_price_via_htmx(chain, cat):
    client = client_for(chain.admin)
    url = f"/catalog/products/{cat.mug.id}/actions/"
    response = client.post(url, {"action": "base_price", "sku_id": cat.mug_sku.id, "base_price": "26.50"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "¥26.50" in response.content.decode()
    assert Sku.objects.get(pk=cat.mug_sku.id).base_price == 2650
    before = catalog_state()
    response = client.post(url, {"action": "add_barcode", "sku_id": cat.mug_sku.id, "code": EAN_TEE_S},
                           headers={"HX-Request": "true"})
    assert 'data-code="barcode_taken"' in response.content.decode()
    assert catalog_state() == before
    # a SKU of another product cannot be changed through this product's page
    response = client.post(url, {"action": "generate_barcode", "sku_id": cat.tee_s.id})
    assert response.status_code == 404
    assert catalog_state() == before


def test_guides_and_other_enterprises_cannot_use_hq_pages(chain, other_chain, cat):
    before = catalog_state()
    guide = client_for(chain.guide_a)
    assert guide.get("/catalog/products/new/").status_code == 404
    assert guide.post(f"/catalog/products/{cat.tee.id}/actions/", {"action": "toggle_sku",
                                                                    "sku_id": cat.tee_s.id}).status_code == 404
    assert guide.get("/catalog/import/").status_code == 404
    stranger = client_for(other_chain.admin)
    assert stranger.get(f"/catalog/products/{cat.tee.id}/").status_code == 404
    assert stranger.get(f"/catalog/prices/{cat.a_list.id}/").status_code == 404
    assert stranger.post(f"/catalog/products/{cat.tee.id}/actions/", {"action": "toggle_sku",
                                                                       "sku_id": cat.tee_s.id}).status_code == 404
    assert catalog_state() == before


def test_price_list_pages_create_lists_and_set_prices(chain, cat):
    client = client_for(chain.east_manager)
    response = client.post("/catalog/prices/", {"node_id": chain.east.id, "channel": "store", "code": "EAST",
                                                "name": "华东价", "priority": "0",
                                                "valid_from": "2026-01-01T00:00", "valid_to": ""})
    assert response.status_code == 302
    east = chain.east.price_lists.get(code="EAST")
    response = client.post(f"/catalog/prices/{east.id}/", {"action": "set", "sku_code": "MUG-01", "price": "23.00"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "¥23.00" in response.content.decode()
    assert PriceEntry.objects.get(price_list=east).price == 2300
    before = catalog_state()
    response = client.post(f"/catalog/prices/{east.id}/", {"action": "set", "sku_code": "MUG-01", "price": "-1"},
                           headers={"HX-Request": "true"})
    assert 'data-code="invalid_price"' in response.content.decode()
    response = client.post("/catalog/prices/", {"node_id": chain.east.id, "channel": "store", "code": "EAST2",
                                                "name": "x", "valid_from": "2026-02-01T00:00",
                                                "valid_to": "2026-01-01T00:00"})
    assert response.status_code == 422 and 'data-code="invalid_window"' in response.content.decode()
    assert catalog_state() == before
    listing = client.get("/catalog/prices/").content.decode()
    assert "华东价" in listing and "Store A prices" in listing


def test_import_page_shows_the_row_report(chain, cat):
    client = client_for(chain.admin)
    content = ("product_code,product_name,sku_code,base_price\r\n"
               "N1,Pillow,N1-1,59.00\r\n"
               "N2,Sheet,N2-1,free\r\n").encode()
    response = client.post("/catalog/import/", {"file": SimpleUploadedFile("goods.csv", content), "mode": "rows"})
    assert response.status_code == 302
    report = client.get(response["Location"]).content.decode()
    assert 'data-status="partial"' in report and "invalid_price" in report and "<td>3</td>" in report
    assert Product.objects.filter(code__in=["N1", "N2"]).count() == 1
    before = catalog_state()
    response = client.post("/catalog/import/", {"file": SimpleUploadedFile("goods.doc", b"x")})
    assert response.status_code == 422 and 'data-code="unsupported_file_type"' in response.content.decode()
    assert catalog_state() == before
    export = client.get("/catalog/export/", {"format": "csv"})
    assert export.status_code == 200 and "N1-1" in export.content.decode("utf-8-sig")
