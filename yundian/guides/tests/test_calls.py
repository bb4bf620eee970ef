"""Call lists from an audience: each member to their bound guide (none: the store manager), one entry per member
however often the list is made, outcomes by the guide or the manager, progress per guide, masked phones."""
import pytest
from django.conf import settings

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.guides import calls
from yundian.guides.models import CallList, CallListEntry
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for


def audience(chain, members, source_id=1):
    ent = chain.hq.enterprise_id
    row = member_services.audience_ensure(enterprise_id=ent, node_id=chain.hq.id, source="segment",
                                          source_id=source_id, name="沉睡会员")
    member_services.audience_replace(enterprise_id=ent, audience_id=row.pk, member_ids=[m.pk for m in members])
    return row


@pytest.fixture
def crowd(chain):
    bound = register(chain, phone="13800001111", name="王芳")
    member_services.guide_bind(actor=chain.guide_a, member_id=bound.pk, guide_id=chain.guide_a.pk)
    unbound = register(chain, phone="13800002222", name="李雷")
    west = register(chain, store=chain.store_b, phone="13800003333", name="韩梅")
    return bound, unbound, west


def test_each_member_goes_to_their_guide_and_making_the_list_again_adds_only_newcomers(chain, crowd):
    bound, unbound, west = crowd
    vip = audience(chain, [bound, unbound, west])
    call_list, added = calls.call_list_create(actor=chain.admin, audience_id=vip.pk, name="双11回访")
    assert added == 3
    assert sorted(call_list.entries.values_list("member_id", "guide_id")) == sorted(
        [(bound.pk, chain.guide_a.pk), (unbound.pk, None), (west.pk, None)])
    again, added_again = calls.call_list_create(actor=chain.admin, audience_id=vip.pk, name="双11回访")
    assert (again.pk, added_again) == (call_list.pk, 0)
    newcomer = register(chain)
    member_services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=vip.pk,
                                     member_ids=[bound.pk, unbound.pk, west.pk, newcomer.pk])
    assert calls.call_list_create(actor=chain.admin, audience_id=vip.pk, name="双11回访")[1] == 1
    assert CallListEntry.objects.count() == 4 and CallList.objects.count() == 1
    assert list(AuditEntry.objects.filter(action="call_list.create").order_by("id").values_list("after__added", flat=True)) \
        == [3, 0, 1]


def test_a_store_manager_lists_only_their_stores_members(chain, crowd):
    bound, unbound, west = crowd
    call_list, added = calls.call_list_create(actor=chain.manager_a, audience_id=audience(chain, crowd).pk,
                                              name="回访")
    assert added == 2 and set(call_list.entries.values_list("member_id", flat=True)) == {bound.pk, unbound.pk}


def test_the_guide_works_their_calls_and_the_manager_the_unassigned_ones(chain, crowd):
    bound, unbound, west = crowd
    call_list, _ = calls.call_list_create(actor=chain.admin, audience_id=audience(chain, crowd).pk, name="回访")
    guide_calls = calls.my_calls(actor=chain.guide_a)
    assert [(c.name, c.phone, c.may_see_phone) for c in guide_calls] == [("王芳", "138****1111", False)]
    manager_calls = calls.my_calls(actor=chain.manager_a)
    assert [(c.name, c.phone) for c in manager_calls] == [("李雷", "13800002222")]
    entry = guide_calls[0].entry
    calls.call_outcome_set(actor=chain.guide_a, entry_id=entry.pk, outcome="reached", note="周末来店")
    row = CallListEntry.objects.get(pk=entry.pk)
    assert (row.outcome, row.note, row.called_by_id) == ("reached", "周末来店", chain.guide_a.pk)
    # another store's guide cannot see or mark it; a bad outcome changes nothing
    with pytest.raises(NotFound):
        calls.call_outcome_set(actor=chain.guide_b, entry_id=entry.pk, outcome="no_answer")
    with pytest.raises(ValidationFailed) as exc:
        calls.call_outcome_set(actor=chain.guide_a, entry_id=entry.pk, outcome="pending")
    assert exc.value.code == "invalid_outcome"
    assert CallListEntry.objects.get(pk=entry.pk).outcome == "reached"
    _, progress = calls.call_list_progress(actor=chain.admin, call_list_id=call_list.pk)
    assert [(p.guide.display_name if p.guide else None, p.size, p.done, p.cells) for p in progress] == [
        ("guide-a", 1, 1, [0, 1, 0, 0]), (None, 2, 0, [2, 0, 0, 0])]
    with pytest.raises(NotFound):
        calls.call_list_progress(actor=chain.west_manager, call_list_id=call_list.pk + 100)


def test_the_guide_dials_from_a_phone_page_that_masks_the_number_and_the_dial_is_audited(chain, crowd):
    calls.call_list_create(actor=chain.admin, audience_id=audience(chain, crowd).pk, name="回访")
    client = client_for(chain.guide_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get("/guides/calls/").content.decode()
    assert "我的回访清单" in page and "138****1111" in page and "13800001111" not in page
    entry = CallListEntry.objects.get(guide=chain.guide_a)
    dial = client.get(f"/guides/calls/{entry.pk}/dial/")
    assert (dial.status_code, dial["Location"]) == (302, "tel:13800001111")
    assert AuditEntry.objects.filter(action="call_list.dial", target_id=str(entry.member_id)).count() == 1
    saved = client.post(f"/guides/calls/{entry.pk}/outcome/", {"outcome": "no_answer", "note": "未接"})
    assert saved.status_code == 302 and CallListEntry.objects.get(pk=entry.pk).outcome == "no_answer"
    bad = client.post(f"/guides/calls/{entry.pk}/outcome/", {"outcome": "maybe"})
    assert bad.status_code == 422 and CallListEntry.objects.get(pk=entry.pk).outcome == "no_answer"
    other = CallListEntry.objects.filter(guide__isnull=True).first()
    assert client.get(f"/guides/calls/{other.pk}/dial/").status_code == 404
    manager = client_for(chain.admin)
    manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    progress = manager.get(f"/guides/call-lists/{entry.call_list_id}/").content.decode()
    assert "guide-a" in progress and "无导购（店长）" in progress
