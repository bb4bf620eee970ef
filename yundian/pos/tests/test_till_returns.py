"""The till's receipt lookup, return quote and exchange endpoints, and stock on the quote: scoped to the store,
the refund quoted by the return's own rule, an exchange booked once per key, bad input a 4xx that changes nothing."""
import json

import pytest
from django.test import Client

from yundian.org.tests.factories import PASSWORD
from yundian.sales.models import Order, OrderReturn
from yundian.sales.tests.factories import sales_state, sell, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain, units=3)


def client_for(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_the_quote_shows_each_lines_stock_and_flags_a_short_one(chain, stock):
    client = client_for(chain.guide_a)
    quote = post(client, f"/pos/{chain.store_a.id}/quote", {"lines": [
        {"sku_id": stock.cat.tee_s.id, "quantity": 2}, {"sku_id": stock.cat.mug_sku.id, "quantity": 4}]}).json()
    assert [(l["code"], l["available"], l["short"]) for l in quote["lines"]] == [("TEE-001-S", 3, False),
                                                                                ("MUG-01", 3, True)]


def test_a_receipt_is_found_quoted_and_exchanged_once(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 3)], pay="card")
    client = client_for(chain.guide_a)
    base = f"/pos/{chain.store_a.id}"
    found = client.get(f"{base}/receipt", {"q": order.number}).json()
    assert (found["id"], found["returnable"], found["total_display"]) == (order.id, True, "¥297.00")
    assert (found["return_days"], found["needs_approval"]) == (30, False)
    assert [(l["code"], l["quantity"], l["returnable"]) for l in found["lines"]] == [("TEE-001-S", 3, 3)]
    assert client.get(f"{base}/receipt", {"q": str(order.id)}).json()["id"] == order.id
    line_id = found["lines"][0]["id"]
    quote = post(client, f"{base}/return-quote", {"order_id": order.id,
                                                  "lines": [{"order_line_id": line_id, "quantity": 2}]}).json()
    assert (quote["refund_total"], quote["refund_display"]) == (19800, "¥198.00")
    body = {"order_id": order.id, "client_ref": "x-1", "lines": [{"order_line_id": line_id, "quantity": 1}],
            "new_lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
            "payments": [{"method": "card", "client_ref": "p1", "amount": 2500}]}
    done = post(client, f"{base}/exchange", body)
    assert done.status_code == 201
    data = done.json()
    assert (data["return"]["refund_total"], data["order"]["total"], data["difference"]) == (9900, 2500, -7400)
    assert data["return"]["refunds"] == [{"method": "card", "label": "银行卡", "amount": 9900, "amount_display": "¥99.00"}]
    again = post(client, f"{base}/exchange", body)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    assert (OrderReturn.objects.count(), Order.objects.count()) == (1, 2)


def test_bad_returns_at_the_till_are_4xx_and_change_nothing(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], pay="card")
    other = sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)], pay="card")
    client = client_for(chain.guide_a)
    base = f"/pos/{chain.store_a.id}"
    line_id = order.lines.get().id
    before = (sales_state(), OrderReturn.objects.count())
    assert client.get(f"{base}/receipt", {"q": other.number}).status_code == 404  # another store's receipt
    assert client.get(f"{base}/receipt", {"q": ""}).json()["error"]["code"] == "invalid_receipt"
    cases = [
        ({"order_id": order.id, "client_ref": "x", "lines": [{"order_line_id": line_id, "quantity": 2}]},
         409, "return_exceeds_sale"),
        ({"order_id": other.id, "client_ref": "x", "lines": [{"order_line_id": line_id, "quantity": 1}]},
         404, "order_not_found"),
        ({"order_id": "1", "client_ref": "x", "lines": []}, 422, "invalid_id"),
        ({"order_id": order.id, "client_ref": "x", "lines": [{"order_line_id": line_id, "quantity": 1}],
          "new_lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 9}], "payments": [{"method": "card", "client_ref": "p"}]},
         409, "insufficient_stock"),
        ({"order_id": order.id, "client_ref": "", "lines": [{"order_line_id": line_id, "quantity": 1}]},
         422, "invalid_client_ref"),
        ({"order_id": order.id, "client_ref": "x", "lines": [{"order_line_id": [line_id], "quantity": 1}]},
         422, "invalid_line"),
    ]
    for body, status, code in cases:
        response = post(client, f"{base}/exchange", body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
        assert (sales_state(), OrderReturn.objects.count()) == before
