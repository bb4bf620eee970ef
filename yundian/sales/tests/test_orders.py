"""Order creation: each mode moves stock in the right pool; idempotent retries; bad input changes nothing."""
import pytest

from yundian.core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from yundian.inventory.models import Reservation, StockMove
from yundian.sales import services
from yundian.sales.models import Order, OrderStatus, Payment
from yundian.sales.tests.factories import level, next_ref, sales_state, sell, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain)


def test_take_now_issues_from_the_store_warehouse_and_completes_when_paid(chain, stock):
    tee = stock.cat.tee_s
    order = sell(chain.guide_a, chain.store_a, [(tee, 2), (stock.cat.mug_sku, 1)])
    assert order.status == OrderStatus.COMPLETED
    assert (order.subtotal, order.total, order.paid_total) == (2 * 9900 + 2500, 22300, 22300)
    assert level(stock.wh_a, tee) == (8, 0)
    assert level(stock.virtual, tee) == (10, 0) and level(stock.wh_b, tee) == (10, 0)
    moves = list(StockMove.objects.filter(source_type="order", source_id=str(order.pk)).values_list(
        "kind", "warehouse_id", "sku_id", "quantity"))
    assert sorted(moves) == sorted([("sale_issue", stock.wh_a.id, tee.id, -2),
                                    ("sale_issue", stock.wh_a.id, stock.cat.mug_sku.id, -1)])
    assert [l.guide_id for l in order.lines.all()] == [chain.guide_a.id, chain.guide_a.id]


def test_pickup_and_delivery_reserve_in_the_store_warehouse(chain, stock):
    tee = stock.cat.tee_s
    pickup = sell(chain.guide_a, chain.store_a, [(tee, 3)], mode="pickup")
    delivery = sell(chain.guide_a, chain.store_a, [(tee, 2)], mode="delivery", delivery={"address": "1 Road"})
    assert (pickup.status, delivery.status) == (OrderStatus.PAID, OrderStatus.PAID)
    assert level(stock.wh_a, tee) == (10, 5)
    assert Reservation.objects.filter(source_type="order", source_id=str(pickup.pk), warehouse=stock.wh_a,
                                      status="active").get().quantity == 3
    assert not StockMove.objects.filter(kind="sale_issue").exists()


def test_ship_from_warehouse_reserves_in_the_virtual_pool(chain, stock):
    tee = stock.cat.tee_s
    order = sell(chain.guide_a, chain.store_a, [(tee, 4)], mode="ship_from_warehouse")
    assert order.warehouse_id == stock.virtual.id
    assert level(stock.virtual, tee) == (10, 4)
    assert level(stock.wh_a, tee) == (10, 0) and level(stock.central, tee) == (10, 0)


def test_ship_from_a_chosen_central_warehouse(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)], mode="ship_from_warehouse",
                 warehouse_id=stock.central.id)
    assert level(stock.central, stock.cat.mug_sku) == (10, 1)
    assert order.warehouse_id == stock.central.id


def test_preorder_of_out_of_stock_goods_moves_no_stock(chain, stock):
    before = StockMove.objects.count()
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 50)], mode="preorder")
    assert order.status == OrderStatus.PAID and order.warehouse_id is None
    assert StockMove.objects.count() == before and level(stock.wh_a, stock.cat.tee_m) == (10, 0)


def test_take_now_without_stock_is_409_and_changes_nothing(chain, stock):
    before = sales_state()
    with pytest.raises(Conflict) as exc:
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1), (stock.cat.mug_sku, 11)])
    assert exc.value.code == "insufficient_stock"
    assert sales_state() == before


def test_the_same_client_key_returns_the_first_order(chain, stock):
    args = dict(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="till-7-0001",
                lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}], payments=[{"method": "card", "client_ref": "c"}])
    first = services.order_create(**args)
    again = services.order_create(**args)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.order.pk == first.order.pk
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert level(stock.wh_a, stock.cat.tee_s) == (9, 0)
    with pytest.raises(IdempotencyConflict):
        services.order_create(**{**args, "lines": [{"sku_id": stock.cat.tee_s.id, "quantity": 2}]})
    assert level(stock.wh_a, stock.cat.tee_s) == (9, 0) and Order.objects.count() == 1


@pytest.mark.parametrize("lines, code", [
    ([], "no_lines"),
    ([{"sku_id": 0, "quantity": 1}], "invalid_id"),
    ([{"sku_id": "1", "quantity": 1}], "invalid_id"),
    ([{"sku_id": 1, "quantity": 0}], "invalid_quantity"),
    ([{"sku_id": 1, "quantity": 1.5}], "invalid_quantity"),
    ([{"sku_id": 1, "quantity": True}], "invalid_quantity"),
    ([{"sku_id": 1, "quantity": 1, "unit_price": -1}], "invalid_amount"),
    ([{"quantity": 1}], "invalid_line"),
])
def test_bad_lines_are_422_and_change_nothing(chain, stock, lines, code):
    before = sales_state()
    with pytest.raises(ValidationFailed) as exc:
        services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), lines=lines)
    assert exc.value.code == code
    assert sales_state() == before


def test_unknown_sku_and_other_store_are_404(chain, stock, other_chain):
    before = sales_state()
    with pytest.raises(NotFound):
        services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                              lines=[{"sku_id": 10**9, "quantity": 1}])
    with pytest.raises(NotFound):
        sell(chain.guide_a, chain.store_b, [(stock.cat.tee_s, 1)])
    with pytest.raises(NotFound):
        sell(chain.guide_a, other_chain.store_a, [(stock.cat.tee_s, 1)])
    assert sales_state() == before


def test_a_price_embedded_scale_label_is_charged_exactly_what_it_prints(chain, stock):
    from yundian.catalog import services as catalog
    from yundian.catalog.barcodes import SchemeLayout, weighed_encode
    from yundian.pos.selectors import pos_quote

    from yundian.sales.tests.factories import put

    apples = stock.cat.apples_sku
    put_grams = 5000
    put(stock, stock.wh_a, apples, put_grams)
    catalog.weighed_scheme_set(actor=chain.admin, prefix="22", value_kind="price")
    prices = catalog.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store", code="FRUIT", name="F")
    catalog.price_entry_set(actor=chain.admin, price_list_id=prices.id, sku_id=apples.id, price=9999)  # ¥99.99/kg
    label = weighed_encode(SchemeLayout("22", 5, 5, "price"), "123", 1234)  # the scale printed ¥12.34
    quote = pos_quote(actor=chain.guide_a, store=chain.store_a, lines=[{"barcode": label}])
    assert (quote["lines"][0]["quantity"], quote["lines"][0]["line_total"], quote["total"]) == (123, 1234, 1234)
    order = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                  lines=[{"barcode": label}], payments=[{"method": "cash", "client_ref": "p"}]).order
    line = order.lines.get()
    # 123 g at ¥99.99/kg would be ¥12.30: the label's ¥12.34 is what the shopper pays, and no approval is asked
    assert (line.quantity, line.unit_price, line.line_total, order.total, order.paid_total) == (123, 9999, 1234, 1234,
                                                                                               1234)
    assert level(stock.wh_a, apples) == (put_grams - 123, 0)
