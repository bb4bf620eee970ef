"""The stock ledger: issue, reserve, release, return, ATP and the ledger checks."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.inventory.models import MoveKind, Reservation, StockBalance, StockMove
from yundian.inventory.selectors import atp
from yundian.inventory.services import (reservations_expire, stock_issue, stock_release, stock_reserve,
                                        stock_return)

from .factories import assert_ledgers_clean, level, make_stock, put, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return make_stock(chain)


def test_a_sale_takes_units_out_and_the_ledger_adds_up(stock):
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 5)
    moves = stock_issue(actor=stock.chain.guide_a, lines=[(tee.id, stock.wh_a.id, 2)], source_type="order",
                        source_id="O-1")
    assert [(m.kind, m.quantity) for m in moves] == [(MoveKind.SALE_ISSUE, -2)]
    assert level(stock.wh_a, tee) == (3, 0)
    assert_ledgers_clean()


def test_selling_more_than_on_hand_is_409_and_changes_nothing(stock):
    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    put(stock, stock.wh_a, tee, 1)
    put(stock, stock.wh_a, mug, 9)
    before = state()
    with pytest.raises(Conflict) as err:
        stock_issue(actor=stock.chain.guide_a, lines=[(mug.id, stock.wh_a.id, 1), (tee.id, stock.wh_a.id, 2)],
                    source_type="order", source_id="O-2")
    assert err.value.code == "insufficient_stock"
    assert err.value.details["lines"] == [{"sku_id": tee.id, "warehouse_id": stock.wh_a.id, "on_hand": 1,
                                           "reserved": 0, "available": 1, "change": -2, "reserved_change": 0}]
    assert state() == before


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True, "2", None, 10**12])
def test_bad_quantities_are_422_and_change_nothing(stock, quantity):
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    before = state()
    with pytest.raises(ValidationFailed) as err:
        stock_issue(actor=stock.chain.guide_a, lines=[(stock.cat.tee_s.id, stock.wh_a.id, quantity)],
                    source_type="order", source_id="O-3")
    assert err.value.code == "invalid_quantity"
    assert state() == before


def test_unknown_sku_or_warehouse_is_404_and_changes_nothing(stock, other_chain):
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    before = state()
    with pytest.raises(NotFound) as err:
        stock_issue(actor=stock.chain.guide_a, lines=[(999999, stock.wh_a.id, 1)], source_type="order", source_id="x")
    assert err.value.code == "sku_not_found"
    with pytest.raises(NotFound) as err:
        stock_issue(actor=stock.chain.guide_a, lines=[(stock.cat.tee_s.id, 999999, 1)], source_type="order",
                    source_id="x")
    assert err.value.code == "warehouse_not_found"
    # another store's warehouse is invisible to a clerk: 404, not 403
    with pytest.raises(NotFound):
        stock_issue(actor=stock.chain.guide_a, lines=[(stock.cat.tee_s.id, stock.wh_b.id, 1)], source_type="order",
                    source_id="x")
    # another enterprise's clerk cannot touch this SKU or warehouse
    other_guide = other_chain.guide_a
    with pytest.raises(NotFound):
        stock_issue(actor=other_guide, lines=[(stock.cat.tee_s.id, stock.wh_a.id, 1)], source_type="order", source_id="x")
    assert state() == before


def test_an_auditor_sees_stock_but_cannot_sell(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    before = state()
    with pytest.raises(Forbidden):
        stock_issue(actor=stock.chain.auditor, lines=[(stock.cat.tee_s.id, stock.wh_a.id, 1)], source_type="order",
                    source_id="x")
    assert state() == before


def test_reservations_hold_units_and_a_sale_of_the_same_order_consumes_them(stock):
    tee, guide = stock.cat.tee_s, stock.chain.guide_a
    put(stock, stock.wh_a, tee, 3)
    stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="order", source_id="O-9")
    assert level(stock.wh_a, tee) == (3, 2)
    with pytest.raises(Conflict):  # only one unit is free for another order
        stock_issue(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="order", source_id="O-10")
    stock_issue(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="order", source_id="O-9")
    assert level(stock.wh_a, tee) == (1, 0)
    assert Reservation.objects.get().status == "consumed"
    assert_ledgers_clean()


def test_reserving_more_than_available_is_409(stock):
    tee, guide = stock.cat.tee_s, stock.chain.guide_a
    put(stock, stock.wh_a, tee, 2)
    stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="cart", source_id="c1")
    before = state()
    with pytest.raises(Conflict):
        stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 1)], source_type="cart", source_id="c2")
    assert state() == before and Reservation.objects.count() == 1


def test_release_and_expiry_give_units_back(stock):
    tee, guide = stock.cat.tee_s, stock.chain.guide_a
    put(stock, stock.wh_a, tee, 4)
    stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 1)], source_type="cart", source_id="c1")
    stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="cart", source_id="c2",
                  expires_at=timezone.now() + timedelta(minutes=1))
    assert stock_release(actor=guide, source_type="cart", source_id="c1") == 1
    assert stock_release(actor=guide, source_type="cart", source_id="c1") == 0
    assert level(stock.wh_a, tee) == (4, 2)
    assert reservations_expire(now=timezone.now() + timedelta(minutes=2)) == 1
    assert level(stock.wh_a, tee) == (4, 0)
    assert sorted(Reservation.objects.values_list("status", flat=True)) == ["expired", "released"]
    assert_ledgers_clean()


def test_an_expired_hold_never_blocks_a_sale(stock):
    tee, guide = stock.cat.tee_s, stock.chain.guide_a
    put(stock, stock.wh_a, tee, 1)
    stock_reserve(actor=guide, lines=[(tee.id, stock.wh_a.id, 1)], source_type="cart", source_id="c1")
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    stock_issue(actor=guide, lines=[(tee.id, stock.wh_a.id, 1)], source_type="order", source_id="O-1")
    assert level(stock.wh_a, tee) == (0, 0)
    assert Reservation.objects.get().status == "expired"
    assert_ledgers_clean()


def test_bad_expiry_is_422(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 1)
    before = state()
    for expires in (timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(days=8)):
        with pytest.raises(ValidationFailed):
            stock_reserve(actor=stock.chain.guide_a, lines=[(stock.cat.tee_s.id, stock.wh_a.id, 1)],
                          source_type="cart", source_id="c", expires_at=expires)
    assert state() == before


def test_returns_are_limited_to_what_the_sale_issued(stock):
    tee, guide = stock.cat.tee_s, stock.chain.guide_a
    put(stock, stock.wh_a, tee, 3)
    stock_issue(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="order", source_id="O-1")
    stock_return(actor=guide, lines=[(tee.id, stock.wh_a.id, 1)], source_type="return", source_id="R-1",
                 sale_source_type="order", sale_source_id="O-1")
    before = state()
    with pytest.raises(Conflict) as err:
        stock_return(actor=guide, lines=[(tee.id, stock.wh_a.id, 2)], source_type="return", source_id="R-2",
                     sale_source_type="order", sale_source_id="O-1")
    assert err.value.code == "return_exceeds_sale"
    assert state() == before
    assert level(stock.wh_a, tee) == (2, 0)
    assert_ledgers_clean()


def test_atp_adds_store_virtual_and_central_pools_net_of_reservations(stock):
    tee = stock.cat.tee_s
    put(stock, stock.wh_a, tee, 5)
    put(stock, stock.virtual, tee, 7)
    put(stock, stock.central, tee, 100)
    put(stock, stock.wh_b, tee, 50)  # another store's shelf is not this store's pool
    stock_reserve(actor=stock.chain.guide_a, lines=[(tee.id, stock.wh_a.id, 2)], source_type="cart", source_id="c")
    result = atp(sku_ids=[tee.id, stock.cat.mug_sku.id], store_node=stock.chain.store_a)
    assert (result[tee.id].store, result[tee.id].virtual, result[tee.id].central, result[tee.id].total) == (3, 7, 100, 110)
    assert result[stock.cat.mug_sku.id].total == 0
    with pytest.raises(NotFound):
        atp(sku_ids=[tee.id], store_node=stock.chain.store_a, actor=stock.chain.manager_b)


def test_check_ledgers_reports_a_tampered_balance(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    StockBalance.objects.update(on_hand=6)
    with pytest.raises(SystemExit) as exit_:
        call_command("check_ledgers", "--only", "stock")
    assert exit_.value.code == 1


def test_the_database_refuses_a_negative_balance_even_if_code_forgot_to_check(stock):
    from django.db import IntegrityError, transaction

    put(stock, stock.wh_a, stock.cat.tee_s, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.update(reserved=2)
    assert StockMove.objects.count() == 1


def test_a_system_caller_sells_online_from_the_virtual_pool_but_cannot_mix_enterprises(stock, other_chain):
    from yundian.inventory.services import warehouse_create

    tee = stock.cat.tee_s
    put(stock, stock.virtual, tee, 3)
    stock_reserve(actor=None, lines=[(tee.id, stock.virtual.id, 2)], source_type="web", source_id="W-1")
    stock_issue(actor=None, lines=[(tee.id, stock.virtual.id, 2)], source_type="web", source_id="W-1")
    assert level(stock.virtual, tee) == (1, 0)
    foreign = warehouse_create(actor=other_chain.admin, node_id=other_chain.hq.id, kind="central", code="Z", name="Z")
    before = state()
    with pytest.raises(ValidationFailed) as err:
        stock_issue(actor=None, lines=[(tee.id, stock.virtual.id, 1), (tee.id, foreign.id, 1)], source_type="web",
                    source_id="W-2")
    assert err.value.code == "mixed_enterprises"
    with pytest.raises(NotFound):  # a SKU of one enterprise in another's warehouse
        stock_issue(actor=None, lines=[(tee.id, foreign.id, 1)], source_type="web", source_id="W-3")
    assert state() == before
    assert_ledgers_clean()
