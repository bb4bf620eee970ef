"""Channels behind one adapter interface. `settings.MESSAGING_PROVIDERS` maps a channel to a class path, like
Django's email backends; each class has a `name` and `send(outgoing) -> Sent`.

- SMS and WeChat: pluggable gateway classes. `FakeSmsProvider` / `FakeWechatProvider` (tests, the demo) accept
  every message, answer a provider id, and queue a delivery receipt that `fake_receipts_post` sends to the receipt
  webhook, as a real gateway would call it.
- Email: `DjangoEmailProvider` sends through Django's configured email backend (SMTP in production; tests use a
  local aiosmtpd server). Marketing mail carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058).
- In-app: `InboxProvider` — the message row *is* the member's storefront inbox entry; "sending" delivers it.

A provider raises `TransientSendError` when trying later may work (timeouts, 5xx, rate limits: the worker retries
with backoff) and `PermanentSendError` when it will not (a bad number, a blocked recipient). Each send carries
`reference`, our stable id for the message: a gateway that deduplicates on the client's reference (most SMS
gateways do) makes a resend after a worker crash harmless; the fakes deduplicate on it.
"""
import threading
from dataclasses import dataclass, field
from email.utils import make_msgid
from itertools import count

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

DEFAULT_PROVIDERS = {
    "sms": "yundian.messaging.providers.FakeSmsProvider",
    "wechat": "yundian.messaging.providers.FakeWechatProvider",
    "email": "yundian.messaging.providers.DjangoEmailProvider",
    "inapp": "yundian.messaging.providers.InboxProvider",
}


class SendError(Exception):
    pass


class TransientSendError(SendError):
    """Worth retrying later (timeout, gateway busy)."""


class PermanentSendError(SendError):
    """Retrying will not help (invalid recipient, content refused)."""


@dataclass(frozen=True)
class Outgoing:
    reference: str          # stable per message: "ydm-<id>"
    channel: str
    address: str            # phone, WeChat OpenID, email address; the member id for in-app
    subject: str
    body: str
    provider_template: str = ""
    unsubscribe_url: str = ""
    sender: str = ""


@dataclass(frozen=True)
class Sent:
    provider_message_id: str
    delivered: bool = False  # True when sending is delivery (in-app)


class Provider:
    name = "base"

    def send(self, outgoing: Outgoing) -> Sent:  # pragma: no cover - interface
        raise NotImplementedError


# --- fakes (tests and the demo) ------------------------------------------------------------------------

@dataclass
class FakeGateway:
    """What a fake gateway received: sends by reference (deduplicated), receipts not yet posted, planned faults."""

    sent: dict[str, Outgoing] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    receipts: list[dict] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # "transient" / "permanent", consumed one per send
    undeliverable: set[str] = field(default_factory=set)  # addresses whose receipt says failed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.sent.clear(), self.ids.clear(), self.receipts.clear(), self.faults.clear()
            self.undeliverable.clear()
            self.calls = 0


_numbers = count(1)


class _FakeProvider(Provider):
    prefix = "FAKE"
    gateway: FakeGateway

    def send(self, outgoing: Outgoing) -> Sent:
        gateway = self.gateway
        with gateway.lock:
            gateway.calls += 1
            if gateway.faults:
                fault = gateway.faults.pop(0)
                if fault == "permanent":
                    raise PermanentSendError("recipient refused by the fake gateway")
                raise TransientSendError("fake gateway busy")
            if outgoing.reference in gateway.ids:  # a resend of the same message: the gateway's dedup
                return Sent(gateway.ids[outgoing.reference])
            provider_id = f"{self.prefix}-{next(_numbers):08d}"
            gateway.sent[outgoing.reference] = outgoing
            gateway.ids[outgoing.reference] = provider_id
            status = "failed" if outgoing.address in gateway.undeliverable else "delivered"
            gateway.receipts.append({"id": provider_id, "status": status,
                                     "error": "absent subscriber" if status == "failed" else ""})
        return Sent(provider_id)


class FakeSmsProvider(_FakeProvider):
    name = "fake_sms"
    prefix = "SMS"
    gateway = FakeGateway()


class FakeWechatProvider(_FakeProvider):
    name = "fake_wechat"
    prefix = "WX"
    gateway = FakeGateway()


def fake_gateways() -> list[FakeGateway]:
    return [FakeSmsProvider.gateway, FakeWechatProvider.gateway]


# --- email through Django's backends -------------------------------------------------------------------

class DjangoEmailProvider(Provider):
    name = "email"

    def send(self, outgoing: Outgoing) -> Sent:
        message_id = make_msgid(idstring=outgoing.reference, domain=getattr(settings, "MESSAGING_EMAIL_DOMAIN",
                                                                               "yundian.local"))
        headers = {"Message-ID": message_id}
        if outgoing.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{outgoing.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMessage(subject=outgoing.subject, body=outgoing.body,
                             from_email=outgoing.sender or None, to=[outgoing.address], headers=headers,
                             connection=get_connection(fail_silently=False))
        try:
            email.send()
        except (ConnectionError, TimeoutError) as exc:
            raise TransientSendError(str(exc)) from exc
        except OSError as exc:  # smtplib errors are OSError subclasses: refused recipients are permanent
            import smtplib

            if isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
                raise PermanentSendError(str(exc)) from exc
            raise TransientSendError(str(exc)) from exc
        return Sent(message_id.strip("<>"))


class InboxProvider(Provider):
    name = "inbox"

    def send(self, outgoing: Outgoing) -> Sent:
        return Sent(outgoing.reference, delivered=True)


_cache: dict[str, Provider] = {}


def provider_for(channel: str) -> Provider:
    path = {**DEFAULT_PROVIDERS, **(getattr(settings, "MESSAGING_PROVIDERS", None) or {})}[channel]
    provider = _cache.get(path)
    if provider is None:
        provider = _cache[path] = import_string(path)()
    return provider
