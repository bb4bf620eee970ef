"""Recommendation records on the OLTP side: the model versions (trained on the warehouse, served in process), the
A/B experiments of each slot, and the browse-abandon rescues handed to guides.

A model version is kept for every training, fitted, rejected or failed: its data window, what it learnt from, its
offline evaluation (recall/precision/NDCG@10 and coverage against the baselines) and, when fitted, the model itself
(`artifact`: numpy arrays, compressed; no pickle). Serving uses the latest *fitted* version; a training whose model
ranks worse than its own popularity fallback on the hold-out is kept as *rejected* and serves nothing."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.models import BaseModel


class ModelStatus(models.TextChoices):
    FITTED = "fitted", _("Serving")
    REJECTED = "rejected", _("Rejected (worse than popularity)")
    FAILED = "failed", _("Failed")


class RecommendModelVersion(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=8, choices=ModelStatus.choices)
    package = models.CharField(_("package"), max_length=40)
    data_from = models.DateField(_("data from"), null=True, blank=True)
    data_until = models.DateField(_("data until"), null=True, blank=True)
    members = models.PositiveIntegerField(_("members"), default=0)
    products = models.PositiveIntegerField(_("products"), default=0)
    baskets = models.PositiveIntegerField(_("orders"), default=0)
    interactions = models.PositiveIntegerField(_("interactions"), default=0)
    params = models.JSONField(_("parameters"), default=dict)
    metrics = models.JSONField(_("evaluation"), default=list, blank=True)  # [{model, members, recall, ...}]
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(_("seconds"), default=0)
    artifact = models.BinaryField(null=True, blank=True, editable=False)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("recommendation model")
        verbose_name_plural = _("recommendation models")
        constraints = [models.UniqueConstraint(fields=["enterprise", "version"], name="recommend_model_version_unique")]
        indexes = [models.Index(fields=["enterprise", "status", "-version"], name="recommend_model_serving")]
        ordering = ["enterprise", "-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class Slot(models.TextChoices):
    GOES_WITH = "goes_with", pgettext_lazy("recommend slot", "Goes with (product page and cart)")
    FOR_YOU = "for_you", pgettext_lazy("recommend slot", "For you (storefront home)")
    TILL = "till", pgettext_lazy("recommend slot", "At the till")
    GUIDE = "guide", pgettext_lazy("recommend slot", "Guide's customer page")


class Experiment(BaseModel):
    """An A/B test of one slot: variants with their shares in percent (a strategy of the model — blend, als,
    copurchase, sequence, popular — or `holdout`, who see no block). A member (else the visitor's session) is
    assigned by a hash of the experiment and their id, so they see the same variant on every page and device."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    slot = models.CharField(_("slot"), max_length=12, choices=Slot.choices)
    name = models.CharField(_("name"), max_length=80)
    variants = models.JSONField(_("variants"))  # [{"key": "blend", "share": 45}, ...] adding up to 100
    is_active = models.BooleanField(_("running"), default=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("recommendation experiment")
        verbose_name_plural = _("recommendation experiments")
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "slot"], condition=Q(is_active=True),
                                               name="recommend_one_experiment_per_slot")]

    def __str__(self) -> str:
        return self.name


class Rescue(BaseModel):
    """A browse-abandon rescue: a member viewed products of a category without buying; the guide (or the store
    manager) is handed a comparable product at a middle price, the nearest store with stock and, optionally, a
    viewed product to offer a coupon on. Once per member, category and week (`period`)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(help_text=_("The Monday of the week the member browsed."))
    viewed = models.JSONField(default=list)  # product ids
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("suggested product"))
    coupon_product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("coupon on"))
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    delivered_as = models.CharField(max_length=20, blank=True)  # "guide_task" when a follow-up task was made

    class Meta:
        verbose_name = _("browse-abandon rescue")
        verbose_name_plural = _("browse-abandon rescues")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["member", "category", "period"], name="recommend_rescue_once")]
