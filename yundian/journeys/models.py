"""Journeys (营销画布): a canvas of nodes a member walks through, its published versions, the members in it
(enrolments) and one row per step taken (StepRun), which is what keeps every step exactly once.

The graph every version stores is described in `journeys.graph`. A journey is edited as a draft; publishing
freezes the draft as a new JourneyVersion; an enrolment stays on the version it entered on until it ends.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class JourneyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


def _empty_graph() -> dict:
    return {"nodes": [], "edges": []}


def _default_goal() -> dict:
    return {"kind": "order", "days": 7}


class Journey(BaseModel):
    """One automated journey over the members of an org subtree (`node`). `draft` is the graph being edited;
    `live_version` the one new members enter. `trigger` repeats the live entry's trigger kind (the scanner's
    index); `goal` says what counts as a conversion: {"kind": "order", "days": N} or
    {"kind": "event", "event": <cdp event kind>, "days": N}."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("scope"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=JourneyStatus.choices, default=JourneyStatus.DRAFT)
    draft = models.JSONField(_("draft"), default=_empty_graph)
    goal = models.JSONField(_("goal"), default=_default_goal)
    live_version = models.ForeignKey("JourneyVersion", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    trigger = models.CharField(_("trigger"), max_length=24, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("journey")
        verbose_name_plural = _("journeys")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "trigger"], name="journey_status_trigger")]

    def __str__(self) -> str:
        return self.name


class JourneyVersion(models.Model):
    """A published graph, frozen. Numbered 1, 2, ... per journey."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    graph = models.JSONField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["journey", "number"], name="journey_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.journey_id} v{self.number}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("In the journey")
    DONE = "done", _("Finished")
    EXITED = "exited", _("Stopped")


class Enrolment(models.Model):
    """One member's one walk through a journey version. `node` is where they are; `step` counts the steps taken
    (the next StepRun is (enrolment, step)); `due_at` is when the node at hand runs (the end of a wait, else the
    moment they arrived). `key` says why they entered and is unique per journey, so one trigger enrols once.
    `lease_token`/`lease_until` mark the worker holding the enrolment for a batch (an expired lease is taken
    over). `arm` is the port the member's split sent them to ("holdout": the control group)."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    # no index of its own: (journey, key) and (journey, member) lead with it
    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="enrolments", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="enrolments")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=96)
    status = models.CharField(max_length=8, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    node = models.CharField(max_length=40)
    step = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True)
    waited_from = models.DateTimeField(null=True)
    arm = models.CharField(max_length=16, blank=True)
    context = models.JSONField(default=dict, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True)
    entered_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["journey", "key"], name="journey_enrolment_key_unique")]
        indexes = [
            models.Index(fields=["status", "due_at"], name="enrolment_due",
                         condition=Q(status="active")),
            models.Index(fields=["journey", "member"], name="enrolment_journey_member"),
        ]


class StepStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class StepRun(models.Model):
    """The `seq`-th step of one enrolment: claimed (inserted, unique) before its action runs, marked done with the
    port it left by in the same transaction that moves the enrolment on. A row still running after a crash is
    run again under the same action keys, which makes its side effects happen once."""

    id = models.BigAutoField(primary_key=True)
    # journey and enrolment have no index of their own: (journey, node, status) and (enrolment, seq) lead with them
    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="+", db_index=False)
    version = models.ForeignKey(JourneyVersion, on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="steps", db_index=False)
    seq = models.PositiveIntegerField()
    node = models.CharField(max_length=40)
    kind = models.CharField(max_length=12)
    status = models.CharField(max_length=8, choices=StepStatus.choices, default=StepStatus.RUNNING)
    port = models.CharField(max_length=16, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    detail = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment", "seq"], name="journey_step_once")]
        indexes = [models.Index(fields=["journey", "node", "status"], name="step_journey_node")]


class TriggerState(models.Model):
    """Where a journey's trigger scanner got to: `watermark` is the scanner's own (an outbox id, an inbox id, a
    day already done), committed in the same transaction as the enrolments it led to."""

    journey = models.OneToOneField(Journey, on_delete=models.CASCADE, primary_key=True, related_name="trigger_state")
    watermark = models.JSONField(default=dict)
    scanned_at = models.DateTimeField(null=True)


class WebhookCall(models.Model):
    """One POST a journey's webhook node made (or tried), keyed by the step: a replay sends nothing twice once
    an answer is recorded."""

    id = models.BigAutoField(primary_key=True)
    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=96, unique=True)
    url = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=255, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()
