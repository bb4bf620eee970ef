"""The OLTP side of the customer-data context: the inbox where accepted behaviour events wait for the warehouse.

The events API writes here (one bulk insert per batch), so a web request never opens DuckDB; `cdp.inbox.inbox_flush`
moves rows into the warehouse's fact_event each minute and the nightly purge forgets rows already moved.
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class EventInbox(models.Model):
    """One accepted event, validated and normalised, waiting for the warehouse. Insert-only until purged.

    `event_key` is the sender's message id; (enterprise, event_key) is unique, so a retried batch inserts nothing
    twice (bulk_create with ignore_conflicts). Ids are read by the flush in order with a watermark; on PostgreSQL
    an id can commit after a higher one, which the flush's gap re-check covers."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=64)
    kind = models.CharField(max_length=24)
    name = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(db_index=True)
    anonymous_id = models.CharField(max_length=64, blank=True)
    member_id = models.BigIntegerField(null=True, db_index=True)
    store_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    sku_id = models.BigIntegerField(null=True)
    order_id = models.BigIntegerField(null=True)
    amount = models.BigIntegerField(null=True)
    properties = models.TextField(default="{}")  # JSON text, as the warehouse keeps it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "event_key"], name="cdp_inbox_key_unique")]


# --- tags (标签) ----------------------------------------------------------------------------------------------------
# Tag groups and tags belong to an enterprise and to an org node: HQ's (the root) are seen by everyone; a region's
# are seen and used within the region's subtree only. Three kinds: manual (staff put them on members), rule (a
# condition tree of cdp.conditions, evaluated in the warehouse) and computed (one of COMPUTED_KEYS: each member gets
# at most one tag of a key, e.g. their RFM group). Who holds a tag is MemberTag (one row per member and tag); every
# gain and loss is a TagChange row (insert-only), with where it came from and why.
class TagKind(models.TextChoices):
    MANUAL = "manual", _("Manual")
    RULE = "rule", _("Rule")
    COMPUTED = "computed", _("Computed")


class ComputedKey(models.TextChoices):
    RFM_GROUP = "rfm_group", _("RFM group")
    LIFECYCLE = "lifecycle", _("Lifecycle stage")
    PREFERRED_STORE = "preferred_store", _("Preferred store")
    PREFERRED_CATEGORY = "preferred_category", _("Preferred category")
    PRICE_BAND = "price_band", _("Price band")
    CLV_BAND = "clv_band", _("CLV band")


class TagSource(models.TextChoices):
    MANUAL = "manual", _("Added by staff")
    BULK = "bulk", _("Bulk tagging")
    IMPORT = "import", _("Imported file")
    RULE = "rule", _("Rule")
    COMPUTED = "computed", _("Computed")


class TagGroup(BaseModel):
    """A folder of tags ("Lifecycle", "Interests", "East region campaigns"), owned by an org node."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+",
                             help_text=_("HQ's groups are seen everywhere; a region's only within the region."))
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    computed_key = models.CharField(_("computed from"), max_length=24, choices=ComputedKey.choices, blank=True,
                                    help_text=_("Set on the groups the system keeps for computed tags."))

    class Meta:
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="cdp_tag_group_code_unique")]

    def __str__(self) -> str:
        return self.name


class Tag(BaseModel):
    """One tag. `rule` is a condition tree (kind rule); `computed_key` and `value` say which computed value it
    stands for (kind computed: e.g. rfm_group / important_value, preferred_store / <store id>)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(TagGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="tags")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=TagKind.choices)
    rule = models.JSONField(_("rule"), null=True, blank=True)
    computed_key = models.CharField(_("computed from"), max_length=24, choices=ComputedKey.choices, blank=True)
    value = models.CharField(_("value"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["group_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="cdp_tag_code_unique"),
            models.UniqueConstraint(fields=["enterprise", "computed_key", "value"],
                                    condition=~models.Q(computed_key=""), name="cdp_tag_computed_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    """A member holds a tag: since when and where it came from. Written only by cdp.tags services."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="holders")
    source = models.CharField(max_length=12, choices=TagSource.choices)
    since = models.DateTimeField()
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"], name="cdp_member_tag_unique")]
        indexes = [models.Index(fields=["tag", "member"])]


class TagChange(models.Model):
    """History: a member gained or lost a tag, when, from what source, why and by whom. Insert-only."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    gained = models.BooleanField()
    source = models.CharField(max_length=12, choices=TagSource.choices)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "at"])]


class LifecycleStage(models.TextChoices):
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")
    WON_BACK = "won_back", _("Won back")


class MemberScore(models.Model):
    """A member's RFM scores and lifecycle stage as the last refresh computed them (cdp.computed).

    r/f/m scores are quintiles 1-5 among the enterprise's members with a sale in the RFM window (null: no sale in
    it); frequency and monetary are that window's sale count and net spend (fen)."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, primary_key=True, related_name="+")
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    r_score = models.PositiveSmallIntegerField(null=True)
    f_score = models.PositiveSmallIntegerField(null=True)
    m_score = models.PositiveSmallIntegerField(null=True)
    frequency = models.IntegerField(default=0)
    monetary = models.BigIntegerField(default=0)
    first_sale_date = models.DateField(null=True)
    last_sale_date = models.DateField(null=True)
    rfm_group = models.CharField(max_length=24, blank=True)
    lifecycle = models.CharField(max_length=12, choices=LifecycleStage.choices, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["enterprise", "lifecycle"])]


class LifecycleSettings(BaseModel):
    """The enterprise's lifecycle thresholds (days), edited by HQ. A member's stage, first rule that holds:

    won back  their latest sale is at most `won_back_days` old and came after a gap of at least `dormant_days`
              since the sale before it;
    new       their first sale (or, with no sale, their registration) is at most `new_days` old;
    active    their latest sale is at most `active_days` old;
    at risk   their latest sale is more than `active_days` and at most `dormant_days` old;
    dormant   their latest sale is more than `dormant_days` and at most `lost_days` old, or they registered more
              than `new_days` ago and never bought;
    lost      their latest sale is more than `lost_days` old.
    Days count whole local calendar days from the sale's date to today. Order: new ≤ active, won back ≤ active,
    active < dormant < lost."""

    enterprise = models.OneToOneField("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    new_days = models.PositiveSmallIntegerField(_("new for (days)"), default=30)
    active_days = models.PositiveSmallIntegerField(_("active within (days)"), default=90)
    dormant_days = models.PositiveSmallIntegerField(_("dormant after (days)"), default=180)
    lost_days = models.PositiveSmallIntegerField(_("lost after (days)"), default=365)
    won_back_days = models.PositiveSmallIntegerField(_("won back for (days)"), default=30)
    updated_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")


# --- segments ------------------------------------------------------------------------------------------

class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (re-evaluated)")
    SNAPSHOT = "snapshot", _("Snapshot (frozen list)")


class Segment(BaseModel):
    """A group of members defined by a condition tree (`cdp.conditions`), over the members whose home store lies in
    `node`'s subtree. Dynamic: re-evaluated on each refresh (its member list follows); snapshot: the list frozen
    when it was taken and never changed. `SegmentMember` holds the current list either way, so promotions and
    guides check membership in the OLTP database."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("scope"), on_delete=models.PROTECT, related_name="+",
                             help_text=_("Only members whose home store lies under this node are counted."))
    name = models.CharField(_("name"), max_length=80)
    definition = models.JSONField(_("conditions"))
    kind = models.CharField(_("kind"), max_length=8, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveIntegerField(_("segment size"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "name"], condition=Q(is_archived=False),
                                               name="cdp_segment_name_unique")]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A member of a segment's current list (written in bulk by the refresh or the snapshot)."""

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "member"], name="cdp_segment_member_unique")]
        indexes = [models.Index(fields=["member", "segment"], name="cdp_segment_member_by_member")]


class SegmentSize(models.Model):
    """A segment's size on a day (the last refresh of the day), for "size over time"."""

    id = models.BigAutoField(primary_key=True)
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="sizes")
    day = models.DateField()
    size = models.PositiveIntegerField()
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    measured_at = models.DateTimeField()

    class Meta:
        ordering = ["segment", "day"]
        constraints = [models.UniqueConstraint(fields=["segment", "day"], name="cdp_segment_size_day_unique")]

class RefreshStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class TagRefreshRun(models.Model):
    """One refresh of an enterprise's rule and computed tags: who asked, how far it got (the page's progress bar)
    and what it changed."""

    id = models.BigAutoField(primary_key=True)
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=8, choices=RefreshStatus.choices, default=RefreshStatus.QUEUED)
    step = models.CharField(max_length=80, blank=True)
    steps_done = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    gained = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["enterprise", "-id"])]
