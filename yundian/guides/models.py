"""Guide commission: plans, the CommissionEntry ledger and each guide's balance.

A plan applies to the stores under its node (the nearest node's active plan wins for a store). Its rules give a
rate (a share of the line's paid amount) or a fixed amount per unit, for a SKU, a product or a category (the most
specific rule wins; a category rule covers its subcategories), or exclude them; without a matching rule the plan's
default rate applies. Tiers raise the rate by the guide's sales so far this month (the month of the sale,
including the order being paid).

Ledger: one `earn` entry per paid order line with a guide, `reverse` entries on returns (pro rata, cumulative,
so a fully returned line reverses exactly what it earned), `adjust` entries by hand. CommissionBalance.amount is
updated by F() in the same transaction; `sum(entries) == balance` is the "commission" ledger check.
"""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class CommissionPlan(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="commission_plans")
    name = models.CharField(_("name"), max_length=120)
    default_rate = models.DecimalField(_("default rate"), max_digits=6, decimal_places=4, default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("commission plan")
        verbose_name_plural = _("commission plans")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["node"], condition=Q(is_active=True), name="guides_one_active_plan_per_node"),
            models.CheckConstraint(condition=Q(default_rate__gte=0) & Q(default_rate__lte=1), name="guides_plan_rate_0_1"),
        ]

    def __str__(self) -> str:
        return self.name


class CommissionRule(models.Model):
    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="rules")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4, null=True, blank=True)
    fixed_amount = models.BigIntegerField(_("fixed amount per unit (fen)"), null=True, blank=True)
    is_excluded = models.BooleanField(_("excluded"), default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sku__isnull=False, product__isnull=True, category__isnull=True)
                           | Q(sku__isnull=True, product__isnull=False, category__isnull=True)
                           | Q(sku__isnull=True, product__isnull=True, category__isnull=False)),
                name="guides_rule_one_target"),
            models.CheckConstraint(
                condition=(Q(is_excluded=True, rate__isnull=True, fixed_amount__isnull=True)
                           | Q(is_excluded=False, rate__isnull=False, fixed_amount__isnull=True)
                           | Q(is_excluded=False, rate__isnull=True, fixed_amount__isnull=False)),
                name="guides_rule_one_kind"),
        ]


class CommissionTier(models.Model):
    """From `min_month_sales` (fen) of the guide's sales in the month, the rate-based rules earn `bonus_rate` more."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="tiers")
    min_month_sales = models.BigIntegerField(_("monthly sales from (fen)"))
    bonus_rate = models.DecimalField(_("extra rate"), max_digits=6, decimal_places=4)

    class Meta:
        ordering = ["plan_id", "min_month_sales"]
        constraints = [models.UniqueConstraint(fields=["plan", "min_month_sales"], name="guides_tier_unique")]


class CommissionKind(models.TextChoices):
    EARN = "earn", _("Earned on a sale")
    REVERSE = "reverse", _("Reversed on a return")
    ADJUST = "adjust", _("Adjustment")


class CommissionBalance(models.Model):
    guide = models.OneToOneField("org.Staff", on_delete=models.PROTECT, primary_key=True, related_name="commission_balance")
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class CommissionEntry(models.Model):
    """One line of the commission ledger. Insert-only."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="commission_entries")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=CommissionKind.choices)
    amount = models.BigIntegerField(_("commission (fen)"))
    sales_amount = models.BigIntegerField(_("sales (fen)"), default=0, help_text="signed: returns subtract")
    order = models.ForeignKey("sales.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    order_line = models.ForeignKey("sales.OrderLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source_ref = models.CharField(max_length=64, help_text="line:<id> for earnings, return:<id> for reversals")
    rate = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    plan = models.ForeignKey(CommissionPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    month = models.DateField(help_text="first day of the month the sale counts in")
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("commission entry")
        verbose_name_plural = _("commission entries")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order_line", "kind", "source_ref"], name="guides_entry_once"),
        ]
        indexes = [
            models.Index(fields=["guide", "month"], name="guides_entry_guide_month"),
            models.Index(fields=["store", "month"], name="guides_entry_store_month"),
            models.Index(fields=["guide", "occurred_at"], name="guides_entry_guide_at"),
        ]


# --- call lists (回访清单) --------------------------------------------------------------------------------

class CallList(BaseModel):
    """Members to call, made from an audience (a segment's member list): each member goes to their bound guide;
    members without one are the store manager's. One list per (audience, name): making it again adds only
    members who joined the audience since, never a second row for anyone."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    audience = models.ForeignKey("members.Audience", verbose_name=_("members of"), on_delete=models.PROTECT,
                                 related_name="+")
    name = models.CharField(_("name"), max_length=120)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("call list")
        verbose_name_plural = _("call lists")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["audience", "name"], name="call_list_once_per_name")]

    def __str__(self) -> str:
        return self.name


class CallOutcome(models.TextChoices):
    PENDING = "pending", _("To call")
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    NOT_INTERESTED = "not_interested", _("Not interested")


class CallListEntry(BaseModel):
    """One member to call on one list, once (unique); `guide` empty: the store manager's (no bound guide)."""

    call_list = models.ForeignKey(CallList, on_delete=models.CASCADE, related_name="entries")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices, default=CallOutcome.PENDING)
    note = models.CharField(_("note"), max_length=255, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    called_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["call_list", "member"], name="call_list_entry_once")]
        indexes = [models.Index(fields=["guide", "outcome"], name="call_entry_guide"),
                   models.Index(fields=["store", "guide"], name="call_entry_store")]


# --- guide tasks (导购任务) ----------------------------------------------------------------------------------

class TaskKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow up members")
    SHARE = "share", _("Share a material")
    SELL = "sell", _("Sell a focus product")
    RECRUIT = "recruit", _("Recruit new members")


class FollowUpList(models.TextChoices):
    """The system lists of a follow-up plan: members of the guide's own (bound), picked when the plan is made."""

    SEGMENT = "segment", _("Members of a segment")
    DORMANT = "dormant", _("Dormant members (no purchase in 90 days)")
    POINTS_EXPIRING = "points_expiring", _("Points expiring within 30 days")
    BIRTHDAYS = "birthdays", _("Birthdays this week")
    NEW_NOT_REPEAT = "new_not_repeat", _("New members not yet bought twice")


class TaskPlan(BaseModel):
    """A task HQ, a region or a store sets for guides. Follow-up plans become one task per guide at once (the
    members of a list, each with their bound guide); target plans (share, sell, recruit) carry a target that
    cascades: the plan's node holds the whole target and splits it over nodes below, a store over its guides
    (TaskTarget; the parts add up to the whole)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("set by"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    target = models.PositiveIntegerField(_("target"), default=0)
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("focus product"), on_delete=models.PROTECT, null=True,
                            blank=True, related_name="+")
    follow_up_list = models.CharField(_("members"), max_length=16, choices=FollowUpList.choices, blank=True)
    audience = models.ForeignKey("members.Audience", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    call_list = models.ForeignKey(CallList, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    material = models.ForeignKey("guides.Material", verbose_name=_("material"), on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+")  # a share plan's material (the library's)
    starts_at = models.DateTimeField(_("starts"))
    due_at = models.DateTimeField(_("due"))
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        verbose_name = _("task plan")
        verbose_name_plural = _("task plans")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "key"], condition=~Q(key=""), name="task_plan_key_once"),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("starts_at")), name="task_plan_due_after_start"),
        ]

    def __str__(self) -> str:
        return self.title


class TaskTarget(models.Model):
    """One part of a plan's target: a node's (the plan's own node holds the whole) or a guide's. A node's parts
    below it add up to its target (checked when split, tested); `achieved` is refreshed by the progress task."""

    plan = models.ForeignKey(TaskPlan, on_delete=models.CASCADE, related_name="targets")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target = models.PositiveIntegerField(_("target"))
    achieved = models.PositiveIntegerField(_("achieved"), default=0)

    class Meta:
        ordering = ["plan_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "node"], condition=Q(guide__isnull=True),
                                    name="task_target_node_once"),
            models.UniqueConstraint(fields=["plan", "guide"], condition=Q(guide__isnull=False),
                                    name="task_target_guide_once"),
        ]


class TaskStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class DoneBy(models.TextChoices):
    SYSTEM = "system", _("Detected by the system")
    GUIDE = "guide", _("Recorded by the guide")


class GuideTask(BaseModel):
    """One guide's task: a plan's part for them, or a single follow-up another context asked for (a journey
    step, a browse-abandon rescue, a diagnosis) with its `key` (unique: a retry makes nothing twice). `progress`
    of `target`: members followed up, opens, units sold, members recruited. Done by the system when it can see
    it (the member bought within 7 days of the follow-up, the share was opened, the target met), else by the
    guide with a note."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(TaskPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    guide = models.ForeignKey("org.Staff", verbose_name=_("guide"), on_delete=models.PROTECT,
                              related_name="guide_tasks")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=120)
    note = models.CharField(_("note"), max_length=500, blank=True)
    member = models.ForeignKey("members.Member", verbose_name=_("member"), on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    target = models.PositiveIntegerField(_("target"), default=1)
    progress = models.PositiveIntegerField(_("progress"), default=0)
    converted = models.PositiveIntegerField(_("bought after the follow-up"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    due_at = models.DateTimeField(_("due"))
    followed_up_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.CharField(_("done by"), max_length=8, choices=DoneBy.choices, blank=True)
    done_note = models.CharField(_("how it went"), max_length=500, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(max_length=128, blank=True, default="")
    created_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("guide task")
        verbose_name_plural = _("guide tasks")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "key"], condition=~Q(key=""), name="guide_task_key_once"),
            models.UniqueConstraint(fields=["plan", "guide"], condition=Q(plan__isnull=False),
                                    name="guide_task_once_per_plan"),
        ]
        indexes = [models.Index(fields=["guide", "status", "due_at"], name="guide_task_todo"),
                   models.Index(fields=["store", "status", "due_at"], name="guide_task_store")]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        return min(100, self.progress * 100 // self.target) if self.target else 100


class ContactChannel(models.TextChoices):
    CALL = "call", _("Call")
    MESSAGE = "message", _("Message")
    VISIT = "visit", _("Visit")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    WILL_VISIT = "will_visit", _("Will come to the store")


class ContactLog(models.Model):
    """A guide's contact with a member (客情维护): call, message or visit, with the outcome. Insert-only."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(GuideTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts")
    channel = models.CharField(_("how"), max_length=8, choices=ContactChannel.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ContactOutcome.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["member", "at"], name="contact_member_at"),
                   models.Index(fields=["guide", "at"], name="contact_guide_at")]


class Handover(BaseModel):
    """A leaving (or moving) guide's work handed to others in one audited action: what moved where."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", verbose_name=_("leaving guide"), on_delete=models.PROTECT,
                              related_name="+")
    actor = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=255)
    moved = models.JSONField(default=dict, help_text="what moved: {kind: {to guide id: count}}")

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["guide"], name="handover_once_per_guide")]


# --- materials library (素材库) and shares ------------------------------------------------------------------

class MaterialKind(models.TextChoices):
    POSTER = "poster", _("Poster")
    COPY = "copy", _("Copy")
    PRODUCT_CARD = "product_card", _("Product card")
    VIDEO = "video", _("Short video")


class Material(BaseModel):
    """Something guides share: a poster (an image), copy (text to paste), a product card (a product's picture,
    name and price) or a short video. Owned by HQ or a region (`node`): the guides of the stores under it see it
    while it is valid. A share of it is a promotions.ShareLink with source "material:<id>"."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("for the stores under"), on_delete=models.PROTECT,
                             related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=MaterialKind.choices)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("copy"), blank=True, max_length=2000)
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    file = models.FileField(_("file"), upload_to="guides/materials/%Y/%m/", blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="product_card") | Q(product__isnull=False),
                                   name="material_card_has_product"),
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_from__isnull=True)
                                   | Q(valid_until__gt=F("valid_from")), name="material_valid_window"),
        ]
        indexes = [models.Index(fields=["enterprise", "is_active"], name="material_active")]

    def __str__(self) -> str:
        return self.title

    @property
    def source(self) -> str:
        return f"material:{self.pk}"


class MaterialShare(BaseModel):
    """A guide shared a material from a store, once (unique): the link they share and its poster's QR point to
    `link`. `times` counts the taps (a second tap shares the same link)."""

    material = models.ForeignKey(Material, on_delete=models.PROTECT, related_name="shares")
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey("promotions.ShareLink", on_delete=models.PROTECT, related_name="+")
    times = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["material", "guide", "store"], name="material_share_once")]
        indexes = [models.Index(fields=["guide", "created_at"], name="material_share_guide_at")]


# --- community groups (社群) ---------------------------------------------------------------------------------

class CommunityGroup(BaseModel):
    """A guide's group of members (the stand-in for a WeChat group). Members join by its link or QR code
    (`join_code`); its member list is a members.Audience (source "community_group"), so a promotion or coupon
    campaign for that audience is a group-only deal, checked by the one pricing engine."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    guide = models.ForeignKey("org.Staff", verbose_name=_("guide"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    join_code = models.CharField(max_length=16, unique=True)
    audience = models.OneToOneField("members.Audience", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")  # set in the transaction that creates the group
    link = models.ForeignKey("promotions.ShareLink", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             help_text="the group's own share link (source group:<id>): orders through it are the group's GMV")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("community group")
        verbose_name_plural = _("community groups")
        ordering = ["-id"]
        indexes = [models.Index(fields=["guide", "is_active"], name="group_guide")]

    def __str__(self) -> str:
        return self.name


class CommunityMember(models.Model):
    group = models.ForeignKey(CommunityGroup, on_delete=models.CASCADE, related_name="members")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "member"], name="group_member_once")]


class GroupDeal(BaseModel):
    """A deal shared into a group: a coupon campaign (members of the group claim one) or a group buy. Group-only
    when its promotion's audience is the group's list."""

    group = models.ForeignKey(CommunityGroup, on_delete=models.CASCADE, related_name="deals")
    coupon_campaign = models.ForeignKey("promotions.CouponCampaign", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    group_buy = models.ForeignKey("promotions.GroupBuyCampaign", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    posted_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(coupon_campaign__isnull=False, group_buy__isnull=True)
                                   | Q(coupon_campaign__isnull=True, group_buy__isnull=False), name="group_deal_one"),
            models.UniqueConstraint(fields=["group", "coupon_campaign"], condition=Q(coupon_campaign__isnull=False),
                                    name="group_deal_coupon_once"),
            models.UniqueConstraint(fields=["group", "group_buy"], condition=Q(group_buy__isnull=False),
                                    name="group_deal_group_buy_once"),
        ]


# --- competitions (竞赛PK) -----------------------------------------------------------------------------------

class CompetitionMetric(models.TextChoices):
    SALES = "sales", _("Sales")
    NEW_MEMBERS = "new_members", _("New members")
    SHARES = "shares", _("Shares")
    TASKS = "tasks", _("Tasks done")


class CompetitorKind(models.TextChoices):
    GUIDE = "guide", _("Guide vs guide")
    STORE = "store", _("Store vs store")


class Competition(BaseModel):
    """Guides (or stores) under `node` compete on a metric over [starts_at, ends_at). The leaderboard is live
    while it runs; closing it after the end writes the results and the prizes (top `prize_top_n` get `prize`)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("for the stores under"), on_delete=models.PROTECT,
                             related_name="+")
    name = models.CharField(_("name"), max_length=120)
    competitor = models.CharField(_("who competes"), max_length=8, choices=CompetitorKind.choices)
    metric = models.CharField(_("metric"), max_length=16, choices=CompetitionMetric.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    prize_top_n = models.PositiveSmallIntegerField(_("prizes for the top"), default=3)
    prize = models.CharField(_("prize"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("results recorded"), null=True, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("competition")
        verbose_name_plural = _("competitions")
        ordering = ["-starts_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="competition_window")]

    def __str__(self) -> str:
        return self.name


class CompetitionResult(models.Model):
    """A competitor's final place, written once when the competition is closed."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="results")
    rank = models.PositiveIntegerField()
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    value = models.BigIntegerField()
    prize = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["competition_id", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "guide"], condition=Q(guide__isnull=False),
                                    name="competition_result_guide_once"),
            models.UniqueConstraint(fields=["competition", "store"], condition=Q(store__isnull=False),
                                    name="competition_result_store_once"),
        ]
