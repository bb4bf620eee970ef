"""The webhook console pages: HQ admins only, create/edit/rotate/replay through forms, the delivery log with its
filters and the retry button on a dead letter; bad input re-renders with the translated message, changing nothing."""
import pytest

from yundian.integrations import webhooks_services as services
from yundian.integrations.models import WebhookDelivery, WebhookSubscription
from yundian.integrations.webhooks_delivery import deliver_due
from yundian.integrations.webhooks_events import dispatch
from yundian.org.tests.factories import PASSWORD
from yundian.sales.tests.factories import sell, stocked

from .receiver import Receiver


@pytest.fixture(autouse=True)
def _local_urls(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_MAX_ATTEMPTS = 1


def test_hq_creates_edits_rotates_and_replays_from_the_pages_and_others_see_nothing(chain, client):
    client.login(username="acme-admin", password=PASSWORD)
    assert client.get("/integrations/webhooks/").status_code == 200
    bad = client.post("/integrations/webhooks/new/", {"name": "ERP", "url": "ftp://x", "events": ["order.paid"]},
                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 422 and 'data-code="invalid_url"' in bad.content.decode()
    assert not WebhookSubscription.objects.exists()
    made = client.post("/integrations/webhooks/new/", {"name": "ERP", "url": "http://127.0.0.1:9/h",
                                                       "events": ["order.paid", "member.created"]})
    sub = WebhookSubscription.objects.get()
    assert made.status_code == 302 and sub.events == ["order.paid", "member.created"]
    page = client.get(f"/integrations/webhooks/{sub.pk}/").content.decode()
    assert sub.secret in page and 'value="order.paid" checked' in page
    client.post(f"/integrations/webhooks/{sub.pk}/", {"action": "rotate", "grace_hours": "24"})
    rotated = WebhookSubscription.objects.get()
    assert rotated.secret != sub.secret and rotated.previous_secret == sub.secret
    empty = client.post(f"/integrations/webhooks/{sub.pk}/", {"action": "replay", "from_event": "evt_1"})
    assert empty.status_code == 422 and 'data-code="empty_range"' in empty.content.decode()
    client.post(f"/integrations/webhooks/{sub.pk}/", {"action": "save", "name": "ERP 2", "url": sub.url,
                                                     "events": ["order.paid"]})
    assert WebhookSubscription.objects.values_list("name", "is_active").get() == ("ERP 2", False)

    client.logout()
    client.login(username="acme-east", password=PASSWORD)
    assert client.get("/integrations/webhooks/").status_code == 404
    assert client.get(f"/integrations/webhooks/{sub.pk}/").status_code == 404


def test_the_delivery_log_filters_and_retries_a_dead_letter(chain, client):
    stock = stocked(chain)
    with Receiver(default=503) as receiver:
        sub = services.webhook_subscription_create(actor=chain.admin, name="ERP", url=receiver.url,
                                                   events=["order.paid"])
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
        dispatch()
        deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "dead"
    client.login(username="acme-admin", password=PASSWORD)
    page = client.get(f"/integrations/webhooks/deliveries/?status=dead&subscription={sub.pk}").content.decode()
    assert f'data-delivery="{delivery.pk}"' in page and f"/deliveries/{delivery.pk}/retry/" in page
    assert f'data-delivery="{delivery.pk}"' not in client.get(
        "/integrations/webhooks/deliveries/?status=succeeded").content.decode()
    detail = client.get(f"/integrations/webhooks/deliveries/{delivery.pk}/").content.decode()
    assert "503" in detail and delivery.event.event_id in detail
    client.post(f"/integrations/webhooks/deliveries/{delivery.pk}/retry/")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
