"""Payments, returns, voids: stock, money, points and commission move exactly, once; the ledgers stay clean."""
import pytest

from yundian.core.errors import Conflict, Forbidden, IdempotencyConflict
from yundian.guides.models import CommissionEntry
from yundian.inventory.models import StockMove
from yundian.members import services as member_services
from yundian.members.tests.factories import points, register, stored_value
from yundian.sales import services
from yundian.sales.models import OrderStatus, Payment, Refund
from yundian.sales.tests.factories import (assert_ledgers_clean, commission_of, level, next_ref, plan, sales_state,
                                           sell, stocked)


@pytest.fixture
def stock(chain):
    return stocked(chain)


def test_split_payment_cash_change_and_stored_value(chain, stock):
    member = register(chain)
    member_services.stored_value_topup(actor=chain.guide_a, member_id=member.id, amount_fen=5000,
                                       store_id=chain.store_a.id, payment_ref="top-1")
    result = services.order_create(
        actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.id,
        lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
        payments=[{"method": "stored_value", "client_ref": "sv", "amount": 5000},
                  {"method": "cash", "client_ref": "cash", "tendered": 5000}])
    order = result.order
    assert (order.status, order.paid_total) == (OrderStatus.COMPLETED, 9900)
    cash = order.payments.get(method="cash")
    assert (cash.amount, cash.tendered, cash.change) == (4900, 5000, 100)
    assert stored_value(member) == (0, 0)
    assert points(member) == 99 and order.points_earned == 99
    assert_ledgers_clean()


def test_a_payment_retried_is_taken_once_and_an_order_is_paid_once(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], pay=None)
    assert order.status == OrderStatus.OPEN
    first = services.payment_add(actor=chain.guide_a, order_id=order.id, payment={"method": "card", "client_ref": "k"})
    again = services.payment_add(actor=chain.guide_a, order_id=order.id, payment={"method": "card", "client_ref": "k"})
    assert (first.replayed, again.replayed, again.payment.pk) == (False, True, first.payment.pk)
    assert Payment.objects.filter(order=order).count() == 1
    with pytest.raises(Conflict) as exc:
        services.payment_add(actor=chain.guide_a, order_id=order.id, payment={"method": "cash", "client_ref": "k2"})
    assert exc.value.code == "order_not_payable"
    with pytest.raises(IdempotencyConflict):
        services.payment_add(actor=chain.guide_a, order_id=order.id, payment={"method": "wallet", "client_ref": "k"})
    assert Payment.objects.filter(order=order).count() == 1


def test_a_return_reverses_stock_money_points_and_commission_exactly(chain, stock):
    plan(chain, "0.05")
    member = register(chain)
    order = services.order_create(
        actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.id,
        order_discount=1000, lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 3}],
        payments=[{"method": "card", "client_ref": "c"}]).order
    assert order.total == 3 * 9900 - 1000 == 28700
    assert commission_of(chain.guide_a) == 1435  # 5% of 287.00
    assert points(member) == 287
    line = order.lines.get()
    first = services.return_create(actor=chain.guide_a, order_id=order.id, client_ref="r1",
                                   lines=[{"order_line_id": line.id, "quantity": 1}]).order_return
    assert first.refund_total == 28700 // 3 == 9566
    assert level(stock.wh_a, stock.cat.tee_s) == (8, 0)
    assert commission_of(chain.guide_a) == 1435 - 1435 // 3
    second = services.return_create(actor=chain.guide_a, order_id=order.id, client_ref="r2",
                                    lines=[{"order_line_id": line.id, "quantity": 2}]).order_return
    assert first.refund_total + second.refund_total == 28700
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (OrderStatus.RETURNED, 28700)
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    assert commission_of(chain.guide_a) == 0 and points(member) == 0
    assert sum(r.amount for r in Refund.objects.filter(order=order)) == 28700
    assert list(CommissionEntry.objects.filter(order=order).order_by("id").values_list("kind", "amount")) == [
        ("earn", 1435), ("reverse", -478), ("reverse", -957)]
    assert_ledgers_clean()


def test_a_retried_return_posts_once_and_more_than_sold_is_refused(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 2)])
    line = order.lines.get()
    args = dict(actor=chain.guide_a, order_id=order.id, client_ref="r", lines=[{"order_line_id": line.id, "quantity": 1}])
    first = services.return_create(**args)
    again = services.return_create(**args)
    assert again.replayed and again.order_return.pk == first.order_return.pk
    assert level(stock.wh_a, stock.cat.mug_sku) == (9, 0)
    before = sales_state()
    with pytest.raises(Conflict) as exc:
        services.return_create(actor=chain.guide_a, order_id=order.id, client_ref="r-2",
                               lines=[{"order_line_id": line.id, "quantity": 2}])
    assert exc.value.code == "return_exceeds_sale" and sales_state() == before


def test_stored_value_is_refunded_to_the_member(chain, stock):
    member = register(chain)
    member_services.stored_value_topup(actor=chain.guide_a, member_id=member.id, amount_fen=9900,
                                       store_id=chain.store_a.id, payment_ref="top")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], pay="stored_value", member_id=member.id)
    assert stored_value(member) == (0, 0)
    services.return_create(actor=chain.guide_a, order_id=order.id, lines=[{"order_line_id": order.lines.get().id,
                                                                           "quantity": 1}])
    assert stored_value(member) == (9900, 0)
    assert_ledgers_clean()


def test_ship_from_warehouse_ships_in_parts_and_returns_restock_the_virtual_pool(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 3)], mode="ship_from_warehouse")
    line = order.lines.get()
    services.shipment_create(actor=chain.guide_a, order_id=order.id, client_ref="s1",
                             lines=[{"order_line_id": line.id, "quantity": 1}])
    assert level(stock.virtual, stock.cat.tee_s) == (9, 2)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    again = services.shipment_create(actor=chain.guide_a, order_id=order.id, client_ref="s1",
                                     lines=[{"order_line_id": line.id, "quantity": 1}])
    assert again.replayed and level(stock.virtual, stock.cat.tee_s) == (9, 2)
    services.shipment_create(actor=chain.guide_a, order_id=order.id, client_ref="s2")
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED and level(stock.virtual, stock.cat.tee_s) == (7, 0)
    services.return_create(actor=chain.guide_a, order_id=order.id, lines=[{"order_line_id": line.id, "quantity": 1}])
    assert level(stock.virtual, stock.cat.tee_s) == (8, 0) and level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    assert_ledgers_clean()


def test_pickup_is_issued_at_collection(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 2)], mode="pickup")
    assert level(stock.wh_a, stock.cat.mug_sku) == (10, 2)
    services.shipment_create(actor=chain.guide_a, order_id=order.id, client_ref="collect")
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and level(stock.wh_a, stock.cat.mug_sku) == (8, 0)


def test_preorder_is_allocated_when_stock_arrives_then_collected(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 12)], mode="preorder")
    with pytest.raises(Conflict) as exc:
        services.order_preorder_allocate(actor=chain.guide_a, order_id=order.id)
    assert exc.value.code == "insufficient_stock"
    from yundian.sales.tests.factories import put

    put(stock, stock.wh_a, stock.cat.tee_m, 5)
    services.order_preorder_allocate(actor=chain.guide_a, order_id=order.id)
    assert level(stock.wh_a, stock.cat.tee_m) == (15, 12)
    services.shipment_create(actor=chain.guide_a, order_id=order.id, client_ref="c")
    assert level(stock.wh_a, stock.cat.tee_m) == (3, 0)


def test_cancel_of_an_unpaid_pickup_releases_its_reservation(chain, stock):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], mode="pickup", pay=None)
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 2)
    services.order_cancel(actor=chain.guide_a, order_id=order.id, reason="changed mind")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    assert_ledgers_clean()


def test_void_of_a_paid_sale_needs_approval_then_restocks_refunds_and_reverses(chain, stock):
    plan(chain, "0.10")
    member = register(chain)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.id)
    assert commission_of(chain.guide_a) == 990 and points(member) == 99
    before = sales_state()
    with pytest.raises(Forbidden) as exc:
        services.order_cancel(actor=chain.guide_a, order_id=order.id, reason="wrong item")
    assert exc.value.code == "approval_required"
    assert sales_state() == before
    approval_id = exc.value.details["approval_request_id"]
    services.approval_decide(actor=chain.manager_a, approval_id=approval_id, approve=True)
    services.order_cancel(actor=chain.guide_a, order_id=order.id, reason="wrong item",
                          approval={"approval_id": approval_id})
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (OrderStatus.CANCELLED, 9900)
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    assert commission_of(chain.guide_a) == 0 and points(member) == 0
    assert StockMove.objects.filter(source_type="return").count() == 1
    assert_ledgers_clean()
