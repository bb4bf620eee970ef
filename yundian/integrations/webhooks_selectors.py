"""Webhook reads, scoped to the actor's enterprise and to holders of `webhook.manage` (403 otherwise)."""
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from yundian.core.errors import NotFound
from yundian.org.models import Staff

from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from .webhooks_services import parse_event_id, require_manage


def webhook_subscription_list(*, actor: Staff) -> QuerySet[WebhookSubscription]:
    require_manage(actor)
    return (WebhookSubscription.objects.filter(enterprise_id=actor.enterprise_id)
            .annotate(pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
                      dead=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DEAD)))
            .order_by("id"))


def webhook_subscription_get(*, actor: Staff, subscription_id: int) -> WebhookSubscription:
    require_manage(actor)
    sub = WebhookSubscription.objects.filter(pk=subscription_id, enterprise_id=actor.enterprise_id).first()
    if sub is None:
        raise NotFound()
    return sub


def webhook_delivery_list(*, actor: Staff, subscription_id: int | None = None, status: str | None = None,
                          event_type: str | None = None, event=None, since: datetime | None = None,
                          until: datetime | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first; filters by subscription, status, event type, event id (evt_…) and creation time."""
    require_manage(actor)
    qs = (WebhookDelivery.objects.filter(enterprise_id=actor.enterprise_id)
          .select_related("subscription", "event").order_by("-id"))
    if subscription_id:
        qs = qs.filter(subscription_id=subscription_id)
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event__type=event_type)
    event_pk = parse_event_id(event)
    if event_pk is not None:
        qs = qs.filter(event_id=event_pk)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lte=until)
    return qs


def webhook_delivery_get(*, actor: Staff, delivery_id: int) -> WebhookDelivery:
    require_manage(actor)
    delivery = (WebhookDelivery.objects.filter(pk=delivery_id, enterprise_id=actor.enterprise_id)
                .select_related("subscription", "event").prefetch_related("log").first())
    if delivery is None:
        raise NotFound()
    return delivery


def webhook_event_list(*, actor: Staff, event_type: str | None = None) -> QuerySet[WebhookEvent]:
    require_manage(actor)
    qs = WebhookEvent.objects.filter(enterprise_id=actor.enterprise_id).order_by("-id")
    return qs.filter(type=event_type) if event_type else qs
