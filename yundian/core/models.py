"""Shared base model, the audit log and stored idempotency keys."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """Who did what, when, to which record, with the state before and after. Insert-only."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, null=True, related_name="+",
                                   verbose_name=_("enterprise"))
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                                   verbose_name=_("user"))
    actor_label = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("record type"), max_length=64)
    target_id = models.CharField(_("record id"), max_length=64)
    # scope: the org node path the target lives under, so auditors read only their subtree
    scope_path = models.CharField(_("scope"), max_length=255, blank=True, db_index=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"


class IdempotencyRecord(models.Model):
    """A client key for a retryable create: the first result is kept and replayed."""

    scope = models.CharField(max_length=64)
    owner = models.CharField(max_length=64, help_text="who the key belongs to (staff id, token id, device)")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "owner", "key"], name="idempotency_unique_key")]


class ScheduledRun(models.Model):
    """One run of a periodic task for one period. The unique (task, period) row is the claim: whichever scheduler
    inserts it enqueues the task; every other scheduler (or a restart) finds the row and does nothing."""

    task_name = models.CharField(max_length=200)
    period_key = models.CharField(max_length=32, help_text="the period this run covers, e.g. 2026-11-25 or 2026-11-25T14")
    due_at = models.DateTimeField()
    attempted_at = models.DateTimeField(help_text="when a scheduler last tried to enqueue it")
    enqueued_at = models.DateTimeField(null=True, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-due_at", "task_name"]
        constraints = [models.UniqueConstraint(fields=["task_name", "period_key"], name="scheduled_run_unique_period")]

    def __str__(self) -> str:
        return f"{self.task_name} @ {self.period_key}"


class OutboxEvent(models.Model):
    """A business change for the warehouse (and later webhooks), written in the same transaction as the change.

    Insert-only. `topic` names what happened ("order.changed", "member.merged", ...), `key` the record it happened
    to; readers go by id (the sync keeps a watermark and re-checks id gaps left by transactions that committed
    late), and every reader is idempotent, so a row read twice does nothing twice."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(max_length=48)
    key = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["topic", "key"], name="core_outbox_topic_key")]

    def __str__(self) -> str:
        return f"{self.topic} {self.key}"


class CacheVersion(models.Model):
    """The version of one named set of master data (core.cache): bumped in the transaction of every change to it,
    read by every process before it trusts what it cached."""

    name = models.CharField(max_length=40, unique=True)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
