"""Webhook writes: subscriptions (create, edit, enable/disable, rotate the secret), a dead letter sent again, and
replays of a range. Keyword-only, one transaction each, the acting staff member first; only holders of
`webhook.manage` (HQ admins) may call them, on their own enterprise's rows. Bad input raises ValidationFailed (422)
with a code and a translated message, and changes nothing."""
import ipaddress
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from yundian.core import when
from yundian.core.audit import audit_record
from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookReplay, WebhookSubscription
from .webhooks_delivery import private_urls_allowed, address_blocked
from .webhooks_events import EVENT_TYPES
from .webhooks_signing import secret_new

MAX_SUBSCRIPTIONS = 20
MAX_REPLAY = 10_000
GRACE_HOURS_MAX = 7 * 24


def require_manage(actor: Staff) -> None:
    if not has_perm(actor, Perm.WEBHOOK_MANAGE):
        raise Forbidden()


def clean_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials; https unless private addresses are allowed (tests,
    development), and never a loopback, private or link-local address in production (no SSRF into the network)."""
    url = (url or "").strip()
    parts = urlsplit(url) if len(url) <= 500 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password or " " in url:
        raise ValidationFailed(_("Enter an http or https address, like https://erp.example.com/hooks/yundian."),
                               code="invalid_url", details={"field": "url"})
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationFailed(_("Enter an http or https address, like https://erp.example.com/hooks/yundian."),
                               code="invalid_url", details={"field": "url"}) from None
    if not private_urls_allowed():
        host = parts.hostname.lower()
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if parts.scheme != "https":
            raise ValidationFailed(_("Webhook addresses must use https."), code="insecure_url",
                                   details={"field": "url"})
        if host == "localhost" or host.endswith(".localhost") or host.endswith(".local") or (
                address is not None and address_blocked(host)):
            raise ValidationFailed(_("Webhook addresses must be reachable on the internet, not a local or private "
                                     "address."), code="private_url", details={"field": "url"})
    return url


def clean_events(events) -> list[str]:
    names = [str(e) for e in (events or [])]
    unknown = sorted({e for e in names if e not in EVENT_TYPES})
    if unknown:
        raise ValidationFailed(_("Unknown event: %(names)s.") % {"names": ", ".join(unknown)},
                               code="unknown_event", details={"field": "events", "unknown": unknown})
    if not names:
        raise ValidationFailed(_("Choose at least one event."), code="no_events", details={"field": "events"})
    return [e for e in EVENT_TYPES if e in set(names)]  # catalogue order, no repeats


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_("Give the subscription a name (at most 120 characters)."), code="invalid_name",
                               details={"field": "name"})
    return name


def _subscription(actor: Staff, subscription_id: int, *, lock: bool = False) -> WebhookSubscription:
    require_manage(actor)
    qs = WebhookSubscription.objects.filter(pk=subscription_id, enterprise_id=actor.enterprise_id)
    sub = (qs.select_for_update() if lock else qs).first()
    if sub is None:
        raise NotFound()
    return sub


def _audit_view(sub: WebhookSubscription) -> dict:
    return {"name": sub.name, "url": sub.url, "events": sub.events, "is_active": sub.is_active}


@transaction.atomic
def webhook_subscription_create(*, actor: Staff, name: str, url: str, events: list[str]) -> WebhookSubscription:
    """A new endpoint for the actor's enterprise with a fresh secret (webhook.manage)."""
    require_manage(actor)
    name, url, events = _clean_name(name), clean_url(url), clean_events(events)
    if WebhookSubscription.objects.filter(enterprise_id=actor.enterprise_id).count() >= MAX_SUBSCRIPTIONS:
        raise ValidationFailed(_("An enterprise may have at most %(n)s webhook subscriptions.")
                               % {"n": MAX_SUBSCRIPTIONS}, code="too_many_subscriptions")
    sub = WebhookSubscription.objects.create(enterprise_id=actor.enterprise_id, name=name, url=url, events=events,
                                             secret=secret_new(), created_by=actor)
    audit_record(actor=actor, action="webhook.subscription_create", target=sub, after=_audit_view(sub))
    return sub


@transaction.atomic
def webhook_subscription_update(*, actor: Staff, subscription_id: int, name: str, url: str, events: list[str],
                                is_active: bool) -> WebhookSubscription:
    """Edit an endpoint; a disabled one keeps its pending deliveries until it is enabled again."""
    sub = _subscription(actor, subscription_id, lock=True)
    name, url, events = _clean_name(name), clean_url(url), clean_events(events)
    before = _audit_view(sub)
    sub.name, sub.url, sub.events, sub.is_active = name, url, events, bool(is_active)
    sub.save(update_fields=["name", "url", "events", "is_active", "updated_at"])
    audit_record(actor=actor, action="webhook.subscription_update", target=sub, before=before,
                 after=_audit_view(sub))
    return sub


@transaction.atomic
def webhook_subscription_rotate(*, actor: Staff, subscription_id: int, grace_hours: int = 24) -> WebhookSubscription:
    """A new secret; the old one keeps signing (a second v1) for `grace_hours` (0: at once invalid)."""
    if not isinstance(grace_hours, int) or not 0 <= grace_hours <= GRACE_HOURS_MAX:
        raise ValidationFailed(_("The grace period is 0 to %(max)s hours.") % {"max": GRACE_HOURS_MAX},
                               code="invalid_grace", details={"field": "grace_hours"})
    sub = _subscription(actor, subscription_id, lock=True)
    now = when.now()
    sub.previous_secret = sub.secret if grace_hours else ""
    sub.previous_secret_expires_at = now + timedelta(hours=grace_hours) if grace_hours else None
    sub.secret = secret_new()
    sub.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    audit_record(actor=actor, action="webhook.secret_rotate", target=sub, after={"grace_hours": grace_hours})
    return sub


@transaction.atomic
def webhook_delivery_retry(*, actor: Staff, delivery_id: int) -> WebhookDelivery:
    """A dead letter goes back to pending, due now, with a fresh count of tries (its log is kept)."""
    require_manage(actor)
    delivery = (WebhookDelivery.objects.select_for_update()
                .filter(pk=delivery_id, enterprise_id=actor.enterprise_id).first())
    if delivery is None:
        raise NotFound()
    if delivery.status != DeliveryStatus.DEAD:
        raise ValidationFailed(_("Only a dead letter can be sent again."), code="not_dead")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, attempts=0,
                                                          next_attempt_at=when.now(), lease_token="",
                                                          lease_until=None)
    audit_record(actor=actor, action="webhook.delivery_retry", target=delivery)
    delivery.refresh_from_db()
    return delivery


def parse_event_id(value) -> int | None:
    """`evt_123` or 123 -> 123; empty -> None; anything else is a 422."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.startswith("evt_"):
        text = text[4:]
    if not text.isdigit():
        raise ValidationFailed(_("An event id looks like evt_123."), code="invalid_event_id")
    return int(text)


@transaction.atomic
def webhook_replay(*, actor: Staff, subscription_id: int, since: datetime | None = None,
                   until: datetime | None = None, from_event=None, to_event=None) -> WebhookReplay:
    """Send the events of a time range and/or an event-id range again to one subscription, with their own ids
    (receivers deduplicate); only the types it subscribes to, at most MAX_REPLAY events."""
    sub = _subscription(actor, subscription_id)
    low, high = parse_event_id(from_event), parse_event_id(to_event)
    if since is None and until is None and low is None and high is None:
        raise ValidationFailed(_("Give a time range or an event id range to replay."), code="no_range")
    if (since and until and since > until) or (low is not None and high is not None and low > high):
        raise ValidationFailed(_("The range ends before it starts."), code="invalid_range")
    events = WebhookEvent.objects.filter(enterprise_id=actor.enterprise_id, type__in=sub.events)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lte=until)
    if low is not None:
        events = events.filter(pk__gte=low)
    if high is not None:
        events = events.filter(pk__lte=high)
    ids = list(events.order_by("id").values_list("id", flat=True)[:MAX_REPLAY + 1])
    if len(ids) > MAX_REPLAY:
        raise ValidationFailed(_("A replay sends at most %(n)s events; narrow the range.") % {"n": MAX_REPLAY},
                               code="replay_too_large", details={"limit": MAX_REPLAY})
    if not ids:
        raise ValidationFailed(_("No events of this subscription's types lie in that range."), code="empty_range")
    now = when.now()
    replay = WebhookReplay.objects.create(enterprise_id=actor.enterprise_id, subscription=sub, since=since,
                                          until=until, from_event=low, to_event=high, events=len(ids),
                                          requested_by=actor, created_at=now)
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(enterprise_id=actor.enterprise_id, subscription=sub, event_id=pk, replay=replay,
                        next_attempt_at=now, created_at=now) for pk in ids], batch_size=1000)
    audit_record(actor=actor, action="webhook.replay", target=sub,
                 after={"replay": replay.pk, "events": len(ids), "since": since, "until": until,
                        "from_event": low, "to_event": high})
    return replay
