"""Events API (/api/v1/events): behaviour events in batches of up to 1,000, from staff or from storefront pages.

Who may send (the gate, `EventsGate`):
- staff: a bearer token, or a staff session that sends the CSRF header (X-CSRFToken) and passes the CSRF check;
  the enterprise is the staff member's, stores must be in their scope, they may send till kinds and member ids;
- anyone else is a storefront page: no sign-in and no CSRF (it gains nothing a stranger could not do), the batch
  names its store by its public address (`store`), members come only as signed member tokens, the batch body is
  limited to STOREFRONT_MAX_BYTES and each client address to STOREFRONT_BATCHES_PER_MINUTE batches a minute.
Parse -> `services.events_accept` -> counts and per-event refusals.
"""
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.utils import check_csrf

from yundian.core.errors import PayloadTooLarge, TooManyRequests
from yundian.core.schemas import errors
from yundian.org import services as org_services
from yundian.org.selectors import staff_for_user

from . import services

router = Router(tags=["events"])

STAFF_MAX_BYTES = 4 * 1024 * 1024
STOREFRONT_MAX_BYTES = 512 * 1024


class Storefront:
    """request.auth of an anonymous storefront caller (truthy, no staff)."""

    staff = None

    def __bool__(self) -> bool:
        return True


def _body_size(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _rate_limited(request: HttpRequest) -> bool:
    limit = getattr(settings, "EVENTS_STOREFRONT_BATCHES_PER_MINUTE", 120)
    bucket = f"cdp.events:{request.META.get('REMOTE_ADDR', '')}:{int(datetime.now().timestamp() // 60)}"
    if cache.add(bucket, 1, timeout=90):
        return limit < 1
    try:
        return cache.incr(bucket) > limit
    except ValueError:  # expired between add and incr
        return False


class EventsGate(HttpBearer):
    """Staff by bearer token or by CSRF-checked session, else a storefront page; body size and rate limits."""

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        if header:
            staff = org_services.api_token_authenticate(header[7:]) if header[:7].lower() == "bearer " else None
            if staff is None:
                return None  # a bad token is a 401, never a silent downgrade to a storefront caller
            self._limit(request, STAFF_MAX_BYTES)
            return staff
        if "HTTP_X_CSRFTOKEN" in request.META and request.user.is_authenticated:
            if check_csrf(request) is not None:
                raise HttpError(403, "CSRF check failed")
            staff = staff_for_user(request.user)
            if staff is not None:
                self._limit(request, STAFF_MAX_BYTES)
                return staff
        self._limit(request, STOREFRONT_MAX_BYTES)
        if _rate_limited(request):
            raise TooManyRequests()
        return Storefront()

    def _limit(self, request: HttpRequest, limit: int) -> None:
        if _body_size(request) > limit:
            raise PayloadTooLarge()

    def authenticate(self, request: HttpRequest, token: str):  # pragma: no cover - __call__ does the work
        return org_services.api_token_authenticate(token)


class EventIn(Schema):
    """One event as a sender writes it (documentation: each event is checked by the service, so one bad event is
    refused alone instead of failing the batch)."""

    event_id: str = Field(..., max_length=64, description="the sender's message id; a resend with it is ignored")
    kind: str = Field(..., description="page_view, product_view, search, add_to_cart, remove_from_cart, share, "
                                       "coupon_view, store_visit, scan*, member_identified*, custom (*staff only)")
    name: str | None = Field(None, max_length=64, description="custom events only")
    timestamp: datetime | None = Field(None, description="the sender's clock; corrected by the batch's sent_at")
    anonymous_id: str | None = Field(None, max_length=64, description="device id (required from storefronts)")
    member_token: str | None = Field(None, description="signed member token the storefront page was given")
    member_id: int | None = Field(None, description="staff only")
    store: str | None = Field(None, max_length=80, description="storefront address; or store_id")
    store_id: int | None = None
    sku_id: int | None = None
    order_id: int | None = None
    amount: int | None = Field(None, description="fen")
    channel: str | None = Field(None, description="staff only: pos, storefront, miniprogram, api")
    properties: dict[str, Any] = Field({}, description="per kind: search {query}, add_to_cart {quantity}, "
                                                       "coupon_view {campaign_id or code}, scan {barcode}; ≤ 4 KB")


class EventBatchIn(Schema):
    sent_at: datetime | None = Field(None, description="when the sender sent the batch, by its own clock")
    store: str | None = Field(None, max_length=80, description="the storefront address (required without staff auth)")
    events: list[Any] = Field(..., max_length=services.MAX_EVENTS,
                              json_schema_extra={"items": EventIn.model_json_schema()})


class RejectedOut(Schema):
    index: int
    code: str
    message: str
    field: str | None


class BatchOut(Schema):
    accepted: int = Field(..., description="events kept")
    duplicates: int = Field(..., description="events already received (same event_id)")
    dropped: int = Field(..., description="events of members who withdrew tracking consent: not kept")
    rejected: list[RejectedOut]


@router.post("", response={200: BatchOut, 207: BatchOut, **errors(403, 404, 413, 429)}, auth=[EventsGate()])
def events_ingest(request: HttpRequest, payload: EventBatchIn):
    """Take a batch of behaviour events. 200 if every event was taken (kept, duplicate or dropped), 207 if some
    were refused: `rejected` lists them by index with a code and message, and the others are kept."""
    staff = None if isinstance(request.auth, Storefront) else request.auth
    result = services.events_accept(actor=staff, store=payload.store, sent_at=payload.sent_at,
                                    events=payload.events)
    body = {"accepted": result.accepted, "duplicates": result.duplicates, "dropped": result.dropped,
            "rejected": result.rejected}
    return Status(207 if result.rejected else 200, body)
