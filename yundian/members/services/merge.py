"""One-ID merges and unmerges.

A merge moves everything of `absorbed` to `survivor` and writes down what moved in `MemberMerge.moved`:
- identities: re-pointed (their ids recorded);
- points: a MERGE_OUT entry drains the absorbed member's lots, a MERGE_IN entry opens the same lots (same
  remaining points, same expiry) on the survivor;
- stored value: MERGE_OUT / MERGE_IN entries move principal and bonus;
- growth inside the window: each entry is mirrored (out on absorbed, in on survivor, same date) so tiers see it;
- guide: the survivor keeps theirs; if they have none they take the absorbed member's;
- consent: channels the survivor has never answered take the absorbed member's answer.
Ledger rows are never edited: moves are reversing + re-posting entries, so every ledger keeps summing to its
balance. An unmerge posts the mirror image (UNMERGE_OUT / UNMERGE_IN), recreating the absorbed member's lots
exactly as they were at the merge; if the survivor has since spent what moved, it is a 409.
"""
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, ValidationFailed
from yundian.core.outbox import outbox_emit
from yundian.org.models import Staff
from yundian.org.roles import Perm

from .. import locks, selectors
from ..models import (
    BindingKind, ConsentState, GrowthEntry, GrowthKind, Member, MemberIdentity, MemberMerge, MemberStatus, MergeStatus,
    PointsEntry, PointsKind, PointsLot, StoredValueKind,
)
from . import growth as growth_services
from . import points as points_services
from . import stored_value as sv_services
from ._common import clean_text, require_active
from .members import _bind, consent_record


def _iso(value):
    return value.isoformat() if value else None


def merge_into(survivor: Member, absorbed: Member, *, actor: Staff | None, rule: str, reason: str) -> MemberMerge:
    """Merge `absorbed` into `survivor` (caller holds both member locks). See the module docstring."""
    require_active(survivor)
    require_active(absorbed)
    if survivor.pk == absorbed.pk or survivor.enterprise_id != absorbed.enterprise_id:
        raise ValidationFailed(_("Pick two different members."), code="same_member")
    merge = MemberMerge.objects.create(enterprise_id=survivor.enterprise_id, survivor=survivor, absorbed=absorbed,
                                       rule=rule, reason=reason, merged_by=actor)
    source = str(merge.pk)
    moved: dict = {}
    identity_ids = list(MemberIdentity.objects.filter(member=absorbed).order_by("pk").values_list("pk", flat=True))
    MemberIdentity.objects.filter(pk__in=identity_ids).update(member=survivor, updated_at=timezone.now())
    moved["identities"] = identity_ids

    lots = list(PointsLot.objects.filter(member=absorbed, remaining__gt=0).order_by("id"))
    total = sum(lot.remaining for lot in lots)
    moved["points"] = {"total": total, "lots": []}
    if total:
        points_services.debit(absorbed, kind=PointsKind.MERGE_OUT, points=total, source_type="merge",
                              source_id=source, prefer_lots=[lot.pk for lot in lots], actor=actor)
        entry = points_services.credit(survivor, kind=PointsKind.MERGE_IN, points=total, source_type="merge",
                                       source_id=source, lots=[(lot.remaining, lot.expires_at) for lot in lots],
                                       actor=actor, detail={"from_member": absorbed.pk})
        moved["points"]["lots"] = [{"from": old.pk, "to": new.pk, "points": old.remaining,
                                    "expires_at": _iso(old.expires_at)} for old, new in zip(lots, entry.new_lots)]

    principal, bonus = sv_services.balance_of(absorbed)
    moved["stored_value"] = {"principal": principal, "bonus": bonus}
    if principal or bonus:
        sv_services.post(absorbed, kind=StoredValueKind.MERGE_OUT, principal=-principal, bonus=-bonus,
                         source_type="merge", source_id=source, actor=actor)
        sv_services.post(survivor, kind=StoredValueKind.MERGE_IN, principal=principal, bonus=bonus,
                         source_type="merge", source_id=source, actor=actor)

    window = selectors.program_get(survivor.enterprise_id).growth_window_days
    since = timezone.now() - timedelta(days=window)
    growth_rows = list(GrowthEntry.objects.filter(member=absorbed, occurred_at__gt=since).values("occurred_at")
                       .annotate(total=Sum("growth"), amount=Sum("amount_fen")).order_by("occurred_at"))
    moved["growth"] = []
    for n, row in enumerate(r for r in growth_rows if r["total"]):
        key = f"{source}:{n}"
        growth_services.growth_post(absorbed, kind=GrowthKind.MERGE_OUT, growth=-row["total"],
                                    occurred_at=row["occurred_at"], source_type="merge", source_id=key,
                                    amount_fen=-row["amount"])
        growth_services.growth_post(survivor, kind=GrowthKind.MERGE_IN, growth=row["total"],
                                    occurred_at=row["occurred_at"], source_type="merge", source_id=key,
                                    amount_fen=row["amount"])
        moved["growth"].append({"key": key, "growth": row["total"], "amount": row["amount"],
                                "at": _iso(row["occurred_at"])})

    moved["guide_taken"] = None
    moved["absorbed_guide"] = absorbed.guide_id
    if absorbed.guide_id and survivor.guide_id is None:
        _bind(survivor, absorbed.guide, kind=BindingKind.MERGE, actor=actor, reason=f"merge {merge.pk}")
        moved["guide_taken"] = absorbed.guide_id
    if absorbed.guide_id:
        _bind(absorbed, None, kind=BindingKind.MERGE, actor=actor, reason=f"merge {merge.pk}")

    answered = set(ConsentState.objects.filter(member=survivor).values_list("channel", flat=True))
    moved["consent"] = []
    for state in ConsentState.objects.filter(member=absorbed).exclude(channel__in=answered).order_by("channel"):
        consent_record(survivor, channel=state.channel, granted=state.granted, source="merge", actor=actor,
                       note=f"merge {merge.pk}")
        moved["consent"].append(state.channel)

    Member.objects.filter(pk=absorbed.pk).update(status=MemberStatus.MERGED, merged_into=survivor,
                                                 updated_at=timezone.now())
    absorbed.status, absorbed.merged_into = MemberStatus.MERGED, survivor
    outbox_emit(enterprise_id=survivor.enterprise_id, topic="member.merged", key=absorbed.pk,
                payload={"survivor": survivor.pk, "merge": merge.pk})
    merge.moved = moved
    merge.save(update_fields=["moved", "updated_at"])
    growth_services.tier_upgrade_if_qualified(survivor)
    audit_record(actor=actor, enterprise=survivor.enterprise, action="member.merge", target=survivor, reason=reason,
                 scope_path=survivor.home.path,
                 after={"merge": merge.pk, "absorbed": absorbed.pk, "rule": rule, "identities": len(identity_ids),
                        "points": total, "stored_value": principal + bonus})
    return merge


@transaction.atomic
def member_merge(*, actor: Staff, survivor_id: int, absorbed_id: int, reason: str) -> MemberMerge:
    """Merge two members by hand (member.merge at both homes; a reason required). Locks: both members, pk order."""
    reason = clean_text(reason, "reason", required=True)
    if survivor_id == absorbed_id:
        raise ValidationFailed(_("Pick two different members."), code="same_member")
    selectors.member_get(actor=actor, member_id=survivor_id, perm=Perm.MEMBER_MERGE)
    selectors.member_get(actor=actor, member_id=absorbed_id, perm=Perm.MEMBER_MERGE)
    locked = locks.lock_members([survivor_id, absorbed_id], enterprise_id=actor.enterprise_id)
    return merge_into(locked[survivor_id], locked[absorbed_id], actor=actor, rule="manual", reason=reason)


@transaction.atomic
def member_unmerge(*, actor: Staff, merge_id: int, reason: str) -> MemberMerge:
    """Undo a merge (member.merge at both homes): identities go back, points lots and stored value are posted back
    exactly as they were at the merge, mirrored growth is reversed. 409 if the survivor no longer holds what moved
    or was itself merged since. Audited. Locks: both members, pk order."""
    reason = clean_text(reason, "reason", required=True)
    merge = selectors.merge_get(actor=actor, merge_id=merge_id)
    selectors.member_get(actor=actor, member_id=merge.survivor_id, perm=Perm.MEMBER_MERGE)
    selectors.member_get(actor=actor, member_id=merge.absorbed_id, perm=Perm.MEMBER_MERGE)
    locked = locks.lock_members([merge.survivor_id, merge.absorbed_id], enterprise_id=actor.enterprise_id)
    survivor, absorbed = locked[merge.survivor_id], locked[merge.absorbed_id]
    merge = locks.lock_merge(merge.pk)
    if merge.status != MergeStatus.MERGED:
        raise Conflict(_("This merge was already undone."), code="merge_undone")
    if survivor.status != MemberStatus.ACTIVE:
        raise Conflict(_("Undo the later merge of the surviving member first."), code="merge_not_latest")
    moved, source = merge.moved, str(merge.pk)

    points_moved = moved.get("points", {"total": 0, "lots": []})
    if points_moved["total"] > points_services.balance_of(survivor):
        raise Conflict(_("The points that came with the merge were spent; adjust before undoing."),
                       code="merged_points_spent")
    principal, bonus = sv_services.balance_of(survivor)
    sv_moved = moved.get("stored_value", {"principal": 0, "bonus": 0})
    if sv_moved["principal"] > principal or sv_moved["bonus"] > bonus:
        raise Conflict(_("The stored value that came with the merge was spent."), code="merged_stored_value_spent")

    MemberIdentity.objects.filter(pk__in=moved.get("identities", []), member=survivor).update(
        member=absorbed, updated_at=timezone.now())

    if points_moved["total"]:
        points_services.debit(survivor, kind=PointsKind.UNMERGE_OUT, points=points_moved["total"],
                              source_type="merge", source_id=source,
                              prefer_lots=[lot["to"] for lot in points_moved["lots"]], actor=actor)
        points_services.credit(absorbed, kind=PointsKind.UNMERGE_IN, points=points_moved["total"],
                               source_type="merge", source_id=source, actor=actor,
                               lots=[(lot["points"], parse_datetime(lot["expires_at"]) if lot["expires_at"] else None)
                                     for lot in points_moved["lots"]])
    if sv_moved["principal"] or sv_moved["bonus"]:
        sv_services.post(survivor, kind=StoredValueKind.UNMERGE_OUT, principal=-sv_moved["principal"],
                         bonus=-sv_moved["bonus"], source_type="merge", source_id=source, actor=actor)
        sv_services.post(absorbed, kind=StoredValueKind.UNMERGE_IN, principal=sv_moved["principal"],
                         bonus=sv_moved["bonus"], source_type="merge", source_id=source, actor=actor)
    for row in moved.get("growth", []):
        at = parse_datetime(row["at"])
        growth_services.growth_post(survivor, kind=GrowthKind.UNMERGE_OUT, growth=-row["growth"], occurred_at=at,
                                    source_type="merge", source_id=row["key"], amount_fen=-row["amount"])
        growth_services.growth_post(absorbed, kind=GrowthKind.UNMERGE_IN, growth=row["growth"], occurred_at=at,
                                    source_type="merge", source_id=row["key"], amount_fen=row["amount"])

    if moved.get("guide_taken") and survivor.guide_id == moved["guide_taken"]:
        _bind(survivor, None, kind=BindingKind.UNMERGE, actor=actor, reason=f"unmerge {merge.pk}")
    previous_guide = moved.get("absorbed_guide")
    if previous_guide:
        absorbed.guide = None
        guide = selectors.guides_for(absorbed).filter(pk=previous_guide).first()
        if guide is not None:
            _bind(absorbed, guide, kind=BindingKind.UNMERGE, actor=actor, reason=f"unmerge {merge.pk}")
    for channel in moved.get("consent", []):
        # the survivor never answered this channel themself: back to "no", the safe answer
        consent_record(survivor, channel=channel, granted=False, source="unmerge", actor=actor,
                       note=f"unmerge {merge.pk}")

    Member.objects.filter(pk=absorbed.pk).update(status=MemberStatus.ACTIVE, merged_into=None,
                                                 updated_at=timezone.now())
    merge.status, merge.unmerged_by, merge.unmerged_at = MergeStatus.UNMERGED, actor, timezone.now()
    outbox_emit(enterprise_id=survivor.enterprise_id, topic="member.unmerged", key=absorbed.pk,
                payload={"survivor": survivor.pk, "merge": merge.pk})
    merge.save(update_fields=["status", "unmerged_by", "unmerged_at", "updated_at"])
    audit_record(actor=actor, action="member.unmerge", target=survivor, reason=reason, scope_path=survivor.home.path,
                 after={"merge": merge.pk, "absorbed": absorbed.pk})
    return merge

