"""Webhooks: signatures, derivation from the outbox, delivery with retries, backoff and dead letters against a real
local receiver, replay without duplicates at the receiver, rotation, scoping and bad input."""
import json
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.integrations import webhooks_services as services
from yundian.integrations.models import (
    WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookReplay, WebhookSubscription,
)
from yundian.integrations.webhooks_delivery import backoff, deliver_due
from yundian.integrations.webhooks_events import dispatch
from yundian.integrations.webhooks_signing import SignatureError, signature_header, verify
from yundian.members.tests.factories import register
from yundian.sales import services as sales
from yundian.sales.tests.factories import sell, stocked

from .receiver import Receiver

ALL = ["order.paid", "order.cancelled", "order.returned", "stock.changed", "member.created", "member.merged",
       "coupon.redeemed", "journey.message_sent"]


@pytest.fixture(autouse=True)
def _local_urls(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_BACKOFF_BASE = 60
    settings.WEBHOOKS_MAX_ATTEMPTS = 12


@pytest.fixture
def stock(chain):
    return stocked(chain)


def subscribe(chain, receiver, events=("order.paid",), name="ERP"):
    sub = services.webhook_subscription_create(actor=chain.admin, name=name, url=receiver.url, events=list(events))
    receiver.secret = sub.secret
    return sub


def counts():
    return (WebhookSubscription.objects.count(), WebhookEvent.objects.count(), WebhookDelivery.objects.count(),
            WebhookAttempt.objects.count(), WebhookReplay.objects.count())


# --- signatures ---------------------------------------------------------------------------------------------

def test_a_signature_verifies_and_a_tampered_body_or_an_old_timestamp_is_refused():
    body = b'{"id":"evt_1","type":"order.paid"}'
    now = int(time.time())
    header = signature_header(["whsec_a"], now, body)
    assert verify("whsec_a", header, body) == now
    with pytest.raises(SignatureError, match="no signature"):
        verify("whsec_a", header, body.replace(b"paid", b"PAID"))
    with pytest.raises(SignatureError, match="no signature"):
        verify("whsec_b", header, body)
    stale = signature_header(["whsec_a"], now - 301, body)
    with pytest.raises(SignatureError, match="tolerance"):
        verify("whsec_a", stale, body)
    assert verify("whsec_a", signature_header(["whsec_a"], now - 299, body), body) == now - 299
    with pytest.raises(SignatureError, match="malformed"):
        verify("whsec_a", "v1=abc", body)


# --- delivery -----------------------------------------------------------------------------------------------

def test_a_paid_order_reaches_the_receiver_once_signed_with_its_event_id_and_stock_change(chain, stock):
    with Receiver() as receiver:
        subscribe(chain, receiver, events=["order.paid", "stock.changed"])
        order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
        assert dispatch() == 2
        assert dispatch() == 0  # read once: nothing new
        outcome = deliver_due()
        assert (outcome.claimed, outcome.delivered) == (2, 2)
        by_type = {c["type"]: c for c in receiver.calls}
        assert set(by_type) == {"order.paid", "stock.changed"} and all(c["verified"] for c in receiver.calls)
        paid = json.loads(by_type["order.paid"]["body"])
        event = WebhookEvent.objects.get(type="order.paid")
        assert paid["id"] == by_type["order.paid"]["event_id"] == f"evt_{event.pk}"
        assert (paid["data"]["id"], paid["data"]["total"], paid["data"]["lines"][0]["quantity"]) == \
            (order.pk, order.total, 2)
        moved = json.loads(by_type["stock.changed"]["body"])["data"]
        assert (moved["source_type"], moved["lines"][0]["change"], moved["lines"][0]["on_hand"]) == ("order", -2, 8)
        assert deliver_due().claimed == 0  # delivered: never again
        assert len(receiver.calls) == 2
        log = WebhookAttempt.objects.order_by("id").first()
        assert (log.number, log.status_code, log.error) == (1, 200, "")


def test_returns_cancellations_coupons_and_members_become_their_events(chain, stock):
    from yundian.promotions import services as promo

    with Receiver() as receiver:
        subscribe(chain, receiver, events=ALL)
        campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="C1", name="Coupon",
                                                kind="threshold_amount", tiers=[{"min": 0, "off": 1000}])
        code = promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code
        paid = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], coupon_codes=[code])
        sales.return_create(actor=chain.guide_a, order_id=paid.pk, client_ref="r-1",
                            lines=[{"order_line_id": paid.lines.get().id, "quantity": 1}])
        open_order = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)], pay=None)
        sales.order_cancel(actor=chain.guide_a, order_id=open_order.pk, reason="changed mind")
        member = register(chain, name="李梅")
        dispatch()
        deliver_due()
        types = sorted(c["type"] for c in receiver.calls)
        assert types.count("order.paid") == 1 and types.count("order.cancelled") == 1
        assert types.count("order.returned") == 1 and types.count("coupon.redeemed") == 1
        assert types.count("member.created") == 1
        returned = next(json.loads(c["body"]) for c in receiver.calls if c["type"] == "order.returned")
        assert (returned["data"]["order"]["id"], returned["data"]["return"]["lines"][0]["quantity"]) == (paid.pk, 1)
        created = next(json.loads(c["body"]) for c in receiver.calls if c["type"] == "member.created")
        assert created["data"]["id"] == member.pk
        assert len(receiver.ids()) == len(set(receiver.ids()))  # every event once


def test_a_failing_receiver_is_retried_on_the_backoff_schedule_then_dead_lettered_and_retried_by_hand(
        chain, stock, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    with Receiver(default=500) as receiver:
        subscribe(chain, receiver)
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        t0 = timezone.now()
        dispatch(now=t0)
        delivery = WebhookDelivery.objects.get()
        assert deliver_due(now=t0).retried == 1
        delivery.refresh_from_db()
        first_wait = backoff(delivery.pk, 1)
        assert delivery.next_attempt_at == t0 + first_wait
        assert timedelta(seconds=48) <= first_wait < timedelta(seconds=72)  # 60 s with ±20 % jitter
        assert backoff(delivery.pk, 1) == first_wait  # deterministic
        assert deliver_due(now=t0 + first_wait - timedelta(seconds=1)).claimed == 0  # not due yet
        t1 = t0 + first_wait
        assert deliver_due(now=t1).retried == 1
        delivery.refresh_from_db()
        second_wait = delivery.next_attempt_at - t1
        assert second_wait == backoff(delivery.pk, 2)
        assert timedelta(seconds=96) <= second_wait < timedelta(seconds=144)  # doubled
        assert deliver_due(now=t1 + second_wait).dead == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("dead", 3, 500)
        log = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
        assert log == [(1, 500), (2, 500), (3, 500)]
        assert deliver_due(now=t1 + timedelta(days=3)).claimed == 0  # a dead letter is not tried again
        assert len({c["event_id"] for c in receiver.calls}) == 1 and len(receiver.calls) == 3

        receiver.default = 200  # the endpoint is fixed; HQ sends the dead letter again
        services.webhook_delivery_retry(actor=chain.admin, delivery_id=delivery.pk)
        with pytest.raises(ValidationFailed) as exc:
            services.webhook_delivery_retry(actor=chain.admin, delivery_id=delivery.pk)
        assert exc.value.code == "not_dead"
        assert deliver_due().delivered == 1
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and len(receiver.calls) == 4
        assert len(set(receiver.ids())) == 1  # the same event id every time


def test_an_unreachable_endpoint_is_a_failed_attempt_with_its_error(chain, stock):
    with Receiver() as receiver:
        sub = subscribe(chain, receiver)
    # the receiver is gone: connection refused
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    dispatch()
    assert deliver_due().retried == 1
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "URLError" in attempt.error
    assert WebhookDelivery.objects.get().subscription == sub


def test_a_name_that_resolves_to_a_private_address_at_delivery_time_reaches_nothing(chain, stock, settings):
    """The address is judged where the socket connected, not as typed: a URL saved when it pointed outside (here:
    saved while private addresses were allowed) that now resolves to a loopback address gets no request."""
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        sub = services.webhook_subscription_create(actor=chain.admin, name="ERP", url=f"http://localhost:{port}/hook",
                                                   events=["order.paid"])
        receiver.secret = sub.secret
        settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch()
        assert deliver_due().retried == 1
        assert receiver.calls == []
        attempt = WebhookAttempt.objects.get()
        assert attempt.status_code is None and "private address 127.0.0.1" in attempt.error
        settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # development: the same delivery goes through on its retry
        WebhookDelivery.objects.update(next_attempt_at=WebhookDelivery.objects.get().created_at)
        assert deliver_due().delivered == 1 and len(receiver.calls) == 1


def test_a_replay_by_range_resends_the_same_event_ids_and_the_receiver_keeps_each_once(chain, stock):
    with Receiver() as receiver:
        sub = subscribe(chain, receiver)
        for _ in range(3):
            sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch()
        deliver_due()
        first = receiver.ids()
        assert len(first) == 3
        ids = sorted(WebhookEvent.objects.values_list("id", flat=True))
        replay = services.webhook_replay(actor=chain.admin, subscription_id=sub.pk, from_event=f"evt_{ids[1]}",
                                         to_event=f"evt_{ids[2]}")
        assert replay.events == 2
        by_time = services.webhook_replay(actor=chain.admin, subscription_id=sub.pk,
                                          since=timezone.now() - timedelta(hours=1))
        assert by_time.events == 3
        assert deliver_due().delivered == 5
        assert len(receiver.calls) == 8
        assert sorted(set(receiver.ids())) == sorted(first)  # nothing new: same ids
        assert len(receiver.events) == 3  # the receiver keeps each event once
        seen = Counter(receiver.ids())
        assert [seen[f"evt_{i}"] for i in ids] == [2, 3, 3]  # the id range, then the time range


def test_rotating_the_secret_signs_with_both_during_the_grace_then_only_the_new(chain, stock):
    with Receiver() as receiver:
        sub = subscribe(chain, receiver)
        old = sub.secret
        sub = services.webhook_subscription_rotate(actor=chain.admin, subscription_id=sub.pk, grace_hours=24)
        assert sub.secret != old and sub.previous_secret == old
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch()
        deliver_due()
        call = receiver.calls[-1]
        assert call["signature"].count("v1=") == 2
        verify(old, call["signature"], call["body"])  # a receiver still on the old secret
        verify(sub.secret, call["signature"], call["body"])  # one already switched
        later = timezone.now() + timedelta(hours=25)
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch(now=later)
        deliver_due(now=later)
        call = receiver.calls[-1]
        assert call["signature"].count("v1=") == 1
        verify(sub.secret, call["signature"], call["body"])
        with pytest.raises(SignatureError):
            verify(old, call["signature"], call["body"])


def test_a_disabled_subscription_keeps_its_deliveries_until_enabled_and_other_enterprises_get_nothing(
        chain, other_chain, stock):
    with Receiver() as receiver:
        sub = subscribe(chain, receiver)
        services.webhook_subscription_update(actor=chain.admin, subscription_id=sub.pk, name="ERP", url=sub.url,
                                             events=["order.paid"], is_active=False)
        other = stocked(other_chain)
        sell(other_chain.guide_a, other_chain.store_a, [(other.cat.tee_s, 1)])  # no subscription there
        dispatch()
        assert WebhookEvent.objects.count() == 0
        services.webhook_subscription_update(actor=chain.admin, subscription_id=sub.pk, name="ERP", url=sub.url,
                                             events=["order.paid"], is_active=True)
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch()
        services.webhook_subscription_update(actor=chain.admin, subscription_id=sub.pk, name="ERP", url=sub.url,
                                             events=["order.paid"], is_active=False)
        assert deliver_due().claimed == 0
        services.webhook_subscription_update(actor=chain.admin, subscription_id=sub.pk, name="ERP", url=sub.url,
                                             events=["order.paid"], is_active=True)
        assert deliver_due().delivered == 1


# --- scoping and bad input ----------------------------------------------------------------------------------

def test_only_hq_admins_of_the_enterprise_manage_its_subscriptions(chain, other_chain):
    sub = services.webhook_subscription_create(actor=chain.admin, name="ERP", url="http://127.0.0.1:9/h",
                                               events=["order.paid"])
    for actor in (chain.east_manager, chain.manager_a, chain.guide_a, chain.auditor):
        with pytest.raises(Forbidden):
            services.webhook_subscription_create(actor=actor, name="x", url="http://127.0.0.1:9/h",
                                                 events=["order.paid"])
        with pytest.raises(Forbidden):
            services.webhook_subscription_rotate(actor=actor, subscription_id=sub.pk)
    with pytest.raises(NotFound):  # another enterprise's admin does not even learn it exists
        services.webhook_subscription_rotate(actor=other_chain.admin, subscription_id=sub.pk)
    with pytest.raises(NotFound):
        services.webhook_replay(actor=other_chain.admin, subscription_id=sub.pk, from_event="evt_1")
    assert WebhookSubscription.objects.get().secret == sub.secret


def test_the_api_creates_lists_and_scopes_subscriptions_and_refuses_bad_input_changing_nothing(
        chain, other_chain, api_client):
    from yundian.org.tests.factories import PASSWORD

    api_client.login(username="acme-admin", password=PASSWORD)
    base = "/api/v1/integrations/webhooks"
    catalogue = api_client.get(f"{base}/events").json()
    assert [e["name"] for e in catalogue] == ALL
    created = api_client.post(f"{base}/subscriptions", {"name": "ERP", "url": "http://127.0.0.1:9/h",
                                                         "events": ["order.paid", "stock.changed"]},
                              content_type="application/json")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    before = counts()
    for body, code in [({"name": "ERP", "url": "ftp://erp.example.com/h", "events": ["order.paid"]}, "invalid_url"),
                       ({"name": "ERP", "url": "not a url", "events": ["order.paid"]}, "invalid_url"),
                       ({"name": "ERP", "url": "http://127.0.0.1:9/h", "events": ["order.shipped"]},
                        "unknown_event"),
                       ({"name": "ERP", "url": "http://127.0.0.1:9/h", "events": []}, "no_events"),
                       ({"name": "", "url": "http://127.0.0.1:9/h", "events": ["order.paid"]}, "invalid_name")]:
        answer = api_client.post(f"{base}/subscriptions", body, content_type="application/json",
                                 HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == code
    zh = api_client.post(f"{base}/subscriptions", {"name": "x", "url": "http://127.0.0.1:9/h", "events": ["bad"]},
                         content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "未知" in zh["error"]["message"]
    sub_id = created.json()["id"]
    bad_replay = api_client.post(f"{base}/subscriptions/{sub_id}/replay", {"from_event": "evt_9", "to_event": "evt_2"},
                                 content_type="application/json")
    assert (bad_replay.status_code, bad_replay.json()["error"]["code"]) == (422, "invalid_range")
    no_range = api_client.post(f"{base}/subscriptions/{sub_id}/replay", {}, content_type="application/json")
    assert no_range.json()["error"]["code"] == "no_range"
    assert counts() == before

    api_client.logout()
    api_client.login(username="zeta-admin", password=PASSWORD)
    assert api_client.get(f"{base}/subscriptions").json() == []
    assert api_client.get(f"{base}/subscriptions/{sub_id}").status_code == 404
    api_client.logout()
    api_client.login(username="acme-east", password=PASSWORD)
    assert api_client.get(f"{base}/subscriptions").status_code == 403
    assert api_client.get(f"{base}/deliveries").status_code == 403


def test_production_refuses_plain_http_and_private_addresses(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for url, code in [("http://erp.example.com/h", "insecure_url"), ("https://127.0.0.1/h", "private_url"),
                      ("https://10.1.2.3/h", "private_url"), ("https://localhost:8000/h", "private_url"),
                      ("https://169.254.169.254/latest", "private_url"), ("https://[::ffff:10.0.0.1]/h", "private_url"),
                      ("https://0.0.0.0/h", "private_url"), ("https://u:p@erp.example.com/", "invalid_url")]:
        with pytest.raises(ValidationFailed) as exc:
            services.clean_url(url)
        assert exc.value.code == code, url
    assert services.clean_url(" https://erp.example.com/hooks ") == "https://erp.example.com/hooks"
