"""Moving-average stock cost: receipts at the purchase order's price, issues at the average, transfers carrying
their cost, gains at the average, returns at the cost they left with. Expected figures computed by hand."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yundian.core.errors import Conflict
from yundian.inventory.models import StockMove, TransferLine
from yundian.inventory.services import (adjustment_create, allocation_create, allocation_release, in_transit_warehouse,
                                        purchase_order_approve, purchase_order_create, purchase_order_submit,
                                        receipt_create, stock_issue, stock_return, supplier_create, supplier_price_set,
                                        transfer_approve, transfer_receive, transfer_request, transfer_ship)

from .factories import assert_ledgers_clean, costed, make_stock, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return make_stock(chain)


@pytest.fixture
def supplier(stock):
    return supplier_create(actor=stock.chain.admin, code="SUP-1", name="Acme Textiles")


def receive(stock, supplier, warehouse, sku, quantity, unit_cost):
    """One supplier order of `quantity` at `unit_cost` fen, approved and received in full."""
    admin = stock.chain.admin
    order = purchase_order_create(actor=admin, warehouse_id=warehouse.id, supplier_id=supplier.id,
                                  lines=[{"sku_id": sku.id, "quantity": quantity, "unit_cost": unit_cost}])
    purchase_order_submit(actor=admin, order_id=order.id)
    purchase_order_approve(actor=admin, order_id=order.id)
    receipt_create(actor=admin, warehouse_id=warehouse.id, order_id=order.id, lines=[(sku.id, quantity)])


def sell(stock, warehouse, sku, quantity, order="1"):
    return stock_issue(actor=stock.chain.admin, lines=[(sku.id, warehouse.id, quantity)], source_type="order",
                       source_id=order)


def test_moving_average_follows_receipts_at_the_order_price_and_sales_at_the_average(stock, supplier):
    tee, wh = stock.cat.tee_s, stock.wh_a
    receive(stock, supplier, wh, tee, 10, 500)    # 10 @ ¥5
    assert costed(wh, tee) == (10, 5000, 500)
    receive(stock, supplier, wh, tee, 30, 700)    # + 30 @ ¥7: (5000 + 21000) / 40 = ¥6.50
    assert costed(wh, tee) == (40, 26000, 650)
    moves = sell(stock, wh, tee, 20)              # 20 leave at ¥6.50: cost ¥130.00, the average stays
    assert [(m.kind, m.quantity, m.value) for m in moves] == [("sale_issue", -20, -13000)]
    assert costed(wh, tee) == (20, 13000, 650)
    receive(stock, supplier, wh, tee, 10, 900)    # + 10 @ ¥9: (13000 + 9000) / 30 = ¥7.333 -> 733 fen
    assert costed(wh, tee) == (30, 22000, 733)
    moves = sell(stock, wh, tee, 30, order="2")   # the last units take all the value that is left
    assert moves[0].value == -22000
    assert costed(wh, tee) == (0, 0, 0)
    assert_ledgers_clean()


def test_rounding_never_leaves_value_behind_an_empty_shelf(stock, supplier):
    tee, wh = stock.cat.tee_s, stock.wh_a
    receive(stock, supplier, wh, tee, 2, 500)
    receive(stock, supplier, wh, tee, 1, 600)     # 3 units worth 1600: 533.33 each
    costs = [-sell(stock, wh, tee, 1, order=str(n))[0].value for n in range(3)]
    assert costs == [533, 534, 533]               # 1600/3 -> 533; 1067/2 -> 533.5 -> 534; the last 533
    assert sum(costs) == 1600
    assert costed(wh, tee) == (0, 0, 0)
    assert_ledgers_clean()


def test_a_transfer_carries_its_cost_and_a_transit_shortage_writes_off_the_rest(stock, supplier):
    chain, tee = stock.chain, stock.cat.tee_s
    receive(stock, supplier, stock.central, tee, 10, 500)
    receive(stock, supplier, stock.central, tee, 30, 700)  # central: 40 worth 26000, ¥6.50 each
    receive(stock, supplier, stock.wh_a, tee, 10, 900)     # store A: 10 worth 9000
    transfer = transfer_request(actor=chain.admin, from_warehouse_id=stock.central.id, to_warehouse_id=stock.wh_a.id,
                                lines=[(tee.id, 12)])
    transfer_approve(actor=chain.admin, transfer_id=transfer.id)
    transfer_ship(actor=chain.admin, transfer_id=transfer.id)
    transit = in_transit_warehouse(chain.hq.enterprise_id)
    assert costed(stock.central, tee) == (28, 18200, 650)  # 12 x 650 = 7800 left
    assert costed(transit, tee) == (12, 7800, 650)
    assert TransferLine.objects.get(transfer=transfer).shipped_value == 7800
    transfer_receive(actor=chain.admin, transfer_id=transfer.id, lines=[(tee.id, 10)])
    # 10 of 12 arrive with 10/12 of the cost (6500); 1300 is written off in transit with the 2 lost units
    assert costed(transit, tee) == (0, 0, 0)
    assert costed(stock.wh_a, tee) == (20, 15500, 775)     # (9000 + 6500) / 20
    shortage = StockMove.objects.get(kind="adjustment", reason="transit_shortage")
    assert (shortage.quantity, shortage.value) == (-2, -1300)
    assert_ledgers_clean()


def test_an_allocation_splits_the_cost_it_ships_over_the_stores_exactly(stock, supplier):
    chain, tee = stock.chain, stock.cat.tee_s
    receive(stock, supplier, stock.central, tee, 3, 1000)
    receive(stock, supplier, stock.central, tee, 4, 1001)  # 7 worth 7004: 1000.57 each
    allocation = allocation_create(actor=chain.admin, from_warehouse_id=stock.central.id,
                                   lines=[(stock.wh_a.id, tee.id, 2), (stock.wh_b.id, tee.id, 3)])
    transfers = allocation_release(actor=chain.admin, allocation_id=allocation.id)
    assert costed(stock.central, tee) == (2, 2001, 1001)   # 5 left worth round(7004 x 5 / 7) = 5003
    # store A: round(5003 x 2/5) = 2001; store B: round(5003 x 5/5) - 2001 = 3002
    assert [TransferLine.objects.get(transfer=t).shipped_value for t in transfers] == [2001, 3002]
    for t in transfers:
        transfer_receive(actor=chain.admin, transfer_id=t.id)
    assert costed(stock.wh_a, tee) == (2, 2001, 1001)
    assert costed(stock.wh_b, tee) == (3, 3002, 1001)
    assert costed(in_transit_warehouse(chain.hq.enterprise_id), tee) == (0, 0, 0)
    assert_ledgers_clean()


def test_returns_restock_at_the_cost_they_left_with_not_todays_average(stock, supplier):
    tee, wh = stock.cat.tee_s, stock.wh_a
    receive(stock, supplier, wh, tee, 10, 500)
    receive(stock, supplier, wh, tee, 30, 700)
    sell(stock, wh, tee, 20, order="77")                    # left at ¥6.50: 13000
    receive(stock, supplier, wh, tee, 10, 900)              # average now 22000 / 30
    moves = stock_return(actor=stock.chain.admin, lines=[(tee.id, wh.id, 5)], source_type="return", source_id="1",
                         sale_source_type="order", sale_source_id="77")
    assert moves[0].value == 3250                           # 5 x 650, not 5 x 733
    assert costed(wh, tee) == (35, 25250, 721)              # 25250 / 35 = 721.4
    moves = stock_return(actor=stock.chain.admin, lines=[(tee.id, wh.id, 15)], source_type="return", source_id="2",
                         sale_source_type="order", sale_source_id="77")
    assert moves[0].value == 9750                           # the rest of the 13000
    before = state()
    with pytest.raises(Conflict) as err:
        stock_return(actor=stock.chain.admin, lines=[(tee.id, wh.id, 1)], source_type="return", source_id="3",
                     sale_source_type="order", sale_source_id="77")
    assert err.value.code == "return_exceeds_sale"
    assert state() == before
    assert_ledgers_clean()


def test_a_return_without_its_sale_and_an_adjustment_gain_come_in_at_the_average(stock, supplier):
    tee, wh = stock.cat.tee_s, stock.wh_a
    receive(stock, supplier, wh, tee, 10, 500)
    receive(stock, supplier, wh, tee, 30, 700)
    moves = stock_return(actor=stock.chain.admin, lines=[(tee.id, wh.id, 2)], source_type="return", source_id="9")
    assert moves[0].value == 1300
    adjustment_create(actor=stock.chain.admin, warehouse_id=wh.id, reason="found", lines=[(tee.id, 3)])
    assert costed(wh, tee) == (45, 29250, 650)
    adjustment_create(actor=stock.chain.admin, warehouse_id=wh.id, reason="damaged", lines=[(tee.id, -5)])
    assert costed(wh, tee) == (40, 26000, 650)
    assert StockMove.objects.filter(kind="adjustment").values_list("value", flat=True).order_by("id")[::1] == [1950, -3250]
    assert_ledgers_clean()


def test_units_into_an_empty_row_come_in_at_the_preferred_suppliers_cost_read_once_per_posting(stock, supplier):
    admin, wh, cat = stock.chain.admin, stock.wh_a, stock.cat
    supplier_price_set(actor=admin, supplier_id=supplier.id, sku_id=cat.tee_s.id, unit_cost=400, is_preferred=True)
    supplier_price_set(actor=admin, supplier_id=supplier.id, sku_id=cat.tee_m.id, unit_cost=600, is_preferred=True)
    supplier_price_set(actor=admin, supplier_id=supplier.id, sku_id=cat.mug_sku.id, unit_cost=900)  # not preferred
    with CaptureQueriesContext(connection) as queries:
        stock_return(actor=admin, lines=[(cat.tee_s.id, wh.id, 3), (cat.tee_m.id, wh.id, 2), (cat.mug_sku.id, wh.id, 4)],
                     source_type="return", source_id="9")
    assert [costed(wh, sku) for sku in (cat.tee_s, cat.tee_m, cat.mug_sku)] == [(3, 1200, 400), (2, 1200, 600),
                                                                                 (4, 0, 0)]
    assert sum("inventory_supplierprice" in q["sql"] for q in queries.captured_queries) == 1
    assert_ledgers_clean()


def test_a_short_sale_is_refused_and_leaves_cost_untouched(stock, supplier):
    tee, wh = stock.cat.tee_s, stock.wh_a
    receive(stock, supplier, wh, tee, 10, 500)
    before = state()
    with pytest.raises(Conflict) as err:
        sell(stock, wh, tee, 11)
    assert err.value.code == "insufficient_stock"
    assert state() == before
    assert costed(wh, tee) == (10, 5000, 500)


def test_stock_valuation_is_quantity_times_average_cost_per_warehouse_category_and_sku(stock, supplier):
    from django.utils.translation import gettext

    from yundian.inventory import reports

    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    receive(stock, supplier, stock.wh_a, tee, 10, 500)
    receive(stock, supplier, stock.wh_a, tee, 30, 700)   # 40 tees worth 26000
    receive(stock, supplier, stock.wh_b, mug, 3, 1001)   # 3 mugs worth 3003
    sell(stock, stock.wh_a, tee, 20)                     # 20 tees worth 13000 left
    _columns, rows = reports.valuation_by_warehouse(actor=stock.chain.admin)
    assert [[c.amount if hasattr(c, "amount") else c for c in r] for r in rows] == [
        ["WH-A", "Store A", gettext("Store stock room"), 20, 13000],
        ["WH-B", "Store B", gettext("Store stock room"), 3, 3003],
        [gettext("Total"), "", "", 23, 16003]]
    _columns, rows = reports.valuation_by_category(actor=stock.chain.admin)
    assert [(r[0], r[2], r[3].amount) for r in rows] == [
        ("APP-TEE", 20, 13000), ("HOME", 3, 3003), (gettext("Total"), 23, 16003)]
    _columns, rows = reports.valuation_by_sku(actor=stock.chain.admin)
    assert [[c.amount if hasattr(c, "amount") else c for c in r] for r in rows] == [
        ["WH-A", "TEE-001-S", "纯棉T恤 S", 20, 650, 13000],
        ["WH-B", "MUG-01", "马克杯", 3, 1001, 3003],
        [gettext("Total"), "", "", 23, "", 16003]]
