"""Scheduled reports: a report with its filters, mailed every day / week / month to the staff who hold a role in a
subtree, each recipient getting the part of the report inside their own scope. A delivery row per (schedule,
period) makes the mailing happen once per period, however many workers or reruns."""
from django.db import models
from django.utils.translation import gettext_lazy as _

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
