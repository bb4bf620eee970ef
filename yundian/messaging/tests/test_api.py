"""Messaging API: templates CRUD (HQ and regions write within their subtree, others read what sits above them),
the outbox list scoped to the caller, bad input 4xx changing nothing."""
import pytest

from yundian.core.models import AuditEntry
from yundian.messaging.models import MessageTemplate, OutboundMessage, TemplateBody
from yundian.org.tests.utils import assert_error, client_for

from .factories import consenting_member, enqueue, make_template

pytestmark = pytest.mark.django_db

NEW = {"name": "生日祝福", "purpose": "marketing", "variables": ["gift_name"],
       "bodies": [{"channel": "sms", "body": "$member_name 生日快乐，$gift_name 已备好"},
                  {"channel": "email", "language": "en", "subject": "Happy birthday", "body": "Your $gift_name"}]}


def test_templates_are_created_read_changed_and_deleted_through_the_api(chain):
    hq = client_for(chain.admin)
    created = hq.post("/api/v1/messaging/templates", NEW, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["node_id"], body["variables"]) == ("生日祝福", chain.hq.pk, ["gift_name"])
    assert [(b["channel"], b["language"]) for b in body["bodies"]] == [("email", "en"), ("sms", "zh-hans")]
    template_id = body["id"]
    changed = hq.put(f"/api/v1/messaging/templates/{template_id}",
                     {**NEW, "bodies": [{"channel": "inapp", "subject": "生日", "body": "$gift_name"}],
                      "is_active": False}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert list(TemplateBody.objects.filter(template_id=template_id).values_list("channel", flat=True)) == ["inapp"]
    # a store manager reads HQ's template but may not change it
    store = client_for(chain.manager_a)
    assert store.get(f"/api/v1/messaging/templates/{template_id}").status_code == 200
    assert_error(store.put(f"/api/v1/messaging/templates/{template_id}", {**NEW, "is_active": True},
                           content_type="application/json"), 403, "forbidden")
    assert hq.delete(f"/api/v1/messaging/templates/{template_id}").status_code == 204
    assert not MessageTemplate.objects.filter(pk=template_id).exists()
    assert list(AuditEntry.objects.filter(action__startswith="message_template.").values_list("action", flat=True)
                .order_by("id")) == ["message_template.create", "message_template.update", "message_template.delete"]


@pytest.mark.parametrize("change,status,code", [
    ({"bodies": [{"channel": "sms", "body": "$nope"}]}, 422, "unknown_variable"),
    ({"bodies": [{"channel": "sms", "body": "100$"}]}, 422, "invalid_template"),
    ({"bodies": [{"channel": "fax", "body": "x"}]}, 422, "invalid_channel"),
    ({"bodies": [{"channel": "email", "body": "x"}]}, 422, "required"),
    ({"bodies": [{"channel": "sms", "body": "a"}, {"channel": "sms", "body": "b"}]}, 422, "duplicate_body"),
    ({"bodies": []}, 422, "required"),
    ({"variables": ["Bad-Name"]}, 422, "invalid_variables"),
    ({"purpose": "spam"}, 422, "invalid_purpose"),
    ({"name": "新年礼券"}, 409, "template_name_taken"),
])
def test_bad_templates_are_refused_and_nothing_changes(chain, change, status, code):
    make_template(chain)
    before = (MessageTemplate.objects.count(), TemplateBody.objects.count())
    response = client_for(chain.admin).post("/api/v1/messaging/templates", {**NEW, **change},
                                            content_type="application/json")
    assert_error(response, status, code)
    assert (MessageTemplate.objects.count(), TemplateBody.objects.count()) == before


def test_the_outbox_lists_only_messages_to_members_of_the_callers_subtree(chain, other_chain):
    template = make_template(chain)
    east = consenting_member(chain)
    west = consenting_member(chain, store=chain.store_b, email="w@example.com", openid="oWX3a9fK2mLq8ZpR7tYbN1cD4eFh")
    to_east, to_west = enqueue(east, template, "journey:1:e"), enqueue(west, template, "manual:w")
    hq = client_for(chain.admin).get("/api/v1/messaging/messages").json()
    assert sorted(m["id"] for m in hq["items"]) == [to_east.pk, to_west.pk]
    mine = client_for(chain.east_manager).get("/api/v1/messaging/messages?source=journey").json()
    assert [m["id"] for m in mine["items"]] == [to_east.pk]
    assert [m["id"] for m in client_for(chain.east_manager).get(
        "/api/v1/messaging/messages?source=manual").json()["items"]] == []
    assert_error(client_for(chain.manager_a).get(f"/api/v1/messaging/messages/{to_west.pk}"), 404)
    assert_error(client_for(other_chain.admin).get(f"/api/v1/messaging/messages/{to_east.pk}"), 404)
    assert client_for(other_chain.admin).get("/api/v1/messaging/messages").json()["items"] == []
    assert client_for(chain.guide_a).get("/api/v1/messaging/messages").json()["items"] == []  # no outbox for guides
    assert OutboundMessage.objects.count() == 2


def test_the_preview_renders_each_body_for_a_sample_member(chain):
    response = client_for(chain.manager_a).post("/api/v1/messaging/preview", {
        "bodies": [{"channel": "sms", "body": "$member_name，$coupon_code 已到账"}], "purpose": "marketing"},
        content_type="application/json")
    assert response.status_code == 200
    [row] = response.json()
    assert row["body"].startswith("王小明，NY2027-8K3D 已到账\n退订：http://localhost:8000/m/u/")
    assert row["member_name"] == "王小明"
