"""Receipts (80 mm HTML and ESC/POS bytes, reprints marked and audited), order lookup pages, the after-sale API."""
import pytest

from yundian.core.models import AuditEntry
from yundian.members.tests.factories import register
from yundian.org.tests.utils import assert_error, call, client_for
from yundian.sales.receipts import CUT, INIT, WIDTH, display_width, two_columns
from yundian.sales.tests.factories import level, sales_state, sell, stocked

API = "/api/v1/sales"


@pytest.fixture
def stock(chain):
    return stocked(chain)


def test_escpos_receipt_bytes_and_reprint_marking(chain, stock):
    member = register(chain, phone="13812345678")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], member_id=member.id)
    client = client_for(chain.guide_a)
    first = client.get(f"{API}/orders/{order.id}/receipt.escpos")
    assert first.status_code == 200 and first["Content-Type"] == "application/octet-stream"
    data = first.content
    assert data.startswith(INIT) and data.endswith(CUT)
    text = data.decode("gb18030", errors="replace")
    assert order.number in text and "Store A" in text and "138****5678" in text and "13812345678" not in text
    assert "REPRINT" not in text and "重印" not in text
    again = client.get(f"{API}/orders/{order.id}/receipt.escpos").content.decode("gb18030", errors="replace")
    assert "REPRINT 1" in again or "重印 1" in again
    assert AuditEntry.objects.filter(action="sales.receipt.reprinted").count() == 1
    assert display_width("纯棉T恤") == 7 and display_width(two_columns("纯棉T恤 S", "¥99.00")) == WIDTH


def test_receipt_print_view_and_order_pages_are_scoped(chain, stock):
    mine = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    theirs = sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)])
    client = client_for(chain.guide_a)
    page = client.get(f"/sales/orders/{mine.id}/receipt/")
    assert page.status_code == 200 and b"80mm" in page.content and mine.number.encode() in page.content
    assert client.get(f"/sales/orders/{theirs.id}/receipt/").status_code == 404
    assert client.get(f"/sales/orders/{theirs.id}/").status_code == 404
    listing = client.get("/sales/orders/").content.decode()
    assert mine.number in listing and theirs.number not in listing
    assert client.get(f"/sales/orders/?q={mine.number}").status_code == 200
    assert theirs.number in client_for(chain.admin).get("/sales/orders/").content.decode()


def test_return_ship_cancel_through_the_api(chain, stock):
    client = client_for(chain.guide_a)
    created = call(client, "POST", f"{API}/orders", {
        "store_id": chain.store_a.id, "client_ref": "api-1", "mode": "pickup",
        "lines": [{"sku_id": stock.cat.mug_sku.id, "quantity": 3}],
        "payments": [{"method": "wallet", "client_ref": "w", "reference": "WX123"}]}).json()
    line_id = created["lines"][0]["id"]
    shipped = call(client, "POST", f"{API}/orders/{created['id']}/shipments", {"client_ref": "collect-1"})
    assert shipped.status_code == 201
    assert call(client, "GET", f"{API}/orders/{created['id']}").json()["status"] == "completed"
    returned = call(client, "POST", f"{API}/returns", {"order_id": created["id"], "client_ref": "ret-1",
                                                       "lines": [{"order_line_id": line_id, "quantity": 1}]})
    assert returned.status_code == 201 and returned.json()["refund_total"] == 2500
    assert call(client, "POST", f"{API}/returns", {"order_id": created["id"], "client_ref": "ret-1",
                                                   "lines": [{"order_line_id": line_id, "quantity": 1}]}).status_code == 200
    assert level(stock.wh_a, stock.cat.mug_sku) == (8, 0)
    other = sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 1)])
    before = sales_state()
    assert_error(call(client, "POST", f"{API}/returns", {"order_id": created["id"], "client_ref": "ret-2",
                                                         "lines": [{"order_line_id": line_id, "quantity": 5}]}),
                 409, "return_exceeds_sale")
    assert_error(call(client, "POST", f"{API}/orders/{created['id']}/cancel", {"reason": "x"}), 409,
                 "order_not_cancellable")
    assert_error(call(client, "POST", f"{API}/orders/{other.id}/cancel", {}), 404, "order_not_found")
    assert_error(call(client, "POST", f"{API}/orders/{other.id}/payments", {"method": "cash", "client_ref": "z"}), 404)
    assert sales_state() == before


def test_void_through_the_api_with_a_manager_pin(chain, stock):
    client = client_for(chain.guide_a)
    manager = client_for(chain.manager_a)
    assert call(manager, "PUT", f"{API}/manager-pin", {"store_id": chain.store_a.id, "pin": "8642"}).status_code == 204
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    refused = assert_error(call(client, "POST", f"{API}/orders/{order.id}/cancel", {"reason": "mistake"}), 403,
                           "approval_required")
    assert refused["details"]["kind"] == "void"
    pending = call(manager, "GET", f"{API}/approvals?status=pending").json()["items"]
    assert [a["id"] for a in pending] == [refused["details"]["approval_request_id"]]
    voided = call(client, "POST", f"{API}/orders/{order.id}/cancel",
                  {"reason": "mistake", "approval": {"manager_id": chain.manager_a.id, "pin": "8642"}})
    assert voided.status_code == 200 and voided.json()["status"] == "cancelled"
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
