"""Webhooks: an enterprise's subscriptions, the events derived from the transactional outbox, one delivery per
(subscription, event) — plus one per replay — and the log of every attempt.

    OutboxEvent (core) --dispatch--> WebhookEvent (unique per enterprise and natural key: "order.paid:42")
                                       --> WebhookDelivery per subscribed endpoint --> WebhookAttempt per POST

An event's id (`evt_<pk>`) is what receivers deduplicate on: retries and replays send the same event row, so the
same id and the same body bytes."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class WebhookSubscription(BaseModel):
    """An endpoint of the enterprise's that receives the events it chose, signed with its secret.

    During a rotation `previous_secret` stays valid until `previous_secret_expires_at`: deliveries carry a v1
    signature for each of the two, so a receiver may switch to the new secret at any time inside the grace."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    url = models.CharField(_("endpoint URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class WebhookEvent(models.Model):
    """One domain event for integrators, derived once from the outbox (unique natural key) with its body frozen
    as the bytes every delivery of it sends. Insert-only."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("event"), max_length=40)
    key = models.CharField(max_length=96, help_text='what happened to what, e.g. "order.paid:42"')
    outbox_id = models.BigIntegerField(help_text="the outbox row it was derived from")
    occurred_at = models.DateTimeField(_("occurred at"))
    created_at = models.DateTimeField(_("created at"), db_index=True)
    body = models.TextField(help_text="the JSON body sent, byte for byte, on every delivery")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "key"], name="webhook_event_once")]
        indexes = [models.Index(fields=["enterprise", "created_at"], name="webhook_event_time")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

    @property
    def event_id(self) -> str:
        return f"evt_{self.pk}"


class WebhookReplay(models.Model):
    """A replay asked for by someone: the events of a range sent again to one subscription (same event ids)."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="replays")
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    from_event = models.BigIntegerField(null=True, blank=True)
    to_event = models.BigIntegerField(null=True, blank=True)
    events = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-id"]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    DEAD = "dead", _("Dead letter")


class WebhookDelivery(models.Model):
    """One event for one subscription (or a replay of it): pending until a 2xx answer, retried with backoff,
    dead after the last try. A worker holds it through `lease_token` / `lease_until` while it POSTs."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.PROTECT, related_name="deliveries")
    replay = models.ForeignKey(WebhookReplay, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    last_error = models.CharField(_("error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], condition=Q(replay__isnull=True),
                                    name="webhook_delivery_once"),
            models.UniqueConstraint(fields=["subscription", "event", "replay"], condition=Q(replay__isnull=False),
                                    name="webhook_delivery_once_per_replay"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
                   models.Index(fields=["enterprise", "status", "id"], name="webhook_delivery_list")]


class WebhookAttempt(models.Model):
    """One POST of a delivery: the answer's status code, or the error, and how long it took. Insert-only."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    response_excerpt = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookCursor(models.Model):
    """How far the dispatcher has read the outbox: an id watermark and the id gaps still open (ids taken by
    transactions not yet committed on PostgreSQL), as the warehouse sync keeps them."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
