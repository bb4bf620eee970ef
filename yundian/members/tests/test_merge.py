"""One-ID: automatic merges when identities meet, manual merges, unmerge restoring both members exactly."""
import pytest

from yundian.core.errors import Conflict
from yundian.core.models import AuditEntry
from yundian.members import services
from yundian.members.models import (
    Channel, ConsentState, GuideBindingEvent, IdentityKind, Member, MemberIdentity, MemberMerge, MemberStatus,
    PointsEntry, StoredValueEntry,
)
from yundian.members.services import IdentityIn

from .factories import earn, ledger_mismatches, lots, points, register, stored_value


def _funded(chain, phone, order_ref, amount_fen, topup_fen, **kwargs):
    member = register(chain, phone=phone, **kwargs)
    earn(chain, member, amount_fen, order_ref)
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=topup_fen,
                                store_id=chain.store_a.id, payment_ref=f"pay-{order_ref}")
    return member


def test_merge_then_unmerge_restores_both_members_and_every_ledger_balances(chain):
    survivor = _funded(chain, "13811110001", "o-1", 12_000, 5_000)
    absorbed = _funded(chain, "13811110002", "o-2", 30_050, 20_000, guide_id=chain.guide_a.pk)
    services.consent_set(actor=chain.manager_a, member_id=absorbed.pk, channel="sms", granted=True)
    before = {m.pk: (points(m), stored_value(m), lots(m), set(m.identities.values_list("value", flat=True)))
              for m in (survivor, absorbed)}
    assert before[survivor.pk][0] == 120 and before[absorbed.pk][0] == 300

    merge = services.member_merge(actor=chain.manager_a, survivor_id=survivor.pk, absorbed_id=absorbed.pk,
                                  reason="same person at the till")

    assert ledger_mismatches() == []
    assert points(survivor) == 420 and points(absorbed) == 0
    assert stored_value(survivor) == (25_000, 0) and stored_value(absorbed) == (0, 0)
    assert set(MemberIdentity.objects.filter(member=survivor).values_list("value", flat=True)) == {
        "13811110001", "13811110002"}
    assert sorted(lots(survivor)) == sorted(before[survivor.pk][2] + before[absorbed.pk][2])
    absorbed.refresh_from_db()
    survivor.refresh_from_db()
    assert absorbed.status == MemberStatus.MERGED and absorbed.merged_into_id == survivor.pk
    assert survivor.guide_id == chain.guide_a.pk  # taken over: the survivor had no guide
    assert ConsentState.objects.get(member=survivor, channel="sms").granted is True
    assert merge.moved["points"]["total"] == 300 and merge.moved["stored_value"] == {"principal": 20_000, "bonus": 0}
    assert AuditEntry.objects.filter(action="member.merge", target_id=str(survivor.pk)).count() == 1

    services.member_unmerge(actor=chain.manager_a, merge_id=merge.pk, reason="two people after all")

    assert ledger_mismatches() == []
    for member in (survivor, absorbed):
        member.refresh_from_db()
        assert (points(member), stored_value(member), lots(member),
                set(member.identities.values_list("value", flat=True))) == before[member.pk]
    assert absorbed.status == MemberStatus.ACTIVE and absorbed.merged_into_id is None
    assert survivor.guide_id is None and absorbed.guide_id == chain.guide_a.pk
    assert ConsentState.objects.get(member=survivor, channel="sms").granted is False
    # moves are new entries, never edits: out and in on both sides
    assert list(PointsEntry.objects.filter(member=absorbed).order_by("id").values_list("kind", "points")) == [
        ("earn", 300), ("merge_out", -300), ("unmerge_in", 300)]
    assert list(StoredValueEntry.objects.filter(member=survivor).order_by("id").values_list("kind", "principal")) == [
        ("topup", 5_000), ("merge_in", 20_000), ("unmerge_out", -20_000)]
    assert MemberMerge.objects.get(pk=merge.pk).status == "unmerged"


def test_unmerge_is_refused_when_the_moved_points_were_spent_and_nothing_changes(chain):
    survivor = _funded(chain, "13811110003", "o-3", 1_000, 1_000)
    absorbed = _funded(chain, "13811110004", "o-4", 50_000, 1_000)
    merge = services.member_merge(actor=chain.manager_a, survivor_id=survivor.pk, absorbed_id=absorbed.pk, reason="x")
    services.points_redeem(actor=chain.guide_a, member_id=survivor.pk, points=500, store_id=chain.store_a.id,
                           source_type="order", source_id="o-5")
    entries = PointsEntry.objects.count()

    with pytest.raises(Conflict) as exc:
        services.member_unmerge(actor=chain.manager_a, merge_id=merge.pk, reason="undo")

    assert exc.value.code == "merged_points_spent"
    assert PointsEntry.objects.count() == entries and points(survivor) == 10
    assert Member.objects.get(pk=absorbed.pk).status == MemberStatus.MERGED
    assert ledger_mismatches() == []


def test_a_phone_and_a_unionid_meeting_on_the_storefront_merge_into_the_older_member(chain):
    at_pos = register(chain, phone="13811110005")
    earn(chain, at_pos, 9_900, "o-6")
    online = services.member_resolve(actor=None, enterprise_id=chain.hq.enterprise_id, store_id=chain.store_a.id,
                                     channel=Channel.MINIPROGRAM,
                                     identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, "unionid-abc-001")]).member
    services.points_adjust(actor=chain.manager_a, member_id=online.pk, points=50, reason="welcome")

    result = services.member_resolve(actor=None, enterprise_id=chain.hq.enterprise_id, store_id=chain.store_a.id,
                                     channel=Channel.MINIPROGRAM,
                                     identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, "unionid-abc-001"),
                                                 IdentityIn(IdentityKind.PHONE, "+86 138-1111-0005")])

    assert result.member.pk == at_pos.pk and not result.created
    assert [m.rule for m in result.merged] == ["phone"]
    assert points(at_pos) == 99 + 50
    assert set(MemberIdentity.objects.filter(member=at_pos).values_list("kind", flat=True)) == {"phone", "wechat_unionid"}
    assert ledger_mismatches() == []


def test_members_holding_different_unionids_are_not_merged_automatically(chain):
    one = services.member_resolve(actor=None, enterprise_id=chain.hq.enterprise_id, store_id=chain.store_a.id,
                                  channel=Channel.MINIPROGRAM,
                                  identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, "unionid-one-001")]).member
    two = register(chain, phone="13811110006", identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, "unionid-two-002")])

    with pytest.raises(Conflict) as exc:
        services.member_resolve(actor=None, enterprise_id=chain.hq.enterprise_id, store_id=chain.store_a.id,
                                channel=Channel.MINIPROGRAM,
                                identities=[IdentityIn(IdentityKind.WECHAT_UNIONID, "unionid-one-001"),
                                            IdentityIn(IdentityKind.PHONE, "13811110006")])

    assert exc.value.code == "identities_conflict"
    assert MemberMerge.objects.count() == 0
    assert Member.objects.filter(pk__in=[one.pk, two.pk], status=MemberStatus.ACTIVE).count() == 2


def test_merge_keeps_the_survivors_guide_and_records_the_absorbed_guide_leaving(chain):
    survivor = register(chain, phone="13811110007", guide_id=chain.guide_a.pk)
    other_guide = chain.guide_a  # only one guide in store A: bind absorbed too
    absorbed = register(chain, phone="13811110008", guide_id=other_guide.pk)

    services.member_merge(actor=chain.manager_a, survivor_id=survivor.pk, absorbed_id=absorbed.pk, reason="dup")

    assert Member.objects.get(pk=absorbed.pk).guide_id is None
    assert GuideBindingEvent.objects.filter(member=absorbed, kind="merge").count() == 1
    assert Member.objects.get(pk=survivor.pk).guide_id == chain.guide_a.pk
