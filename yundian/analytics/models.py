"""Analytics records on the OLTP side (the warehouse is only read; results flow back here in bulk).

Scheduled reports: a report with its filters, mailed every day / week / month to the staff who hold a role in a
subtree, each recipient getting the part of the report inside their own scope. A delivery row per (schedule,
period) makes the mailing happen once per period, however many workers or reruns.

CLV: the CLV model versions of each enterprise and its members' current CLV, written by `clv_services.clv_refit`."""
from django.db import models
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.models import BaseModel
from yundian.org.roles import Role


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day (yesterday)")
    WEEKLY = "weekly", _("Every Monday (last week)")
    MONTHLY = "monthly", _("Every 1st (last month)")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel")
    CSV = "csv", _("CSV")


class ReportSchedule(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    report = models.CharField(_("report"), max_length=40)
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+", verbose_name=_("scope"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices, default=ExportFormat.XLSX)
    filters = models.JSONField(_("filters"), default=dict, blank=True)  # {"category": id}
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["id"]


class ReportDelivery(BaseModel):
    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="deliveries")
    period_key = models.CharField(max_length=10)  # the period's first day
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = [models.UniqueConstraint(fields=["schedule", "period_key"], name="report_delivery_once")]


class ClvBand(models.TextChoices):
    """The CLV bands (analytics.clv.BANDS): the top 10 % of members by 12-month CLV, the next 20 %, 30 %, the rest;
    the same values as the computed tags of key `clv_band` (cdp)."""

    TOP = "top", pgettext_lazy("clv", "Top value")
    HIGH = "high", pgettext_lazy("clv", "High value")
    MEDIUM = "medium", pgettext_lazy("clv", "Medium value")
    LOW = "low", pgettext_lazy("clv", "Low value")


class ClvModelStatus(models.TextChoices):
    FITTED = "fitted", _("Fitted")
    FAILED = "failed", _("Failed")


class ClvModelVersion(BaseModel):
    """One fit of the CLV model (BG/NBD + Gamma-Gamma) for an enterprise, numbered 1, 2, ... per enterprise.

    Kept for every refit, fitted or failed: the data window, how many members it learnt from, the parameters and the
    fit diagnostics (log-likelihoods, standard errors, CPU seconds), and a summary of its predictions. Only the
    latest fitted version has per-member rows (MemberClv)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=8, choices=ClvModelStatus.choices)
    package = models.CharField(_("package"), max_length=40, help_text=_("The package and version that fitted it."))
    observation_start = models.DateField(_("data from"), null=True, blank=True)
    observation_end = models.DateField(_("data until"))
    members = models.PositiveIntegerField(_("members"), default=0)
    repeat_members = models.PositiveIntegerField(_("members who bought twice or more"), default=0)
    params = models.JSONField(_("parameters"), default=dict)
    diagnostics = models.JSONField(_("fit diagnostics"), default=dict)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("CLV model")
        verbose_name_plural = _("CLV models")
        constraints = [models.UniqueConstraint(fields=["enterprise", "version"], name="clv_model_version_unique")]
        ordering = ["enterprise", "-version"]

    def __str__(self) -> str:
        return f"CLV v{self.version}"


class MemberClv(models.Model):
    """A member's CLV as the enterprise's latest fitted model predicts it (replaced in bulk at each refit).

    recency and age (T) are days, monetary the mean spend of repeat purchase days (fen), clv_12m fen; expected_90d
    is the expected number of purchase days in the next 90 days, p_alive the probability the member still buys."""

    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, primary_key=True, related_name="+")
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    model = models.ForeignKey(ClvModelVersion, on_delete=models.CASCADE, related_name="members_clv")
    frequency = models.IntegerField(default=0)
    recency = models.IntegerField(default=0)
    age = models.IntegerField(default=0)
    monetary = models.BigIntegerField(default=0)
    expected_90d = models.FloatField(default=0)
    p_alive = models.FloatField(default=0)
    clv_12m = models.BigIntegerField(default=0)
    band = models.CharField(max_length=8, choices=ClvBand.choices)
    first_purchase = models.DateField(null=True)
    joined_month = models.DateField(null=True, help_text=_("The first day of the month the member joined."))

    class Meta:
        indexes = [models.Index(fields=["enterprise", "band"]), models.Index(fields=["enterprise", "-clv_12m"])]
