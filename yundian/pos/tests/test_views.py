"""The POS pages: scoping (another store's till is 404), the service worker at the POS scope, the offline
catalogue/price snapshot (content and versioning), server-side quotes through the sales pricing function,
order lookup, and bad input -> 4xx with nothing changed."""
import gzip
import json

import pytest
from django.test import Client

from yundian.catalog import services as catalog
from yundian.catalog.barcodes import SchemeLayout, weighed_encode
from yundian.catalog.models import ProductMedia
from yundian.catalog.tests.factories import EAN_TEE_S, UPC_MUG
from yundian.org import services as org_services
from yundian.org.roles import Role
from yundian.org.tests.factories import PASSWORD
from yundian.pos.views import shell_version
from yundian.sales.models import Order
from yundian.sales.tests.factories import put, sales_state, sell, stocked


@pytest.fixture
def stock(chain):
    s = stocked(chain)
    catalog.weighed_scheme_set(actor=chain.admin, prefix="21", value_kind="weight")
    put(s, s.wh_a, s.cat.apples_sku, 5000)
    return s


def client_for(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def post_json(client: Client, url: str, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def apples_code(grams: int) -> str:
    return weighed_encode(SchemeLayout("21", 5, 5, "weight"), "123", grams)


# --- scoping ------------------------------------------------------------------------------------------------

def test_a_clerk_opens_their_stores_till_and_the_pos_entry_goes_straight_to_it(chain, stock):
    client = client_for(chain.guide_a)
    home = client.get("/pos/")
    assert (home.status_code, home["Location"]) == (302, f"/pos/{chain.store_a.id}/")
    page = client.get(f"/pos/{chain.store_a.id}/")
    assert page.status_code == 200
    config = json.loads(page.content.decode().split('<script id="pos-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert (config["store_id"], config["clerk_id"], config["currency"]) == (chain.store_a.id, chain.guide_a.id, "CNY")
    assert config["urls"]["snapshot"] == f"/pos/{chain.store_a.id}/snapshot.json"
    assert config["urls"]["receipt"] == "/sales/orders/0/receipt/"
    assert config["urls"]["order_detail"] == "/sales/orders/0/"
    assert config["shell_version"] == shell_version()
    assert config["may_manage"] is False
    # the guide picker lists the store's sellers, the clerk chosen
    assert f'<option value="{chain.guide_a.id}" data-is-guide="1" selected>' in page.content.decode()
    assert f'<option value="{chain.manager_a.id}" data-is-guide="0" >' in page.content.decode()


@pytest.mark.parametrize("path", ["/pos/{b}/", "/pos/{b}/snapshot.json", "/pos/{b}/orders/"])
def test_a_clerk_of_store_a_cannot_open_store_b(chain, stock, path):
    response = client_for(chain.guide_a).get(path.format(b=chain.store_b.id))
    assert response.status_code == 404


def test_a_clerk_of_store_a_cannot_quote_at_store_b(chain, stock):
    response = post_json(client_for(chain.guide_a), f"/pos/{chain.store_b.id}/quote",
                         {"lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 1}]})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_region_manager_picks_among_the_stores_of_their_region_only(chain, stock):
    org_services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name="Store C",
                                 code="acme-C")
    page = client_for(chain.east_manager).get("/pos/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="/pos/{chain.store_a.id}/"' in body and "Store C" in body
    assert f'href="/pos/{chain.store_b.id}/"' not in body
    assert client_for(chain.east_manager).get(f"/pos/{chain.store_b.id}/").status_code == 404


def test_an_auditor_sees_the_store_but_may_not_sell_there(chain, stock):
    client = client_for(chain.auditor)
    assert client.get(f"/pos/{chain.store_a.id}/").status_code == 403
    assert client.get(f"/pos/{chain.store_a.id}/snapshot.json").json()["error"]["code"] == "forbidden"
    home = client.get("/pos/")
    assert home.status_code == 200 and f"/pos/{chain.store_a.id}/" not in home.content.decode()


def test_signed_out_the_till_asks_to_sign_in_and_its_data_endpoints_answer_401(chain, stock):
    client = Client()
    page = client.get(f"/pos/{chain.store_a.id}/")
    assert page.status_code == 302 and page["Location"].startswith("/login/?next=")
    snapshot = client.get(f"/pos/{chain.store_a.id}/snapshot.json")
    assert (snapshot.status_code, snapshot.json()["error"]["code"]) == (401, "unauthenticated")
    quote = post_json(client, f"/pos/{chain.store_a.id}/quote", {"lines": []})
    assert quote.status_code in (401, 403)  # 403 when the CSRF check (no cookie) answers first


def test_a_closed_store_has_no_till(chain, stock):
    from yundian.org.models import OrgNode

    OrgNode.objects.filter(pk=chain.store_a.pk).update(is_active=False)
    assert client_for(chain.admin).get(f"/pos/{chain.store_a.id}/").status_code == 404


# --- service worker -----------------------------------------------------------------------------------------

def test_the_service_worker_is_served_at_the_pos_scope_with_its_shell_version(db):
    response = Client().get("/pos/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == "/pos/"
    assert response["Cache-Control"] == "no-cache"
    first_line, rest = response.content.decode().split("\n", 1)
    config = json.loads(first_line.removeprefix("const YUNDIAN_POS = ").removesuffix(";"))
    assert config == {"version": shell_version(), "scope": "/pos/",
                      "shell": ["/static/pos/pos.css", "/static/pos/queue.js", "/static/pos/pos.js"]}
    assert 'self.addEventListener("fetch"' in rest
    assert Client().post("/pos/sw.js").status_code == 405


# --- snapshot -----------------------------------------------------------------------------------------------

def test_the_snapshot_lists_sellable_skus_with_the_stores_resolved_prices_barcodes_schemes_and_sellers(chain, stock):
    store_list = catalog.price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store",
                                           code="A-STORE", name="Store A prices")
    catalog.price_entry_set(actor=chain.admin, price_list_id=store_list.id, sku_id=stock.cat.tee_s.id, price=8900)
    online = catalog.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="online", code="WEB",
                                       name="Web")
    catalog.price_entry_set(actor=chain.admin, price_list_id=online.id, sku_id=stock.cat.mug_sku.id, price=1)
    catalog.sku_update(actor=chain.admin, sku_id=stock.cat.tee_m.id, is_active=False)
    # the product's cover image (first by sort order) is the till's quick-key picture
    ProductMedia.objects.create(product=stock.cat.tee, url="https://img.example/tee-back.jpg", sort_order=2)
    ProductMedia.objects.create(product=stock.cat.tee, url="https://img.example/tee.jpg", sort_order=1)

    response = client_for(chain.guide_a).get(f"/pos/{chain.store_a.id}/snapshot.json")
    assert response.status_code == 200
    data = response.json()
    assert data["store"] == {"id": chain.store_a.id, "name": "Store A", "code": "acme-A"}
    assert data["currency"] == "CNY"
    rows = {row["code"]: row for row in data["skus"]}
    assert sorted(rows) == ["APL-KG", "MUG-01", "TEE-001-S"]  # the inactive SKU is not sold
    assert rows["TEE-001-S"] == {"id": stock.cat.tee_s.id, "code": "TEE-001-S", "name": "纯棉T恤 S", "unit": "pcs",
                                 "is_weighed": False, "plu": "", "price": 8900, "barcodes": [EAN_TEE_S],
                                 "image": "https://img.example/tee.jpg", "group": stock.cat.apparel.id}
    # quick keys are grouped by top-level category (the tee sits in 服装 > T恤), one tab each (the order is the
    # catalogue's: sort order, then name as the database collates it)
    assert rows["MUG-01"]["group"] == stock.cat.household.id
    assert sorted(data["groups"], key=lambda g: g["id"]) == [{"id": stock.cat.apparel.id, "name": "服装"},
                                                            {"id": stock.cat.household.id, "name": "家居"}]
    assert rows["MUG-01"]["price"] == 2500  # the online list is not the store's channel
    assert rows["MUG-01"]["barcodes"] == [UPC_MUG]
    assert (rows["APL-KG"]["is_weighed"], rows["APL-KG"]["plu"], rows["APL-KG"]["price"]) == (True, "123", 1280)
    assert data["weighed_schemes"] == [{"prefix": "21", "item_digits": 5, "value_digits": 5, "value_kind": "weight"}]
    assert data["guides"] == [{"id": chain.guide_a.id, "name": "guide-a", "is_guide": True},
                              {"id": chain.manager_a.id, "name": "manager-a", "is_guide": False}]
    assert len(data["version"]) == 20


def test_the_snapshot_version_changes_exactly_when_a_price_changes(chain, stock):
    client = client_for(chain.guide_a)
    url = f"/pos/{chain.store_a.id}/snapshot.json"
    first = client.get(url)
    again = client.get(url)
    version = first.json()["version"]
    assert again.json()["version"] == version
    assert first["ETag"] == f'"{version}"'
    assert first["Cache-Control"] == "private, no-cache"
    unchanged = client.get(url, HTTP_IF_NONE_MATCH=f'"{version}"')
    assert (unchanged.status_code, unchanged.content) == (304, b"")

    # stock moving does not change the catalogue/price snapshot
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])
    assert client.get(url).json()["version"] == version

    price_list = catalog.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store", code="HQ",
                                           name="HQ store prices")
    catalog.price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=stock.cat.mug_sku.id, price=2200)
    changed = client.get(url, HTTP_IF_NONE_MATCH=f'"{version}"')
    assert changed.status_code == 200
    assert changed.json()["version"] != version
    assert {r["code"]: r["price"] for r in changed.json()["skus"]}["MUG-01"] == 2200


def test_the_snapshot_is_gzipped_for_clients_that_accept_it_and_its_weak_etag_still_matches(chain, stock):
    client = client_for(chain.guide_a)
    url = f"/pos/{chain.store_a.id}/snapshot.json"
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    version = json.loads(gzip.decompress(response.content))["version"]
    assert response["ETag"] == f'W/"{version}"'
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


# --- quotes -------------------------------------------------------------------------------------------------

def test_a_quote_prices_the_cart_through_the_sales_pricing_function(chain, stock):
    price_list = catalog.price_list_create(actor=chain.admin, node_id=chain.store_a.id, channel="store",
                                           code="A", name="A")
    catalog.price_entry_set(actor=chain.admin, price_list_id=price_list.id, sku_id=stock.cat.tee_s.id, price=8900)
    before = sales_state()
    response = post_json(client_for(chain.guide_a), f"/pos/{chain.store_a.id}/quote", {"lines": [
        {"sku_id": stock.cat.tee_s.id, "quantity": 2},
        {"barcode": UPC_MUG},
        {"barcode": apples_code(512)},
    ]})
    assert response.status_code == 200
    data = response.json()
    assert [(l["sku_id"], l["quantity"], l["unit_price"], l["line_total"]) for l in data["lines"]] == [
        (stock.cat.tee_s.id, 2, 8900, 17800),
        (stock.cat.mug_sku.id, 1, 2500, 2500),
        (stock.cat.apples_sku.id, 512, 1280, 655),  # 1.28 yuan/100 g x 512 g, rounded to the fen
    ]
    assert (data["subtotal"], data["discount_total"], data["total"]) == (20955, 0, 20955)
    assert (data["total_display"], data["lines"][2]["unit_price_display"]) == ("¥209.55", "¥12.80")
    assert data["lines"][2]["barcode"] == apples_code(512) and data["lines"][2]["is_weighed"] is True
    assert sales_state() == before  # a quote writes nothing


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "malformed_body"),
    (b"[" + b" " * 256 * 1024 + b"]", 413, "payload_too_large"),
    ([], 422, "invalid_cart"),
    ({}, 422, "no_lines"),
    ({"lines": []}, 422, "no_lines"),
    ({"lines": [{"sku_id": 1, "quantity": 0}]}, 422, "invalid_quantity"),
    ({"lines": [{"sku_id": 1}]}, 422, "invalid_quantity"),
    ({"lines": [{"sku_id": True, "quantity": 1}]}, 422, "invalid_id"),
    ({"lines": [{"sku_id": 1, "barcode": UPC_MUG, "quantity": 1}]}, 422, "invalid_line"),
    ({"lines": ["mug"]}, 422, "invalid_line"),
    ({"lines": [{"barcode": "6901234567890"}]}, 422, "barcode_bad_check_digit"),
    ({"lines": [{"barcode": "4006381333931"}]}, 404, "unknown_barcode"),
    ({"lines": [{"sku_id": 999999, "quantity": 1}]}, 404, "sku_not_found"),
    ({"lines": [{"barcode": UPC_MUG}], "member_id": "x"}, 422, "invalid_id"),
    ({"lines": [{"barcode": UPC_MUG}], "member_id": 999999}, 404, "member_not_found"),
])
def test_bad_quotes_are_4xx_with_a_code_and_change_nothing(chain, stock, body, status, code):
    before = sales_state()
    response = post_json(client_for(chain.guide_a), f"/pos/{chain.store_a.id}/quote", body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert sales_state() == before


def test_another_enterprises_sku_is_not_quoted(chain, other_chain, stock):
    from yundian.catalog.tests.factories import make_catalogue

    theirs = make_catalogue(other_chain)
    response = post_json(client_for(chain.guide_a), f"/pos/{chain.store_a.id}/quote",
                         {"lines": [{"sku_id": theirs.mug_sku.id, "quantity": 1}]})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "sku_not_found")


def test_a_quote_is_a_post_with_the_csrf_token(chain, stock):
    client = Client(enforce_csrf_checks=True)
    client.login(username=chain.guide_a.user.username, password=PASSWORD)
    url = f"/pos/{chain.store_a.id}/quote"
    assert client.get(url).status_code == 405
    assert post_json(client, url, {"lines": [{"barcode": UPC_MUG}]}).status_code == 403  # no CSRF token
    client.get(f"/pos/{chain.store_a.id}/")
    token = client.cookies["csrftoken"].value
    assert post_json(client, url, {"lines": [{"barcode": UPC_MUG}]}, HTTP_X_CSRFTOKEN=token).status_code == 200


# --- order lookup -------------------------------------------------------------------------------------------

def test_order_lookup_lists_the_stores_orders_and_finds_one_by_number_or_client_key(chain, stock):
    mine = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)], client_ref="till-a-1")
    other = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], client_ref="till-a-2")
    theirs = sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 1)], client_ref="till-b-1")
    client = client_for(chain.guide_a)
    url = f"/pos/{chain.store_a.id}/orders/"

    def listed(query=""):
        body = client.get(url, {"q": query}).content.decode()
        return [o.pk for o in (mine, other, theirs) if f'data-order-id="{o.pk}"' in body], body

    ids, body = listed()
    assert ids == [mine.pk, other.pk]
    assert f'href="/sales/orders/{mine.pk}/receipt/"' in body
    assert listed(mine.number)[0] == [mine.pk]
    assert listed(str(other.pk))[0] == [other.pk]
    assert listed("till-a-2")[0] == [other.pk]
    assert listed(theirs.number)[0] == []  # another store's order is not found here
    assert listed("till-b-1")[0] == []
    assert Order.objects.count() == 3


def test_a_new_guide_appears_in_the_till_and_the_snapshot(chain, stock):
    org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-guide-a2",
                              display_name="guide-a2", password=PASSWORD, role=Role.GUIDE)
    data = client_for(chain.manager_a).get(f"/pos/{chain.store_a.id}/snapshot.json").json()
    assert [g["name"] for g in data["guides"]] == ["guide-a", "guide-a2", "manager-a"]
