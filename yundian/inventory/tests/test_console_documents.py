"""Stock document pages: purchase orders, transfers, HQ allocations and adjustments are created and worked from the
console. Each form calls the service; bad input re-renders the form with the service's (translated) error and
changes nothing; warehouses and documents outside the actor's scope are 404; clerks cannot reach the forms."""
import re

import pytest
from django.utils.html import escape
from django.utils.translation import gettext, override

from yundian.catalog.tests.factories import EAN_TEE_M, EAN_TEE_S
from yundian.core.models import AuditEntry
from yundian.inventory.models import (Adjustment, AdjustmentLine, Allocation, AllocationLine, PurchaseOrder,
                                      PurchaseOrderLine, Receipt, StockMove, Transfer, TransferLine)
from yundian.inventory.services import (adjustment_create, in_transit_warehouse, purchase_order_create,
                                        supplier_create, supplier_price_set, transfer_request, warehouse_create)
from yundian.org.tests.utils import client_for

from .factories import assert_ledgers_clean, level, make_stock, put, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return make_stock(chain)


def snapshot() -> tuple:
    """Everything a refused form must leave as it was: balances, the ledger and every document table."""
    models = [PurchaseOrder, PurchaseOrderLine, Receipt, Transfer, TransferLine, Allocation, AllocationLine,
              Adjustment, AdjustmentLine, AuditEntry]
    return state(), tuple(m.objects.count() for m in models)


def translated(message: str, **params) -> str:
    """The message as the console shows it by default (zh-Hans), HTML-escaped."""
    with override("zh-hans"):
        text = gettext(message)
    return escape(text % params if params else text)


def lines(*rows) -> dict:
    """Form data for line rows: (sku code or barcode, quantity[, unit cost])."""
    data = {"line_sku": [r[0] for r in rows], "line_quantity": [r[1] for r in rows]}
    if any(len(r) == 3 for r in rows):
        data["line_cost"] = [r[2] if len(r) == 3 else "" for r in rows]
    return data


def created_id(response, prefix: str) -> int:
    assert response.status_code == 302, (response.status_code, response.content[:3000])
    match = re.fullmatch(rf"/inventory/{prefix}/(\d+)/", response["Location"])
    assert match, response["Location"]
    return int(match.group(1))


def flash(client, url: str) -> list[str]:
    return [str(m) for m in client.get(url).context["messages"]]


# --- purchase orders -----------------------------------------------------------------------------------------

@pytest.fixture
def supplier(stock):
    """A supplier with a price for each tee and the mug (lines typed without a cost take it)."""
    supplier = supplier_create(actor=stock.chain.admin, code="SUP-1", name="Cotton Mill", lead_time_days=4)
    for sku, cost in ((stock.cat.tee_s, 1200), (stock.cat.tee_m, 1100), (stock.cat.mug_sku, 700)):
        supplier_price_set(actor=stock.chain.admin, supplier_id=supplier.id, sku_id=sku.id, unit_cost=cost)
    return supplier


def test_store_manager_creates_a_supplier_order_with_lines_by_code_and_barcode(stock, supplier):
    client = client_for(stock.chain.manager_a)
    page = client.get("/inventory/purchase-orders/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="%d"' % stock.wh_a.id in html and "WH-B" not in html  # only warehouses in scope to receive into
    before_moves = StockMove.objects.count()
    response = client.post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_a.id, "supplier": supplier.id, "source_warehouse": "", "tolerance_percent": "10",
        "note": "  spring restock ", **lines(("TEE-001-S", "10", "12.50"), (EAN_TEE_M, "4", ""), ("", "", ""))})
    order = PurchaseOrder.objects.get(pk=created_id(response, "purchase-orders"))
    assert (order.warehouse_id, order.supplier_id, order.source_warehouse_id, order.status, order.tolerance_percent,
            order.note, order.created_by_id) == (stock.wh_a.id, supplier.id, None, "draft", 10, "spring restock",
                                                 stock.chain.manager_a.id)
    assert list(order.lines.values_list("sku_id", "quantity", "received", "unit_cost")) == [
        (stock.cat.tee_s.id, 10, 0, 1250), (stock.cat.tee_m.id, 4, 0, 1100)]  # typed cost, else the supplier's
    assert StockMove.objects.count() == before_moves
    assert order.number in flash(client, response["Location"])[0]


def test_purchase_order_is_submitted_approved_by_the_region_and_received_within_tolerance(stock, supplier):
    order = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[(stock.cat.tee_s.id, 10, 1000), (stock.cat.mug_sku.id, 2, 800)])
    url = f"/inventory/purchase-orders/{order.id}/"
    manager = client_for(stock.chain.manager_a)
    assert manager.post(url, {"action": "submit"}).status_code == 302
    order.refresh_from_db()
    assert order.status == "submitted"

    # the store manager sees no approve button and may not approve by hand
    assert b'value="approve"' not in manager.get(url).content
    denied = manager.post(url, {"action": "approve"})
    assert denied.status_code == 403
    assert translated("Purchase orders are approved by headquarters or the region.") in denied.content.decode()
    order.refresh_from_db()
    assert order.status == "submitted"

    region = client_for(stock.chain.east_manager)
    assert b'value="approve"' in region.get(url).content
    assert region.post(url, {"action": "approve"}).status_code == 302
    order.refresh_from_db()
    assert (order.status, order.approved_by_id) == ("approved", stock.chain.east_manager.id)

    # over the 5% tolerance: refused with the service's message, nothing received
    before = snapshot()
    over = manager.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "11",
                              f"qty_{stock.cat.mug_sku.id}": "0"})
    assert over.status_code == 422
    assert translated("More than the order allows (tolerance %(pct)d%%).", pct=5) in over.content.decode()
    assert snapshot() == before

    received = manager.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "6",
                                  f"qty_{stock.cat.mug_sku.id}": "", "reference": "DN-77"})
    assert received.status_code == 302
    order.refresh_from_db()
    assert order.status == "partial"
    assert level(stock.wh_a, stock.cat.tee_s) == (6, 0) and level(stock.wh_a, stock.cat.mug_sku) == (0, 0)
    assert list(Receipt.objects.filter(order=order).values_list("reference", flat=True)) == ["DN-77"]
    # each line's value and the order's total at cost, and what has come in so far
    html = manager.get(url).content.decode()
    assert [cell.split("<", 1)[0] for cell in html.split('class="num line-total">')[1:]] == ["¥100.00", "¥16.00"]
    total = html.split('id="order-total"', 1)[1].split("</tr>", 1)[0]
    assert "¥116.00" in total and "¥60.00" in total

    # the receive form offers what is still missing
    html = manager.get(url).content.decode()
    assert f'name="qty_{stock.cat.tee_s.id}" value="4"' in html and f'name="qty_{stock.cat.mug_sku.id}" value="2"' in html
    assert manager.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "4",
                              f"qty_{stock.cat.mug_sku.id}": "2"}).status_code == 302
    order.refresh_from_db()
    assert order.status == "received"
    assert list(order.lines.values_list("received", flat=True)) == [10, 2]
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0) and level(stock.wh_a, stock.cat.mug_sku) == (2, 0)
    assert_ledgers_clean()


def test_purchase_order_receive_with_bad_quantities_changes_nothing(stock, supplier):
    order = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[(stock.cat.tee_s.id, 10, 0)])
    order.status = "approved"
    order.save()
    url = f"/inventory/purchase-orders/{order.id}/"
    manager = client_for(stock.chain.manager_a)
    before = snapshot()
    for typed, status, message in [("abc", 422, "Enter a whole number."), ("1.5", 422, "Enter a whole number."),
                                   ("-3", 422, "Quantities are whole numbers greater than zero."),
                                   ("0", 422, "At least one line is needed.")]:
        response = manager.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": typed})
        assert response.status_code == status, typed
        assert translated(message) in response.content.decode(), typed
        assert snapshot() == before


def test_purchase_order_to_hq_is_rejected_or_approved_into_a_transfer(stock):
    manager = client_for(stock.chain.manager_a)
    response = manager.post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_a.id, "supplier": "", "source_warehouse": stock.central.id,
        **lines(("MUG-01", "3"))})
    order = PurchaseOrder.objects.get(pk=created_id(response, "purchase-orders"))
    assert (order.supplier_id, order.source_warehouse_id) == (None, stock.central.id)
    url = f"/inventory/purchase-orders/{order.id}/"
    admin = client_for(stock.chain.admin)
    # approving a draft is refused (the order is not submitted yet)
    early = admin.post(url, {"action": "approve"})
    assert early.status_code == 409
    assert manager.post(url, {"action": "submit"}).status_code == 302
    assert admin.post(url, {"action": "approve"}).status_code == 302
    transfer = Transfer.objects.get(purchase_order=order)
    assert (transfer.from_warehouse_id, transfer.to_warehouse_id, transfer.status) == (
        stock.central.id, stock.wh_a.id, "approved")
    html = manager.get(url).content.decode()
    assert f'href="/inventory/transfers/{transfer.id}/"' in html
    assert 'value="receive"' not in html  # orders to HQ arrive as transfers

    second = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id,
                                   source_warehouse_id=stock.central.id, lines=[(stock.cat.mug_sku.id, 1)])
    assert manager.post(f"/inventory/purchase-orders/{second.id}/", {"action": "submit"}).status_code == 302
    assert admin.post(f"/inventory/purchase-orders/{second.id}/", {"action": "reject"}).status_code == 302
    second.refresh_from_db()
    assert second.status == "rejected"


@pytest.mark.parametrize("data, message, params", [
    ({**lines(("NOPE-1", "2"))}, "No SKU has the code or barcode “%(code)s”.", {"code": "NOPE-1"}),
    ({**lines(("TEE-001-S", "0"))}, "Quantities are whole numbers greater than zero.", {}),
    ({**lines(("TEE-001-S", "-2"))}, "Quantities are whole numbers greater than zero.", {}),
    ({**lines(("TEE-001-S", "2x"))}, "Enter a whole number.", {}),
    ({**lines(("TEE-001-S", "2", "1.234"))}, "Too many decimal places for this currency.", {}),
    ({**lines(("TEE-001-S", "2", "abc"))}, "Not an amount of money.", {}),
    ({**lines(("TEE-001-S", "2", "-1"))}, "A cost is a whole number of fen from 0 upwards.", {}),
    ({**lines(("", "2"))}, "Enter a SKU code or barcode.", {}),
    ({**lines(("", ""))}, "At least one line is needed.", {}),
    ({"supplier": "", **lines(("TEE-001-S", "2"))}, "Order either from a supplier or from a central warehouse.", {}),
    ({"tolerance_percent": "80", **lines(("TEE-001-S", "2"))}, "Tolerance is 0 to 50 percent.", {}),
    ({"tolerance_percent": "five", **lines(("TEE-001-S", "2"))}, "Enter a whole number.", {}),
    ({"warehouse": "abc", **lines(("TEE-001-S", "2"))}, "Enter a whole number.", {}),
])
def test_purchase_order_form_refuses_bad_input_and_changes_nothing(stock, supplier, data, message, params):
    client = client_for(stock.chain.manager_a)
    before = snapshot()
    response = client.post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_a.id, "supplier": supplier.id, "tolerance_percent": "5", **data})
    assert response.status_code == 422
    html = response.content.decode()
    assert translated(message, **params) in html
    assert 'role="alert"' in html
    assert snapshot() == before


def test_purchase_order_form_keeps_what_was_typed_after_an_error(stock, supplier):
    response = client_for(stock.chain.manager_a).post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_a.id, "supplier": supplier.id, "note": "keep me",
        **lines(("TEE-001-S", "3", "9.90"), ("NOPE", "1", ""))})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'value="TEE-001-S"' in html and 'value="9.90"' in html and 'value="NOPE"' in html and 'value="keep me"' in html


def test_purchase_order_pages_are_scoped(stock, supplier):
    order = purchase_order_create(actor=stock.chain.manager_b, warehouse_id=stock.wh_b.id, supplier_id=supplier.id,
                                  lines=[(stock.cat.tee_s.id, 1)])
    manager_a = client_for(stock.chain.manager_a)
    before = snapshot()
    # another store's warehouse posted by hand: 404, nothing created
    response = manager_a.post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_b.id, "supplier": supplier.id, **lines(("TEE-001-S", "2"))})
    assert response.status_code == 404
    assert manager_a.get(f"/inventory/purchase-orders/{order.id}/").status_code == 404
    assert manager_a.post(f"/inventory/purchase-orders/{order.id}/", {"action": "close"}).status_code == 404
    assert snapshot() == before
    # a clerk sees stock but may not order
    guide = client_for(stock.chain.guide_a)
    assert guide.get("/inventory/purchase-orders/new/").status_code == 404
    assert guide.post("/inventory/purchase-orders/new/", {
        "warehouse": stock.wh_a.id, "supplier": supplier.id, **lines(("TEE-001-S", "2"))}).status_code == 404
    assert snapshot() == before
    # the list shows only the actor's orders, filtered by status and warehouse
    mine = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                 lines=[(stock.cat.tee_s.id, 1)])
    listed = manager_a.get("/inventory/purchase-orders/")
    assert [o.id for o in listed.context["page"]] == [mine.id]
    admin = client_for(stock.chain.admin)
    assert [o.id for o in admin.get("/inventory/purchase-orders/").context["page"]] == [mine.id, order.id]
    assert [o.id for o in admin.get(f"/inventory/purchase-orders/?warehouse={stock.wh_b.id}").context["page"]] == [order.id]
    assert [o.id for o in admin.get("/inventory/purchase-orders/?status=submitted").context["page"]] == []
    assert [o.id for o in admin.get("/inventory/purchase-orders/?status=draft&warehouse=x").context["page"]] == [
        mine.id, order.id]


# --- transfers ---------------------------------------------------------------------------------------------

def test_store_manager_requests_a_transfer_and_both_sides_work_it_on_the_detail_page(stock):
    put(stock, stock.wh_b, stock.cat.tee_s, 10)
    put(stock, stock.wh_b, stock.cat.mug_sku, 5)
    manager_a, manager_b = client_for(stock.chain.manager_a), client_for(stock.chain.manager_b)
    page = manager_a.get("/inventory/transfers/new/")
    assert page.status_code == 200
    response = manager_a.post("/inventory/transfers/new/", {
        "from_warehouse": stock.wh_b.id, "to_warehouse": stock.wh_a.id, "note": "weekend",
        **lines(("TEE-001-S", "4"), (EAN_TEE_S, "1"), ("MUG-01", "2"), ("", ""))})
    transfer = Transfer.objects.get(pk=created_id(response, "transfers"))
    url = f"/inventory/transfers/{transfer.id}/"
    assert (transfer.from_warehouse_id, transfer.to_warehouse_id, transfer.status, transfer.note) == (
        stock.wh_b.id, stock.wh_a.id, "requested", "weekend")
    assert list(transfer.lines.values_list("sku_id", "quantity")) == [(stock.cat.tee_s.id, 5),
                                                                     (stock.cat.mug_sku.id, 2)]
    assert StockMove.objects.filter(source_type="transfer").count() == 0

    # the requester cannot approve or ship the giving side's stock
    html = manager_a.get(url).content.decode()
    assert 'value="approve"' not in html and 'value="cancel"' in html
    assert manager_a.post(url, {"action": "approve"}).status_code == 403
    assert manager_b.post(url, {"action": "approve"}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "approved"

    # ship less than requested; more than requested is refused with the service's message
    before = snapshot()
    over = manager_b.post(url, {"action": "ship", f"qty_{stock.cat.tee_s.id}": "6", f"qty_{stock.cat.mug_sku.id}": "2"})
    assert over.status_code == 422
    assert translated("More than the transfer allows.") in over.content.decode()
    assert snapshot() == before
    assert manager_b.post(url, {"action": "ship", f"qty_{stock.cat.tee_s.id}": "4",
                                f"qty_{stock.cat.mug_sku.id}": "2"}).status_code == 302
    transit = in_transit_warehouse(stock.chain.hq.enterprise_id)
    assert level(stock.wh_b, stock.cat.tee_s) == (6, 0) and level(transit, stock.cat.tee_s) == (4, 0)

    # the destination receives what arrived (one T-shirt short)
    assert manager_b.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "4",
                                f"qty_{stock.cat.mug_sku.id}": "2"}).status_code == 403
    html = manager_a.get(url).content.decode()
    assert f'name="qty_{stock.cat.tee_s.id}" value="4"' in html
    before = snapshot()
    blank = manager_a.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "3"})  # the mugs left blank
    assert blank.status_code == 422
    assert translated("Enter a quantity for every line (0 if none).") in blank.content.decode()
    assert snapshot() == before
    assert manager_a.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "3",
                                f"qty_{stock.cat.mug_sku.id}": "2"}).status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert list(transfer.lines.values_list("quantity", "shipped", "received")) == [(5, 4, 3), (2, 2, 2)]
    assert level(stock.wh_a, stock.cat.tee_s) == (3, 0) and level(stock.wh_a, stock.cat.mug_sku) == (2, 0)
    assert level(stock.wh_b, stock.cat.mug_sku) == (3, 0) and level(transit, stock.cat.tee_s) == (0, 0)
    assert_ledgers_clean()


def test_a_requested_transfer_is_cancelled_by_the_requester_or_rejected_by_the_giver(stock):
    manager_a, manager_b = client_for(stock.chain.manager_a), client_for(stock.chain.manager_b)
    first = transfer_request(actor=stock.chain.manager_a, from_warehouse_id=stock.wh_b.id,
                             to_warehouse_id=stock.wh_a.id, lines=[(stock.cat.tee_s.id, 1)])
    second = transfer_request(actor=stock.chain.manager_a, from_warehouse_id=stock.wh_b.id,
                              to_warehouse_id=stock.wh_a.id, lines=[(stock.cat.tee_s.id, 1)])
    assert manager_a.post(f"/inventory/transfers/{first.id}/", {"action": "cancel"}).status_code == 302
    assert manager_b.post(f"/inventory/transfers/{second.id}/", {"action": "reject"}).status_code == 302
    again = manager_b.post(f"/inventory/transfers/{second.id}/", {"action": "reject"})
    assert again.status_code == 409
    assert [t.status for t in Transfer.objects.order_by("id")] == ["cancelled", "rejected"]


def test_shipping_more_than_the_source_holds_is_refused_and_changes_nothing(stock):
    put(stock, stock.wh_b, stock.cat.tee_s, 1)
    transfer = transfer_request(actor=stock.chain.manager_a, from_warehouse_id=stock.wh_b.id,
                                to_warehouse_id=stock.wh_a.id, lines=[(stock.cat.tee_s.id, 3)])
    manager_b = client_for(stock.chain.manager_b)
    manager_b.post(f"/inventory/transfers/{transfer.id}/", {"action": "approve"})
    before = snapshot()
    response = manager_b.post(f"/inventory/transfers/{transfer.id}/", {"action": "ship",
                                                                         f"qty_{stock.cat.tee_s.id}": "3"})
    assert response.status_code == 409
    assert 'data-code="insufficient_stock"' in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("data, message, params", [
    (lines(("NOPE-1", "2")), "No SKU has the code or barcode “%(code)s”.", {"code": "NOPE-1"}),
    (lines(("TEE-001-S", "0")), "Quantities are whole numbers greater than zero.", {}),
    (lines(("TEE-001-S", "-1")), "Quantities are whole numbers greater than zero.", {}),
    (lines(("TEE-001-S", "1e3")), "Enter a whole number.", {}),
    (lines(("TEE\x07001", "1")), "Contains control characters.", {}),
    ({"note": "ring\x07", **lines(("TEE-001-S", "1"))}, "Contains control characters.", {}),
    (lines(("TEE-001-S", "99999999999")), "Quantities are whole numbers greater than zero.", {}),
    ({"to_warehouse": "WH", **lines(("TEE-001-S", "1"))}, "Enter a whole number.", {}),
    ({"from_warehouse": "SELF", **lines(("TEE-001-S", "1"))}, "A transfer needs two different warehouses.", {}),
])
def test_transfer_form_refuses_bad_input_and_changes_nothing(stock, data, message, params):
    if data.get("from_warehouse") == "SELF":
        data["from_warehouse"] = stock.wh_a.id
    client = client_for(stock.chain.manager_a)
    before = snapshot()
    response = client.post("/inventory/transfers/new/", {"from_warehouse": stock.wh_b.id,
                                                         "to_warehouse": stock.wh_a.id, **data})
    assert response.status_code == 422
    assert translated(message, **params) in response.content.decode()
    assert snapshot() == before


def test_transfer_pages_are_scoped(stock):
    manager_a = client_for(stock.chain.manager_a)
    before = snapshot()
    # the destination must be a warehouse the actor manages: Store B's by hand is 404
    response = manager_a.post("/inventory/transfers/new/", {"from_warehouse": stock.wh_a.id,
                                                           "to_warehouse": stock.wh_b.id, **lines(("TEE-001-S", "1"))})
    assert response.status_code == 404
    # an unknown source warehouse is 404 too
    assert manager_a.post("/inventory/transfers/new/", {"from_warehouse": 999999, "to_warehouse": stock.wh_a.id,
                                                        **lines(("TEE-001-S", "1"))}).status_code == 404
    assert snapshot() == before
    html = manager_a.get("/inventory/transfers/new/").content.decode()
    to_select = html[html.index('name="to_warehouse"'):]
    to_select = to_select[:to_select.index("</select>")]
    assert "WH-A" in to_select and "WH-B" not in to_select and "CW-1" not in to_select
    # a transfer between two other places is not visible to Store A
    other = transfer_request(actor=stock.chain.manager_b, from_warehouse_id=stock.central.id,
                             to_warehouse_id=stock.wh_b.id, lines=[(stock.cat.tee_s.id, 1)])
    assert manager_a.get(f"/inventory/transfers/{other.id}/").status_code == 404
    assert manager_a.post(f"/inventory/transfers/{other.id}/", {"action": "cancel"}).status_code == 404
    # a clerk cannot request transfers
    guide = client_for(stock.chain.guide_a)
    assert guide.get("/inventory/transfers/new/").status_code == 404
    assert guide.post("/inventory/transfers/new/", {"from_warehouse": stock.wh_b.id, "to_warehouse": stock.wh_a.id,
                                                    **lines(("TEE-001-S", "1"))}).status_code == 404
    other.refresh_from_db()
    assert other.status == "requested"
    # the transfers page links to the new form and to each transfer's page
    listing = manager_a.get("/inventory/transfers/").content.decode()
    assert 'href="/inventory/transfers/new/"' in listing
    assert 'href="/inventory/transfers/new/"' not in guide.get("/inventory/transfers/").content.decode()


def test_add_line_returns_one_more_row(stock):
    client = client_for(stock.chain.manager_a)
    with_cost = client.get("/inventory/lines/row/?cost=1", headers={"HX-Request": "true"}).content.decode()
    plain = client.get("/inventory/lines/row/", headers={"HX-Request": "true"}).content.decode()
    assert with_cost.count('name="line_sku"') == 1 and with_cost.count('name="line_cost"') == 1
    assert plain.count('name="line_quantity"') == 1 and 'name="line_cost"' not in plain


# --- allocations -------------------------------------------------------------------------------------------

def test_hq_allocates_one_sku_set_to_many_stores_and_releases_it(stock):
    put(stock, stock.central, stock.cat.tee_s, 20)
    put(stock, stock.central, stock.cat.mug_sku, 10)
    admin = client_for(stock.chain.admin)
    assert admin.get("/inventory/allocations/new/").status_code == 200
    response = admin.post("/inventory/allocations/new/", {
        "from_warehouse": stock.central.id, "stores": [stock.wh_a.id, stock.wh_b.id], "note": "launch",
        **lines(("TEE-001-S", "3"), (EAN_TEE_S, "1"), ("MUG-01", "2"))})
    allocation = Allocation.objects.get(pk=created_id(response, "allocations"))
    assert (allocation.from_warehouse_id, allocation.status, allocation.note) == (stock.central.id, "draft", "launch")
    assert sorted(allocation.lines.values_list("to_warehouse_id", "sku_id", "quantity")) == sorted([
        (stock.wh_a.id, stock.cat.tee_s.id, 4), (stock.wh_a.id, stock.cat.mug_sku.id, 2),
        (stock.wh_b.id, stock.cat.tee_s.id, 4), (stock.wh_b.id, stock.cat.mug_sku.id, 2)])
    assert level(stock.central, stock.cat.tee_s) == (20, 0)

    url = f"/inventory/allocations/{allocation.id}/"
    assert admin.post(url, {"action": "release"}).status_code == 302
    allocation.refresh_from_db()
    assert allocation.status == "released"
    transfers = list(Transfer.objects.filter(allocation=allocation).order_by("to_warehouse_id"))
    assert [(t.to_warehouse_id, t.status) for t in transfers] == [(stock.wh_a.id, "shipped"), (stock.wh_b.id, "shipped")]
    assert level(stock.central, stock.cat.tee_s) == (12, 0) and level(stock.central, stock.cat.mug_sku) == (6, 0)
    html = admin.get(url).content.decode()
    assert all(f'href="/inventory/transfers/{t.id}/"' in html for t in transfers)
    # Store A receives its transfer from its page
    manager_a = client_for(stock.chain.manager_a)
    received = {"action": "receive", f"qty_{stock.cat.tee_s.id}": "4", f"qty_{stock.cat.mug_sku.id}": "2"}
    assert manager_a.post(f"/inventory/transfers/{transfers[0].id}/", received).status_code == 302
    assert level(stock.wh_a, stock.cat.tee_s) == (4, 0) and level(stock.wh_a, stock.cat.mug_sku) == (2, 0)
    assert_ledgers_clean()


def test_allocation_release_short_of_stock_is_refused_and_changes_nothing(stock):
    put(stock, stock.central, stock.cat.tee_s, 3)
    admin = client_for(stock.chain.admin)
    response = admin.post("/inventory/allocations/new/", {"from_warehouse": stock.central.id,
                                                          "stores": [stock.wh_a.id, stock.wh_b.id],
                                                          **lines(("TEE-001-S", "2"))})
    allocation_id = created_id(response, "allocations")
    before = snapshot()
    refused = admin.post(f"/inventory/allocations/{allocation_id}/", {"action": "release"})
    assert refused.status_code == 409
    assert 'data-code="insufficient_stock"' in refused.content.decode()
    assert snapshot() == before
    assert Allocation.objects.get(pk=allocation_id).status == "draft"


@pytest.mark.parametrize("data, message, params", [
    ({"stores": [], **lines(("TEE-001-S", "1"))}, "Choose at least one store.", {}),
    (lines(("NOPE", "1")), "No SKU has the code or barcode “%(code)s”.", {"code": "NOPE"}),
    (lines(("TEE-001-S", "0")), "Quantities are whole numbers greater than zero.", {}),
    (lines(("TEE-001-S", "one")), "Enter a whole number.", {}),
    ({"stores": ["x"], **lines(("TEE-001-S", "1"))}, "Enter a whole number.", {}),
    ({"from_warehouse": "A", **lines(("TEE-001-S", "1"))}, "Enter a whole number.", {}),
])
def test_allocation_form_refuses_bad_input_and_changes_nothing(stock, data, message, params):
    admin = client_for(stock.chain.admin)
    before = snapshot()
    response = admin.post("/inventory/allocations/new/", {"from_warehouse": stock.central.id,
                                                          "stores": [stock.wh_a.id], **data})
    assert response.status_code == 422
    assert translated(message, **params) in response.content.decode()
    assert snapshot() == before


def test_allocation_is_for_whoever_manages_a_central_warehouse_and_only_to_their_stores(stock):
    # store managers, clerks and a dealer without a central warehouse cannot reach the form
    for who in (stock.chain.manager_a, stock.chain.guide_a, stock.chain.dealer_staff, stock.chain.east_manager):
        assert client_for(who).get("/inventory/allocations/new/").status_code == 404
        assert b'href="/inventory/allocations/new/"' not in client_for(who).get("/inventory/allocations/").content
    # the East region with its own central warehouse allocates to its stores, not to the West's
    east_central = warehouse_create(actor=stock.chain.admin, node_id=stock.chain.east.id, kind="central",
                                    code="CW-E", name="East central")
    east = client_for(stock.chain.east_manager)
    html = east.get("/inventory/allocations/new/").content.decode()
    assert "CW-E" in html and "CW-1" not in html and "WH-A" in html and "WH-B" not in html
    before = snapshot()
    assert east.post("/inventory/allocations/new/", {"from_warehouse": east_central.id, "stores": [stock.wh_b.id],
                                                     **lines(("TEE-001-S", "1"))}).status_code == 404
    assert east.post("/inventory/allocations/new/", {"from_warehouse": stock.central.id, "stores": [stock.wh_a.id],
                                                     **lines(("TEE-001-S", "1"))}).status_code == 404
    assert snapshot() == before
    response = east.post("/inventory/allocations/new/", {"from_warehouse": east_central.id, "stores": [stock.wh_a.id],
                                                          **lines(("TEE-001-S", "1"))})
    allocation = Allocation.objects.get(pk=created_id(response, "allocations"))
    assert client_for(stock.chain.manager_b).get(f"/inventory/allocations/{allocation.id}/").status_code == 404


# --- adjustments -------------------------------------------------------------------------------------------

def test_store_manager_records_a_small_adjustment_that_posts_at_once(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    client = client_for(stock.chain.manager_a)
    assert client.get("/inventory/adjustments/new/").status_code == 200
    response = client.post("/inventory/adjustments/new/", {
        "warehouse": stock.wh_a.id, "reason": "damaged", "note": "water leak",
        **lines(("TEE-001-S", "-2"), (EAN_TEE_M, "+1"))})
    adjustment = Adjustment.objects.get(pk=created_id(response, "adjustments"))
    assert (adjustment.status, adjustment.reason, adjustment.note, adjustment.value) == (
        "posted", "damaged", "water leak", 3 * 9900)
    assert list(adjustment.lines.values_list("sku_id", "quantity")) == [(stock.cat.tee_s.id, -2),
                                                                       (stock.cat.tee_m.id, 1)]
    assert level(stock.wh_a, stock.cat.tee_s) == (8, 0) and level(stock.wh_a, stock.cat.tee_m) == (1, 0)
    assert b"/inventory/adjustments/new/" in client.get("/inventory/adjustments/").content
    assert_ledgers_clean()


def test_an_adjustment_above_the_threshold_waits_and_is_approved_on_its_page(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    manager = client_for(stock.chain.manager_a)
    response = manager.post("/inventory/adjustments/new/", {"warehouse": stock.wh_a.id, "reason": "lost",
                                                            **lines(("TEE-001-S", "-6"))})
    adjustment = Adjustment.objects.get(pk=created_id(response, "adjustments"))
    assert adjustment.status == "pending"
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    url = f"/inventory/adjustments/{adjustment.id}/"
    assert b'value="approve"' not in manager.get(url).content
    assert manager.post(url, {"action": "approve"}).status_code == 403
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    dealer = client_for(stock.chain.dealer_staff)
    assert b'value="approve"' in dealer.get(url).content
    assert dealer.post(url, {"action": "approve"}).status_code == 302
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decided_by_id) == ("posted", stock.chain.dealer_staff.id)
    assert level(stock.wh_a, stock.cat.tee_s) == (4, 0)
    assert dealer.post(url, {"action": "reject"}).status_code == 409
    assert_ledgers_clean()


@pytest.mark.parametrize("data, message, params", [
    ({"reason": "stolen", **lines(("TEE-001-S", "-1"))}, "Unknown reason code.", {}),
    (lines(("TEE-001-S", "0")), "Quantities are whole numbers greater than zero.", {}),
    (lines(("TEE-001-S", "-0.5")), "Enter a whole number.", {}),
    (lines(("NOPE", "-1")), "No SKU has the code or barcode “%(code)s”.", {"code": "NOPE"}),
    (lines(("MUG-01", "-1")), "Not enough stock.", {}),
    ({"note": "bad\x00note", **lines(("TEE-001-S", "-1"))}, "Null characters are not allowed.", {}),
])
def test_adjustment_form_refuses_bad_input_and_changes_nothing(stock, data, message, params):
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    client = client_for(stock.chain.manager_a)
    before = snapshot()
    response = client.post("/inventory/adjustments/new/", {"warehouse": stock.wh_a.id, "reason": "damaged", **data})
    assert response.status_code in (409, 422)
    assert translated(message, **params) in response.content.decode()
    assert snapshot() == before


def test_adjustment_pages_are_scoped(stock):
    put(stock, stock.wh_b, stock.cat.tee_s, 10)
    before = snapshot()
    manager_a = client_for(stock.chain.manager_a)
    assert manager_a.post("/inventory/adjustments/new/", {"warehouse": stock.wh_b.id, "reason": "lost",
                                                          **lines(("TEE-001-S", "-1"))}).status_code == 404
    guide = client_for(stock.chain.guide_a)
    assert guide.get("/inventory/adjustments/new/").status_code == 404
    assert guide.post("/inventory/adjustments/new/", {"warehouse": stock.wh_a.id, "reason": "lost",
                                                      **lines(("TEE-001-S", "1"))}).status_code == 404
    assert snapshot() == before
    other = adjustment_create(actor=stock.chain.manager_b, warehouse_id=stock.wh_b.id, reason="lost",
                              lines=[(stock.cat.tee_s.id, -1)])
    assert manager_a.get(f"/inventory/adjustments/{other.id}/").status_code == 404
    html = manager_a.get("/inventory/adjustments/new/").content.decode()
    assert "WH-A" in html and "WH-B" not in html


def test_a_partly_received_order_is_closed_short_and_a_draft_is_cancelled_from_its_page(stock, supplier):
    manager = client_for(stock.chain.manager_a)
    order = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[(stock.cat.tee_s.id, 10)])
    url = f"/inventory/purchase-orders/{order.id}/"
    manager.post(url, {"action": "submit"})
    client_for(stock.chain.admin).post(url, {"action": "approve"})
    assert manager.post(url, {"action": "receive", f"qty_{stock.cat.tee_s.id}": "3"}).status_code == 302
    assert b'value="close"' in manager.get(url).content
    assert manager.post(url, {"action": "close"}).status_code == 302
    order.refresh_from_db()
    assert (order.status, level(stock.wh_a, stock.cat.tee_s)) == ("closed", (3, 0))
    draft = purchase_order_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[(stock.cat.tee_s.id, 1)])
    assert manager.post(f"/inventory/purchase-orders/{draft.id}/", {"action": "close"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    assert manager.post(f"/inventory/purchase-orders/{draft.id}/", {"action": "explode"}).status_code == 404


def test_submitting_the_same_form_twice_creates_one_document(stock):
    put(stock, stock.wh_b, stock.cat.tee_s, 10)
    manager_a = client_for(stock.chain.manager_a)
    form_key = re.search(r'name="form_key" value="([0-9a-f]{32})"',
                         manager_a.get("/inventory/transfers/new/").content.decode()).group(1)
    data = {"form_key": form_key, "from_warehouse": stock.wh_b.id, "to_warehouse": stock.wh_a.id,
            **lines(("TEE-001-S", "4"))}
    first = created_id(manager_a.post("/inventory/transfers/new/", data), "transfers")
    again = created_id(manager_a.post("/inventory/transfers/new/", data), "transfers")  # a double click
    assert first == again and Transfer.objects.count() == 1
    # the same form sent with other lines is refused, not a second document
    changed = manager_a.post("/inventory/transfers/new/", {**data, **lines(("TEE-001-S", "5"))})
    assert changed.status_code == 409 and Transfer.objects.count() == 1
    # a freshly rendered form is a new document
    other_key = re.search(r'name="form_key" value="([0-9a-f]{32})"',
                          manager_a.get("/inventory/transfers/new/").content.decode()).group(1)
    assert other_key != form_key
    third = created_id(manager_a.post("/inventory/transfers/new/", {**data, "form_key": other_key}), "transfers")
    assert third != first and Transfer.objects.count() == 2
