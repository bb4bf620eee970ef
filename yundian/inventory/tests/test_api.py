"""The inventory API: ERP/WMS sync with idempotency keys, bad input (4xx, one error shape, nothing changed),
scoping, and the document flows end to end."""
import pytest
from django.utils import timezone

from yundian.core.models import IdempotencyRecord
from yundian.inventory.models import Receipt, Stocktake
from yundian.org.tests.utils import assert_error, call, client_for

from .factories import assert_ledgers_clean, level, make_stock, put, state

pytestmark = pytest.mark.django_db
BASE = "/api/v1/inventory"


@pytest.fixture
def stock(chain):
    return make_stock(chain)


def test_erp_receipt_with_an_idempotency_key_posts_once(stock):
    client = client_for(stock.chain.admin)
    body = {"warehouse_id": stock.wh_a.id, "reference": "WMS-778", "lines": [{"sku_id": stock.cat.tee_s.id, "quantity": 12}]}
    first = call(client, "POST", f"{BASE}/receipts", body, **{"Idempotency-Key": "wms-778"})
    assert first.status_code == 201
    again = call(client, "POST", f"{BASE}/receipts", body, **{"Idempotency-Key": "wms-778"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert level(stock.wh_a, stock.cat.tee_s) == (12, 0) and Receipt.objects.count() == 1
    before = state()
    changed = dict(body, lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 13}])
    assert_error(call(client, "POST", f"{BASE}/receipts", changed, **{"Idempotency-Key": "wms-778"}), 409,
                 "idempotency_key_reused")
    assert state() == before
    assert_ledgers_clean()


@pytest.mark.parametrize("lines, status, code", [
    ([{"sku_id": "TEE", "quantity": 0}], 422, "invalid"),
    ([{"sku_id": 1, "quantity": 0}], 422, "invalid_quantity"),
    ([{"sku_id": 1, "quantity": -3}], 422, "invalid_quantity"),
    ([{"sku_id": 999999, "quantity": 1}], 404, "sku_not_found"),
    ([], 422, "no_lines"),
])
def test_bad_receipts_are_4xx_and_change_nothing(stock, lines, status, code):
    lines = [dict(l, sku_id=stock.cat.tee_s.id) if l.get("sku_id") == 1 else l for l in lines]
    before = state(), IdempotencyRecord.objects.count()
    response = call(client_for(stock.chain.admin), "POST", f"{BASE}/receipts",
                    {"warehouse_id": stock.wh_a.id, "lines": lines}, **{"Idempotency-Key": "k1"})
    assert_error(response, status, code)
    assert (state(), IdempotencyRecord.objects.count()) == before


def test_a_store_cannot_receive_into_or_read_another_store(stock):
    put(stock, stock.wh_b, stock.cat.tee_s, 3)
    client = client_for(stock.chain.manager_a)
    before = state()
    assert_error(call(client, "POST", f"{BASE}/receipts", {"warehouse_id": stock.wh_b.id,
                                                            "lines": [{"sku_id": stock.cat.tee_s.id, "quantity": 1}]}),
                 404, "warehouse_not_found")
    assert state() == before
    assert call(client, "GET", f"{BASE}/balances").json()["items"] == []
    assert_error(call(client, "GET", f"{BASE}/atp?store_id={stock.chain.store_b.id}&sku_ids={stock.cat.tee_s.id}"), 404)


def test_balances_sync_is_incremental_by_updated_since(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 3)
    mark = timezone.now()
    put(stock, stock.wh_a, stock.cat.mug_sku, 4)
    client = client_for(stock.chain.admin)
    items = \
        client.get(f"{BASE}/balances").json()["items"]
    assert sorted((i["sku_code"], i["on_hand"], i["available"]) for i in items) == [("MUG-01", 4, 4), ("TEE-001-S", 3, 3)]
    recent = client.get(f"{BASE}/balances", {"updated_since": mark.isoformat()}).json()["items"]
    assert [(i["sku_code"], i["warehouse_code"]) for i in recent] == [("MUG-01", "WH-A")]


def test_atp_and_reservations_over_the_api(stock):
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 5)
    put(stock, stock.central, tee, 20)
    client = client_for(stock.chain.guide_a)
    response = call(client, "POST", f"{BASE}/reservations", {"lines": [{"sku_id": tee.id, "warehouse_id": stock.wh_a.id,
                                                                        "quantity": 2}],
                                                              "source_type": "order", "source_id": "W-1"})
    assert response.status_code == 201 and response.json()[0]["status"] == "active"
    atp = client.get(f"{BASE}/atp", {"store_id": stock.chain.store_a.id, "sku_ids": f"{tee.id}"}).json()
    assert atp == [{"sku_id": tee.id, "store": 3, "virtual": 0, "central": 20, "total": 23}]
    assert call(client, "POST", f"{BASE}/reservations/release", {"source_type": "order", "source_id": "W-1"}).json() == {
        "released": 2}
    over = call(client, "POST", f"{BASE}/reservations", {"lines": [{"sku_id": tee.id, "warehouse_id": stock.wh_a.id,
                                                                    "quantity": 6}],
                                                          "source_type": "order", "source_id": "W-2"})
    assert_error(over, 409, "insufficient_stock")
    assert_ledgers_clean()


def test_transfer_flow_over_the_api(stock):
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 8)
    b, a = client_for(stock.chain.manager_b), client_for(stock.chain.manager_a)
    created = call(b, "POST", f"{BASE}/transfers", {"from_warehouse_id": stock.wh_a.id, "to_warehouse_id": stock.wh_b.id,
                                                    "lines": [{"sku_id": tee.id, "quantity": 5}]})
    assert created.status_code == 201
    tid = created.json()["id"]
    assert_error(call(b, "POST", f"{BASE}/transfers/{tid}/approve"), 403)
    assert call(a, "POST", f"{BASE}/transfers/{tid}/approve").json()["status"] == "approved"
    shipped = call(a, "POST", f"{BASE}/transfers/{tid}/ship", {"lines": [{"sku_id": tee.id, "quantity": 4}]}).json()
    assert (shipped["status"], shipped["lines"][0]["shipped"]) == ("shipped", 4)
    received = call(b, "POST", f"{BASE}/transfers/{tid}/receive", {}).json()
    assert (received["status"], received["lines"][0]["received"]) == ("received", 4)
    assert [t["id"] for t in b.get(f"{BASE}/transfers").json()["items"]] == [tid]
    assert (level(stock.wh_a, tee), level(stock.wh_b, tee)) == ((4, 0), (4, 0))
    assert_ledgers_clean()


def test_posting_a_stocktake_twice_over_the_api_is_409_and_changes_nothing(stock):
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 6)
    client = client_for(stock.chain.manager_a)
    sid = call(client, "POST", f"{BASE}/stocktakes", {"warehouse_id": stock.wh_a.id, "kind": "full"}).json()["id"]
    assert call(client, "POST", f"{BASE}/stocktakes/{sid}/counts",
                {"mode": "set", "lines": [{"barcode": "6901234567892", "quantity": 5}]}).json() == {"recorded": 1}
    assert_error(call(client, "POST", f"{BASE}/stocktakes/{sid}/counts", {"lines": [{"barcode": "6901234567893"}]}),
                 422, "barcode_bad_check_digit")
    assert call(client, "POST", f"{BASE}/stocktakes/{sid}/submit").json()["status"] == "review"
    assert call(client, "POST", f"{BASE}/stocktakes/{sid}/post").json()["status"] == "posted"
    before = state()
    assert_error(call(client, "POST", f"{BASE}/stocktakes/{sid}/post"), 409, "stocktake_posted")
    assert state() == before and Stocktake.objects.get().status == "posted"
    assert level(stock.wh_a, tee) == (5, 0)


def test_purchase_order_receiving_beyond_tolerance_over_the_api_is_422(stock):
    from yundian.inventory.services import supplier_create

    supplier = supplier_create(actor=stock.chain.admin, code="S1", name="Supplier")
    manager, region = client_for(stock.chain.manager_a), client_for(stock.chain.east_manager)
    order = call(manager, "POST", f"{BASE}/purchase-orders", {
        "warehouse_id": stock.wh_a.id, "supplier_id": supplier.id, "tolerance_percent": 10,
        "lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 10, "unit_cost": 900}]}).json()
    assert call(manager, "POST", f"{BASE}/purchase-orders/{order['id']}/submit").json()["status"] == "submitted"
    assert call(region, "POST", f"{BASE}/purchase-orders/{order['id']}/approve").json()["status"] == "approved"
    before = state()
    too_many = {"warehouse_id": stock.wh_a.id, "order_id": order["id"], "lines": [{"sku_id": stock.cat.mug_sku.id,
                                                                                   "quantity": 12}]}
    error = assert_error(call(manager, "POST", f"{BASE}/receipts", too_many), 422, "over_tolerance")
    assert error["details"]["lines"][0]["max_total"] == 11
    assert state() == before
    ok = dict(too_many, lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 11}])
    assert call(manager, "POST", f"{BASE}/receipts", ok).status_code == 201
    assert manager.get(f"{BASE}/purchase-orders/{order['id']}").json()["status"] == "received"


def test_adjustment_approval_over_the_api(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    manager, dealer = client_for(stock.chain.manager_a), client_for(stock.chain.dealer_staff)
    created = call(manager, "POST", f"{BASE}/adjustments", {"warehouse_id": stock.wh_a.id, "reason": "lost",
                                                            "lines": [{"sku_id": stock.cat.tee_s.id, "quantity": -6}]})
    assert created.json()["status"] == "pending"
    assert_error(call(manager, "POST", f"{BASE}/adjustments/{created.json()['id']}/approve"), 403)
    assert call(dealer, "POST", f"{BASE}/adjustments/{created.json()['id']}/approve").json()["status"] == "posted"
    assert level(stock.wh_a, stock.cat.tee_s) == (4, 0)
