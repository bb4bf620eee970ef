"""Members (One-ID), identities and merges, points (ledger + FIFO lots), growth and tiers, stored value, gift
cards, guide binding and consent.

Scoping rule: a member belongs to the enterprise and has a *home* org node, the store (or storefront node) where
they registered. Staff read and manage members whose home lies in their subtree for `member.view` /
`member.manage` (HQ sees all). At the till any store of the enterprise may *identify* a member by an exact
identity (phone, card, ...) and earn / redeem for them, because membership is enterprise-wide; that lookup
returns a masked minimal record, never the 360° profile.

Ledgers (`PointsEntry`, `StoredValueEntry`, `GrowthEntry`) are insert-only; each balance row is changed only in
the same transaction as its entry, with F() updates under the member's row lock (`locks.py`). Retryable writes
carry a source reference: (enterprise, kind, source_type, source_id) is unique, so a repeated order hook posts
once.
"""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from yundian.core.models import BaseModel


class Channel(models.TextChoices):
    POS = "pos", _("Point of sale")
    STOREFRONT = "storefront", _("Cloud storefront")
    MINIPROGRAM = "miniprogram", _("Mini program")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    CONSOLE = "console", _("Console")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another member")
    ERASED = "erased", _("Erased on request")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not given")
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Mobile phone")
    WECHAT_OPENID = "wechat_openid", _("WeChat OpenID")
    WECHAT_UNIONID = "wechat_unionid", _("WeChat UnionID")
    MINIPROGRAM = "miniprogram", _("Mini-program ID")
    CARD = "card", _("Membership card")
    EMAIL = "email", _("Email")
    EXTERNAL = "external", _("External ERP ID")


class MemberProgram(BaseModel):
    """The enterprise's membership programme settings (one row per enterprise, created with defaults on first use)."""

    enterprise = models.OneToOneField("org.Enterprise", on_delete=models.CASCADE, related_name="member_program")
    points_expiry_days = models.PositiveIntegerField(_("points expire after (days)"), null=True, blank=True, default=365,
                                                     help_text=_("Empty: points never expire."))
    default_points_per_yuan = models.DecimalField(_("points per yuan where no rule applies"), max_digits=6,
                                                  decimal_places=2, default=1)
    growth_window_days = models.PositiveIntegerField(_("growth window (days)"), default=365)
    growth_per_yuan = models.PositiveIntegerField(_("growth per yuan paid"), default=1)
    adjust_approval_threshold = models.PositiveIntegerField(_("adjustments above this need approval (points)"), default=1000)
    rebind_cooldown_days = models.PositiveIntegerField(_("guide rebinding cool-down (days)"), default=30)

    class Meta:
        verbose_name = _("membership programme")
        verbose_name_plural = _("membership programmes")


class Tier(BaseModel):
    """A membership tier. A member qualifies for the highest-ranked tier whose `min_growth` their growth within the
    window reaches. Benefits are read by the pricing engine through `selectors.member_benefits`."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="member_tiers")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=80)
    rank = models.PositiveSmallIntegerField(_("rank"))
    min_growth = models.PositiveIntegerField(_("growth needed"))
    discount_rate = models.DecimalField(_("discount rate"), max_digits=4, decimal_places=3, default=1,
                                        help_text=_("Price multiplier, e.g. 0.950 for 5% off."))
    birthday_gift_points = models.PositiveIntegerField(_("birthday gift (points)"), default=0)
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    points_multiplier = models.DecimalField(_("points multiplier"), max_digits=4, decimal_places=2, default=1)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["enterprise", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="member_tier_code_unique"),
            models.UniqueConstraint(fields=["enterprise", "rank"], name="member_tier_rank_unique"),
            models.CheckConstraint(condition=Q(discount_rate__gt=0, discount_rate__lte=1), name="member_tier_discount_range"),
            models.CheckConstraint(condition=Q(points_multiplier__gte=0), name="member_tier_multiplier_nonneg"),
        ]

    def __str__(self) -> str:
        return self.name


class Member(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="members")
    home = models.ForeignKey("org.OrgNode", verbose_name=_("home store"),
                             on_delete=models.PROTECT, related_name="home_members",
                             help_text=_("The store where the member registered; decides which staff see them."))
    name = models.CharField(_("name"), max_length=80, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default="")
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    channel = models.CharField(_("registered via"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=8, choices=MemberStatus.choices, default=MemberStatus.ACTIVE)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="absorbed")
    tier = models.ForeignKey(Tier, verbose_name=_("tier"),
                             on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    tier_since = models.DateTimeField(_("tier since"), null=True, blank=True)
    tier_review_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                          help_text=_("When the tier is next reviewed for a downgrade."))
    guide = models.ForeignKey("org.Staff", verbose_name=_("guide"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="bound_members")
    guide_bound_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["-id"]
        indexes = [models.Index(fields=["enterprise", "status"]), models.Index(fields=["guide", "status"])]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class MemberIdentity(BaseModel):
    """One way to recognise a member. The normalised value is unique per (enterprise, kind)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=128)
    channel = models.CharField(_("added via"), max_length=16, choices=Channel.choices)
    is_verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        verbose_name = _("member identity")
        verbose_name_plural = _("member identities")
        constraints = [models.UniqueConstraint(fields=["enterprise", "kind", "value"], name="member_identity_unique")]
        indexes = [models.Index(fields=["member", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class MergeStatus(models.TextChoices):
    MERGED = "merged", _("Merged")
    UNMERGED = "unmerged", _("Undone")


class MemberMerge(BaseModel):
    """One merge of `absorbed` into `survivor`, with everything that moved (`moved`), so it can be undone exactly."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="merges_won")
    absorbed = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="merges_lost")
    rule = models.CharField(_("rule"), max_length=32, help_text=_("What triggered it: a shared identity kind or 'manual'."))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    moved = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=MergeStatus.choices, default=MergeStatus.MERGED)
    merged_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    unmerged_by = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    unmerged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")
        ordering = ["-id"]
        constraints = [
            # a member is absorbed by at most one live merge
            models.UniqueConstraint(fields=["absorbed"], condition=Q(status="merged"), name="member_merge_one_live"),
        ]

    @property
    def rule_label(self) -> str:
        """The rule as a person reads it: the shared identity's kind, or "manual"."""
        if self.rule == "manual":
            return str(_("Manual"))
        return str(IdentityKind(self.rule).label) if self.rule in IdentityKind.values else self.rule


# --- points -------------------------------------------------------------------------------------------

class PointsKind(models.TextChoices):
    EARN = "earn", _("Earned on an order")
    REDEEM = "redeem", _("Redeemed")
    REDEEM_REFUND = "redeem_refund", _("Redemption refunded")
    REVERSE = "reverse", _("Reversed on a return")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    BIRTHDAY = "birthday", _("Birthday gift")
    MERGE_IN = "merge_in", _("Moved in by a merge")
    MERGE_OUT = "merge_out", _("Moved out by a merge")
    UNMERGE_IN = "unmerge_in", _("Moved back by an unmerge")
    UNMERGE_OUT = "unmerge_out", _("Moved out by an unmerge")


class PointsBalance(models.Model):
    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="points_balance")
    points = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(points__gte=0), name="points_balance_nonneg")]


class PointsEntry(models.Model):
    """One signed movement of a member's points. Insert-only; corrections are new entries."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_entries")
    kind = models.CharField(max_length=16, choices=PointsKind.choices)
    points = models.BigIntegerField()
    source_type = models.CharField(max_length=32)
    source_id = models.CharField(max_length=64)
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "source_type", "source_id"], name="points_entry_source_once"),
            # a return whose points were already spent posts a zero reversal recording the shortfall
            models.CheckConstraint(condition=~Q(points=0) | Q(kind="reverse"), name="points_entry_nonzero"),
        ]
        indexes = [models.Index(fields=["member", "id"])]


class PointsLot(models.Model):
    """Points that arrived together and expire together. Spending takes the earliest-expiring lots first (FIFO)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_lots")
    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="lots")
    points = models.BigIntegerField()
    remaining = models.BigIntegerField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0) & Q(remaining__lte=F("points")), name="points_lot_remaining_range"),
        ]
        indexes = [
            models.Index(fields=["member", "expires_at", "id"], condition=Q(remaining__gt=0), name="points_lot_open"),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="points_lot_due"),
        ]


class PointsLotUse(models.Model):
    """How many points an outgoing entry took from a lot."""

    entry = models.ForeignKey(PointsEntry, on_delete=models.PROTECT, related_name="lot_uses")
    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="uses")
    points = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="points_lot_use_positive")]


class PointsRule(BaseModel):
    """Points per yuan paid, for a store subtree (`node`, empty: every store) and a category subtree (empty: any).
    The most specific matching rule wins: deepest node, then deepest category, then highest priority."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="points_rules")
    name = models.CharField(_("name"), max_length=80)
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    points_per_yuan = models.DecimalField(_("points per yuan"), max_digits=6, decimal_places=2)
    priority = models.SmallIntegerField(_("priority"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        constraints = [models.CheckConstraint(condition=Q(points_per_yuan__gte=0), name="points_rule_rate_nonneg")]


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    POSTED = "posted", _("Posted")
    REJECTED = "rejected", _("Rejected")


class PointsAdjustment(BaseModel):
    """A manual points correction. Above the programme's threshold it waits for a second person's approval."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="points_adjustments")
    points = models.BigIntegerField()
    reason = models.CharField(_("reason"), max_length=255)
    status = models.CharField(max_length=8, choices=AdjustmentStatus.choices)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    entry = models.OneToOneField(PointsEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="points_adjustment_nonzero")]


# --- growth and tiers ---------------------------------------------------------------------------------

class GrowthKind(models.TextChoices):
    ORDER = "order", _("Paid order")
    REVERSE = "reverse", pgettext_lazy("points entry", "Returned")
    ADJUST = "adjust", _("Adjusted")
    MERGE_IN = "merge_in", _("Moved in by a merge")
    MERGE_OUT = "merge_out", _("Moved out by a merge")
    UNMERGE_IN = "unmerge_in", _("Moved back by an unmerge")
    UNMERGE_OUT = "unmerge_out", _("Moved out by an unmerge")


class GrowthEntry(models.Model):
    """Growth value (成长值) earned at `occurred_at`; a tier counts the entries inside its window. Insert-only."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="growth_entries")
    kind = models.CharField(max_length=16, choices=GrowthKind.choices)
    growth = models.BigIntegerField()
    amount_fen = models.BigIntegerField(default=0, help_text="the money paid (or returned) behind this growth")
    occurred_at = models.DateTimeField()
    source_type = models.CharField(max_length=32)
    source_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "source_type", "source_id"], name="growth_entry_source_once"),
        ]
        indexes = [models.Index(fields=["member", "occurred_at"])]


class TierChange(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="tier_changes")
    from_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, related_name="+")
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(max_length=16)  # upgrade, downgrade, merge, unmerge
    growth = models.BigIntegerField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]


# --- stored value -------------------------------------------------------------------------------------

class StoredValueKind(models.TextChoices):
    TOPUP = "topup", _("Top-up")
    TOPUP_REFUND = "topup_refund", _("Top-up refunded")
    SPEND = "spend", _("Spent")
    SPEND_REFUND = "spend_refund", _("Spend refunded")
    GIFT_CARD = "gift_card", _("Gift card redeemed")
    MERGE_IN = "merge_in", _("Moved in by a merge")
    MERGE_OUT = "merge_out", _("Moved out by a merge")
    UNMERGE_IN = "unmerge_in", _("Moved back by an unmerge")
    UNMERGE_OUT = "unmerge_out", _("Moved out by an unmerge")


class StoredValueBalance(models.Model):
    """Stored value in fen: `principal` (paid in, refundable) and `bonus` (granted, never paid out)."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, primary_key=True, related_name="stored_value")
    principal = models.BigIntegerField(default=0)
    bonus = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0), name="stored_value_principal_nonneg"),
            models.CheckConstraint(condition=Q(bonus__gte=0), name="stored_value_bonus_nonneg"),
        ]

    @property
    def total(self) -> int:
        return self.principal + self.bonus


class StoredValueEntry(models.Model):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="stored_value_entries")
    kind = models.CharField(max_length=16, choices=StoredValueKind.choices)
    principal = models.BigIntegerField()
    bonus = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="CNY")
    source_type = models.CharField(max_length=32)
    source_id = models.CharField(max_length=64)
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "source_type", "source_id"], name="stored_value_source_once"),
            models.CheckConstraint(condition=~(Q(principal=0) & Q(bonus=0)), name="stored_value_entry_nonzero"),
        ]
        indexes = [models.Index(fields=["member", "id"])]

    @property
    def amount(self) -> int:
        return self.principal + self.bonus


class TopUpRule(BaseModel):
    """Pay at least `min_amount` (fen) in one top-up and receive `bonus` (fen) on top. The largest matching rule wins."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="topup_rules")
    min_amount = models.PositiveBigIntegerField(_("minimum top-up (fen)"))
    bonus = models.PositiveBigIntegerField(_("bonus (fen)"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["enterprise", "-min_amount"]
        constraints = [models.CheckConstraint(condition=Q(min_amount__gt=0), name="topup_rule_min_positive")]


class GiftCardStatus(models.TextChoices):
    ACTIVE = "active", _("Not redeemed")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")


class GiftCard(BaseModel):
    """A gift card / code worth `value` fen of stored value (as bonus: spendable, never paid out). Redeemed once.
    Only a hash of the code is stored; `code_tail` is its last four characters for people to recognise."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="gift_cards")
    code_hash = models.CharField(max_length=64)
    code_tail = models.CharField(max_length=4)
    value = models.PositiveBigIntegerField(_("value (fen)"))
    batch = models.CharField(_("batch"), max_length=40, blank=True)
    status = models.CharField(max_length=8, choices=GiftCardStatus.choices, default=GiftCardStatus.ACTIVE)
    expires_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code_hash"], name="gift_card_code_unique"),
            models.CheckConstraint(condition=Q(value__gt=0), name="gift_card_value_positive"),
        ]


# --- guide binding ------------------------------------------------------------------------------------

class BindingKind(models.TextChoices):
    FIRST = "first", _("First binding")
    REBIND = "rebind", _("Rebound")
    HANDOVER = "handover", _("Handed over")
    UNBIND = "unbind", _("Unbound")
    MERGE = "merge", _("Taken over by a merge")
    UNMERGE = "unmerge", _("Restored by an unmerge")


class GuideBindingEvent(models.Model):
    """History of a member's exclusive guide (专属导购). Insert-only; `Member.guide` is the current state."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="guide_events")
    kind = models.CharField(max_length=8, choices=BindingKind.choices)
    from_guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]


# --- consent ------------------------------------------------------------------------------------------

class ConsentChannel(models.TextChoices):
    """Marketing channels a member may be contacted on, and `tracking`: whether the chain may keep their behaviour
    events (storefront browsing, till scans). Tracking is on unless the member withdrew it (no row = tracked);
    a withdrawn member's events are dropped at ingest and not kept (yundian.cdp). `personalised` likewise: on unless
    withdrawn; without it (or without tracking) recommendations show popular goods only (yundian.recommend). `inapp`
    (marketing in the storefront inbox) is likewise on until withdrawn; SMS, WeChat and email need a granted row
    (yundian.messaging)."""

    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    PHONE_CALL = "phone_call", _("Phone call")
    TRACKING = "tracking", _("Behaviour tracking")
    PERSONALISED = "personalised", _("Personalised recommendations")
    INAPP = "inapp", _("Storefront inbox")


class ConsentEvent(models.Model):
    """A member granted or withdrew marketing consent on a channel. Insert-only; `ConsentState` is the latest."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consent_events")
    channel = models.CharField(max_length=12, choices=ConsentChannel.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=16)  # a Channel value, or merge / unmerge / erasure
    actor = models.ForeignKey("org.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]


class ConsentState(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=12, choices=ConsentChannel.choices)
    granted = models.BooleanField()
    event = models.ForeignKey(ConsentEvent, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "channel"], name="consent_state_unique")]


# --- storefront sign-in -------------------------------------------------------------------------------

class LoginCode(models.Model):
    """A one-time sign-in code sent to a phone for a member's storefront sign-in. Only an HMAC of the code is kept;
    it expires after a few minutes, allows a few attempts and is used once. Sends are rate-limited per phone and
    per client address by counting these rows."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["enterprise", "phone", "created_at"], name="login_code_phone"),
                   models.Index(fields=["ip", "created_at"], name="login_code_ip")]


# --- member lists (audiences) -------------------------------------------------------------------------

class Audience(BaseModel):
    """A named list of members (an audience) that the lower contexts can check by id: a promotion or coupon
    campaign for this list only, coupons issued to it, a guide call list made from it. Its entries are filled by
    its source (a cdp segment's refresh, `source`="segment", `source_id`=the segment) through
    `audience_replace`; `member_count` and `refreshed_at` are written in the same transaction."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    source = models.CharField(_("source"), max_length=16)
    source_id = models.BigIntegerField(null=True, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")
        constraints = [models.UniqueConstraint(fields=["enterprise", "source", "source_id"],
                                               condition=Q(source_id__isnull=False), name="audience_source_once")]

    def __str__(self) -> str:
        return self.name


class AudienceMember(models.Model):
    """One member on one list, once (unique); looked up by member for pricing (member, list index)."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="entries")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audience", "member"], name="audience_member_once")]
        indexes = [models.Index(fields=["member", "audience"], name="audience_member_by_member")]
