"""ERP sync: import and export jobs, the natural-key map that makes an import idempotent, and schedules."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class ErpEntity(models.TextChoices):
    PRODUCTS = "products", _("Products")
    PRICES = "prices", _("Prices")
    STOCK = "stock", _("Stock levels")
    PURCHASE_ORDERS = "purchase_orders", _("Purchase orders")
    ORDERS = "orders", _("Orders")
    MEMBERS = "members", _("Members")


class ErpDirection(models.TextChoices):
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")


class ErpJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    PARTIAL = "partial", _("Done with rejected rows")
    FAILED = "failed", _("Failed")


class ErpJob(BaseModel):
    """One import or export run: what was asked, its progress, the per-row error report and (export) the file.

    An import keeps the uploaded file until it has run (a worker reads it from here) and its SHA-256: the same
    file again for the same entity is recognised and every row compared with what it last set (ErpRecord)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("org node"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("org.Staff", verbose_name=_("started by"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    direction = models.CharField(_("direction"), max_length=8, choices=ErpDirection.choices)
    entity = models.CharField(_("data"), max_length=20, choices=ErpEntity.choices)
    source = models.CharField(_("source"), max_length=10, default="console")  # console | api | schedule
    file_format = models.CharField(_("format"), max_length=4, default="csv")  # csv | xlsx | json
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    file_hash = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.BinaryField(null=True, blank=True)  # the import file, or the export's result
    status = models.CharField(_("status"), max_length=8, choices=ErpJobStatus.choices, default=ErpJobStatus.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    changed_rows = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_rows = models.PositiveIntegerField(_("rejected"), default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)  # [{row, column, code, message}]
    error_code = models.CharField(max_length=48, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    same_file_as = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ERP job")
        verbose_name_plural = _("ERP jobs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["enterprise", "direction", "entity", "file_hash"], name="integrations_erpjob_hash")]

    @property
    def percent(self) -> int:
        if self.status in (ErpJobStatus.DONE, ErpJobStatus.PARTIAL):
            return 100
        return min(100, 100 * self.processed_rows // self.total_rows) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (ErpJobStatus.DONE, ErpJobStatus.PARTIAL, ErpJobStatus.FAILED)


class ErpRecord(models.Model):
    """What an import last set for one record by its natural key (a SKU code, a price list + SKU, a warehouse +
    SKU, an ERP purchase order number, a member's phone): the row's hash and the local id it maps to. A row whose
    hash is unchanged is skipped, so importing the same data twice changes nothing."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    entity = models.CharField(max_length=20, choices=ErpEntity.choices)
    key = models.CharField(max_length=200)
    row_hash = models.CharField(max_length=64)
    local_id = models.BigIntegerField(null=True, blank=True)
    job = models.ForeignKey(ErpJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "entity", "key"], name="integrations_erprecord_key")]


class ErpSchedule(BaseModel):
    """A recurring job: import every new file dropped in a folder (an ERP's SFTP drop), or export the changes
    since the last run into it. Folders live under settings.ERP_DROP_ROOT."""

    class Every(models.TextChoices):
        HOURLY = "hourly", _("Every hour")
        DAILY = "daily", _("Every day")

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("org node"), on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(_("direction"), max_length=8, choices=ErpDirection.choices)
    entity = models.CharField(_("data"), max_length=20, choices=ErpEntity.choices)
    file_format = models.CharField(_("format"), max_length=4, default="csv")
    folder = models.CharField(_("folder"), max_length=120)
    every = models.CharField(_("how often"), max_length=8, choices=Every.choices, default=Every.HOURLY)
    is_active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    export_cursor = models.CharField(max_length=300, blank=True)  # where the last export ended

    class Meta:
        verbose_name = _("ERP schedule")
        verbose_name_plural = _("ERP schedules")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "direction", "entity", "folder"],
                                               condition=Q(is_active=True), name="integrations_erpschedule_unique")]
