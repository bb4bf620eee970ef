"""Referral rewards (commission and points, reversed on returns) and the results of each promotion."""
import pytest

from yundian.core.errors import NotFound, ValidationFailed
from yundian.members.models import Member, PointsBalance
from yundian.members import services as member_services
from yundian.members.tests.factories import ledger_mismatches
from yundian.promotions import selectors, services
from yundian.promotions.models import PromotionUsage, ReferralEntry
from yundian.promotions.services import PaidLine

from .factories import campaign, line, make_catalogue, price, promo, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def test_a_guides_link_earns_commission_reversed_pro_rata_on_returns(chain, cat):
    services.referral_rule_set(actor=chain.admin, rate="0.05")  # default: 5% commission
    services.referral_rule_set(actor=chain.admin, rate="0.10", product_id=cat.tee.pk)
    link = services.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id, product_id=cat.tee.pk)
    assert services.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id, product_id=cat.tee.pk) == link
    buyer = register(chain)
    lines = [PaidLine(cat.tee.pk, 19800), PaidLine(cat.mug.pk, 2500)]  # a product link rewards that product only
    reward = services.referral_reward_for_order(share_code=link.code, order_ref="o-1", lines=lines,
                                                buyer_member_id=buyer.pk)
    assert (reward.reward_kind, reward.amount, reward.base_amount) == ("commission", 1980, 19800)
    assert services.referral_reward_for_order(share_code=link.code, order_ref="o-1", lines=lines).pk == reward.pk
    first = services.referral_reverse_for_return(order_ref="o-1", return_ref="r-1", returned_amount=9900)
    assert services.referral_reverse_for_return(order_ref="o-1", return_ref="r-1", returned_amount=9900).pk == first.pk
    second = services.referral_reverse_for_return(order_ref="o-1", return_ref="r-2", returned_amount=50000)
    assert (first.amount, second.amount) == (-990, -990)
    assert sum(ReferralEntry.objects.values_list("amount", flat=True)) == 0



def test_a_link_of_a_guide_who_left_earns_nothing_more(chain, cat):
    services.referral_rule_set(actor=chain.admin, rate="0.05")
    link = services.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id, product_id=cat.tee.pk)
    chain.guide_a.is_active = False  # handed over and disabled; their posters still circulate
    chain.guide_a.save(update_fields=["is_active"])
    buyer = register(chain)
    assert services.referral_reward_for_order(share_code=link.code, order_ref="o-9", lines=[PaidLine(cat.tee.pk, 19800)],
                                              buyer_member_id=buyer.pk) is None
    assert not ReferralEntry.objects.exists()

def test_a_members_link_earns_points_and_a_spent_reward_is_a_shortfall(chain, cat):
    services.referral_rule_set(actor=chain.admin, rate="0.10", reward_kind="points")
    sharer, buyer = register(chain), register(chain)
    link = services.share_link_create(member_id=sharer.pk, store_id=chain.store_a.id)
    reward = services.referral_reward_for_order(share_code=link.code, order_ref="o-1",
                                                lines=[PaidLine(cat.tee.pk, 50000)], buyer_member_id=buyer.pk)
    assert reward.amount == 50  # 10% of 500 yuan = 50 yuan -> 50 points
    assert PointsBalance.objects.get(member=sharer).points == 50
    member_services.points_redeem(actor=chain.guide_a, member_id=sharer.pk, points=40, store_id=chain.store_a.id,
                                  source_type="order", source_id="spent")
    reversal = services.referral_reverse_for_return(order_ref="o-1", return_ref="r-1", returned_amount=50000)
    assert (reversal.amount, reversal.shortfall) == (-10, 40)
    assert PointsBalance.objects.get(member=sharer).points == 0
    assert ledger_mismatches() == []
    # nobody earns on their own order
    assert services.referral_reward_for_order(share_code=link.code, order_ref="o-2",
                                              lines=[PaidLine(cat.tee.pk, 50000)], buyer_member_id=sharer.pk) is None


def test_share_links_are_for_the_stores_guides_and_real_products(chain, cat):
    with pytest.raises(NotFound):
        services.share_link_create(actor=chain.guide_a, store_id=chain.store_b.id)
    with pytest.raises(ValidationFailed) as exc:
        services.share_link_create(actor=chain.auditor, store_id=chain.store_a.id)
    assert exc.value.code == "not_a_guide"
    with pytest.raises(ValidationFailed):
        services.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id, product_id=10**9)
    with pytest.raises(NotFound):
        services.share_link_create(actor=chain.guide_a, store_id=10**9)
    with pytest.raises(NotFound):
        services.referral_reward_for_order(share_code="nope", order_ref="o-1", lines=[])
    assert ReferralEntry.objects.count() == 0


def test_results_count_orders_gmv_cost_new_members_and_repurchase_and_drop_cancellations(chain, cat):
    p = promo(chain, code="HQ10", rate="0.9")
    c = campaign(chain, code_mode="shared", shared_code="WELCOME", per_member_limit=5)
    old = register(chain)
    Member.objects.filter(pk=old.pk).update(created_at=p.created_at.replace(year=2020))
    old.refresh_from_db()
    new = register(chain)

    def order(member, ref, codes=()):
        result = price(chain, [line(cat.tee_s)], member=member, codes=codes)
        services.order_placed(store=chain.store_a, order_ref=ref, pricing=result.as_dict(), member=member)
        services.order_paid(store=chain.store_a, order_ref=ref, total=result.total, pricing=result.as_dict(),
                            member=member)
        return result

    order(old, "o-1")
    order(new, "o-2", ["WELCOME"])
    order(new, "o-3", ["WELCOME"])
    order(new, "o-4")
    services.order_paid(store=chain.store_a, order_ref="o-4", total=1, pricing={"applied": []})  # a replay: no-op
    services.order_cancelled(enterprise_id=chain.hq.enterprise_id, order_ref="o-4")
    promo_results = selectors.promotion_results(actor=chain.admin, source="promotion", ids=[p.pk])[p.pk]
    assert promo_results.as_dict() == {"orders": 3, "gmv": 8910 + 7910 + 7910, "discount": 990 * 3, "members": 2,
                                       "new_members": 1, "repeat_members": 1, "repurchase_rate": 0.5}
    coupon_results = selectors.promotion_results(actor=chain.admin, source="coupon", ids=[c.pk])[c.pk]
    assert (coupon_results.orders, coupon_results.discount, coupon_results.new_members) == (2, 2000, 1)
    assert PromotionUsage.objects.filter(is_reversed=True).count() == 1
    # store B's manager sees no orders of store A
    assert selectors.promotion_results(actor=chain.manager_b, source="promotion", ids=[p.pk]) == {}
