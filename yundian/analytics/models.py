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


class FindingKind(models.TextChoices):
    DEVIATION = "deviation", _("KPI off its forecast")
    WARNING = "warning", _("Early warning")


class FindingStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding", "Open")
    RESOLVED = "resolved", pgettext_lazy("finding", "Resolved")
    DISMISSED = "dismissed", pgettext_lazy("finding", "Dismissed")


class OwnerRole(models.TextChoices):
    STORE_MANAGER = "store_manager", _("Store manager")
    GUIDE = "guide", _("Guide")
    BUYER = "buyer", _("Category buyer")
    REGION_MANAGER = "region_manager", _("Region manager")


class DiagnosisRun(BaseModel):
    """One diagnosis of an enterprise for a window (nightly, or on demand): what it looked at and found."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    window_start = models.DateField(_("from"))
    window_end = models.DateField(_("until"))
    stores = models.PositiveIntegerField(_("stores"), default=0)
    regions = models.PositiveIntegerField(_("regions"), default=0)
    series = models.PositiveIntegerField(_("KPI series"), default=0)
    fitted = models.PositiveIntegerField(_("series fitted"), default=0)
    findings = models.PositiveIntegerField(_("findings"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("diagnosis run")
        verbose_name_plural = _("diagnosis runs")
        ordering = ["-id"]


class Finding(BaseModel):
    """A KPI of a store or region off its forecast (or an early warning), explained and routed to the person who
    owns its driver; followed up until resolved, with whether the KPI came back. `key` (unique per enterprise):
    the node, KPI and window, so a rerun of the same night finds it again instead of making a second one."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(DiagnosisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=FindingKind.choices, default=FindingKind.DEVIATION)
    node = models.ForeignKey("org.OrgNode", verbose_name=_("where"), on_delete=models.PROTECT, related_name="+")
    kpi = models.CharField(_("KPI"), max_length=20)
    driver = models.CharField(_("driver"), max_length=20)
    window_start = models.DateField(_("from"))
    window_end = models.DateField(_("until"))
    actual = models.FloatField(_("actual"))
    expected = models.FloatField(_("forecast"))
    lower = models.FloatField(_("forecast low"))
    upper = models.FloatField(_("forecast high"))
    owner_role = models.CharField(_("owner's role"), max_length=16, choices=OwnerRole.choices)
    owner = models.ForeignKey("org.Staff", verbose_name=_("owner"), on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    numbers = models.JSONField(_("explanation"), default=dict)
    chart = models.JSONField(default=dict)  # {"days": [...], "actual": [...], "mean"/"lower"/"upper": [...]}
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    resolved_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    resolution = models.CharField(_("what was done"), max_length=500, blank=True)
    checked_on = models.DateField(_("checked on"), null=True, blank=True)
    check_value = models.FloatField(_("KPI since"), null=True, blank=True)
    kpi_back = models.BooleanField(_("KPI back"), null=True, blank=True)
    task_ref = models.CharField(max_length=40, blank=True)  # the guide task or cycle count it became
    key = models.CharField(max_length=120)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-window_end", "-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "key"], name="finding_key_once")]
        indexes = [models.Index(fields=["owner", "status"], name="finding_owner_status"),
                   models.Index(fields=["enterprise", "status", "-window_end"], name="finding_open")]

    def __str__(self) -> str:
        return f"{self.node} {self.kpi} {self.window_end}"
