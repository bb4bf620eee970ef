import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.test import Client
from django.utils import timezone

from yundian.cdp.models import EventInbox
from yundian.cdp.tokens import member_token_issue
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org import services as org_services
from yundian.org.tests.factories import PASSWORD
from yundian.stores.tests.factories import make_shop

pytestmark = pytest.mark.django_db
URL = "/api/v1/events"


@pytest.fixture
def shop(chain):
    return make_shop(chain)


def _post(body, client=None, **meta):
    return (client or Client()).post(URL, data=json.dumps(body), content_type="application/json", **meta)


def _event(key, kind="page_view", **fields):
    return {"event_id": key, "kind": kind, "anonymous_id": "dev-1", **fields}


def _inbox():
    return list(EventInbox.objects.order_by("id").values_list("event_key", "kind", "member_id", "store_id"))


def test_a_batch_keeps_its_good_events_and_refuses_the_bad_ones_by_index(chain, shop):
    sku = shop.catalogue.tee_s
    events = [
        _event("e1", properties={"path": "/s/x/"}),
        _event("e2", "product_view"),                                     # no SKU
        _event("e3", "product_view", sku_id=sku.id),
        _event("e4", "search", properties={"query": ""}),                 # empty query
        _event("e5", "add_to_cart", sku_id=sku.id, properties={"quantity": 2}),
        _event("e6", "teleport"),
        "not an object",
        _event("e8", "scan", properties={"barcode": "690"}),              # till kinds are staff only
        _event("e9", "product_view", sku_id=999999),
        _event("e10", "custom", name="wishlist_add"),
        _event("e11", properties={"x": "y" * 5000}),
    ]
    response = _post({"store": shop.profile_a.slug, "events": events}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 207
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["dropped"]) == (4, 0, 0)
    assert [(r["index"], r["code"], r["field"]) for r in body["rejected"]] == [
        (1, "sku_required", "sku_id"), (3, "property_required", "properties.query"), (5, "unknown_kind", "kind"),
        (6, "invalid_event", None), (7, "kind_not_allowed", "kind"), (8, "unknown_sku", "sku_id"),
        (10, "invalid_properties", "properties")]
    assert body["rejected"][0]["message"] == "This kind of event needs a SKU."
    assert _inbox() == [("e1", "page_view", None, chain.store_a.id), ("e3", "product_view", None, chain.store_a.id),
                        ("e5", "add_to_cart", None, chain.store_a.id), ("e10", "custom", None, chain.store_a.id)]


def test_a_retried_batch_counts_its_events_as_duplicates_and_keeps_them_once(chain, shop):
    batch = {"store": shop.profile_a.slug, "events": [_event("a"), _event("b"), _event("b")]}
    first = _post(batch).json()
    second = _post(batch).json()
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    assert (second["accepted"], second["duplicates"]) == (0, 3)
    assert [row[0] for row in _inbox()] == ["a", "b"]


def test_the_refusal_message_is_translated(chain, shop):
    response = _post({"store": shop.profile_a.slug, "events": [_event("a", "product_view")]},
                     HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["rejected"][0]["message"] == "此类事件需要 SKU。"


def test_event_times_are_corrected_by_the_senders_clock_skew(chain, shop):
    now = timezone.now()
    slow = now - timedelta(hours=2)  # the phone's clock is two hours behind
    events = [_event("a", timestamp=(slow - timedelta(minutes=5)).isoformat()),
              _event("b", timestamp=(slow + timedelta(hours=1)).isoformat()),   # after the sender's now: clamped
              _event("c", timestamp=(slow - timedelta(days=8)).isoformat()),    # older than 7 days
              _event("d", timestamp="yesterday")]
    body = _post({"store": shop.profile_a.slug, "sent_at": slow.isoformat(), "events": events}).json()
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(2, "too_old"), (3, "invalid_timestamp")]
    rows = {r.event_key: r for r in EventInbox.objects.all()}
    a, b = rows["a"], rows["b"]
    assert abs((a.received_at - a.occurred_at) - timedelta(minutes=5)) < timedelta(seconds=5)
    assert b.occurred_at == b.received_at
    assert abs(a.received_at - now) < timedelta(seconds=5)


def test_a_storefront_batch_must_name_an_existing_store_and_changes_nothing_otherwise(chain, shop):
    assert _post({"events": [_event("a")]}).status_code == 404
    response = _post({"store": "no-such-store", "events": [_event("a")]})
    assert (response.status_code, response.json()["error"]["code"]) == (404, "store_not_found")
    assert _inbox() == []


def test_a_storefront_page_names_its_member_by_a_signed_token_only(chain, shop):
    member = register(chain)
    token = member_token_issue(enterprise_id=chain.hq.enterprise_id, member_id=member.pk)
    body = _post({"store": shop.profile_a.slug, "events": [
        _event("a", member_token=token), _event("b", member_token=token[:-2] + "xx"),
        _event("c", member_id=member.pk)]}).json()
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "invalid_member_token"), (2, "unknown_field")]
    assert _inbox() == [("a", "page_view", member.pk, chain.store_a.id)]


def test_a_token_of_another_enterprise_is_refused(chain, other_chain, shop):
    stranger = register(other_chain)
    token = member_token_issue(enterprise_id=other_chain.hq.enterprise_id, member_id=stranger.pk)
    body = _post({"store": shop.profile_a.slug, "events": [_event("a", member_token=token)]}).json()
    assert [r["code"] for r in body["rejected"]] == ["invalid_member_token"]
    assert _inbox() == []


def test_staff_with_a_token_send_till_events_for_their_enterprises_stores(chain, other_chain, shop):
    _token, plaintext = org_services.api_token_create(actor=chain.admin, name="till")
    member = register(chain)
    events = [
        {"event_id": "s1", "kind": "scan", "store_id": chain.store_a.id, "properties": {"barcode": "6901234567892"}},
        {"event_id": "s2", "kind": "member_identified", "store_id": chain.store_a.id, "member_id": member.pk},
        {"event_id": "s3", "kind": "scan", "store_id": other_chain.store_a.id, "properties": {"barcode": "1"}},
        {"event_id": "s4", "kind": "member_identified", "store_id": chain.store_a.id},
    ]
    response = _post({"events": events}, HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 207
    body = response.json()
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(2, "unknown_store"), (3, "member_required")]
    assert _inbox() == [("s1", "scan", None, chain.store_a.id), ("s2", "member_identified", member.pk, chain.store_a.id)]
    assert set(EventInbox.objects.values_list("channel", flat=True)) == {"api"}


def test_a_bad_bearer_token_is_401_not_a_storefront_caller(chain, shop):
    response = _post({"store": shop.profile_a.slug, "events": [_event("a")]}, HTTP_AUTHORIZATION="Bearer yd_00000000_no")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthenticated")
    assert _inbox() == []


def test_a_staff_session_needs_the_csrf_header_to_act_as_staff(chain, shop):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=chain.manager_a.user.username, password=PASSWORD)
    till = {"events": [{"event_id": "s1", "kind": "scan", "store_id": chain.store_a.id, "properties": {"barcode": "1"}},
                       {"event_id": "s9", "kind": "scan", "store_id": chain.store_b.id, "properties": {"barcode": "1"}}]}
    forged = _post(till, client, HTTP_X_CSRFTOKEN="forged")
    assert (forged.status_code, forged.json()["error"]["code"]) == (403, "csrf_failed")
    client.get("/")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = _post(till, client, HTTP_X_CSRFTOKEN=csrf)
    body = response.json()
    assert (response.status_code, body["accepted"]) == (207, 1)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "unknown_store")]  # Store B is not hers
    # without the header the same browser is only a storefront page: no store named, nothing kept
    assert _post({"events": [_event("s2")]}, client).status_code == 404
    assert [row[0] for row in _inbox()] == ["s1"]


def test_a_withdrawn_tracking_consent_drops_the_members_events(chain, shop):
    member = register(chain)
    other = register(chain)
    member_services.consent_set(actor=chain.manager_a, member_id=member.pk, channel="tracking", granted=False)
    tokens = [member_token_issue(enterprise_id=chain.hq.enterprise_id, member_id=m.pk) for m in (member, other)]
    body = _post({"store": shop.profile_a.slug, "events": [
        _event("a", member_token=tokens[0]), _event("b", member_token=tokens[1]), _event("c")]}).json()
    assert (body["accepted"], body["dropped"], body["rejected"]) == (2, 1, [])
    assert [(row[0], row[2]) for row in _inbox()] == [("b", other.pk), ("c", None)]


def test_too_large_a_body_is_413_and_too_many_events_422_changing_nothing(chain, shop):
    huge = {"store": shop.profile_a.slug, "events": [_event(f"e{i}", properties={"p": "x" * 1000})
                                                     for i in range(600)]}
    response = _post(huge)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
    many = _post({"store": shop.profile_a.slug, "events": [_event(f"e{i}") for i in range(1001)]})
    assert (many.status_code, many.json()["error"]["code"]) == (422, "invalid")
    malformed = Client().post(URL, data="{nope", content_type="application/json")
    assert malformed.status_code == 400
    assert _inbox() == []


def test_storefront_callers_are_rate_limited_per_address(chain, shop, settings):
    settings.EVENTS_STOREFRONT_BATCHES_PER_MINUTE = 2
    from django.core.cache import cache

    cache.clear()
    codes = [_post({"store": shop.profile_a.slug, "events": [_event(f"e{i}")]}, REMOTE_ADDR="10.9.9.9").status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
    assert [row[0] for row in _inbox()] == ["e0", "e1"]
    cache.clear()


def test_the_events_endpoint_is_documented_with_its_responses(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/events"]["post"]
    assert set(operation["responses"]) >= {"200", "207", "400", "401", "403", "404", "413", "422", "429"}


def test_an_utc_naive_timestamp_is_read_as_utc(chain, shop):
    sent = datetime.now(dt_timezone.utc).replace(tzinfo=None, microsecond=0)
    _post({"store": shop.profile_a.slug, "sent_at": sent.isoformat(),
           "events": [_event("a", timestamp=(sent - timedelta(minutes=1)).isoformat())]})
    row = EventInbox.objects.get()
    assert abs((row.received_at - row.occurred_at) - timedelta(minutes=1)) < timedelta(seconds=5)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_retries_of_one_batch_racing_keep_each_event_once(chain):
    from yundian.cdp.services import events_accept
    from yundian.core.testing import race_n

    events = [{"event_id": f"k{i}", "kind": "page_view", "store_id": chain.store_a.id} for i in range(200)]
    results = race_n(4, lambda i: events_accept(actor=chain.admin, store=None, sent_at=None, events=events))
    assert [r[0] for r in results] == ["ok"] * 4, results
    assert all(r[1].rejected == [] and r[1].accepted + r[1].duplicates == 200 for r in results)
    assert EventInbox.objects.count() == 200
    assert sorted(EventInbox.objects.values_list("event_key", flat=True)) == sorted(e["event_id"] for e in events)
