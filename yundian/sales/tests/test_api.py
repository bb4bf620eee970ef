"""The sales API: create with client key / Idempotency-Key, replays, 409 on a changed payload, bad input, scoping."""
import pytest

from yundian.org.tests.utils import assert_error, call, client_for
from yundian.sales.models import Order
from yundian.sales.tests.factories import level, sales_state, sell, stocked

API = "/api/v1/sales"


@pytest.fixture
def stock(chain):
    return stocked(chain)


def body(stock, chain, **extra):
    return {"store_id": chain.store_a.id, "lines": [{"sku_id": stock.cat.tee_s.id, "quantity": 2}],
            "payments": [{"method": "cash", "client_ref": "cash-1", "tendered": 20000}], **extra}


def test_create_with_idempotency_key_header_then_replay_and_conflict(chain, stock):
    client = client_for(chain.guide_a)
    first = call(client, "POST", f"{API}/orders", body(stock, chain), **{"Idempotency-Key": "till-1-0001"})
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["status"], data["total"], data["paid_total"], data["client_ref"]) == ("completed", 19800, 19800,
                                                                                      "till-1-0001")
    assert data["payments"][0]["change"] == 200 and data["payments"][0]["tendered"] == 20000
    again = call(client, "POST", f"{API}/orders", body(stock, chain), **{"Idempotency-Key": "till-1-0001"})
    assert again.status_code == 200 and again.json() == data
    changed = call(client, "POST", f"{API}/orders", body(stock, chain, note="x"), **{"Idempotency-Key": "till-1-0001"})
    assert_error(changed, 409, "idempotency_key_reused")
    assert Order.objects.count() == 1 and level(stock.wh_a, stock.cat.tee_s) == (8, 0)


def test_create_with_client_ref_in_the_body(chain, stock):
    client = client_for(chain.guide_a)
    response = call(client, "POST", f"{API}/orders", body(stock, chain, client_ref="pos-9"))
    assert response.status_code == 201
    assert call(client, "GET", f"{API}/orders/{response.json()['id']}").json()["client_ref"] == "pos-9"
    mismatch = call(client, "POST", f"{API}/orders", body(stock, chain, client_ref="pos-10"), **{"Idempotency-Key": "x"})
    assert_error(mismatch, 422, "client_ref_mismatch")


@pytest.mark.parametrize("make, status, code", [
    (lambda s, c: "{not json", 400, "malformed_body"),
    (lambda s, c: {"store_id": "x", "lines": []}, 422, "invalid"),
    (lambda s, c: {"lines": [{"sku_id": s.cat.tee_s.id, "quantity": 1}]}, 422, "invalid"),
    (lambda s, c: body(s, c, store_id=0), 422, "invalid_id"),
    (lambda s, c: body(s, c, store_id=10**9), 404, "store_not_found"),
    (lambda s, c: body(s, c, lines=[{"sku_id": s.cat.tee_s.id, "quantity": -3}]), 422, "invalid_quantity"),
    (lambda s, c: body(s, c, mode="teleport"), 422, "invalid_mode"),
    (lambda s, c: body(s, c, payments=[{"method": "gold", "client_ref": "g"}]), 422, "invalid_payment_method"),
    (lambda s, c: body(s, c, payments=[{"method": "card", "client_ref": "c", "amount": 10**9}]), 409, "overpayment"),
    (lambda s, c: body(s, c, lines=[{"sku_id": s.cat.tee_s.id, "quantity": 11}]), 409, "insufficient_stock"),
])
def test_bad_input_is_4xx_with_a_code_and_changes_nothing(chain, stock, make, status, code):
    client = client_for(chain.guide_a)
    before = sales_state()
    assert_error(call(client, "POST", f"{API}/orders", make(stock, chain), **{"Idempotency-Key": "k1"}), status, code)
    assert sales_state() == before


def test_clerk_sees_only_their_store_orders(chain, stock):
    mine = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    theirs = sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)])
    client = client_for(chain.guide_a)
    listed = call(client, "GET", f"{API}/orders").json()
    assert [o["id"] for o in listed["items"]] == [mine.id]
    assert_error(call(client, "GET", f"{API}/orders/{theirs.id}"), 404, "order_not_found")
    hq = call(client_for(chain.admin), "GET", f"{API}/orders").json()
    assert sorted(o["id"] for o in hq["items"]) == sorted([mine.id, theirs.id])
    east = call(client_for(chain.east_manager), "GET", f"{API}/orders").json()
    assert [o["id"] for o in east["items"]] == [mine.id]


def test_unauthenticated_is_401(chain, stock, api_client):
    assert_error(call(api_client, "POST", f"{API}/orders", body(stock, chain)), 401, "unauthenticated")
