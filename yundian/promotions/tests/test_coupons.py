"""Coupons: campaigns, issuing by HQ / store / guide, redemption once per order and per code, limits, restoration."""
import pytest

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.promotions import services
from yundian.promotions.models import Coupon, CouponCampaign, CouponRedemption, CouponStatus

from .factories import campaign, line, make_catalogue, mismatches, price, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def redeem(chain, code, order_ref, member=None, store=None):
    return services.coupon_redeem(enterprise_id=chain.hq.enterprise_id, store=store or chain.store_a, code=code,
                                  order_ref=order_ref, member_id=member.pk if member else None, discount=1000)


def counts():
    return (CouponRedemption.objects.count(), list(CouponCampaign.objects.values_list("redeemed_count", flat=True)),
            sorted(Coupon.objects.values_list("status", flat=True)))


def test_a_unique_code_is_redeemed_once_and_the_same_order_replays(chain, cat):
    c = campaign(chain)
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=3)[0].code
    first = redeem(chain, code, "o-1")
    again = redeem(chain, code, "o-1")
    assert (first.replayed, again.replayed, again.redemption.pk) == (False, True, first.redemption.pk)
    before = counts()
    with pytest.raises(Conflict) as exc:
        redeem(chain, code, "o-2")
    assert exc.value.code == "coupon_used"
    assert counts() == before == (1, [1], ["available", "available", "redeemed"])
    assert mismatches() == []


def test_a_shared_code_needs_a_member_and_keeps_the_per_member_limit(chain, cat):
    c = campaign(chain, code_mode="shared", shared_code="double11", per_member_limit=2)
    member = register(chain)
    with pytest.raises(ValidationFailed) as exc:
        redeem(chain, "DOUBLE11", "o-0")
    assert exc.value.code == "member_required"
    redeem(chain, "double11", "o-1", member)
    redeem(chain, " DOUBLE11 ", "o-2", member)
    with pytest.raises(Conflict) as exc:
        redeem(chain, "DOUBLE11", "o-3", member)
    assert exc.value.code == "member_limit_reached"
    assert CouponCampaign.objects.get(pk=c.pk).redeemed_count == 2
    # pricing says so before checkout
    result = price(chain, [line(cat.tee_s)], member=member, codes=["DOUBLE11"])
    assert result.not_applicable[0]["reason"] == "member_limit_reached"


def test_the_total_limit_stops_redemptions(chain, cat):
    campaign(chain, code_mode="shared", shared_code="FIRST2", total_limit=2)
    for i in range(2):
        redeem(chain, "FIRST2", f"o-{i}", register(chain))
    with pytest.raises(Conflict) as exc:
        redeem(chain, "FIRST2", "o-9", register(chain))
    assert exc.value.code == "coupon_limit_reached"
    assert CouponRedemption.objects.count() == 2


def test_a_members_code_is_theirs_only_and_not_at_other_nodes_stores(chain, cat):
    c = campaign(chain, node=chain.store_b, actor=chain.manager_b, code="B")
    owner, other = register(chain, store=chain.store_b), register(chain, store=chain.store_b)
    code = services.coupon_issue(actor=chain.guide_b, campaign_id=c.pk, member_ids=[owner.pk])[0].code
    with pytest.raises(Conflict) as exc:
        redeem(chain, code, "o-1", other, store=chain.store_b)
    assert exc.value.code == "coupon_not_yours"
    with pytest.raises(Conflict) as exc:
        redeem(chain, code, "o-1", owner, store=chain.store_a)
    assert exc.value.code == "other_store"
    assert redeem(chain, code, "o-1", owner, store=chain.store_b).replayed is False


def test_guides_issue_to_their_members_only_and_not_in_bulk(chain, cat):
    c = campaign(chain)
    mine, theirs = register(chain), register(chain, store=chain.store_b)
    issued = services.coupon_issue(actor=chain.guide_a, campaign_id=c.pk, member_ids=[mine.pk])
    assert [(x.member_id, x.issued_by_id) for x in issued] == [(mine.pk, chain.guide_a.pk)]
    with pytest.raises(NotFound):
        services.coupon_issue(actor=chain.guide_a, campaign_id=c.pk, member_ids=[theirs.pk])
    with pytest.raises(Forbidden):
        services.coupon_issue(actor=chain.guide_a, campaign_id=c.pk, count=5)
    with pytest.raises(Conflict) as exc:  # per-member limit 1 also bounds issuing
        services.coupon_issue(actor=chain.manager_a, campaign_id=c.pk, member_ids=[mine.pk])
    assert exc.value.code == "member_limit_reached"
    assert Coupon.objects.count() == 1 and CouponCampaign.objects.get(pk=c.pk).issued_count == 1


def test_cancellation_gives_the_code_back_once_and_partial_returns_do_not(chain, cat):
    c = campaign(chain)
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code
    redeem(chain, code, "o-1")
    enterprise_id = chain.hq.enterprise_id
    assert services.coupon_restore(enterprise_id=enterprise_id, order_ref="o-1", reason="return", full=False) == []
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED
    assert len(services.coupon_restore(enterprise_id=enterprise_id, order_ref="o-1", reason="cancel")) == 1
    assert services.coupon_restore(enterprise_id=enterprise_id, order_ref="o-1", reason="cancel") == []
    assert Coupon.objects.get(code=code).status == CouponStatus.AVAILABLE
    assert CouponCampaign.objects.get(pk=c.pk).redeemed_count == 0
    redeem(chain, code, "o-2")  # usable again
    assert mismatches() == []


def test_a_never_restore_campaign_keeps_the_code_used(chain, cat):
    c = campaign(chain, restore_rule="never")
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code
    redeem(chain, code, "o-1")
    assert services.coupon_restore(enterprise_id=chain.hq.enterprise_id, order_ref="o-1", reason="cancel") == []
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED


def test_order_placed_redeems_what_the_pricing_applied(chain, cat):
    c = campaign(chain, tiers=[{"min": 5000, "off": 1500}])
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code
    result = price(chain, [line(cat.tee_s)], codes=[code])
    out = services.order_placed(store=chain.store_a, order_ref="o-7", pricing=result.as_dict())
    again = services.order_placed(store=chain.store_a, order_ref="o-7", pricing=result.as_dict())
    assert out == again and len(out["coupons"]) == 1
    assert CouponRedemption.objects.get().discount == 1500
    with pytest.raises(Conflict):
        services.order_placed(store=chain.store_a, order_ref="o-8", pricing=result.as_dict())
    assert CouponRedemption.objects.count() == 1


@pytest.mark.parametrize("kwargs,code", [
    ({"code_mode": "weird"}, "invalid_code_mode"),
    ({"code_mode": "shared", "shared_code": "has space"}, "invalid_code"),
    ({"code_mode": "unique", "shared_code": "X"}, "invalid_shared_code"),
    ({"per_member_limit": 0}, "invalid_number"),
    ({"restore_rule": "sometimes"}, "invalid_restore_rule"),
])
def test_bad_campaign_input_is_refused_and_nothing_is_written(chain, cat, kwargs, code):
    with pytest.raises(ValidationFailed) as exc:
        campaign(chain, **kwargs)
    assert exc.value.code == code
    assert CouponCampaign.objects.count() == 0


def test_voiding_an_unused_code(chain, cat):
    c = campaign(chain)
    coupon = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0]
    with pytest.raises(Forbidden):
        services.coupon_void(actor=chain.guide_a, coupon_id=coupon.pk)
    services.coupon_void(actor=chain.admin, coupon_id=coupon.pk)
    with pytest.raises(Conflict):
        redeem(chain, coupon.code, "o-1")
    assert CouponRedemption.objects.count() == 0
