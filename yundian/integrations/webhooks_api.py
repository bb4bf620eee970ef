"""Webhooks API (/api/v1/integrations/webhooks/...): the event catalogue, subscriptions (CRUD, rotate the secret),
the delivery log with its attempts, retry of a dead letter, replay of a range. Authenticated like every API
(session or bearer token) and limited to `webhook.manage` (HQ admins) of the caller's enterprise."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import webhooks_selectors as selectors
from . import webhooks_services as services
from .webhooks_events import EVENT_HELP, EVENT_TYPES

router = Router(tags=["webhooks"])


class EventTypeOut(Schema):
    name: str
    label: str
    description: str


class SubscriptionIn(Schema):
    name: SafeStr = Field(..., max_length=120)
    url: SafeStr = Field(..., max_length=500)
    events: list[SafeStr] = Field(..., max_length=len(EVENT_TYPES) * 2)


class SubscriptionUpdate(SubscriptionIn):
    is_active: bool = True


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    secret: str
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RotateIn(Schema):
    grace_hours: int = Field(24, description="how long the old secret keeps signing (0-168)")


class ReplayIn(Schema):
    since: datetime | None = None
    until: datetime | None = None
    from_event: SafeStr | None = Field(None, max_length=24, description="evt_… (inclusive)")
    to_event: SafeStr | None = Field(None, max_length=24, description="evt_… (inclusive)")


class ReplayOut(Schema):
    id: int
    subscription_id: int
    events: int
    created_at: datetime


class AttemptOut(Schema):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str
    response_excerpt: str


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    event_id: str
    event_type: str
    replay_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None

    @staticmethod
    def resolve_event_id(obj) -> str:
        return obj.event.event_id

    @staticmethod
    def resolve_event_type(obj) -> str:
        return obj.event.type


class DeliveryDetailOut(DeliveryOut):
    body: str
    attempts_log: list[AttemptOut]

    @staticmethod
    def resolve_body(obj) -> str:
        return obj.event.body

    @staticmethod
    def resolve_attempts_log(obj) -> list:
        return list(obj.log.all())


class DeliveryFilter(Schema):
    subscription_id: int | None = None
    status: SafeStr | None = Field(None, max_length=12)
    event_type: SafeStr | None = Field(None, max_length=40)
    event: SafeStr | None = Field(None, max_length=24, description="evt_…")
    since: datetime | None = None
    until: datetime | None = None


@router.get("/events", response={200: list[EventTypeOut], **errors(403)})
def event_types(request: HttpRequest):
    services.require_manage(request.auth)
    return [{"name": n, "label": str(label), "description": str(EVENT_HELP[n])} for n, label in EVENT_TYPES.items()]


@router.get("/subscriptions", response={200: list[SubscriptionOut], **errors(403)})
def subscription_list(request: HttpRequest):
    return list(selectors.webhook_subscription_list(actor=request.auth))


@router.post("/subscriptions", response={201: SubscriptionOut, **errors(403)})
def subscription_create(request: HttpRequest, payload: SubscriptionIn):
    return 201, services.webhook_subscription_create(actor=request.auth, name=payload.name, url=payload.url,
                                                     events=payload.events)


@router.get("/subscriptions/{subscription_id}", response={200: SubscriptionOut, **errors(403, 404)})
def subscription_get(request: HttpRequest, subscription_id: int):
    return selectors.webhook_subscription_get(actor=request.auth, subscription_id=subscription_id)


@router.put("/subscriptions/{subscription_id}", response={200: SubscriptionOut, **errors(403, 404)})
def subscription_update(request: HttpRequest, subscription_id: int, payload: SubscriptionUpdate):
    return services.webhook_subscription_update(actor=request.auth, subscription_id=subscription_id,
                                                name=payload.name, url=payload.url, events=payload.events,
                                                is_active=payload.is_active)


@router.post("/subscriptions/{subscription_id}/rotate-secret", response={200: SubscriptionOut, **errors(403, 404)})
def subscription_rotate(request: HttpRequest, subscription_id: int, payload: RotateIn):
    return services.webhook_subscription_rotate(actor=request.auth, subscription_id=subscription_id,
                                                grace_hours=payload.grace_hours)


@router.post("/subscriptions/{subscription_id}/replay", response={201: ReplayOut, **errors(403, 404)})
def subscription_replay(request: HttpRequest, subscription_id: int, payload: ReplayIn):
    return 201, services.webhook_replay(actor=request.auth, subscription_id=subscription_id, since=payload.since,
                                        until=payload.until, from_event=payload.from_event,
                                        to_event=payload.to_event)


@router.get("/deliveries", response={200: list[DeliveryOut], **errors(403)})
@paginate(LimitOffsetPagination)
def delivery_list(request: HttpRequest, filters: Query[DeliveryFilter]):
    return selectors.webhook_delivery_list(actor=request.auth, **filters.dict())


@router.get("/deliveries/{delivery_id}", response={200: DeliveryDetailOut, **errors(403, 404)})
def delivery_get(request: HttpRequest, delivery_id: int):
    return selectors.webhook_delivery_get(actor=request.auth, delivery_id=delivery_id)


@router.post("/deliveries/{delivery_id}/retry", response={200: DeliveryOut, **errors(403, 404)})
def delivery_retry(request: HttpRequest, delivery_id: int):
    return services.webhook_delivery_retry(actor=request.auth, delivery_id=delivery_id)
