"""Growth and tiers: upgrade at once, downgrade only at the review; benefits for pricing; birthday gifts."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from yundian.core.errors import Forbidden
from yundian.members import services
from yundian.members.models import Member, PointsEntry, TierChange
from yundian.members.selectors import member_benefits

from .factories import earn, points, register


@pytest.fixture
def tiers(chain):
    silver = services.tier_create(actor=chain.admin, code="silver", name="银卡", rank=1, min_growth=100,
                                  discount_rate="0.98", points_multiplier="1.2")
    gold = services.tier_create(actor=chain.admin, code="gold", name="金卡", rank=2, min_growth=1000,
                                discount_rate="0.95", free_shipping=True, points_multiplier="1.5",
                                birthday_gift_points=200)
    return silver, gold


def test_growth_upgrades_at_once_and_the_review_downgrades_after_the_window(chain, tiers):
    silver, gold = tiers
    member = register(chain)
    earn(chain, member, 50_000, "o-1")  # 500 growth -> silver
    member.refresh_from_db()
    assert member.tier == silver
    earn(chain, member, 60_000, "o-2")  # 1100 -> gold at once
    member.refresh_from_db()
    assert member.tier == gold
    benefits = member_benefits(member)
    assert (benefits.discount_rate, benefits.free_shipping, benefits.points_multiplier) == (
        Decimal("0.950"), True, Decimal("1.50"))

    # a review before the due date changes nothing
    assert services.tier_review_due(now=timezone.now() + timedelta(days=10)) == {"upgrade": 0, "downgrade": 0, "kept": 0}
    # the window (365 days) has passed with no new growth: downgraded at the review, not before
    later = timezone.now() + timedelta(days=366)
    assert services.tier_review_due(now=later) == {"upgrade": 0, "downgrade": 1, "kept": 0}
    member.refresh_from_db()
    assert member.tier is None
    assert list(TierChange.objects.filter(member=member).order_by("id").values_list("reason", flat=True)) == [
        "upgrade", "upgrade", "downgrade"]
    assert member_benefits(member).discount_rate == Decimal("1")


def test_a_return_lowers_growth_but_the_tier_waits_for_the_review(chain, tiers):
    silver, gold = tiers
    member = register(chain)
    earn(chain, member, 100_000, "o-1")  # 1000 growth: gold
    services.points_reverse_for_return(actor=chain.guide_a, member_id=member.pk, order_ref="o-1", return_ref="r-1",
                                       returned_amount_fen=85_000, store_id=chain.store_a.id)  # 150 growth left
    member.refresh_from_db()
    assert member.tier == gold  # no downgrade between reviews

    Member.objects.filter(pk=member.pk).update(tier_review_at=timezone.now())  # the review date has come
    assert services.tier_review_due(now=timezone.now()) == {"upgrade": 0, "downgrade": 1, "kept": 0}
    member.refresh_from_db()
    assert member.tier == silver


def test_only_hq_defines_tiers(chain):
    with pytest.raises(Forbidden):
        services.tier_create(actor=chain.east_manager, code="x", name="x", rank=5, min_growth=5)


def test_birthday_members_of_a_tier_get_their_gift_once_a_year(chain, tiers):
    today = timezone.localdate()
    member = register(chain, birthday=date(1990, today.month, min(today.day, 28)))
    earn(chain, member, 100_000, "o-1")
    day = date(today.year, today.month, min(today.day, 28))
    before = points(member)
    assert services.points_birthday_gifts(day=day) == 1
    assert services.points_birthday_gifts(day=day) == 0
    assert points(member) == before + 200
    assert PointsEntry.objects.filter(member=member, kind="birthday").count() == 1
    assert Member.objects.get(pk=member.pk).tier.code == "gold"
