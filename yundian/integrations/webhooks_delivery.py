"""The delivery worker: claim due deliveries, POST them signed with no transaction open, record each attempt.

At least once, safely with several workers and across crashes:
1. **Claim** (one short transaction): due pending deliveries of active subscriptions whose lease is free or lapsed
   (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL; the UPDATE re-checks the lease on both databases) get this
   worker's token for LEASE and `attempts + 1`. A claimed row whose earlier lease lapsed was being sent by a worker
   that died: its lost attempt is logged as such.
2. **Send** outside any transaction, a few at a time on threads: the event's frozen body, signed with a fresh
   timestamp and every valid secret, `Yundian-Event-Id: evt_<id>` — the same id on every retry and replay.
3. **Record** (one transaction per batch): the attempt log rows, and each delivery's outcome — delivered on a 2xx,
   else the next try after `backoff(...)`, or dead after MAX_ATTEMPTS — only where this worker still holds the lease.
A worker killed between 2 and 3 leaves the row leased; when the lease lapses another worker sends it again with the
same event id, which is what receivers deduplicate on.
"""
import hashlib
import http.client
import ipaddress
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from yundian.core import when

from .webhook_models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from .webhooks_signing import HEADER, signature_header

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 100
USER_AGENT = "Yundian-Webhooks/1.0"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", 12))


def backoff(delivery_id: int, attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based): base · 2^(attempt-1), capped, times a jitter in
    [0.8, 1.2) drawn from (delivery, attempt) — deterministic, yet spread so endpoints coming back are not hit by
    every retry at once. Defaults: 1 min, 2, 4 … capped at 12 h; 12 tries span about a day and a half."""
    base = float(getattr(settings, "WEBHOOKS_BACKOFF_BASE", 60))
    cap = float(getattr(settings, "WEBHOOKS_BACKOFF_CAP", 12 * 3600))
    digest = hashlib.sha256(f"{delivery_id}:{attempt}".encode()).digest()
    jitter = 0.8 + 0.4 * (int.from_bytes(digest[:8], "big") / 2 ** 64)
    return timedelta(seconds=min(cap, base * 2 ** (attempt - 1)) * jitter)


@dataclass
class Outcome:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0  # attempts of workers that died mid-delivery, found on claim


@dataclass
class Sent:
    delivery: WebhookDelivery
    started_at: datetime
    duration_ms: int = 0
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(*, token: str, now: datetime, limit: int = BATCH) -> tuple[list[WebhookDelivery], int]:
    """Lease up to `limit` due deliveries; returns the rows this worker won and how many lost attempts it found."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
    with transaction.atomic():
        picked = list(WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                      .filter(due & free).order_by("next_attempt_at", "id")
                      .values_list("id", "lease_token", "attempts")[:limit])
        if not picked:
            return [], 0
        ids = [p[0] for p in picked]
        WebhookDelivery.objects.filter(free, pk__in=ids, status=DeliveryStatus.PENDING).update(
            lease_token=token, lease_until=now + LEASE, attempts=F("attempts") + 1)
        # a row still carrying an earlier token had a worker that died mid-delivery: log its lost attempt
        lost = [WebhookAttempt(delivery_id=pk, number=attempts, started_at=now,
                               error="worker stopped mid-delivery (lease lapsed)")
                for pk, old_token, attempts in picked if old_token]
        WebhookAttempt.objects.bulk_create(lost)
    rows = list(WebhookDelivery.objects.filter(pk__in=ids, lease_token=token)
                .select_related("subscription", "event").order_by("next_attempt_at", "id"))
    return rows, len(lost)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: the attempt fails with its code (no request goes elsewhere)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def address_blocked(address: str) -> bool:
    """True for an address a webhook must never reach in production: loopback, private, link-local, reserved,
    multicast or unspecified (IPv4-mapped IPv6 addresses are judged by their IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


class BlockedAddress(OSError):
    pass


def private_urls_allowed() -> bool:
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)


def _checked_connection(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, **kwargs):
    """socket.create_connection that refuses a peer on a local or private address, judged on the address actually
    connected to (after DNS, before a byte of the request or a TLS handshake is sent): a host name that resolved to a
    public address when the subscription was saved and to an internal one now (DNS rebinding) reaches nothing."""
    sock = socket.create_connection(address, timeout, source_address, **kwargs)
    if not private_urls_allowed():
        peer = sock.getpeername()[0]
        if address_blocked(peer):
            sock.close()
            raise BlockedAddress(f"{address[0]} resolved to the local or private address {peer}")
    return sock


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _checked_connection


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


_opener = urllib.request.build_opener(_NoRedirects, _CheckedHTTPHandler, _CheckedHTTPSHandler)


def _secrets(subscription, now: datetime) -> list[str]:
    out = [subscription.secret]
    if subscription.previous_secret and subscription.previous_secret_expires_at \
            and subscription.previous_secret_expires_at > now:
        out.append(subscription.previous_secret)
    return out


def post(delivery: WebhookDelivery, *, now: datetime) -> Sent:
    """POST one delivery (no database access here: threads run it)."""
    event, sub = delivery.event, delivery.subscription
    body = event.body.encode()
    stamp = int(time.time())
    request = urllib.request.Request(sub.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Yundian-Event-Id": event.event_id,
        "Yundian-Event-Type": event.type,
        "Yundian-Delivery-Id": str(delivery.pk),
        "Yundian-Attempt": str(delivery.attempts),
        HEADER: signature_header(_secrets(sub, now), stamp, body),
    })
    sent = Sent(delivery=delivery, started_at=when.now())
    started = time.perf_counter()
    timeout = float(getattr(settings, "WEBHOOKS_TIMEOUT", 10))
    try:
        with _opener.open(request, timeout=timeout) as response:  # http(s) only: checked when the URL is saved
            sent.status_code = response.status
            sent.excerpt = response.read(300).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        sent.status_code = exc.code
        try:
            sent.excerpt = exc.read(300).decode("utf-8", "replace")
        except Exception:  # noqa: BLE001 - the body is only a courtesy
            pass
        sent.error = f"HTTP {exc.code}"
    except Exception as exc:  # noqa: BLE001 - any failure to reach the endpoint is a failed attempt
        reason = getattr(exc, "reason", None) or exc
        sent.error = f"{type(exc).__name__}: {reason}"[:255]
    sent.duration_ms = int((time.perf_counter() - started) * 1000)
    return sent


def record(results: list[Sent], *, token: str, now: datetime, outcome: Outcome) -> None:
    """Log every attempt and settle each delivery this worker still holds, in one transaction."""
    limit = max_attempts()
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create([
            WebhookAttempt(delivery_id=s.delivery.pk, number=s.delivery.attempts, started_at=s.started_at,
                           duration_ms=s.duration_ms, status_code=s.status_code, error=s.error[:255],
                           response_excerpt=s.excerpt[:300]) for s in results])
        # the delivered ones in one UPDATE per status code (the usual case: one statement for the batch)
        delivered: dict[int, list[int]] = {}
        for s in results:
            if s.ok:
                delivered.setdefault(s.status_code, []).append(s.delivery.pk)
        for code, ids in delivered.items():
            outcome.delivered += WebhookDelivery.objects.filter(
                pk__in=ids, lease_token=token, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.SUCCEEDED, delivered_at=now, lease_token="", lease_until=None,
                last_status_code=code, last_error="")
        for s in results:
            d = s.delivery
            mine = WebhookDelivery.objects.filter(pk=d.pk, lease_token=token, status=DeliveryStatus.PENDING)
            common = {"lease_token": "", "lease_until": None, "last_status_code": s.status_code,
                      "last_error": s.error[:255]}
            if s.ok:
                continue
            if d.attempts >= limit:
                changed = mine.update(status=DeliveryStatus.DEAD, **common)
                outcome.dead += changed
            else:
                changed = mine.update(next_attempt_at=now + backoff(d.pk, d.attempts), **common)
                outcome.retried += changed


def deliver_due(*, now: datetime | None = None, limit: int = BATCH, batches: int | None = None,
                threads: int | None = None, on_sent=None) -> Outcome:
    """Deliver what is due, batch after batch, until nothing is left (or `batches` ran). Safe in several workers at
    once. `on_sent(results)` runs between the POSTs and their record (the crash test kills the worker there)."""
    token = uuid.uuid4().hex
    outcome = Outcome()
    threads = threads or int(getattr(settings, "WEBHOOKS_THREADS", 8))
    done = 0
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook") as pool:
        while batches is None or done < batches:
            at = now or when.now()
            rows, lost = claim(token=token, now=at, limit=limit)
            done += 1
            outcome.lost += lost
            if not rows:
                break
            outcome.claimed += len(rows)
            results = list(pool.map(lambda d: post(d, now=at), rows))
            if on_sent:
                on_sent(results)
            record(results, token=token, now=now or when.now(), outcome=outcome)
            if len(rows) < limit:
                break
    return outcome


def run_once(*, now: datetime | None = None) -> tuple[int, Outcome]:
    """One round of the worker: dispatch the outbox into deliveries, then deliver what is due."""
    from .webhooks_events import dispatch

    created = dispatch(now=now)
    return created, deliver_due(now=now)
