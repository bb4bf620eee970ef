"""The only place members rows are locked. The member row is the mutex for everything that belongs to a member
(points balance and lots, stored value, growth, guide, consent): lock it first, then write with F() updates.

Order: several members are locked in one query by primary key (core.locking.lock_rows); members come after
orders and inventory and before commissions in the global order. Gift cards are claimed with a conditional
UPDATE after the member is locked.
"""
from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound
from yundian.core.locking import lock_rows

from .models import Member, Audience, MemberMerge, PointsAdjustment, PointsRule, Tier, TopUpRule


def lock_members(member_ids: Iterable[int], *, enterprise_id: int) -> dict[int, Member]:
    """Lock the given members (pk order) and return them by id; 404 if any is missing or of another enterprise."""
    ids = sorted(set(member_ids))
    # no select_related: FOR UPDATE would lock the joined home node, enterprise and tier rows too
    rows = lock_rows(Member.objects.filter(pk__in=ids, enterprise_id=enterprise_id))
    if len(rows) != len(ids):
        raise NotFound(_("Member not found."), code="member_not_found")
    return {m.pk: m for m in rows}


def lock_member(member_id: int, *, enterprise_id: int) -> Member:
    return lock_members([member_id], enterprise_id=enterprise_id)[member_id]


def lock_guide_members(guide_id: int, *, enterprise_id: int) -> list[Member]:
    """Every member bound to a guide, locked in pk order (for a handover)."""
    return lock_rows(Member.objects.filter(enterprise_id=enterprise_id, guide_id=guide_id))


def lock_adjustment(adjustment_id: int, *, enterprise_id: int) -> PointsAdjustment | None:
    rows = lock_rows(PointsAdjustment.objects.filter(pk=adjustment_id, enterprise_id=enterprise_id))
    return rows[0] if rows else None


def lock_merge(merge_id: int) -> MemberMerge:
    """The merge record, locked after both of its members (an unmerge runs once)."""
    return lock_rows(MemberMerge.objects.filter(pk=merge_id))[0]


def _lock_one(model, pk: int, enterprise_id: int):
    """One programme row of the enterprise, locked; None if there is none."""
    rows = lock_rows(model.objects.filter(pk=pk, enterprise_id=enterprise_id))
    return rows[0] if rows else None


def lock_points_rule(rule_id: int, *, enterprise_id: int) -> PointsRule | None:
    return _lock_one(PointsRule, rule_id, enterprise_id)


def lock_tier(tier_id: int, *, enterprise_id: int) -> Tier | None:
    return _lock_one(Tier, tier_id, enterprise_id)


def lock_topup_rule(rule_id: int, *, enterprise_id: int) -> TopUpRule | None:
    return _lock_one(TopUpRule, rule_id, enterprise_id)


def lock_audience(audience_id: int, *, enterprise_id: int):
    """Lock one member list row (the mutex for replacing its entries); None if missing or of another enterprise."""
    rows = lock_rows(Audience.objects.filter(pk=audience_id, enterprise_id=enterprise_id))
    return rows[0] if rows else None
