"""The outbox: idempotent enqueue, rendering, consent and unsubscribe, caps, quiet hours across time zones,
retries with backoff, receipts, and exactly-once sending with two workers."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.testing import race
from yundian.members.models import ConsentChannel, ConsentState
from yundian.messaging import services
from yundian.messaging.models import MessageEvent, MessageStatus, OutboundMessage, Reason
from yundian.messaging.providers import FakeSmsProvider, FakeWechatProvider
from yundian.messaging.sending import send_due

from .factories import consenting_member, enqueue, make_template, reset_gateways, statuses, store_zone

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
NOON_SHANGHAI = datetime(2030, 1, 7, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, after the real clock


@pytest.fixture(autouse=True)
def gateways():
    reset_gateways()
    yield FakeSmsProvider.gateway
    reset_gateways()


def test_the_same_key_returns_the_first_message_and_queues_nothing_more(chain):
    member = consenting_member(chain)
    template = make_template(chain)
    first = enqueue(member, template, "journey:7:enrolment:1:node:n3")
    again = services.message_enqueue(member=member, channel="email", template=template, variables={}, key=first.key)
    assert again.pk == first.pk and OutboundMessage.objects.count() == 1
    assert (first.status, first.reason, first.source, first.channel) == ("queued", "enqueued", "journey", "sms")
    assert first.body.startswith("李梅，新年快乐！券码 NY-1，Store A 见。\n退订：http://localhost:8000/m/u/")


def test_bad_enqueues_are_refused_and_queue_nothing(chain, other_chain):
    member = consenting_member(chain)
    template = make_template(chain)
    foreign = make_template(other_chain, name="别家模板")
    cases = [({"channel": "fax"}, "invalid_channel"), ({"key": ""}, "invalid_key"),
             ({"variables": {"coupon_code": ["x"]}}, "invalid_variables"), ({"purpose": "spam"}, "invalid_purpose"),
             ({"template": foreign}, "template_not_found"), ({"template": 999999}, "template_not_found")]
    for change, code in cases:
        call = {"member": member, "channel": "sms", "template": template, "variables": {}, "key": "k", **change}
        with pytest.raises((ValidationFailed, NotFound)) as refused:
            services.message_enqueue(**call)
        assert refused.value.code == code
    assert OutboundMessage.objects.count() == 0


def test_a_marketing_sms_is_sent_once_and_its_receipt_marks_it_delivered(chain, gateways):
    member = consenting_member(chain)
    message = enqueue(member, make_template(chain), "manual:1")
    outcome = send_due(now=NOON_SHANGHAI)
    message.refresh_from_db()
    assert (outcome.claimed, outcome.sent, message.status, message.reason) == (1, 1, "sent", "accepted")
    assert message.provider == "fake_sms" and message.provider_message_id.startswith("SMS-")
    assert list(gateways.sent) == [f"ydm-{message.pk}"] and gateways.sent[f"ydm-{message.pk}"].address == member.identities.get(kind="phone").value
    assert send_due(now=NOON_SHANGHAI + timedelta(hours=1)).claimed == 0  # nothing twice
    # the gateway calls the signed receipt webhook; a repeat changes nothing; a bad signature is refused
    client = Client()
    body, signature = services_receipt_body(gateways.receipts)
    assert client.post("/api/v1/messaging/receipts/fake_sms", body, content_type="application/json",
                       HTTP_X_YUNDIAN_SIGNATURE="bad").status_code == 401
    answer = client.post("/api/v1/messaging/receipts/fake_sms", body, content_type="application/json",
                         HTTP_X_YUNDIAN_SIGNATURE=signature)
    assert answer.status_code == 200 and answer.json() == {"applied": 1, "repeated": 0, "unknown": 0}
    assert client.post("/api/v1/messaging/receipts/fake_sms", body, content_type="application/json",
                       HTTP_X_YUNDIAN_SIGNATURE=signature).json() == {"applied": 0, "repeated": 1, "unknown": 0}
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    assert list(message.events.values_list("status", flat=True)) == ["queued", "sending", "sent", "delivered"]


def services_receipt_body(receipts):
    from yundian.messaging.receipts import receipt_signature

    import json

    body = json.dumps({"receipts": receipts})
    return body, receipt_signature("fake_sms", body.encode())


def test_consent_is_required_for_marketing_but_not_for_service_messages(chain, gateways):
    member = consenting_member(chain, channels=())
    marketing = make_template(chain)
    service = make_template(chain, name="取货通知", purpose="service",
                            bodies=[{"channel": "sms", "body": "$member_name，您的订单 $order_number 可以取货了。"}])
    offer = enqueue(member, marketing, "m:1")
    notice = enqueue(member, service, "s:1", purpose="service", order_number="A-1")
    laundered = enqueue(member, marketing, "m:2", purpose="service")  # a marketing template stays marketing
    send_due(now=NOON_SHANGHAI)
    assert statuses(offer, notice, laundered) == [("suppressed", "no_consent"), ("sent", "accepted"),
                                                  ("suppressed", "no_consent")]
    notice.refresh_from_db()
    assert "m/u/" not in notice.body and len(gateways.sent) == 1


def test_the_unsubscribe_link_withdraws_consent_with_one_post_and_later_offers_are_suppressed(chain):
    member = consenting_member(chain)
    template = make_template(chain)
    first = enqueue(member, template, "m:1")
    link = first.body.rsplit("：", 1)[1]
    path = link.removeprefix("http://localhost:8000")
    client = Client()
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Stop receiving offers by SMS?" in page.content.decode()
    assert ConsentState.objects.get(member=member, channel="sms").granted is True  # a GET changes nothing
    done = client.post(path, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200 and 'id="unsubscribed"' in done.content.decode()
    assert ConsentState.objects.get(member=member, channel="sms").granted is False
    assert ConsentState.objects.get(member=member, channel="email").granted is True  # only the link's channel
    assert client.post(path[:-3] + "xx/").status_code == 404  # a forged link
    send_due(now=NOON_SHANGHAI)
    assert statuses(first) == [("suppressed", "unsubscribed")]


def test_frequency_caps_suppress_marketing_over_the_daily_and_weekly_limits_but_not_service(chain):
    member = consenting_member(chain)
    template = make_template(chain)
    service = make_template(chain, name="通知", purpose="service", bodies=[{"channel": "sms", "body": "通知"}])
    policy = services.policy_get(chain.hq.enterprise_id)
    policy.daily_cap, policy.weekly_cap = 2, 3
    policy.save()
    day1 = [enqueue(member, template, f"m:{i}") for i in range(3)]
    note = enqueue(member, service, "s:1", purpose="service")
    send_due(now=NOON_SHANGHAI)
    assert statuses(*day1, note) == [("sent", "accepted"), ("sent", "accepted"), ("suppressed", "daily_cap"),
                                     ("sent", "accepted")]
    day2 = [enqueue(member, template, f"m2:{i}") for i in range(2)]
    send_due(now=NOON_SHANGHAI + timedelta(days=1))
    assert statuses(*day2) == [("sent", "accepted"), ("suppressed", "weekly_cap")]
    other_channel = enqueue(member, template, "m3:wechat", channel="wechat")
    send_due(now=NOON_SHANGHAI + timedelta(days=1))
    assert statuses(other_channel) == [("sent", "accepted")]  # caps count per channel


def test_quiet_hours_defer_to_their_end_in_each_stores_time_zone(chain):
    store_zone(chain, chain.store_a, "Asia/Shanghai")
    store_zone(chain, chain.store_b, "America/New_York")
    template = make_template(chain)
    east = consenting_member(chain)
    west = consenting_member(chain, store=chain.store_b, email="w@example.com", openid="oWX3a9fK2mLq8ZpR7tYbN1cD4eFh")
    now = datetime(2030, 1, 7, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai, 08:30 in New York
    to_east, to_west = enqueue(east, template, "m:e"), enqueue(west, template, "m:w")
    inbox = enqueue(east, template, "m:inbox", channel="inapp")  # the inbox does not ring: no quiet hours
    send_due(now=now)
    to_east.refresh_from_db(), to_west.refresh_from_db()
    assert (to_east.status, to_east.reason, to_east.due_at) == ("deferred", "quiet_hours",
                                                                datetime(2030, 1, 8, 1, 0, tzinfo=UTC))
    assert (to_west.status, to_west.due_at) == ("deferred", datetime(2030, 1, 7, 14, 0, tzinfo=UTC))
    assert statuses(inbox) == [("delivered", "delivered")]
    send_due(now=datetime(2030, 1, 7, 14, 0, tzinfo=UTC))  # 09:00 in New York, 22:00 in Shanghai
    assert statuses(to_east, to_west) == [("deferred", "quiet_hours"), ("sent", "accepted")]
    send_due(now=datetime(2030, 1, 8, 1, 0, tzinfo=UTC))
    assert statuses(to_east) == [("sent", "accepted")]


def test_transient_provider_errors_retry_with_backoff_then_give_up(chain, gateways):
    member = consenting_member(chain)
    template = make_template(chain)
    flaky, doomed = enqueue(member, template, "m:flaky"), enqueue(member, template, "m:doomed", channel="wechat")
    gateways.faults.extend(["transient", "transient"])
    wechat = FakeWechatProvider.gateway
    wechat.faults.extend(["transient"] * 5)
    send_due(now=NOON_SHANGHAI)
    flaky.refresh_from_db()
    assert (flaky.status, flaky.reason, flaky.attempts, flaky.due_at) == (
        "queued", "retry", 1, NOON_SHANGHAI + timedelta(minutes=1))
    send_due(now=NOON_SHANGHAI + timedelta(minutes=1))
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts, flaky.due_at) == ("queued", 2, NOON_SHANGHAI + timedelta(minutes=6))
    send_due(now=NOON_SHANGHAI + timedelta(minutes=6))
    flaky.refresh_from_db()
    assert (flaky.status, flaky.attempts) == ("sent", 3) and len(gateways.sent) == 1
    at = NOON_SHANGHAI
    for _ in range(4):
        at += timedelta(hours=3)
        send_due(now=at)
    doomed.refresh_from_db()
    assert (doomed.status, doomed.reason, doomed.attempts) == ("failed", "retries_exhausted", 5) and not wechat.sent


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_every_message_exactly_once(chain, gateways):
    member = consenting_member(chain, channels=())
    service = make_template(chain, name="通知", purpose="service", bodies=[{"channel": "sms", "body": "通知 $date"}])
    messages = [enqueue(member, service, f"s:{i}", purpose="service") for i in range(60)]
    results = race(lambda: send_due(now=NOON_SHANGHAI, limit=7, worker="w1"),
                   lambda: send_due(now=NOON_SHANGHAI, limit=7, worker="w2"))
    assert [kind for kind, _ in results] == ["ok", "ok"]
    assert sum(outcome.sent for _, outcome in results) == 60 and gateways.calls == 60
    assert sorted(gateways.sent) == sorted(f"ydm-{m.pk}" for m in messages)
    assert OutboundMessage.objects.filter(status="sent").count() == 60
    assert MessageEvent.objects.filter(status="sent").count() == 60


def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease_and_the_gateway_dedups(chain, gateways):
    member = consenting_member(chain)
    message = enqueue(member, make_template(chain), "m:1")
    from yundian.messaging.sending import claim, decide

    held = claim(worker="dead", now=NOON_SHANGHAI)[0]
    outgoing = decide(held, now=NOON_SHANGHAI)
    FakeSmsProvider().send(outgoing)  # sent, then the worker was killed before recording it
    assert send_due(now=NOON_SHANGHAI + timedelta(minutes=1)).claimed == 0  # the lease still holds
    send_due(now=NOON_SHANGHAI + timedelta(minutes=6))
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2) and len(gateways.sent) == 1
    assert message.provider_message_id == gateways.ids[f"ydm-{message.pk}"]
