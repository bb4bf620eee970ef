"""Sales and promotions joined: coupons redeemed at checkout and given back on cancel/return, the pricing stored on
the order, promotion results, 分销 rewards, flash-sale claims and group buys through real orders, offline sale times."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import NotFound, ValidationFailed
from yundian.members.tests.factories import register
from yundian.promotions import services as promo
from yundian.promotions.models import (
    Coupon, CouponRedemption, CouponStatus, GroupBuyGroup, GroupBuyMember, GroupBuyRefund,
    PromotionUsage, ReferralEntry,
)
from yundian.sales import services
from yundian.sales.models import Order, OrderStatus, Refund
from yundian.sales.tests.factories import assert_ledgers_clean, level, next_ref, sales_state, sell, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain)


def coupon_code(chain, *, off=1000, minimum=0, restore_rule=None):
    kwargs = {"restore_rule": restore_rule} if restore_rule else {}
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code=f"C{next_ref('')[1:]}",
                                            name="Coupon", kind="threshold_amount",
                                            tiers=[{"min": minimum, "off": off}], **kwargs)
    return promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code


def test_a_coupon_is_redeemed_with_the_order_and_its_pricing_is_stored(chain, stock):
    code = coupon_code(chain, off=1500, minimum=5000)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=[code.lower()])
    assert (order.subtotal, order.total, order.paid_total) == (9900, 8400, 8400)
    assert [(a["source"], a["coupon_code"]) for a in order.pricing["applied"]] == [("coupon", code)]
    assert order.pricing["total"] == 8400
    redemption = CouponRedemption.objects.get()
    assert (redemption.order_ref, redemption.discount) == (str(order.pk), 1500)
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED
    usage = PromotionUsage.objects.get()
    assert (usage.source, usage.order_ref, usage.gmv, usage.discount) == ("coupon", str(order.pk), 8400, 1500)
    assert_ledgers_clean()


def test_a_used_or_unknown_coupon_is_refused_with_the_reason_and_nothing_changes(chain, stock):
    code = coupon_code(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=[code])
    before = sales_state(), CouponRedemption.objects.count()
    for codes, reason in (([code], "coupon_used"), (["NOSUCHCODE"], "unknown_coupon")):
        with pytest.raises(ValidationFailed) as exc:
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=codes)
        assert exc.value.code == "coupon_not_applicable"
        assert exc.value.details["coupon_code"] == codes[0]
        assert exc.value.details["reason"] == reason
    for bad in ("CODE", ["A"] * 6, [12], ["x" * 33]):
        with pytest.raises(ValidationFailed) as exc:
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=bad)
        assert exc.value.code == "invalid_coupon_codes"
    assert (sales_state(), CouponRedemption.objects.count()) == before


def test_a_coupon_below_its_threshold_is_refused_not_silently_dropped(chain, stock):
    code = coupon_code(chain, off=1500, minimum=50000)
    before = sales_state()
    with pytest.raises(ValidationFailed) as exc:
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=[code])
    assert exc.value.details["reason"] == "threshold_not_met"
    assert sales_state() == before and not CouponRedemption.objects.exists()


def test_cancelling_an_order_gives_its_coupon_back_and_reverses_its_results(chain, stock):
    code = coupon_code(chain)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=[code], pay=None)
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED
    assert not PromotionUsage.objects.exists()  # results count paid orders only
    services.order_cancel(actor=chain.guide_a, order_id=order.pk, reason="changed mind")
    assert Coupon.objects.get(code=code).status == CouponStatus.AVAILABLE
    again = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], coupon_codes=[code])  # usable again
    assert again.total == 8900
    assert_ledgers_clean()


def test_a_full_return_restores_the_coupon_and_reverses_usage_but_a_partial_one_does_not(chain, stock):
    code = coupon_code(chain)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1), (stock.cat.mug_sku, 1)], coupon_codes=[code])
    lines = {l.sku_id: l for l in order.lines.all()}
    services.return_create(actor=chain.guide_a, order_id=order.pk, client_ref=next_ref("ret"),
                           lines=[{"order_line_id": lines[stock.cat.mug_sku.id].pk, "quantity": 1}])
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED
    assert PromotionUsage.objects.get().is_reversed is False
    services.return_create(actor=chain.guide_a, order_id=order.pk, client_ref=next_ref("ret"),
                           lines=[{"order_line_id": lines[stock.cat.tee_s.id].pk, "quantity": 1}])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RETURNED
    assert Coupon.objects.get(code=code).status == CouponStatus.AVAILABLE
    assert PromotionUsage.objects.get().is_reversed is True
    assert_ledgers_clean()


def test_an_automatic_promotion_is_applied_and_counted_once_per_paid_order(chain, stock):
    promo.promotion_create(actor=chain.admin, node_id=chain.hq.id, code="AUTO10", name="10% off", kind="percent_off",
                           rate="0.9", status="active")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], pay=None)
    assert order.total == 17820 and not PromotionUsage.objects.exists()
    services.payment_add(actor=chain.guide_a, order_id=order.pk, payment={"method": "card", "client_ref": "c1"})
    services.payment_add(actor=chain.guide_a, order_id=order.pk, payment={"method": "card", "client_ref": "c1"})
    usage = PromotionUsage.objects.get()
    assert (usage.source, usage.gmv, usage.discount, usage.store_id) == ("promotion", 17820, 1980, chain.store_a.id)


def test_the_clerks_discount_is_checked_against_what_is_left_after_promotions(chain, stock):
    promo.promotion_create(actor=chain.admin, node_id=chain.hq.id, code="HALF", name="Half", kind="percent_off",
                           rate="0.5", status="active")
    before = sales_state()
    with pytest.raises(ValidationFailed) as exc:  # 9900 list, 4950 after the promotion
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], order_discount=5000)
    assert exc.value.code == "discount_too_large"
    assert sales_state() == before


def test_a_paid_order_through_a_share_link_rewards_the_sharer_and_a_return_takes_it_back(chain, stock):
    promo.referral_rule_set(actor=chain.admin, rate="0.10")
    link = promo.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], share_code=link.code)
    assert order.share_code == link.code
    reward = ReferralEntry.objects.get(order_ref=str(order.pk))
    assert (reward.amount, reward.link_id) == (990, link.pk)
    assert PromotionUsage.objects.get(source="referral").gmv == 9900
    line = order.lines.get()
    services.return_create(actor=chain.guide_a, order_id=order.pk, client_ref=next_ref("ret"),
                           lines=[{"order_line_id": line.pk, "quantity": 1}])
    assert sum(ReferralEntry.objects.filter(link=link).values_list("amount", flat=True)) == 0


def test_an_unknown_or_foreign_share_link_is_refused(chain, other_chain, stock):
    foreign = promo.share_link_create(actor=other_chain.guide_a, store_id=other_chain.store_a.id)
    before = sales_state()
    for code, error in (("nosuchlink", NotFound), (foreign.code, NotFound), ("has space", ValidationFailed)):
        with pytest.raises(error):
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], share_code=code)
    assert sales_state() == before


def test_a_flash_sale_claim_is_sold_through_an_order_at_its_price(chain, stock):
    member = register(chain)
    sale = promo.flash_sale_create(actor=chain.admin, node_id=chain.hq.id, code="FS1", name="秒杀",
                                   sku_id=stock.cat.tee_s.pk, price=1990, cap=5, per_member_limit=1,
                                   starts_at=timezone.now() - timedelta(minutes=1),
                                   ends_at=timezone.now() + timedelta(hours=1))
    claim = promo.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, client_ref="fs-1").claim
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.pk, pay=None)
    assert order.total == 1990
    claim.refresh_from_db()
    assert (claim.order_ref, claim.status) == (str(order.pk), "ordered")
    services.order_cancel(actor=chain.guide_a, order_id=order.pk, reason="changed mind")
    claim.refresh_from_db()
    assert claim.status == "released"
    sale.refresh_from_db()
    assert sale.sold == 0
    assert_ledgers_clean()


def test_a_failed_group_buy_voids_each_paid_order_once_through_sales(chain, stock):
    campaign = promo.group_buy_create(actor=chain.admin, node_id=chain.hq.id, code="GB1", name="拼团",
                                      sku_id=stock.cat.tee_s.pk, price_tiers=[{"size": 2, "price": 8900}], cap=10,
                                      starts_at=timezone.now() - timedelta(minutes=1),
                                      ends_at=timezone.now() + timedelta(days=2), window_minutes=30)
    leader = register(chain)
    group = promo.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=2)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=leader.pk, mode="pickup",
                 pay="card")
    assert (order.total, order.status) == (8900, OrderStatus.PAID)
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 1)
    place = GroupBuyMember.objects.get(group=group)
    assert (place.order_ref, place.status, place.amount) == (str(order.pk), "paid", 8900)
    later = timezone.now() + timedelta(minutes=31)
    assert promo.group_buy_expire_due(now=later) == {"failed": 1, "refunded": 1, "skipped": 0}
    assert promo.group_buy_expire_due(now=later) == {"failed": 0, "refunded": 0, "skipped": 0}
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (OrderStatus.CANCELLED, 8900)
    assert Refund.objects.filter(payment__order=order).count() == 1
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)  # the pickup reservation is released
    assert GroupBuyRefund.objects.count() == 1 and GroupBuyGroup.objects.get(pk=group.pk).status == "failed"
    assert_ledgers_clean()


def test_an_offline_sale_is_dated_and_priced_when_the_till_rang_it_up(chain, stock):
    rung = timezone.now() - timedelta(hours=3)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], client_ref="till-9-1", placed_at=rung)
    assert order.placed_at == rung and order.paid_at == rung
    assert order.received_at >= rung + timedelta(hours=3) - timedelta(seconds=5)
    again = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="till-9-1",
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                                  payments=[{"method": "cash", "client_ref": "p1"}], placed_at=rung.isoformat())
    assert again.replayed and again.order.pk == order.pk
    online_first = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="till-9-1",
                                         lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                                         payments=[{"method": "cash", "client_ref": "p1"}])
    assert online_first.replayed and online_first.order.pk == order.pk
    before = sales_state()
    for bad, code in ((timezone.now() + timedelta(hours=1), "placed_at_in_future"),
                      (timezone.now() - timedelta(days=31), "placed_at_too_old"),
                      ("yesterday", "invalid_placed_at"), ("2026-11-20T10:00:00", "invalid_placed_at")):
        with pytest.raises(ValidationFailed) as exc:
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], placed_at=bad)
        assert exc.value.code == code
    assert sales_state() == before
