"""The members demo step: writes exactly its shape, real One-ID merges, balanced ledgers, several tiers."""
from yundian.demo import generators
from yundian.demo.generators import members as members_generator
from yundian.demo.generators import org as org_generator
from yundian.members.models import IdentityKind, Member, MemberMerge, MemberStatus

from .factories import ledger_mismatches


def test_the_members_step_writes_its_shape_with_merged_twins_and_balanced_ledgers(db, monkeypatch):
    monkeypatch.setattr(generators, "STEPS", lambda: [org_generator.step, members_generator.step])
    ctx = generators.run_seed(scale=1, seed=7, code="mdemo")

    expected = members_generator.counts_for(1)
    assert {key: ctx.counts[key] for key in expected} == expected
    assert expected["members"] == 1_062 + 21 and expected["member_merges"] == 21
    assert ledger_mismatches() == []
    merges = list(MemberMerge.objects.select_related("survivor", "absorbed"))
    assert len(merges) == 21 and {m.rule for m in merges} == {"phone"}
    for merge in merges:
        assert merge.absorbed.status == MemberStatus.MERGED and merge.absorbed.merged_into_id == merge.survivor_id
        kinds = set(merge.survivor.identities.values_list("kind", flat=True))
        assert {IdentityKind.PHONE, IdentityKind.WECHAT_UNIONID, IdentityKind.MINIPROGRAM} <= kinds
        assert merge.moved["points"]["total"] > 0
    active = Member.objects.filter(enterprise=ctx.enterprise, status=MemberStatus.ACTIVE)
    assert active.count() == 1_062
    assert active.values("tier").distinct().count() >= 3
    assert set(active.values_list("channel", flat=True)) == {"pos", "storefront", "miniprogram", "api"}
