"""Races on PostgreSQL with real threads and connections: row locks, not luck, keep stock right."""
import pytest

from yundian.core.errors import Conflict
from yundian.core.testing import race
from yundian.inventory.models import Reservation, StockMove
from yundian.inventory.services import stock_issue, stock_reserve, transfer_approve, transfer_request, transfer_ship
from yundian.org.tests.factories import fresh

from .factories import assert_ledgers_clean, level, make_stock, put

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_checkout_of_the_last_unit_by_two_clerks_sells_it_once(chain):
    stock = make_stock(chain)
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 1)
    clerk, manager = fresh(chain.guide_a), fresh(chain.manager_a)
    results = race(
        lambda: stock_issue(actor=clerk, lines=[(tee.id, stock.wh_a.id, 1)], source_type="order", source_id="1"),
        lambda: stock_issue(actor=manager, lines=[(tee.id, stock.wh_a.id, 1)], source_type="order", source_id="2"),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"]
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, Conflict) and error.code == "insufficient_stock"
    assert level(stock.wh_a, tee) == (0, 0)
    assert StockMove.objects.filter(kind="sale_issue").count() == 1
    assert_ledgers_clean()


def test_transfers_in_opposite_directions_at_once_do_not_deadlock(chain):
    stock = make_stock(chain)
    skus = [stock.cat.tee_s, stock.cat.tee_m, stock.cat.mug_sku]
    for sku in skus:
        put(stock, stock.wh_a, sku, 100)
        put(stock, stock.wh_b, sku, 100)
    admin = fresh(chain.admin)
    rounds = 5
    for i in range(rounds):
        # A -> B lists SKUs one way round, B -> A the other: without ordered locks this is the classic deadlock
        a_to_b = transfer_request(actor=admin, from_warehouse_id=stock.wh_a.id, to_warehouse_id=stock.wh_b.id,
                                  lines=[(s.id, 1) for s in skus])
        b_to_a = transfer_request(actor=admin, from_warehouse_id=stock.wh_b.id, to_warehouse_id=stock.wh_a.id,
                                  lines=[(s.id, 2) for s in reversed(skus)])
        transfer_approve(actor=admin, transfer_id=a_to_b.id)
        transfer_approve(actor=admin, transfer_id=b_to_a.id)
        results = race(lambda: transfer_ship(actor=fresh(chain.manager_a), transfer_id=a_to_b.id),
                       lambda: transfer_ship(actor=fresh(chain.manager_b), transfer_id=b_to_a.id))
        assert [kind for kind, _ in results] == ["ok", "ok"], results
    for sku in skus:
        assert level(stock.wh_a, sku) == (100 - rounds, 0)
        assert level(stock.wh_b, sku) == (100 - 2 * rounds, 0)
    assert_ledgers_clean()


def test_concurrent_reservations_never_exceed_stock(chain):
    stock = make_stock(chain)
    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    put(stock, stock.wh_a, tee, 5)
    put(stock, stock.wh_a, mug, 5)
    clerk = fresh(chain.guide_a)

    def reserve(i):
        # half the carts list the SKUs in the opposite order
        lines = [(tee.id, stock.wh_a.id, 1), (mug.id, stock.wh_a.id, 1)]
        return lambda: stock_reserve(actor=clerk, lines=lines[::-1] if i % 2 else lines, source_type="cart",
                                     source_id=str(i))

    results = race(*[reserve(i) for i in range(8)])
    assert sorted(kind for kind, _ in results) == ["error"] * 3 + ["ok"] * 5
    assert all(isinstance(v, Conflict) for kind, v in results if kind == "error")
    assert level(stock.wh_a, tee) == (5, 5) and level(stock.wh_a, mug) == (5, 5)
    assert Reservation.objects.filter(status="active").count() == 10
    assert_ledgers_clean()


def test_concurrent_first_receipts_creating_the_same_rows_in_opposite_order_do_not_deadlock(chain):
    from yundian.inventory.services import receipt_create, warehouse_create

    stock = make_stock(chain)
    skus = [stock.cat.tee_s, stock.cat.tee_m, stock.cat.mug_sku]
    admin = fresh(chain.admin)
    for i in range(4):
        # a new warehouse each round, so every balance row is created by the racing transactions themselves
        warehouse = warehouse_create(actor=admin, node_id=chain.hq.id, kind="central", code=f"CW-R{i}", name=f"R{i}")
        results = race(
            lambda: receipt_create(actor=fresh(chain.admin), warehouse_id=warehouse.id, lines=[(s.id, 2) for s in skus]),
            lambda: receipt_create(actor=fresh(chain.admin), warehouse_id=warehouse.id,
                                   lines=[(s.id, 3) for s in reversed(skus)]),
        )
        assert [kind for kind, _ in results] == ["ok", "ok"], results
        assert [level(warehouse, s) for s in skus] == [(5, 0)] * 3
    assert_ledgers_clean()


def test_two_sales_at_once_take_out_the_moving_average_cost_exactly_once_each(chain):
    from yundian.inventory.services import (purchase_order_approve, purchase_order_create, purchase_order_submit,
                                            receipt_create, supplier_create)

    from .factories import costed

    stock = make_stock(chain)
    tee, wh = stock.cat.tee_s, stock.wh_a
    supplier = supplier_create(actor=chain.admin, code="SUP-R", name="Race Supplier")
    for quantity, cost in ((4, 500), (2, 800)):  # 6 units worth 3600: ¥6.00 each
        order = purchase_order_create(actor=chain.admin, warehouse_id=wh.id, supplier_id=supplier.id,
                                      lines=[{"sku_id": tee.id, "quantity": quantity, "unit_cost": cost}])
        purchase_order_submit(actor=chain.admin, order_id=order.id)
        purchase_order_approve(actor=chain.admin, order_id=order.id)
        receipt_create(actor=chain.admin, warehouse_id=wh.id, order_id=order.id, lines=[(tee.id, quantity)])
    clerk, manager = fresh(chain.guide_a), fresh(chain.manager_a)
    results = race(
        lambda: stock_issue(actor=clerk, lines=[(tee.id, wh.id, 3)], source_type="order", source_id="1"),
        lambda: stock_issue(actor=manager, lines=[(tee.id, wh.id, 3)], source_type="order", source_id="2"),
    )
    assert sorted(kind for kind, _ in results) == ["ok", "ok"]
    # whichever came second saw the first's result under the lock: 3 x 600, then the rest (all of it)
    assert sorted(StockMove.objects.filter(kind="sale_issue").values_list("value", flat=True)) == [-1800, -1800]
    assert costed(wh, tee) == (0, 0, 0)
    assert_ledgers_clean()
