"""Segments through HTTP: a region builds over its own members only, the live count and preview of an unsaved
definition, dynamic segments follow their members while a snapshot keeps its list, sizes per day, phones masked
per role, audited; bad input answers 4xx in the one error shape (translated) and changes nothing."""
import pytest
from django.utils import timezone

from yundian.analytics.sync import sync_run
from yundian.cdp.models import Segment, SegmentMember, SegmentSize
from yundian.core.models import AuditEntry
from yundian.members.tests.factories import register
from yundian.org.tests.utils import assert_error, call, client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/cdp/segments"
WOMEN = {"kind": "gender", "in": ["f"]}


def state() -> tuple:
    return (list(Segment.objects.order_by("id").values_list("id", "name", "definition", "size", "is_archived")),
            sorted(SegmentMember.objects.values_list("segment_id", "member_id")),
            list(SegmentSize.objects.values_list("segment_id", "day", "size")), AuditEntry.objects.count())


def test_a_region_counts_builds_and_refreshes_over_its_own_members_only(chain, warehouse):
    east_woman = register(chain, gender="f", name="王芳")
    register(chain, gender="m")
    register(chain, store=chain.store_b, gender="f")  # the west region's
    sync_run()
    east, hq = client_for(chain.east_manager), client_for(chain.admin)

    assert call(east, "post", f"{URL}/count", {"definition": WOMEN}).json() == {"count": 1}
    assert call(hq, "post", f"{URL}/count", {"definition": WOMEN}).json() == {"count": 2}
    assert call(hq, "post", f"{URL}/count", {"definition": WOMEN, "node_id": chain.west.id}).json() == {"count": 1}
    preview = call(east, "post", f"{URL}/preview", {"definition": WOMEN}).json()
    assert (preview["count"], [(m["member_id"], m["name"], m["home"]) for m in preview["members"]]) == (
        1, [(east_woman.id, "王芳", "Store A")])

    created = call(east, "post", URL, {"name": "华东女性", "definition": WOMEN})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["size"], body["kind"], body["node_id"], body["created_by"]) == (1, "dynamic", chain.east.id, "east")
    assert list(SegmentMember.objects.values_list("member_id", flat=True)) == [east_woman.id]

    later = register(chain, gender="f")
    sync_run()
    refreshed = call(east, "post", f"{URL}/{body['id']}/refresh")
    assert refreshed.json() == {"size": 2, "added": 1, "removed": 0}
    assert sorted(SegmentMember.objects.values_list("member_id", flat=True)) == sorted([east_woman.id, later.id])
    sizes = call(east, "get", f"{URL}/{body['id']}/sizes").json()
    assert sizes == [{"day": timezone.localdate().isoformat(), "size": 2, "added": 1, "removed": 0}]
    assert list(AuditEntry.objects.filter(target_type="cdp.segment").order_by("id").values_list(
        "action", flat=True)) == ["segment.create", "segment.refresh", "segment.refresh"]

    west = client_for(chain.west_manager)
    assert_error(call(west, "get", f"{URL}/{body['id']}"), 404, "segment_not_found")
    assert [s["id"] for s in call(west, "get", URL).json()["items"]] == []
    assert [s["id"] for s in call(hq, "get", URL).json()["items"]] == [body["id"]]


def test_a_snapshot_keeps_its_list_while_a_dynamic_segment_follows(chain, warehouse):
    first = register(chain, gender="f")
    sync_run()
    hq = client_for(chain.admin)
    frozen = call(hq, "post", URL, {"name": "快照", "definition": WOMEN, "kind": "snapshot"}).json()
    live = call(hq, "post", URL, {"name": "动态", "definition": WOMEN}).json()
    second = register(chain, gender="f")
    sync_run()

    assert call(hq, "post", f"{URL}/{live['id']}/refresh").json() == {"size": 2, "added": 1, "removed": 0}
    before = state()
    assert_error(call(hq, "post", f"{URL}/{frozen['id']}/refresh"), 409, "segment_frozen")
    assert_error(call(hq, "patch", f"{URL}/{frozen['id']}", {"definition": {"kind": "gender", "in": ["m"]}}), 409,
                 "segment_frozen")
    assert state() == before
    assert list(SegmentMember.objects.filter(segment_id=frozen["id"]).values_list("member_id", flat=True)) == [first.id]
    assert sorted(SegmentMember.objects.filter(segment_id=live["id"]).values_list("member_id", flat=True)) == sorted(
        [first.id, second.id])
    renamed = call(hq, "patch", f"{URL}/{frozen['id']}", {"name": "三月快照"})
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["size"]) == (200, "三月快照", 1)
    narrowed = call(hq, "patch", f"{URL}/{live['id']}", {"definition": {
        "group": "and", "conditions": [WOMEN, {"kind": "home_store", "in": [chain.store_b.id]}]}})
    assert (narrowed.status_code, narrowed.json()["size"]) == (200, 0)


def test_a_saved_segments_members_show_phones_masked_unless_the_role_may_see_them(chain, warehouse):
    member = register(chain, gender="f", phone="13812345678")
    sync_run()
    segment = call(client_for(chain.admin), "post", URL, {"name": "女性", "definition": WOMEN,
                                                          "node_id": chain.store_a.id}).json()

    as_guide = call(client_for(chain.guide_a), "get", f"{URL}/{segment['id']}/members").json()
    as_manager = call(client_for(chain.manager_a), "get", f"{URL}/{segment['id']}/members").json()
    assert [(m["member_id"], m["phone"]) for m in as_guide["members"]] == [(member.id, "138****5678")]
    assert [(m["member_id"], m["phone"]) for m in as_manager["members"]] == [(member.id, "13812345678")]
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/count", {"definition": WOMEN}), 403,
                 "segment_scope_missing")
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/{segment['id']}/refresh"), 403, "segment_not_yours")


def test_bad_input_and_out_of_scope_answer_4xx_translated_and_change_nothing(chain, warehouse):
    hq = client_for(chain.admin)
    segment = call(hq, "post", URL, {"name": "女性", "definition": WOMEN}).json()
    east = client_for(chain.east_manager)
    before = state()
    cases = [
        (hq, "post", URL, {"name": "女性", "definition": WOMEN}, 409, "segment_name_taken"),
        (hq, "post", URL, {"name": "  ", "definition": WOMEN}, 422, "required"),
        (hq, "post", URL, {"name": "x", "definition": WOMEN, "kind": "frozen"}, 422, "invalid_kind"),
        (hq, "post", URL, {"name": "x", "definition": {"group": "and", "conditions": []}}, 422,
         "condition_empty_group"),
        (hq, "post", URL, {"name": "x", "definition": {"kind": "tier", "in": [10**9]}}, 422, "condition_unknown_id"),
        (east, "post", URL, {"name": "x", "definition": {"kind": "home_store", "in": [chain.store_b.id]}}, 422,
         "condition_unknown_id"),
        (east, "post", URL, {"name": "x", "definition": WOMEN, "node_id": chain.west.id}, 404, "node_not_found"),
        (client_for(chain.auditor), "post", URL, {"name": "x", "definition": WOMEN}, 403, "segment_scope_missing"),
        (east, "post", f"{URL}/{segment['id']}/refresh", None, 404, "segment_not_found"),
        (east, "delete", f"{URL}/{segment['id']}", None, 404, "segment_not_found"),
        (hq, "post", f"{URL}/{10**9}/refresh", None, 404, "segment_not_found"),
        (hq, "post", f"{URL}/count", "{not json", 400, None),
    ]
    for client, method, url, body, status, code in cases:
        error = assert_error(call(client, method, url, body, **{"Accept-Language": "zh-hans"}), status, code)
        assert error["message"] and not error["message"].isascii(), (code, error["message"])
    bad = call(hq, "post", f"{URL}/count", {"definition": {"group": "or", "conditions": [
        WOMEN, {"kind": "orders", "measure": "spent", "op": "=>", "value": 1}]}})
    assert assert_error(bad, 422, "condition_bad_value")["details"]["path"] == "$.conditions[1].op"
    assert state() == before
    assert call(hq, "delete", f"{URL}/{segment['id']}").status_code == 204
    assert Segment.objects.get().is_archived and call(hq, "get", URL).json()["items"] == []
