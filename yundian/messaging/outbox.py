"""What the outbox's writes (services) and its worker (sending) share: the enterprise's sending policy, a message's
event history, the consent channel each message channel answers to, and the signed unsubscribe link."""
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from yundian.members.models import ConsentChannel

from .models import MessageChannel, MessageEvent, MessagingPolicy, OutboundMessage

UNSUBSCRIBE_SALT = "yundian.messaging.unsubscribe"
# the consent channel each message channel answers to (members' consent records)
CONSENT_CHANNEL = {MessageChannel.SMS: ConsentChannel.SMS, MessageChannel.WECHAT: ConsentChannel.WECHAT,
                   MessageChannel.EMAIL: ConsentChannel.EMAIL, MessageChannel.INAPP: ConsentChannel.INAPP}


def policy_get(enterprise_id: int) -> MessagingPolicy:
    policy = MessagingPolicy.objects.filter(enterprise_id=enterprise_id).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = MessagingPolicy.objects.create(enterprise_id=enterprise_id)
        except IntegrityError:
            policy = MessagingPolicy.objects.get(enterprise_id=enterprise_id)
    return policy


def event_add(message: OutboundMessage, *, at=None) -> None:
    MessageEvent.objects.create(message=message, status=message.status, reason=message.reason,
                                detail=message.detail[:255], at=at or timezone.now())


def unsubscribe_token(member_id: int, channel: str) -> str:
    """Signed (SECRET_KEY, no expiry: an old message's link still works) and the same for every message of that
    member and channel."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"m": member_id, "c": channel}, compress=True)


def unsubscribe_url(member_id: int, channel: str) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return base + reverse("messaging_public:unsubscribe", args=[unsubscribe_token(member_id, channel)])
