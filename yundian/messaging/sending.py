"""The sending worker: claim due messages, decide, send outside any transaction, record the outcome.

Exactly once per key across workers:
1. *Claim.* A conditional UPDATE sets `claimed_by` and a lease on due rows that nobody holds (or whose lease ran
   out: a crashed worker). The database applies it row by row, so of two workers only one claims a row.
2. *Decide* under the member's row lock (members.locks: the member is the mutex for everything of theirs), so two
   workers sending to one member count the frequency caps one after the other. A message that may go is marked
   `sending` (counted by the caps from then on) in that short transaction.
3. *Send* through the channel's adapter with no transaction open, carrying the message's stable reference.
4. *Record* sent / retry / failed with an UPDATE that still requires our claim.
A worker killed between 3 and 4 leaves the row `sending`; after the lease another worker sends it again with the
same reference, which the gateway deduplicates (a real SMS gateway's client reference; the fakes do).

Rules (marketing only; service messages are exempt, see docs/architecture.md "Messages"):
- consent: SMS, WeChat and email need the member's granted consent on that channel (opt-in); the storefront inbox
  goes unless the member withdrew it;
- quiet hours (SMS, WeChat, email): inside the enterprise's quiet hours in the store's time zone the message is
  deferred to the end of them, not dropped;
- frequency caps per member and channel over a rolling 24 hours and 7 days: over the cap it is suppressed.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yundian.core.outbox import outbox_emit
from yundian.members.locks import lock_member
from yundian.members.models import ConsentState, IdentityKind, MemberIdentity, MemberStatus
from yundian.stores.selectors import store_time_zone

from .models import MessageChannel, MessageStatus, OutboundMessage, Purpose, Reason
from .providers import Outgoing, PermanentSendError, TransientSendError, provider_for
from .outbox import CONSENT_CHANNEL, event_add, policy_get, unsubscribe_url

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
BATCH = 200
CLAIMABLE = [MessageStatus.QUEUED, MessageStatus.DEFERRED, MessageStatus.SENDING]
ADDRESS_KIND = {MessageChannel.SMS: IdentityKind.PHONE, MessageChannel.WECHAT: IdentityKind.WECHAT_OPENID,
                MessageChannel.EMAIL: IdentityKind.EMAIL}
QUIET_CHANNELS = {MessageChannel.SMS, MessageChannel.WECHAT, MessageChannel.EMAIL}


@dataclass
class Outcome:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    suppressed: int = 0
    retried: int = 0
    failed: int = 0


def claim(*, worker: str, now: datetime, limit: int = BATCH) -> list[OutboundMessage]:
    """Claim up to `limit` due messages for `worker` (a lease of LEASE); returns the rows this worker won."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = (Q(status__in=[MessageStatus.QUEUED, MessageStatus.DEFERRED], due_at__lte=now)
           | Q(status=MessageStatus.SENDING))  # sending with a lapsed lease: its worker died mid-send
    ids = list(OutboundMessage.objects.filter(due & free).order_by("due_at", "id").values_list("id", flat=True)[:limit])
    if not ids:
        return []
    won = OutboundMessage.objects.filter(due & free, pk__in=ids).update(claimed_by=worker,
                                                                        claimed_until=now + LEASE)
    if not won:
        return []
    return list(OutboundMessage.objects.filter(pk__in=ids, claimed_by=worker).select_related("member", "store")
                .order_by("due_at", "id"))


def quiet_until(local: datetime, start, end) -> datetime | None:
    """The end of the quiet hours `local` falls in (an aware local datetime), or None outside them."""
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local.tzinfo)


def address_of(message: OutboundMessage) -> str:
    if message.channel == MessageChannel.INAPP:
        return str(message.member_id)
    kind = ADDRESS_KIND[message.channel]
    return (MemberIdentity.objects.filter(member_id=message.member_id, kind=kind).order_by("id")
            .values_list("value", flat=True).first() or "")


def _settle(message: OutboundMessage, *, status: str, reason: str, now: datetime, due_at=None, detail: str = "",
            release: bool = True, **fields) -> bool:
    """Record a decision on a message we hold; False if our claim was lost (another worker took it)."""
    updates = {"status": status, "reason": reason, "detail": detail[:255], "updated_at": now, **fields}
    if due_at is not None:
        updates["due_at"] = due_at
    if release:
        updates.update(claimed_by="", claimed_until=None)
    changed = OutboundMessage.objects.filter(pk=message.pk, claimed_by=message.claimed_by).update(**updates)
    if changed:
        for name, value in updates.items():
            setattr(message, name, value)
        event_add(message, at=now)
    return bool(changed)


def decide(message: OutboundMessage, *, now: datetime) -> Outgoing | None:
    """Apply consent, quiet hours and caps under the member's lock; mark the message `sending` if it may go."""
    with transaction.atomic():
        member = lock_member(message.member_id, enterprise_id=message.enterprise_id)
        if not OutboundMessage.objects.filter(pk=message.pk, claimed_by=message.claimed_by).exists():
            return None
        if member.status != MemberStatus.ACTIVE:
            _settle(message, status=MessageStatus.SUPPRESSED, reason=Reason.MEMBER_INACTIVE, now=now)
            return None
        marketing = message.purpose == Purpose.MARKETING
        if marketing and message.status != MessageStatus.SENDING:
            state = (ConsentState.objects.filter(member=member, channel=CONSENT_CHANNEL[message.channel])
                     .values_list("granted", flat=True).first())
            opt_out_only = message.channel == MessageChannel.INAPP
            if state is False or (state is None and not opt_out_only):
                reason = Reason.UNSUBSCRIBED if state is False else Reason.NO_CONSENT
                _settle(message, status=MessageStatus.SUPPRESSED, reason=reason, now=now)
                return None
        address = address_of(message)
        if not address:
            _settle(message, status=MessageStatus.SUPPRESSED, reason=Reason.NO_ADDRESS, now=now)
            return None
        policy = policy_get(message.enterprise_id)
        if marketing and message.channel in QUIET_CHANNELS and message.status != MessageStatus.SENDING:
            zone = ZoneInfo(store_time_zone(message.store_id or member.home_id))
            until = quiet_until(now.astimezone(zone), policy.quiet_start, policy.quiet_end)
            if until is not None:
                _settle(message, status=MessageStatus.DEFERRED, reason=Reason.QUIET_HOURS, now=now,
                        due_at=until.astimezone(ZoneInfo("UTC")), detail=str(zone))
                return None
        if marketing and message.status != MessageStatus.SENDING:
            counted = (OutboundMessage.objects.filter(
                member_id=member.pk, channel=message.channel, purpose=Purpose.MARKETING,
                status__in=[MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED],
                sent_at__gt=now - timedelta(days=7)).exclude(pk=message.pk).values_list("sent_at", flat=True))
            sent_times = list(counted)
            if len(sent_times) >= policy.weekly_cap:
                _settle(message, status=MessageStatus.SUPPRESSED, reason=Reason.WEEKLY_CAP, now=now)
                return None
            if sum(1 for at in sent_times if at > now - timedelta(days=1)) >= policy.daily_cap:
                _settle(message, status=MessageStatus.SUPPRESSED, reason=Reason.DAILY_CAP, now=now)
                return None
        resend = message.status == MessageStatus.SENDING
        if not _settle(message, status=MessageStatus.SENDING, reason=message.reason if resend else Reason.ENQUEUED,
                       now=now, release=False, attempts=message.attempts + 1, sent_at=message.sent_at or now,
                       claimed_until=now + LEASE):
            return None
    return Outgoing(reference=f"ydm-{message.pk}", channel=message.channel, address=address,
                    subject=message.subject, body=message.body, provider_template=message.provider_template,
                    unsubscribe_url=unsubscribe_url(message.member_id, message.channel) if marketing else "",
                    sender=policy.email_from)


def deliver(message: OutboundMessage, outgoing: Outgoing, *, now: datetime, outcome: Outcome) -> None:
    """Hand the message to its channel's provider (no transaction open) and record what happened."""
    provider = provider_for(message.channel)
    try:
        sent = provider.send(outgoing)
    except TransientSendError as exc:
        if message.attempts >= MAX_ATTEMPTS:
            _settle(message, status=MessageStatus.FAILED, reason=Reason.RETRIES_EXHAUSTED, now=now, detail=str(exc))
            outcome.failed += 1
        else:
            _settle(message, status=MessageStatus.QUEUED, reason=Reason.RETRY, now=now, detail=str(exc),
                    due_at=now + BACKOFF[message.attempts - 1], sent_at=None)
            outcome.retried += 1
        return
    except PermanentSendError as exc:
        _settle(message, status=MessageStatus.FAILED, reason=Reason.PROVIDER_REJECTED, now=now, detail=str(exc))
        outcome.failed += 1
        return
    with transaction.atomic():
        if sent.delivered:
            settled = _settle(message, status=MessageStatus.DELIVERED, reason=Reason.DELIVERED, now=now,
                              provider=provider.name, provider_message_id=sent.provider_message_id, delivered_at=now)
        else:
            settled = _settle(message, status=MessageStatus.SENT, reason=Reason.ACCEPTED, now=now,
                              provider=provider.name, provider_message_id=sent.provider_message_id)
        if settled and message.source.startswith("jy"):  # a journey's message: webhooks' journey.message_sent
            outbox_emit(enterprise_id=message.enterprise_id, topic="message.sent", key=message.pk)
    outcome.sent += 1


def send_due(*, now: datetime | None = None, limit: int = BATCH, worker: str | None = None,
             batches: int | None = None) -> Outcome:
    """Send what is due, batch after batch, until nothing is left (or `batches` ran). Safe to run in several
    workers at once."""
    worker = worker or uuid.uuid4().hex[:16]
    outcome = Outcome()
    done = 0
    while batches is None or done < batches:
        at = now or timezone.now()
        rows = claim(worker=worker, now=at, limit=limit)
        done += 1
        if not rows:
            break
        outcome.claimed += len(rows)
        for message in rows:
            try:
                outgoing = decide(message, now=at)
            except Exception:
                log.exception("message %s: deciding failed; its lease will run out and it is tried again", message.pk)
                continue
            if outgoing is None:
                if message.status == MessageStatus.DEFERRED:
                    outcome.deferred += 1
                elif message.status == MessageStatus.SUPPRESSED:
                    outcome.suppressed += 1
                continue
            deliver(message, outgoing, now=at, outcome=outcome)
        if now is not None and len(rows) < limit:
            break
    return outcome
