"""Races on PostgreSQL with real threads and connections: the same POS order or payment sent 8 times at once is
one order / one payment, and stock moves once."""
import pytest

from yundian.core.testing import race_n
from yundian.inventory.models import StockMove
from yundian.org.tests.factories import fresh
from yundian.sales import services
from yundian.sales.models import Order, Payment
from yundian.sales.tests.factories import assert_ledgers_clean, commission_of, level, plan, stocked

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_eight_retries_of_one_pos_order_at_once_make_one_order_and_move_stock_once(chain):
    stock = stocked(chain)
    plan(chain, "0.05")
    clerk = fresh(chain.guide_a)
    tee = stock.cat.tee_s

    def create():
        return services.order_create(actor=fresh(clerk), store_id=chain.store_a.id, client_ref="till-1-000042",
                                     lines=[{"sku_id": tee.id, "quantity": 2}],
                                     payments=[{"method": "cash", "client_ref": "cash", "tendered": 20000}])

    results = race_n(8, lambda _i: create())
    assert [kind for kind, _ in results] == ["ok"] * 8, [r for r in results if r[0] == "error"]
    orders = {value.order.pk for _, value in results}
    assert len(orders) == 1 and Order.objects.count() == 1
    assert sorted(value.replayed for _, value in results) == [False] + [True] * 7
    assert Payment.objects.count() == 1
    assert StockMove.objects.filter(source_type="order", kind="sale_issue").count() == 1
    assert level(stock.wh_a, tee) == (8, 0)
    assert commission_of(chain.guide_a) == 990
    assert_ledgers_clean()


def test_eight_retries_of_one_payment_at_once_take_it_once(chain):
    stock = stocked(chain)
    order = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="o",
                                  lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1}]).order

    def pay():
        return services.payment_add(actor=fresh(chain.guide_a), order_id=order.pk,
                                     payment={"method": "card", "client_ref": "card-1"})

    results = race_n(8, lambda _i: pay())
    assert [kind for kind, _ in results] == ["ok"] * 8
    assert len({value.payment.pk for _, value in results}) == 1
    order.refresh_from_db()
    assert (order.paid_total, Payment.objects.filter(order=order).count()) == (2500, 1)


def test_different_payments_racing_for_one_order_never_overpay(chain):
    stock = stocked(chain)
    order = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="o",
                                  lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1}]).order
    counter = iter(range(100))

    def pay():
        return services.payment_add(actor=fresh(chain.guide_a), order_id=order.pk,
                                    payment={"method": "card", "client_ref": f"card-{next(counter)}"})

    results = race_n(8, lambda _i: pay())
    assert sorted(kind for kind, _ in results) == ["error"] * 7 + ["ok"]
    order.refresh_from_db()
    assert (order.paid_total, Payment.objects.filter(order=order).count()) == (2500, 1)


def test_a_single_use_coupon_in_twenty_checkouts_at_once_is_redeemed_by_one_order(chain):
    from yundian.core.errors import ValidationFailed
    from yundian.promotions import services as promo
    from yundian.promotions.models import Coupon, CouponRedemption

    stock = stocked(chain, units=50)
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="ONCE", name="Once",
                                            kind="threshold_amount", tiers=[{"min": 0, "off": 1000}])
    code = promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code
    clerk = fresh(chain.guide_a)

    def checkout(i):
        return services.order_create(actor=fresh(clerk), store_id=chain.store_a.id, client_ref=f"till-{i}",
                                     lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}], coupon_codes=[code],
                                     payments=[{"method": "card", "client_ref": "card"}])

    results = race_n(20, checkout, conflict_codes=True)
    booked = [value.order for kind, value in results if kind == "ok"]
    refused = [value for kind, value in results if kind != "ok"]
    assert len(booked) == 1 and booked[0].total == 8900
    # the losers saw the coupon taken either while pricing (422) or when redeeming it (409), and wrote nothing
    assert all(kind == "conflict" or isinstance(value, ValidationFailed) for kind, value in results if kind != "ok")
    assert len(refused) == 19
    assert Order.objects.count() == 1 and CouponRedemption.objects.get().order_ref == str(booked[0].pk)
    assert Coupon.objects.get(code=code).status == "redeemed"
    assert level(stock.wh_a, stock.cat.tee_s) == (49, 0)
    assert_ledgers_clean()
