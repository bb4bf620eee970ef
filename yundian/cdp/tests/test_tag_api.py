"""The tags API: groups, tags and a member's tags through HTTP, scoped (404 outside), bad input in the one error
shape (translated), changing nothing."""
import pytest
from django.utils import translation

from yundian.cdp.models import MemberTag, Tag, TagChange, TagGroup
from yundian.core.models import AuditEntry
from yundian.members.tests.factories import register
from yundian.org.tests.utils import assert_error, call, client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/cdp"


def state() -> tuple:
    return (TagGroup.objects.count(), list(Tag.objects.order_by("id").values_list("id", "name", "is_active")),
            MemberTag.objects.count(), TagChange.objects.count(), AuditEntry.objects.count())


def test_hq_defines_a_tag_a_guide_puts_it_on_a_member_and_lists_where_it_came_from(chain):
    hq = client_for(chain.admin)
    group = call(hq, "post", f"{URL}/tag-groups", {"code": "interest", "name": "兴趣"})
    assert group.status_code == 201, group.content
    tag = call(hq, "post", f"{URL}/tags", {"group_id": group.json()["id"], "code": "sporty", "name": "爱运动"})
    assert tag.status_code == 201 and tag.json()["kind"] == "manual"
    member = register(chain)
    guide = client_for(chain.guide_a)
    added = call(guide, "post", f"{URL}/members/{member.id}/tags", {"tag_id": tag.json()["id"], "reason": "跑步"})
    assert added.status_code == 201, added.content
    [row] = added.json()
    assert (row["code"], row["source"], row["reason"], row["by"], row["group"]) == (
        "sporty", "manual", "跑步", "guide-a", "兴趣")
    assert [t["code"] for t in call(guide, "get", f"{URL}/tags").json()["items"]] == ["sporty"]
    removed = call(guide, "delete", f"{URL}/members/{member.id}/tags/{tag.json()['id']}")
    assert removed.status_code == 200 and removed.json() == []
    assert list(TagChange.objects.values_list("gained", flat=True)) == [True, False]
    bulk = call(hq, "post", f"{URL}/tags/{tag.json()['id']}/members", {"member_ids": [member.id]})
    assert bulk.json() == {"gained": 1, "lost": 0}
    assert call(hq, "put", f"{URL}/lifecycle", {"new_days": 20, "active_days": 60, "dormant_days": 120,
                                                "lost_days": 300, "won_back_days": 20}).json()["active_days"] == 60


def test_bad_input_and_out_of_scope_answer_4xx_translated_and_change_nothing(chain):
    hq = client_for(chain.admin)
    group = call(hq, "post", f"{URL}/tag-groups", {"code": "interest", "name": "兴趣"}).json()
    tag = call(hq, "post", f"{URL}/tags", {"group_id": group["id"], "code": "sporty", "name": "爱运动"}).json()
    west_member = register(chain, store=chain.store_b)
    before = state()
    cases = [
        (hq, "post", f"{URL}/tag-groups", {"code": "interest", "name": "again"}, 409, "duplicate_code"),
        (hq, "post", f"{URL}/tag-groups", {"code": "a b", "name": "x"}, 422, "invalid_code"),
        (hq, "post", f"{URL}/tags", {"group_id": group["id"], "code": "x", "name": "x", "kind": "computed"}, 422,
         "invalid_kind"),
        (hq, "post", f"{URL}/tags", {"group_id": 10**12, "code": "x", "name": "x"}, 404, "tag_group_not_found"),
        (hq, "post", f"{URL}/tags", "{not json", 400, "malformed_body"),
        (hq, "post", f"{URL}/tags/{tag['id']}/members", {"member_ids": ["1"]}, 422, None),
        (hq, "post", f"{URL}/tags/{tag['id']}/members", {"member_ids": [10**12]}, 422, "members_not_taggable"),
        (hq, "put", f"{URL}/lifecycle", {"new_days": 20, "active_days": 600, "dormant_days": 120, "lost_days": 300,
                                         "won_back_days": 20}, 422, "thresholds_order"),
        (client_for(chain.east_manager), "put", f"{URL}/lifecycle", {"new_days": 1, "active_days": 2,
                                                                     "dormant_days": 3, "lost_days": 4,
                                                                     "won_back_days": 1}, 403, "hq_only"),
        (client_for(chain.east_manager), "patch", f"{URL}/tags/{tag['id']}", {"name": "x"}, 403,
         "tag_scope_forbidden"),
        (client_for(chain.manager_a), "post", f"{URL}/tag-groups", {"code": "m", "name": "m"}, 403, "forbidden"),
        (client_for(chain.guide_a), "post", f"{URL}/members/{west_member.id}/tags", {"tag_id": tag["id"]}, 404,
         "member_not_found"),
        (client_for(chain.guide_a), "get", f"{URL}/members/{west_member.id}/tags", None, 404, "member_not_found"),
        (client_for(chain.guide_a), "post", f"{URL}/tags/refresh", None, 403, "forbidden"),
    ]
    for client, method, url, body, status, code in cases:
        assert_error(call(client, method, url, body), status, code)
    assert state() == before
    with translation.override("zh-hans"):
        response = call(hq, "post", f"{URL}/tag-groups", {"code": "interest", "name": "again"},
                        **{"Accept-Language": "zh-hans"})
    assert response.json()["error"]["message"] == "已有标签分组使用此编码。"


def test_a_regions_tags_are_invisible_to_another_region(chain):
    east = client_for(chain.east_manager)
    group = call(east, "post", f"{URL}/tag-groups", {"code": "east", "name": "华东"}).json()
    assert group["node_id"] == chain.east.id
    tag = call(east, "post", f"{URL}/tags", {"group_id": group["id"], "code": "east-vip", "name": "华东VIP"}).json()
    west = client_for(chain.west_manager)
    assert call(west, "get", f"{URL}/tags").json()["items"] == []
    assert_error(call(west, "get", f"{URL}/tags/{tag['id']}"), 404, "tag_not_found")
    assert_error(call(west, "post", f"{URL}/tags/{tag['id']}/members", {"member_ids": [1]}), 404, "tag_not_found")
