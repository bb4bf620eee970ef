"""The catalogue API: creates with idempotency keys, bad input -> 4xx with a code and nothing changed, scoping,
scan lookup, price resolution, labels, media, import/export."""
import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from yundian.catalog import barcodes as codes
from yundian.catalog import services
from yundian.catalog.barcodes import SchemeLayout
from yundian.catalog.models import Product, ProductMedia
from yundian.catalog.tests.factories import EAN_TEE_M, EAN_TEE_S, UPC_MUG, make_catalogue
from yundian.catalog.tests.utils import catalog_state
from yundian.org.tests.utils import assert_error, call, client_for

API = "/api/v1/catalog"


@pytest.fixture
def cat(chain):
    catalogue = make_catalogue(chain)
    catalogue.hq_list = services.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store",
                                                   code="HQ-STD", name="standard")
    services.price_entry_set(actor=chain.admin, price_list_id=catalogue.hq_list.id, sku_id=catalogue.tee_s.id,
                             price=8900)
    catalogue.a_list = services.price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store",
                                                  code="A-OWN", name="store A")
    services.price_entry_set(actor=chain.admin, price_list_id=catalogue.a_list.id, sku_id=catalogue.tee_s.id,
                             price=7900)
    catalogue.w_list = services.price_list_create(actor=chain.admin, node_id=chain.west.id, channel="store",
                                                  code="WEST", name="west")
    return catalogue


PRODUCT = {"code": "SHOE-9", "name": "跑鞋", "brand": "Yun", "attributes": {"season": "SS26", "waterproof": True},
           "skus": [{"code": "SHOE-9-42", "name": "42", "options": {"size": "42"}, "base_price": 39900,
                     "barcodes": ["4006381333931"]},
                    {"code": "SHOE-9-43", "name": "43", "options": {"size": "43"}, "base_price": 39900,
                     "generate_barcode": True}]}


def test_hq_creates_a_product_and_a_retry_with_the_same_key_replays_it(chain, cat):
    client = client_for(chain.admin)
    first = call(client, "post", f"{API}/products", PRODUCT, **{"Idempotency-Key": "shoe-9"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["code"], body["attributes"], [s["code"] for s in body["skus"]]) == (
        "SHOE-9", {"season": "SS26", "waterproof": True}, ["SHOE-9-42", "SHOE-9-43"])
    assert [b["code"] for b in body["skus"][0]["barcodes"]] == ["4006381333931"]
    generated = body["skus"][1]["barcodes"][0]
    assert (generated["code"], generated["kind"], generated["is_primary"]) == ("2000000000015", "internal", True)
    again = call(client, "post", f"{API}/products", PRODUCT, **{"Idempotency-Key": "shoe-9"})
    assert (again.status_code, again.json()) == (201, body)
    assert Product.objects.filter(code="SHOE-9").count() == 1
    before = catalog_state()
    other = call(client, "post", f"{API}/products", {**PRODUCT, "name": "另一双"}, **{"Idempotency-Key": "shoe-9"})
    assert_error(other, 409, "idempotency_key_reused")
    assert catalog_state() == before


def _bad_requests(chain, cat):
    tee, tee_s, mug, apples = cat.tee.id, cat.tee_s.id, cat.mug_sku.id, cat.apples_sku.id
    hq = chain.hq.id
    return [
        ("post", "/categories", {"name": "", "code": "X"}, 422, "required"),
        ("post", "/categories", {"name": "A", "code": "APP"}, 409, "code_taken"),
        ("post", "/categories", {"name": "A", "code": "B", "parent_id": 999999}, 404, "category_not_found"),
        ("patch", "/categories/999999", {"name": "x"}, 404, "category_not_found"),
        ("post", "/products", {"code": "bad code", "name": "x"}, 422, "invalid_code"),
        ("post", "/products", {"code": "TEE-001", "name": "x"}, 409, "product_code_taken"),
        ("post", "/products", {"code": "N1", "name": "x", "skus": [{"code": "N1", "base_price": -1}]}, 422,
         "invalid_price"),
        ("post", "/products", {"code": "N1", "name": "x", "skus": [{"code": "N1", "barcodes": ["6901234567890"]}]},
         422, "barcode_bad_check_digit"),
        ("post", "/products", {"code": "N1", "name": "x", "skus": [{"code": "N1", "barcodes": [EAN_TEE_S]}]},
         409, "barcode_taken"),
        ("post", "/products", {"code": "N1", "name": "x", "skus": [{"code": "N1"}, {"code": "N1"}]}, 422,
         "duplicate_sku_code"),
        ("post", "/products", {"code": "N1", "name": "x", "attributes": {"a": {"b": 1}}}, 422, "invalid_mapping"),
        ("post", "/products", "{", 400, "malformed_body"),
        ("post", "/products", {"code": "N1", "name": "x", "skus": "nope"}, 422, "invalid"),
        ("patch", f"/products/{tee}", {"category_id": 999999}, 404, "category_not_found"),
        ("patch", f"/products/{tee}", {"name": "   "}, 422, "required"),
        ("patch", "/products/999999", {"name": "x"}, 404, "product_not_found"),
        ("post", f"/products/{tee}/skus", {"code": "TEE-001-S"}, 409, "sku_code_taken"),
        ("post", f"/products/{tee}/skus", {"code": "X", "plu": "12"}, 422, "plu_not_weighed"),
        ("post", f"/products/{tee}/skus", {"code": "X", "is_weighed": True, "plu": "123"}, 409, "plu_taken"),
        ("patch", f"/skus/{tee_s}", {"unit": "parsec"}, 422, "invalid_unit"),
        ("patch", f"/skus/{tee_s}", {"base_price": 1.5}, 422, "invalid"),
        ("patch", f"/skus/{tee_s}", {"options": {"size": ""}}, 422, "required"),
        ("post", f"/skus/{tee_s}/barcodes", {"code": "123"}, 422, "barcode_bad_length"),
        ("post", f"/skus/{tee_s}/barcodes", {"code": "69012345678x2"}, 422, "barcode_not_digits"),
        ("post", f"/skus/{tee_s}/barcodes", {"code": EAN_TEE_M}, 409, "barcode_taken"),
        ("post", f"/skus/{tee_s}/barcodes", {"code": "0" + UPC_MUG}, 409, "barcode_taken"),
        ("post", f"/skus/{tee_s}/barcodes", {"code": "1", "generate": True}, 422, "code_or_generate"),
        ("post", "/skus/999999/barcodes", {"code": "4006381333931"}, 404, "sku_not_found"),
        ("delete", f"/skus/{tee_s}/barcodes/999999", None, 404, "barcode_not_found"),
        ("delete", f"/products/{tee}/media/999999", None, 404, "media_not_found"),
        ("put", "/weighed-schemes/20", {"value_kind": "weight"}, 422, "invalid_prefix"),
        ("put", "/weighed-schemes/21", {"value_kind": "volume"}, 422, "invalid_value_kind"),
        ("put", "/weighed-schemes/21", {"value_kind": "weight", "item_digits": 7}, 422, "invalid_item_digits"),
        ("post", "/price-lists", {"node_id": hq, "channel": "x", "code": "N", "name": "n"}, 422, "invalid_channel"),
        ("post", "/price-lists", {"node_id": hq, "channel": "store", "code": "N", "name": "n",
                                  "valid_from": "2026-02-01T00:00:00+08:00", "valid_to": "2026-01-01T00:00:00+08:00"},
         422, "invalid_window"),
        ("post", "/price-lists", {"node_id": 999999, "channel": "store", "code": "N", "name": "n"}, 404,
         "org_node_not_found"),
        ("post", "/price-lists", {"node_id": hq, "channel": "store", "code": "HQ-STD", "name": "n"}, 409,
         "code_taken"),
        ("patch", f"/price-lists/{cat.hq_list.id}", {"valid_to": "2000-01-01T00:00:00Z",
                                                      "valid_from": "2001-01-01T00:00:00Z"}, 422, "invalid_window"),
        ("put", f"/price-lists/{cat.hq_list.id}/entries/{tee_s}", {"price": -1}, 422, "invalid_price"),
        ("put", f"/price-lists/{cat.hq_list.id}/entries/{tee_s}", {"price": "12.5"}, 422, "invalid"),
        ("put", f"/price-lists/{cat.hq_list.id}/entries/999999", {"price": 1}, 404, "sku_not_found"),
        ("put", f"/price-lists/999999/entries/{tee_s}", {"price": 1}, 404, "price_list_not_found"),
        ("delete", f"/price-lists/{cat.hq_list.id}/entries/{mug}", None, 404, "price_entry_not_found"),
        ("get", f"/prices/resolve?sku_id={tee_s}&channel=x", None, 422, "invalid_channel"),
        ("get", "/prices/resolve?sku_id=999999", None, 404, "sku_not_found"),
        ("get", f"/prices/resolve?sku_id={tee_s}&store_id=999999", None, 404, "org_node_not_found"),
        ("post", "/prices/resolve-batch", {"sku_ids": [tee_s, 999999]}, 404, "sku_not_found"),
        ("post", "/prices/resolve-batch", {"sku_ids": []}, 422, "invalid"),
        ("get", "/scan/6901234567890", None, 422, "barcode_bad_check_digit"),
        ("get", "/scan/4006381333931", None, 404, "unknown_barcode"),
        ("get", "/scan/abc%21", None, 422, "invalid_barcode"),
        ("get", "/labels.pdf?sku_ids=abc", None, 422, "invalid_sku_ids"),
        ("get", f"/labels.pdf?sku_ids={apples}", None, 409, "sku_has_no_barcode"),
        ("get", f"/labels.pdf?sku_ids={tee_s}&copies=0", None, 422, "invalid_copies"),
        ("get", f"/skus/{apples}/label.svg", None, 409, "sku_has_no_barcode"),
        ("get", "/export?format=pdf", None, 422, "invalid_format"),
        ("get", "/imports/999999", None, 404, "import_not_found"),
    ]


def test_bad_input_to_every_endpoint_is_a_4xx_with_a_code_and_changes_nothing(chain, cat):
    client = client_for(chain.admin)
    for method, path, body, status, code in _bad_requests(chain, cat):
        before = catalog_state()
        response = call(client, method, API + path, body)
        error = assert_error(response, status)
        assert error["code"] == code, (method, path, error)
        assert catalog_state() == before, (method, path)


def test_bad_uploads_are_refused_and_change_nothing(chain, cat):
    client = client_for(chain.admin)
    before = catalog_state()
    fake = SimpleUploadedFile("x.png", b"GIF89a not really", content_type="image/png")
    assert_error(client.post(f"{API}/products/{cat.tee.id}/media", {"file": fake}), 422, "not_an_image")
    assert_error(client.post(f"{API}/products/{cat.tee.id}/media", {"url": "javascript:alert(1)"}), 422, "invalid_url")
    assert_error(client.post(f"{API}/products/{cat.tee.id}/media", {}), 422, "media_source_required")
    assert_error(client.post(f"{API}/imports", {}), 422, "invalid")
    pdf = SimpleUploadedFile("goods.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert_error(client.post(f"{API}/imports", {"file": pdf}), 422, "unsupported_file_type")
    ok = SimpleUploadedFile("goods.csv", b"product_code,product_name,sku_code,base_price\r\n", content_type="text/csv")
    assert_error(client.post(f"{API}/imports", {"file": ok, "mode": "yolo"}), 422, "invalid_mode")
    assert catalog_state() == before


def test_another_enterprises_catalogue_is_not_found(chain, other_chain, cat):
    client = client_for(other_chain.admin)
    before = catalog_state()
    for method, path, body in [
        ("get", f"/products/{cat.tee.id}", None),
        ("patch", f"/products/{cat.tee.id}", {"name": "mine"}),
        ("get", f"/skus/{cat.tee_s.id}", None),
        ("patch", f"/skus/{cat.tee_s.id}", {"base_price": 1}),
        ("post", f"/products/{cat.tee.id}/skus", {"code": "Z1"}),
        ("post", f"/skus/{cat.tee_s.id}/barcodes", {"generate": True}),
        ("get", f"/price-lists/{cat.hq_list.id}", None),
        ("put", f"/price-lists/{cat.hq_list.id}/entries/{cat.tee_s.id}", {"price": 1}),
        ("get", f"/prices/resolve?sku_id={cat.tee_s.id}", None),
        ("get", f"/scan/{EAN_TEE_S}", None),
        ("get", f"/skus/{cat.tee_s.id}/label.svg", None),
        ("patch", f"/categories/{cat.apparel.id}", {"name": "mine"}),
    ]:
        assert_error(call(client, method, API + path, body), 404)
    assert call(client, "get", f"{API}/products").json()["items"] == []
    assert call(client, "get", f"{API}/price-lists").json()["items"] == []
    assert catalog_state() == before


def test_a_guide_reads_and_scans_but_cannot_write(chain, cat):
    client = client_for(chain.guide_a)
    assert [p["code"] for p in call(client, "get", f"{API}/products?q=TEE").json()["items"]] == ["TEE-001"]
    scan = call(client, "get", f"{API}/scan/{EAN_TEE_S}")  # priced for the guide's own store
    assert (scan.status_code, scan.json()["unit_price"]["price"]["amount"]) == (200, 7900)
    before = catalog_state()
    for method, path, body, code in [
        ("post", "/products", PRODUCT, "catalog_manage_required"),
        ("patch", f"/products/{cat.tee.id}", {"name": "x"}, "catalog_manage_required"),
        ("patch", f"/skus/{cat.tee_s.id}", {"base_price": 1}, "catalog_manage_required"),
        ("post", "/categories", {"name": "x", "code": "X"}, "catalog_manage_required"),
        ("post", f"/skus/{cat.tee_s.id}/barcodes", {"generate": True}, "catalog_manage_required"),
        ("put", "/weighed-schemes/21", {"value_kind": "weight"}, "catalog_manage_required"),
        ("post", "/price-lists", {"node_id": chain.store_a.id, "channel": "store", "code": "G", "name": "g"},
         "forbidden"),
        ("put", f"/price-lists/{cat.a_list.id}/entries/{cat.tee_s.id}", {"price": 1}, "price_manage_required"),
    ]:
        assert_error(call(client, method, API + path, body), 403, code)
    # another store's prices: the store is outside the guide's scope
    assert_error(call(client, "get", f"{API}/scan/{EAN_TEE_S}?store_id={chain.store_b.id}"), 404,
                 "org_node_not_found")
    assert_error(call(client, "get", f"{API}/price-lists/{cat.w_list.id}"), 404, "price_list_not_found")
    assert catalog_state() == before


def test_a_region_manager_sees_lists_above_and_below_but_not_a_sibling_branch(chain, cat):
    client = client_for(chain.east_manager)
    codes_seen = [p["code"] for p in call(client, "get", f"{API}/price-lists").json()["items"]]
    assert sorted(codes_seen) == ["A-OWN", "HQ-STD"]
    assert_error(call(client, "get", f"{API}/price-lists/{cat.w_list.id}"), 404, "price_list_not_found")
    assert_error(call(client, "put", f"{API}/price-lists/{cat.hq_list.id}/entries/{cat.tee_s.id}", {"price": 1}),
                 403, "price_manage_required")
    ok = call(client, "put", f"{API}/price-lists/{cat.a_list.id}/entries/{cat.tee_s.id}", {"price": 7500})
    assert (ok.status_code, ok.json()["price"]) == (200, 7500)


def test_scan_finds_ean_upc_and_weighed_codes_with_store_prices(chain, cat):
    client = client_for(chain.admin)
    body = call(client, "get", f"{API}/scan/{EAN_TEE_S}?store_id={chain.store_a.id}").json()
    assert (body["kind"], body["sku"]["code"], body["product"]["name"]) == ("ean13", "TEE-001-S", "纯棉T恤")
    assert body["unit_price"]["price"] == {"amount": 7900, "currency": "CNY", "display": "¥79.00"}
    assert body["unit_price"]["winner"]["price_list_code"] == "A-OWN"
    assert body["line_price"]["amount"] == 7900 and body["grams"] is None
    body = call(client, "get", f"{API}/scan/{EAN_TEE_S}?store_id={chain.store_b.id}").json()
    assert body["unit_price"]["price"]["amount"] == 8900
    # a UPC-A read as a 13-digit EAN with a leading zero
    body = call(client, "get", f"{API}/scan/0{UPC_MUG}").json()
    assert (body["kind"], body["sku"]["code"], body["unit_price"]["source"]) == ("upca", "MUG-01", "base_price")
    # weighed: 1.250 kg of apples at 12.80/kg; price-embedded: the scale printed 23.45
    assert call(client, "put", f"{API}/weighed-schemes/21", {"value_kind": "weight"}).status_code == 200
    assert call(client, "put", f"{API}/weighed-schemes/22", {"value_kind": "price"}).status_code == 200
    weight_code = codes.weighed_encode(SchemeLayout("21", 5, 5, "weight"), "123", 1250)
    body = call(client, "get", f"{API}/scan/{weight_code}?store_id={chain.store_a.id}").json()
    assert (body["kind"], body["sku"]["code"], body["grams"], body["line_price"]["amount"],
            body["embedded_price"]) == ("weighed", "APL-KG", 1250, 1600, None)
    price_code = codes.weighed_encode(SchemeLayout("22", 5, 5, "price"), "123", 2345)
    body = call(client, "get", f"{API}/scan/{price_code}").json()
    assert (body["line_price"]["amount"], body["embedded_price"], body["grams"]) == (2345, 2345, 1832)
    # a weighed code for an unknown PLU is an unknown barcode
    unknown = codes.weighed_encode(SchemeLayout("21", 5, 5, "weight"), "999", 100)
    assert_error(call(client, "get", f"{API}/scan/{unknown}"), 404, "unknown_barcode")


def test_resolve_and_batch_explain_which_list_won(chain, cat):
    client = client_for(chain.admin)
    body = call(client, "get", f"{API}/prices/resolve?sku_id={cat.tee_s.id}&store_id={chain.store_a.id}").json()
    assert (body["price"]["amount"], body["source"], body["winner"]["price_list_code"]) == (7900, "price_list", "A-OWN")
    assert [(o["price_list_code"], o["reason"]) for o in body["others"]] == [("HQ-STD", "farther_node")]
    assert "A-OWN" in body["explanation"]
    batch = call(client, "post", f"{API}/prices/resolve-batch",
                 {"sku_ids": [cat.mug_sku.id, cat.tee_s.id], "store_id": chain.store_b.id}).json()
    assert [(r["sku_id"], r["price"]["amount"], r["source"]) for r in batch] == [
        (cat.mug_sku.id, 2500, "base_price"), (cat.tee_s.id, 8900, "price_list")]


def test_price_changes_through_the_api_are_live_for_every_store(chain, cat):
    client = client_for(chain.admin)
    call(client, "patch", f"{API}/price-lists/{cat.a_list.id}", {"is_active": False})
    assert call(client, "put", f"{API}/price-lists/{cat.hq_list.id}/entries/{cat.tee_s.id}",
                {"price": 8600}).status_code == 200
    for store in (chain.store_a, chain.store_b):
        body = call(client, "get", f"{API}/prices/resolve?sku_id={cat.tee_s.id}&store_id={store.id}").json()
        assert body["price"]["amount"] == 8600
    assert call(client, "delete", f"{API}/price-lists/{cat.hq_list.id}/entries/{cat.tee_s.id}").status_code == 204
    body = call(client, "get", f"{API}/prices/resolve?sku_id={cat.tee_s.id}&store_id={chain.store_b.id}").json()
    assert (body["price"]["amount"], body["source"]) == (9900, "base_price")


def test_labels_render_as_svg_and_pdf(chain, cat):
    client = client_for(chain.guide_a)
    svg = client.get(f"{API}/skus/{cat.tee_s.id}/label.svg")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    text = svg.content.decode()
    assert "纯棉T恤" in text and "¥79.00" in text and EAN_TEE_S in text
    pdf = client.get(f"{API}/labels.pdf?sku_ids={cat.tee_s.id},{cat.mug_sku.id}&copies=2")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert re.search(rb"/Count (\d+)", pdf.content).group(1) == b"4"  # 2 SKUs x 2 copies, one label a page


def test_images_are_uploaded_or_linked(chain, cat, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(chain.admin)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    upload = SimpleUploadedFile("tee.png", buffer.getvalue(), content_type="image/png")
    first = client.post(f"{API}/products/{cat.tee.id}/media", {"file": upload, "alt_text": "front"})
    assert first.status_code == 201, first.content
    assert first.json()["src"].startswith("/media/catalog/media/") and first.json()["alt_text"] == "front"
    second = client.post(f"{API}/products/{cat.tee.id}/media", {"url": "https://img.example.com/tee.jpg",
                                                                "sort_order": "1"})
    assert second.status_code == 201
    detail = client.get(f"{API}/products/{cat.tee.id}").json()
    assert [m["src"] for m in detail["media"]][1] == "https://img.example.com/tee.jpg"
    assert client.delete(f"{API}/products/{cat.tee.id}/media/{second.json()['id']}").status_code == 204
    assert ProductMedia.objects.filter(product=cat.tee).count() == 1


def test_import_upload_reports_rows_and_replays_with_the_same_key(chain, cat):
    client = client_for(chain.admin)
    content = ("product_code,product_name,sku_code,base_price,barcodes\r\n"
               "N1,Pillow,N1-1,59.00,4006381333931\r\n"
               "N2,Sheet,N2-1,abc,\r\n").encode()
    upload = lambda: SimpleUploadedFile("goods.csv", content, content_type="text/csv")  # noqa: E731
    first = client.post(f"{API}/imports", {"file": upload()}, headers={"Idempotency-Key": "imp-1"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["status"], body["imported_rows"], body["rejected_rows"]) == ("partial", 1, 1)
    assert body["errors"] == [{"row": 3, "column": "base_price", "code": "invalid_price",
                               "message": body["errors"][0]["message"]}]
    again = client.post(f"{API}/imports", {"file": upload()}, headers={"Idempotency-Key": "imp-1"})
    assert (again.status_code, again.json()["id"]) == (201, body["id"])
    assert Product.objects.filter(code="N1").count() == 1
    export = client.get(f"{API}/export?format=csv")
    assert export.status_code == 200 and export["Content-Disposition"] == 'attachment; filename="catalogue.csv"'
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert {r[6] for r in rows[1:]} == {"TEE-001-S", "TEE-001-M", "MUG-01", "APL-KG", "N1-1"}


def test_lists_are_paginated(chain, cat):
    client = client_for(chain.admin)
    page = call(client, "get", f"{API}/skus?limit=2&offset=1").json()
    assert page["count"] == 4 and len(page["items"]) == 2
    assert json.loads(json.dumps(page))["items"][0]["code"] == "TEE-001-M"
