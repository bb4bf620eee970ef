"""Guide binding rules, consent history, erasure, gift cards, stored value spending and refunds, check-ledgers."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.members import services
from yundian.members.models import (
    ConsentEvent, ConsentState, GiftCard, GuideBindingEvent, Member, MemberIdentity, MemberStatus, PointsBalance,
    StoredValueBalance,
)
from yundian.org import services as org_services
from yundian.org.roles import Role

from .factories import earn, ledger_mismatches, points, register, stored_value


@pytest.fixture
def second_guide(chain):
    return org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-guide-a2",
                                     display_name="guide-a2", password="correct-horse-42", role=Role.GUIDE)


def test_first_binding_then_rebinding_only_by_a_manager_after_the_cooldown(chain, second_guide):
    member = register(chain)
    services.guide_bind(actor=chain.guide_a, member_id=member.pk, guide_id=chain.guide_a.pk)
    assert Member.objects.get(pk=member.pk).guide_id == chain.guide_a.pk

    with pytest.raises(Forbidden):  # a guide cannot take another guide's member
        services.guide_bind(actor=second_guide, member_id=member.pk, guide_id=second_guide.pk, reason="mine")
    with pytest.raises(Conflict) as exc:  # too soon
        services.guide_bind(actor=chain.manager_a, member_id=member.pk, guide_id=second_guide.pk, reason="shift")
    assert exc.value.code == "rebind_cooldown"
    with pytest.raises(ValidationFailed):  # a guide of another store is not eligible
        services.guide_bind(actor=chain.admin, member_id=member.pk, guide_id=chain.guide_b.pk, reason="x")

    Member.objects.filter(pk=member.pk).update(guide_bound_at=timezone.now() - timedelta(days=31))
    services.guide_bind(actor=chain.manager_a, member_id=member.pk, guide_id=second_guide.pk, reason="shift")
    assert Member.objects.get(pk=member.pk).guide_id == second_guide.pk
    assert list(GuideBindingEvent.objects.filter(member=member).order_by("id").values_list("kind", flat=True)) == [
        "first", "rebind"]


def test_a_leaving_guides_members_are_handed_over_in_one_audited_step(chain, second_guide):
    bound = [register(chain, guide_id=chain.guide_a.pk) for _n in range(3)]
    other = register(chain, guide_id=second_guide.pk)
    with pytest.raises(Forbidden):
        services.guide_handover(actor=chain.guide_a, from_guide_id=chain.guide_a.pk, to_guide_id=second_guide.pk,
                                reason="leaving")
    with pytest.raises(NotFound):  # store B's manager cannot move store A's members
        services.guide_handover(actor=chain.manager_b, from_guide_id=chain.guide_a.pk, to_guide_id=chain.guide_b.pk,
                                reason="leaving")

    moved = services.guide_handover(actor=chain.manager_a, from_guide_id=chain.guide_a.pk,
                                    to_guide_id=second_guide.pk, reason="leaving")

    assert moved == 3
    assert set(Member.objects.filter(guide=second_guide).values_list("pk", flat=True)) == {m.pk for m in [*bound, other]}
    assert GuideBindingEvent.objects.filter(kind="handover", from_guide=chain.guide_a).count() == 3
    assert AuditEntry.objects.filter(action="member.guide.handover").count() == 1


def test_consent_keeps_its_history_and_the_latest_answer_is_the_state(chain):
    member = register(chain, consents={"sms": True})
    services.consent_set(actor=chain.guide_a, member_id=member.pk, channel="sms", granted=False, note="asked at till")
    services.consent_set(actor=None, enterprise_id=chain.hq.enterprise_id, member_id=member.pk, channel="wechat",
                         granted=True, source="miniprogram")
    assert list(ConsentEvent.objects.filter(member=member).order_by("id").values_list("channel", "granted")) == [
        ("sms", True), ("sms", False), ("wechat", True)]
    assert dict(ConsentState.objects.filter(member=member).values_list("channel", "granted")) == {
        "sms": False, "wechat": True}
    with pytest.raises(ValidationFailed):
        services.consent_set(actor=chain.guide_a, member_id=member.pk, channel="fax", granted=True)


def test_erasure_removes_personal_data_and_keeps_the_ledgers_balanced(chain):
    member = register(chain, name="张三", consents={"sms": True, "email": True}, guide_id=chain.guide_a.pk)
    earn(chain, member, 10_000, "o-1")
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=3_000, store_id=chain.store_a.id,
                                payment_ref="p-1")
    with pytest.raises(Forbidden):
        services.member_erase(actor=chain.manager_a, member_id=member.pk, reason="request")

    services.member_erase(actor=chain.admin, member_id=member.pk, reason="request 2026-11-25")

    member.refresh_from_db()
    assert (member.name, member.birthday, member.status, member.guide_id) == ("", None, MemberStatus.ERASED, None)
    assert not MemberIdentity.objects.filter(member=member).exists()
    assert set(ConsentState.objects.filter(member=member).values_list("granted", flat=True)) == {False}
    assert points(member) == 100 and stored_value(member) == (3_000, 0)
    assert ledger_mismatches() == []
    # the phone is free again: the person may register anew
    assert register(chain, phone=None).pk != member.pk


def test_a_gift_code_is_redeemed_once(chain):
    [(card, code)] = services.gift_card_issue(actor=chain.admin, value_fen=20_000, count=1, batch="2026 春节")
    one, two = register(chain), register(chain)
    services.gift_card_redeem(actor=chain.guide_a, member_id=one.pk, code=code.lower(), store_id=chain.store_a.id)
    with pytest.raises(Conflict) as exc:
        services.gift_card_redeem(actor=chain.guide_a, member_id=two.pk, code=code, store_id=chain.store_a.id)
    assert exc.value.code == "gift_card_used"
    assert stored_value(one) == (0, 20_000) and stored_value(two) == (0, 0)
    assert GiftCard.objects.get(pk=card.pk).redeemed_by_id == one.pk
    assert code not in str(list(GiftCard.objects.values()))  # only the hash is stored


def test_spending_takes_principal_first_and_refunds_and_top_up_refunds_never_go_negative(chain):
    from yundian.members.services import topup_rule_create

    topup_rule_create(actor=chain.admin, min_amount_fen=10_000, bonus_fen=1_000)
    member = register(chain)
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=10_000, store_id=chain.store_a.id,
                                payment_ref="p-1")
    services.stored_value_spend(actor=chain.guide_a, member_id=member.pk, amount_fen=10_500, store_id=chain.store_a.id,
                                source_type="order", source_id="o-1")
    assert stored_value(member) == (0, 500)
    with pytest.raises(Conflict):
        services.stored_value_spend(actor=chain.guide_a, member_id=member.pk, amount_fen=501,
                                    store_id=chain.store_a.id, source_type="order", source_id="o-2")
    with pytest.raises(Conflict):  # the principal was spent: the top-up cannot be refunded
        services.stored_value_topup_refund(actor=chain.manager_a, member_id=member.pk, payment_ref="p-1",
                                           refund_ref="r-1", store_id=chain.store_a.id)
    services.stored_value_spend_refund(actor=chain.guide_a, member_id=member.pk, source_type="order", source_id="o-1",
                                       refund_ref="r-2", amount_fen=10_500, store_id=chain.store_a.id)
    assert stored_value(member) == (10_000, 1_000)
    refund = services.stored_value_topup_refund(actor=chain.manager_a, member_id=member.pk, payment_ref="p-1",
                                                refund_ref="r-3", store_id=chain.store_a.id)
    assert refund.cash_refund_fen == 10_000 and stored_value(member) == (0, 0)
    assert ledger_mismatches() == []


def test_check_ledgers_covers_points_and_stored_value_and_finds_a_drifted_balance(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")
    out = StringIO()
    call_command("check_ledgers", stdout=out)
    assert "points: ok" in out.getvalue() and "stored_value: ok" in out.getvalue()
    assert "points_lots: ok" in out.getvalue()

    PointsBalance.objects.filter(member=member).update(points=99)  # simulate drift
    StoredValueBalance.objects.filter(member=member).update(bonus=5)
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("check_ledgers", stdout=out)
    assert f"points {member.pk}: ledger sum 100 != balance 99" in out.getvalue()
    assert f"stored_value {member.pk}:bonus: ledger sum 0 != balance 5" in out.getvalue()


def test_the_members_tasks_are_scheduled_and_importable():
    from django.utils.module_loading import import_string

    from yundian.core.scheduler import SCHEDULE

    names = {name for name, _period, _at in SCHEDULE if name.startswith("yundian.members.")}
    assert names == {"yundian.members.tasks.expire_points", "yundian.members.tasks.review_tiers",
                     "yundian.members.tasks.birthday_gifts"}
    for name in names:
        assert callable(import_string(name).enqueue)
