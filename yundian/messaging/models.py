"""The one outbox of messages to members: templates, the enterprise's sending policy, and every message with the
decisions taken about it.

A message is enqueued once per (enterprise, key): the unique constraint decides, and the same key returns the first
message. The worker claims due rows (a conditional UPDATE with a lease), decides under the member's row lock
(consent, frequency caps, quiet hours), sends through the channel's adapter outside any transaction, and records the
outcome. Every decision is a status plus a reason code on the message and a `MessageEvent` in its history.
"""
from datetime import time

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.models import BaseModel


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat message")
    EMAIL = "email", _("Email")
    INAPP = "inapp", _("Storefront inbox")


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", pgettext_lazy("message purpose", "Service")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("message status", "Queued")
    DEFERRED = "deferred", pgettext_lazy("message status", "Deferred")
    SENDING = "sending", pgettext_lazy("message status", "Sending")
    SENT = "sent", pgettext_lazy("message status", "Sent")
    DELIVERED = "delivered", pgettext_lazy("message status", "Delivered")
    FAILED = "failed", pgettext_lazy("message status", "Failed")
    SUPPRESSED = "suppressed", pgettext_lazy("message status", "Suppressed")


class Reason(models.TextChoices):
    """Why a message is where it is (the decision recorded with its status)."""

    ENQUEUED = "enqueued", _("Waiting to be sent")
    QUIET_HOURS = "quiet_hours", _("Quiet hours in the store's time zone")
    NO_CONSENT = "no_consent", _("No marketing consent on this channel")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from this channel")
    DAILY_CAP = "daily_cap", _("Daily limit of marketing messages reached")
    WEEKLY_CAP = "weekly_cap", _("Weekly limit of marketing messages reached")
    NO_ADDRESS = "no_address", _("No address on this channel")
    MEMBER_INACTIVE = "member_inactive", _("Member merged or erased")
    ACCEPTED = "accepted", _("Accepted by the provider")
    DELIVERED = "delivered", _("Delivery confirmed")
    RETRY = "retry", _("Provider unavailable; will retry")
    PROVIDER_REJECTED = "provider_rejected", _("Rejected by the provider")
    RETRIES_EXHAUSTED = "retries_exhausted", _("Provider unavailable; gave up after retries")
    RECEIPT_FAILED = "receipt_failed", _("The provider reported it undelivered")


def source_label(source: str) -> str:
    """Who asked for a message, as a person reads it: "jy12" (the journeys engine's keys) is journey 12."""
    import re

    found = re.fullmatch(r"jy(\d+)", source or "")
    if found:
        return str(_("Journey %(id)s") % {"id": found.group(1)})
    known = {"task": _("Guide task"), "report": _("Scheduled report"), "campaign": _("Campaign"),
             "order": _("Order notice"), "manual": _("Sent by hand")}
    return str(known.get(source, source or "—"))


class MessagingPolicy(BaseModel):
    """An enterprise's sending rules (one row, created with defaults on first use). Caps count marketing messages
    per member and channel over a rolling 24 hours and 7 days; quiet hours are read in each store's time zone."""

    enterprise = models.OneToOneField("org.Enterprise", on_delete=models.CASCADE, related_name="messaging_policy")
    daily_cap = models.PositiveSmallIntegerField(_("marketing messages per member and channel per 24 hours"), default=2)
    weekly_cap = models.PositiveSmallIntegerField(_("marketing messages per member and channel per 7 days"), default=5)
    quiet_start = models.TimeField(_("quiet hours start"), default=time(21, 0))
    quiet_end = models.TimeField(_("quiet hours end"), default=time(9, 0))
    language = models.CharField(_("default language"), max_length=8, default="zh-hans")
    email_from = models.CharField(_("email sender"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("messaging policy")
        verbose_name_plural = _("messaging policies")


class MessageTemplate(BaseModel):
    """A message an enterprise sends, with a body per channel and language. `node` owns it (who may edit it);
    `variables` names the extra `$variables` its bodies may use beside the standard ones."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="message_templates")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.MARKETING)
    variables = models.JSONField(_("extra variables"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "name"], name="message_template_name_unique")]

    def __str__(self) -> str:
        return self.name


class TemplateBody(BaseModel):
    """The text of a template on one channel in one language. `subject` is the email subject, the WeChat message's
    title or the inbox title (SMS has none); `provider_template` is the WeChat template id the provider knows."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="bodies")
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    language = models.CharField(_("language"), max_length=8, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    provider_template = models.CharField(_("provider template id"), max_length=64, blank=True)

    class Meta:
        ordering = ["channel", "language"]
        constraints = [models.UniqueConstraint(fields=["template", "channel", "language"],
                                               name="message_template_body_unique")]


class OutboundMessage(BaseModel):
    """One message to one member on one channel, sent at most once per (enterprise, key)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="messages")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              help_text="the store the message speaks for (time zone, name); else the member's home")
    scope_path = models.CharField(max_length=255, db_index=True, help_text="the member's home path (staff scoping)")
    key = models.CharField(max_length=200)
    source = models.CharField(_("source"), max_length=32, blank=True,
                              help_text="who asked: the key's first part (journey, task, report, manual ...)")
    channel = models.CharField(_("channel"), max_length=8, choices=MessageChannel.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    language = models.CharField(max_length=8)
    variables = models.JSONField(default=dict, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    provider_template = models.CharField(max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.ENQUEUED)
    detail = models.CharField(max_length=255, blank=True)
    due_at = models.DateTimeField(_("due at"), help_text="when the worker should next look at it")
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=40, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "key"], name="message_key_once"),
            models.UniqueConstraint(fields=["provider", "provider_message_id"], condition=~Q(provider_message_id=""),
                                    name="message_provider_id_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="message_due"),
            models.Index(fields=["member", "channel", "sent_at"], name="message_member_sent"),
            models.Index(fields=["member", "id"], name="message_member"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.key}"

    @property
    def source_label(self) -> str:
        return source_label(self.source)

    @property
    def reason_label(self) -> str:
        return str(Reason(self.reason).label) if self.reason in Reason.values else self.reason


class MessageEvent(models.Model):
    """One step in a message's life (enqueued, deferred, sent, delivered, suppressed ...). Insert-only."""

    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=MessageStatus.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
