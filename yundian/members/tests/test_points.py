"""Points: earning by rules, FIFO lots and expiry, redemption, refunds and reversals, adjustments with approval."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from yundian.catalog.models import Category
from yundian.core.errors import Conflict, Forbidden, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.members import services
from yundian.members.models import PointsEntry, PointsLot, PointsRule
from yundian.members.selectors import program_get
from yundian.members.services import EarnLine

from .factories import earn, ledger_mismatches, lots, points, register


def _lot_expires(member, days_from_now):
    """Move the member's newest lot's expiry (as if it had been earned earlier)."""
    lot = PointsLot.objects.filter(member=member).order_by("-id").first()
    PointsLot.objects.filter(pk=lot.pk).update(expires_at=timezone.now() + timedelta(days=days_from_now))
    return lot


def test_redemption_takes_the_earliest_expiring_lot_first_and_expiry_takes_only_due_lots(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")
    old = _lot_expires(member, 5)
    earn(chain, member, 20_000, "o-2")
    new = _lot_expires(member, 200)

    services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=30, store_id=chain.store_a.id,
                           source_type="order", source_id="o-3")

    assert PointsLot.objects.get(pk=old.pk).remaining == 70 and PointsLot.objects.get(pk=new.pk).remaining == 200

    expired = services.points_expire_due(now=timezone.now() + timedelta(days=6))
    assert expired == 1
    assert points(member) == 200
    assert PointsLot.objects.get(pk=old.pk).remaining == 0 and PointsLot.objects.get(pk=new.pk).remaining == 200
    assert list(PointsEntry.objects.filter(member=member, kind="expire").values_list("points", "source_id")) == [
        (-70, str(old.pk))]
    # a second run (or a restarted scheduler) expires nothing more
    assert services.points_expire_due(now=timezone.now() + timedelta(days=6)) == 0
    assert points(member) == 200
    assert ledger_mismatches() == []


def test_rules_per_store_and_category_and_the_tier_multiplier_decide_the_points(chain):
    from yundian.members.models import Tier

    food = Category.objects.create(enterprise=chain.hq.enterprise, name="食品", code="food", path="", depth=0)
    Category.objects.filter(pk=food.pk).update(path=f"/{food.pk}/")
    snacks = Category.objects.create(enterprise=chain.hq.enterprise, parent=food, name="零食", code="snacks",
                                     path=f"/{food.pk}/", depth=1)
    Category.objects.filter(pk=snacks.pk).update(path=f"/{food.pk}/{snacks.pk}/")
    PointsRule.objects.create(enterprise=chain.hq.enterprise, name="food x2", category=food, points_per_yuan=2)
    PointsRule.objects.create(enterprise=chain.hq.enterprise, name="east food x3", node=chain.east, category=food,
                              points_per_yuan=3)
    Tier.objects.create(enterprise=chain.hq.enterprise, code="gold", name="Gold", rank=1, min_growth=0,
                        points_multiplier=Decimal("1.5"))
    member = register(chain)

    result = services.points_earn_for_order(
        actor=chain.guide_a, member_id=member.pk, order_ref="o-1", store_id=chain.store_a.id,
        lines=[EarnLine(1_000, snacks.pk), EarnLine(1_050, None)])

    # snacks in store A (east): 10 yuan x 3; uncategorised: 10.5 yuan x default 1 -> 40.5 x 1.5 = 60.75 -> 60
    assert result.points == 60 and result.growth == 20
    assert points(member) == 60

    at_b = services.points_earn_for_order(
        actor=chain.guide_b, member_id=member.pk, order_ref="o-2", store_id=chain.store_b.id,
        lines=[EarnLine(1_000, snacks.pk)])
    assert at_b.points == 30  # 10 yuan x 2 (HQ food rule) x 1.5: a member of store A earns in store B too


def test_the_same_order_earns_once_and_its_return_takes_back_pro_rata_never_below_zero(chain):
    member = register(chain)
    first = earn(chain, member, 10_000, "o-1")
    again = earn(chain, member, 10_000, "o-1")
    assert first.points == 100 and again.replayed and points(member) == 100

    services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=80, store_id=chain.store_a.id,
                           source_type="order", source_id="o-2")
    half = services.points_reverse_for_return(actor=chain.guide_a, member_id=member.pk, order_ref="o-1",
                                              return_ref="r-1", returned_amount_fen=5_000, store_id=chain.store_a.id)
    assert (half.points, half.shortfall) == (20, 30)
    assert points(member) == 0
    replay = services.points_reverse_for_return(actor=chain.guide_a, member_id=member.pk, order_ref="o-1",
                                                return_ref="r-1", returned_amount_fen=5_000, store_id=chain.store_a.id)
    assert (replay.points, replay.shortfall) == (20, 30) and points(member) == 0

    with pytest.raises(ValidationFailed) as exc:
        services.points_reverse_for_return(actor=chain.guide_a, member_id=member.pk, order_ref="o-1",
                                           return_ref="r-2", returned_amount_fen=5_001, store_id=chain.store_a.id)
    assert exc.value.code == "return_exceeds_order"
    assert ledger_mismatches() == []


def test_redeemed_points_are_given_back_once_and_not_beyond_the_redemption(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")
    services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=60, store_id=chain.store_a.id,
                           source_type="order", source_id="o-2")
    services.points_redeem_refund(actor=chain.guide_a, member_id=member.pk, source_type="order", source_id="o-2",
                                  refund_ref="c-1", points=40, store_id=chain.store_a.id)
    assert points(member) == 80
    with pytest.raises(ValidationFailed):
        services.points_redeem_refund(actor=chain.guide_a, member_id=member.pk, source_type="order", source_id="o-2",
                                      refund_ref="c-2", points=21, store_id=chain.store_a.id)
    assert points(member) == 80
    assert ledger_mismatches() == []


def test_redeeming_more_than_the_balance_is_a_409_and_changes_nothing(chain):
    member = register(chain)
    earn(chain, member, 5_000, "o-1")
    count = PointsEntry.objects.count()
    with pytest.raises(Conflict) as exc:
        services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=51, store_id=chain.store_a.id,
                               source_type="order", source_id="o-2")
    assert exc.value.code == "insufficient_points"
    assert PointsEntry.objects.count() == count and points(member) == 50 and lots(member)[0][0] == 50


def test_large_adjustments_wait_for_another_managers_approval_and_are_audited(chain):
    member = register(chain)
    threshold = program_get(chain.hq.enterprise_id).adjust_approval_threshold
    small = services.points_adjust(actor=chain.manager_a, member_id=member.pk, points=threshold, reason="goodwill")
    assert small.status == "posted" and points(member) == threshold

    big = services.points_adjust(actor=chain.manager_a, member_id=member.pk, points=threshold + 1, reason="migration")
    assert big.status == "pending" and points(member) == threshold
    with pytest.raises(Forbidden):  # a store manager may not approve
        services.points_adjustment_approve(actor=chain.manager_a, adjustment_id=big.pk)
    with pytest.raises(Forbidden):  # nor the guide adjust at all
        services.points_adjust(actor=chain.guide_a, member_id=member.pk, points=1, reason="x")

    services.points_adjustment_approve(actor=chain.east_manager, adjustment_id=big.pk)
    assert points(member) == 2 * threshold + 1
    with pytest.raises(Conflict):
        services.points_adjustment_approve(actor=chain.east_manager, adjustment_id=big.pk)
    actions = list(AuditEntry.objects.filter(target_type="members.member", target_id=str(member.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["points.adjust", "points.adjust", "points.adjust.approve"]
    assert ledger_mismatches() == []


def test_a_negative_adjustment_beyond_the_balance_is_refused_and_changes_nothing(chain):
    member = register(chain)
    earn(chain, member, 1_000, "o-1")
    with pytest.raises(Conflict):
        services.points_adjust(actor=chain.manager_a, member_id=member.pk, points=-11, reason="typo")
    assert points(member) == 10
    assert not member.points_adjustments.exists()
