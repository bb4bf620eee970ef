"""Acting on a segment: its audience follows its list, coupons reach exactly its members once (retried, clicked
twice), a call list from it, an export that needs a permission, is audited and masks phones per role."""
import csv
import io
from collections import Counter

import pytest
from django.conf import settings
from django.utils import timezone

from yundian.cdp import segment_actions
from yundian.cdp.models import Segment, SegmentMember
from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.guides.models import CallListEntry
from yundian.members import services as member_services
from yundian.members.models import AudienceMember
from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign, make_catalogue


def segment(chain, members, *, node=None, name="高价值会员"):
    seg = Segment.objects.create(enterprise_id=chain.hq.enterprise_id, node=node or chain.hq, name=name,
                                 definition={"all": []}, created_by=chain.admin, size=len(members),
                                 refreshed_at=timezone.now())
    SegmentMember.objects.bulk_create([SegmentMember(segment=seg, member=m, added_at=timezone.now())
                                       for m in members])
    return seg


@pytest.fixture
def crowd(chain):
    a = register(chain, phone="13900001111", name="王芳")
    member_services.guide_bind(actor=chain.guide_a, member_id=a.pk, guide_id=chain.guide_a.pk)
    b = register(chain, phone="13900002222", name="李雷")
    west = register(chain, store=chain.store_b, phone="13900003333", name="韩梅")
    return a, b, west


def test_the_audience_follows_the_segments_list_and_a_refresh_hook_writes_only_the_difference(chain, crowd):
    a, b, west = crowd
    seg = segment(chain, [a, b])
    audience = segment_actions.segment_audience_sync(segment=seg)
    assert (audience.name, audience.member_count) == ("高价值会员", 2)
    assert set(AudienceMember.objects.filter(audience=audience).values_list("member_id", flat=True)) == {a.pk, b.pk}
    again = segment_actions.segment_audience_sync(segment=seg, member_ids=[b.pk, west.pk])
    assert again.pk == audience.pk and again.member_count == 2
    assert set(AudienceMember.objects.filter(audience=audience).values_list("member_id", flat=True)) == {b.pk, west.pk}


def test_coupons_issued_to_a_segment_reach_its_members_once_even_when_clicked_again(chain, crowd):
    make_catalogue(chain)
    seg = segment(chain, list(crowd))
    c = campaign(chain)
    run = segment_actions.segment_issue_coupons(actor=chain.admin, segment_id=seg.pk, campaign_id=c.pk)
    again = segment_actions.segment_issue_coupons(actor=chain.admin, segment_id=seg.pk, campaign_id=c.pk)
    assert (run.status, run.issued, again.issued, again.skipped) == ("done", 3, 0, 3)
    assert Counter(Coupon.objects.filter(campaign=c).values_list("member_id", flat=True)) == \
        Counter({m.pk: 1 for m in crowd})


def test_a_region_cannot_act_on_another_regions_segment_and_nothing_changes(chain, crowd):
    make_catalogue(chain)
    seg = segment(chain, [crowd[2]], node=chain.west)
    c = campaign(chain)
    with pytest.raises(NotFound):
        segment_actions.segment_issue_coupons(actor=chain.east_manager, segment_id=seg.pk, campaign_id=c.pk)
    with pytest.raises(NotFound):
        segment_actions.segment_export(actor=chain.east_manager, segment_id=seg.pk)
    assert (Coupon.objects.count(), AuditEntry.objects.filter(action="segment.export").count()) == (0, 0)


def test_a_call_list_from_a_segment_sends_each_member_to_their_guide(chain, crowd):
    a, b, west = crowd
    seg = segment(chain, list(crowd))
    call_list, added = segment_actions.segment_call_list(actor=chain.admin, segment_id=seg.pk, name="沉睡唤醒")
    assert added == 3 and segment_actions.segment_call_list(actor=chain.admin, segment_id=seg.pk,
                                                            name="沉睡唤醒")[1] == 0
    assert dict(CallListEntry.objects.values_list("member_id", "guide_id")) == {a.pk: chain.guide_a.pk, b.pk: None,
                                                                                 west.pk: None}


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_export_needs_the_permission_is_audited_and_masks_phones_per_role(chain, crowd):
    seg = segment(chain, list(crowd))
    _, data, name = segment_actions.segment_export(actor=chain.admin, segment_id=seg.pk, fmt="csv")
    assert name == f"segment-{seg.pk}.csv"
    assert [r[2] for r in rows(data)[1:]] == ["13900001111", "13900002222", "13900003333"]
    # a store manager exports their store's members only, phones masked (no personal_data.export)
    store_seg = segment(chain, list(crowd), node=chain.store_a, name="A店")
    _, data, _ = segment_actions.segment_export(actor=chain.manager_a, segment_id=store_seg.pk, fmt="csv")
    assert [(r[1], r[2]) for r in rows(data)[1:]] == [("王芳", "139****1111"), ("李雷", "139****2222")]
    content_type, data, _ = segment_actions.segment_export(actor=chain.admin, segment_id=seg.pk, fmt="xlsx")
    assert content_type.startswith("application/vnd.openxmlformats") and data[:2] == b"PK"
    audits = list(AuditEntry.objects.filter(action="segment.export").order_by("id")
                  .values_list("actor_label", "target_id", "after__rows", "after__unmasked_phones", "after__format"))
    assert audits == [("acme-admin", str(seg.pk), 3, 3, "csv"), ("acme-manager-a", str(store_seg.pk), 2, 0, "csv"),
                      ("acme-admin", str(seg.pk), 3, 3, "xlsx")]
    # a guide may not export; a bad format is refused; neither is audited
    with pytest.raises(Forbidden):
        segment_actions.segment_export(actor=chain.guide_a, segment_id=store_seg.pk)
    with pytest.raises(ValidationFailed):
        segment_actions.segment_export(actor=chain.admin, segment_id=seg.pk, fmt="pdf")
    assert AuditEntry.objects.filter(action="segment.export").count() == 3


def test_the_actions_section_issues_from_the_page_and_answers_errors_in_place(chain, crowd):
    make_catalogue(chain)
    seg = segment(chain, list(crowd))
    c = campaign(chain)
    client = client_for(chain.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    panel = client.get(f"/cdp/segment-actions/{seg.pk}/").content.decode()
    assert "对该人群" in panel and c.promotion.name in panel
    issued = client.post(f"/cdp/segment-actions/{seg.pk}/issue-coupons/", {"campaign_id": c.pk})
    assert issued.status_code == 200 and 'data-issued="3"' in issued.content.decode()
    bad = client.post(f"/cdp/segment-actions/{seg.pk}/issue-coupons/", {"campaign_id": "x"})
    assert bad.status_code == 404
    export = client.get(f"/cdp/segment-actions/{seg.pk}/export/", {"format": "csv"})
    assert export.status_code == 200 and export["Content-Disposition"].endswith(f'segment-{seg.pk}.csv"')
    guide = client_for(chain.guide_a)
    assert guide.get(f"/cdp/segment-actions/{seg.pk}/export/").status_code == 404


def test_the_api_issues_makes_a_call_list_and_exports_and_refuses_bad_input_changing_nothing(chain, crowd):
    from yundian.org.tests.utils import assert_error, call

    make_catalogue(chain)
    seg = segment(chain, list(crowd))
    c = campaign(chain)
    hq = client_for(chain.admin)
    url = f"/api/v1/cdp/segments/{seg.pk}"
    issued = call(hq, "post", f"{url}/coupon-issues", {"campaign_id": c.pk})
    assert issued.status_code == 200, issued.content
    assert {k: issued.json()[k] for k in ("status", "total", "issued", "skipped", "percent")} == {
        "status": "done", "total": 3, "issued": 3, "skipped": 0, "percent": 100}
    assert [r["issued"] for r in call(hq, "get", f"{url}/coupon-issues").json()] == [3]
    made = call(hq, "post", f"{url}/call-lists", {"name": "回访"})
    assert (made.status_code, made.json()["added"]) == (200, 3)
    exported = hq.get(f"{url}/export", {"format": "xlsx"})
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    before = (Coupon.objects.count(), CallListEntry.objects.count())
    assert_error(call(hq, "post", f"{url}/coupon-issues", {"campaign_id": "1"}), 422)
    assert_error(call(hq, "post", f"{url}/coupon-issues", {"campaign_id": 10**9}), 404, "campaign_not_found")
    assert_error(call(hq, "post", f"{url}/call-lists", {"name": ""}), 422)
    assert_error(hq.get(f"{url}/export", {"format": "pdf"}), 422, "invalid_format")
    west = client_for(chain.west_manager)
    assert_error(call(west, "post", f"{url}/coupon-issues", {"campaign_id": c.pk}), 404, "segment_not_found")
    assert (Coupon.objects.count(), CallListEntry.objects.count()) == before


def _manual_tag(chain, *, node=None, name="母婴关注"):
    from yundian.cdp import tags
    group = tags.tag_group_create(actor=chain.admin, name="运营", code="ops")
    return tags.tag_create(actor=chain.admin, group_id=group.pk, name=name, code="baby", node_id=(node or chain.hq).id)


def test_a_manual_tag_goes_on_every_member_of_a_segment_once_with_history_and_comes_off_again(chain, crowd):
    from yundian.cdp.models import MemberTag, TagChange
    a, b, west = crowd
    seg = segment(chain, [a, b, west])
    tag = _manual_tag(chain)
    segment_actions.segment_tag_members(actor=chain.admin, segment_id=seg.pk, tag_id=tag.pk, reason="母亲节")
    assert set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True)) == {a.pk, b.pk, west.pk}
    again = segment_actions.segment_tag_members(actor=chain.admin, segment_id=seg.pk, tag_id=tag.pk)
    assert (again["gained"], again["unchanged"], again["skipped"]) == (0, 3, 0)
    gains = TagChange.objects.filter(tag=tag, gained=True)
    assert gains.count() == 3 and {(c.reason, c.source, c.actor_id) for c in gains} == \
        {("高价值会员 · 母亲节", "bulk", chain.admin.pk)}
    off = segment_actions.segment_tag_members(actor=chain.admin, segment_id=seg.pk, tag_id=tag.pk, remove=True)
    assert (off["lost"], MemberTag.objects.filter(tag=tag).count()) == (3, 0)
    assert list(AuditEntry.objects.filter(action="segment.tag").order_by("id").values_list("after__gained", "after__lost")) == \
        [(3, 0), (0, 0), (0, 3)]


def test_a_region_tag_put_on_an_hq_segment_reaches_only_that_regions_members(chain, crowd):
    from yundian.cdp.models import MemberTag
    a, b, west = crowd
    seg = segment(chain, [a, b, west])
    east_tag = _manual_tag(chain, node=chain.east)
    outcome = segment_actions.segment_tag_members(actor=chain.admin, segment_id=seg.pk, tag_id=east_tag.pk)
    assert (outcome["gained"], outcome["skipped"]) == (2, 1)
    assert set(MemberTag.objects.filter(tag=east_tag).values_list("member_id", flat=True)) == {a.pk, b.pk}


def test_tagging_a_segment_refuses_another_regions_segment_or_an_unknown_tag_and_changes_nothing(chain, crowd):
    from yundian.cdp.models import MemberTag, TagChange
    seg = segment(chain, list(crowd))
    manual = _manual_tag(chain)
    west_seg = segment(chain, [crowd[2]], node=chain.west, name="西区")
    with pytest.raises(NotFound):
        segment_actions.segment_tag_members(actor=chain.east_manager, segment_id=west_seg.pk, tag_id=manual.pk)
    with pytest.raises(NotFound):
        segment_actions.segment_tag_members(actor=chain.admin, segment_id=seg.pk, tag_id=10**9)
    assert (MemberTag.objects.count(), TagChange.objects.count(),
            AuditEntry.objects.filter(action="segment.tag").count()) == (0, 0, 0)


def test_the_actions_section_tags_a_segment_from_the_page(chain, crowd):
    seg = segment(chain, list(crowd))
    tag = _manual_tag(chain)
    client = client_for(chain.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    panel = client.get(f"/cdp/segment-actions/{seg.pk}/").content.decode()
    assert "运营 · 母婴关注" in panel and 'data-action="tag-members"' in panel
    done = client.post(f"/cdp/segment-actions/{seg.pk}/tag/", {"tag_id": tag.pk, "remove": "0"})
    assert done.status_code == 200 and 'data-gained="3"' in done.content.decode()
    bad = client.post(f"/cdp/segment-actions/{seg.pk}/tag/", {"tag_id": "x", "remove": "0"})
    assert bad.status_code == 404
    guide = client_for(chain.guide_a)
    assert 'data-action="tag-members"' not in guide.get(f"/cdp/segment-actions/{seg.pk}/").content.decode()
