"""Promotions: automatic discounts and their floors, coupon campaigns and codes, flash sales (秒杀), group buying
(拼团), referral distribution (分销) and what each promotion brought in.

Money is integer fen. Caps (coupon uses, flash-sale units, group-buy units) are counters guarded by conditional
UPDATEs and CheckConstraints, and each can be rebuilt from its rows (redemptions, claims, group members):
`yundian check-ledgers` proves it (ledgers.py). Sales is above promotions, so orders are referred to by their
reference (`order_ref`, the order id as text), never by a foreign key.
"""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel

from .engine import Kind


class PromotionKind(models.TextChoices):
    PERCENT_OFF = Kind.PERCENT_OFF, _("Percentage off (折扣)")
    AMOUNT_OFF = Kind.AMOUNT_OFF, _("Amount off per item (立减)")
    THRESHOLD_AMOUNT = Kind.THRESHOLD_AMOUNT, _("Amount off above a threshold (满减)")
    THRESHOLD_PERCENT = Kind.THRESHOLD_PERCENT, _("Percentage off above a threshold (满折)")
    BUY_X_GET_Y = Kind.BUY_X_GET_Y, _("Buy X get Y (买赠)")
    BUNDLE = Kind.BUNDLE, _("Bundle price (组合价)")
    TIER_RATE = Kind.TIER_RATE, _("Member tier price (会员价)")


class PromotionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class Promotion(BaseModel):
    """One discount rule, owned by an org node: it applies in the stores of that node's subtree. A promotion with
    `requires_coupon` is the benefit of a coupon campaign and applies only when one of its codes is presented."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="promotions")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=500, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PromotionKind.choices)
    status = models.CharField(_("status"), max_length=8, choices=PromotionStatus.choices, default=PromotionStatus.DRAFT)
    priority = models.SmallIntegerField(_("priority"), default=0)
    is_exclusive = models.BooleanField(_("exclusive (never combined)"), default=False)
    requires_coupon = models.BooleanField(default=False, editable=False)
    channels = models.JSONField(_("channels (empty: all)"), default=list, blank=True)
    tier_codes = models.JSONField(_("member tiers (empty: everyone)"), default=list, blank=True)
    members_only = models.BooleanField(_("members only"), default=False)
    audience = models.ForeignKey("members.Audience", verbose_name=_("for the members of"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 help_text=_("Only members on this list get it (a segment, refreshed with it)."))
    sku_ids = models.JSONField(default=list, blank=True)
    product_ids = models.JSONField(default=list, blank=True)
    category_ids = models.JSONField(default=list, blank=True)
    exclude_sku_ids = models.JSONField(default=list, blank=True)
    rate = models.DecimalField(_("pay rate"), max_digits=5, decimal_places=4, null=True, blank=True,
                               help_text=_("What is paid: 0.85 is 15% off (八五折)."))
    amount = models.BigIntegerField(_("amount off (fen)"), default=0)
    tiers = models.JSONField(_("thresholds"), default=list, blank=True,
                             help_text='[{"min": 30000, "off": 3000}] or [{"min": 2, "rate": "0.9"}]')
    threshold_by = models.CharField(max_length=8, default="amount")
    repeat = models.BooleanField(_("for every multiple (每满)"), default=False)
    max_off = models.BigIntegerField(_("at most off (fen)"), null=True, blank=True)
    buy_quantity = models.PositiveSmallIntegerField(default=0)
    get_quantity = models.PositiveSmallIntegerField(default=0)
    get_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    bundle_items = models.JSONField(default=list, blank=True, help_text='[{"sku_id": 1, "quantity": 2}]')
    bundle_price = models.BigIntegerField(default=0)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="promotion_code_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(bundle_price__gte=0), name="promotion_amounts_gte_0"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True)
                                   | Q(valid_to__gt=F("valid_from")), name="promotion_window_ordered"),
        ]
        indexes = [models.Index(fields=["enterprise", "status", "valid_to"], name="promotion_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceFloor(BaseModel):
    """The least a SKU (or every SKU of a category subtree) may sell for after promotions: a price per unit, a
    percentage of its list price, or both (the higher wins). The nearest rule wins: SKU, then the nearest category."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    min_unit_price = models.BigIntegerField(_("minimum price per unit (fen)"), null=True, blank=True)
    min_percent = models.PositiveSmallIntegerField(_("minimum % of list price"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(sku__isnull=False, category__isnull=True)
                                   | Q(sku__isnull=True, category__isnull=False), name="price_floor_one_target"),
            models.CheckConstraint(condition=Q(min_unit_price__isnull=False) | Q(min_percent__isnull=False),
                                   name="price_floor_has_minimum"),
            models.CheckConstraint(condition=Q(min_percent__isnull=True) | Q(min_percent__lte=100),
                                   name="price_floor_percent_lte_100"),
            models.CheckConstraint(condition=Q(min_unit_price__isnull=True) | Q(min_unit_price__gte=0),
                                   name="price_floor_price_gte_0"),
            models.UniqueConstraint(fields=["enterprise", "sku"], condition=Q(sku__isnull=False),
                                    name="price_floor_sku_unique"),
            models.UniqueConstraint(fields=["enterprise", "category"], condition=Q(category__isnull=False),
                                    name="price_floor_category_unique"),
        ]


# --- coupons ---------------------------------------------------------------------------------------------------------

class CodeMode(models.TextChoices):
    SHARED = "shared", _("One shared code")
    UNIQUE = "unique", _("Unique codes")


class RestoreRule(models.TextChoices):
    NEVER = "never", _("Never")
    CANCEL = "cancel", _("On cancellation")
    CANCEL_OR_FULL_RETURN = "cancel_or_return", _("On cancellation or a full return")


class CouponCampaign(BaseModel):
    """A coupon campaign: its benefit is a Promotion (requires_coupon); its codes are one shared code or unique
    codes issued in bulk or to members. `redeemed_count` is the cap counter (rebuilt from redemptions)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    promotion = models.OneToOneField(Promotion, on_delete=models.PROTECT, related_name="campaign")
    code_mode = models.CharField(_("codes"), max_length=8, choices=CodeMode.choices)
    shared_code = models.CharField(_("shared code"), max_length=32, blank=True)
    total_limit = models.PositiveIntegerField(_("uses in all (empty: no limit)"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("uses per member"), default=1)
    issued_count = models.PositiveIntegerField(default=0)
    redeemed_count = models.PositiveIntegerField(default=0)
    restore_rule = models.CharField(_("give back"), max_length=16, choices=RestoreRule.choices,
                                    default=RestoreRule.CANCEL_OR_FULL_RETURN)

    class Meta:
        verbose_name = _("coupon campaign")
        verbose_name_plural = _("coupon campaigns")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "shared_code"], condition=~Q(shared_code=""),
                                    name="coupon_shared_code_unique"),
            models.CheckConstraint(condition=Q(total_limit__isnull=True) | Q(redeemed_count__lte=F("total_limit")),
                                   name="coupon_redeemed_lte_limit"),
            models.CheckConstraint(condition=Q(per_member_limit__gte=1), name="coupon_per_member_gte_1"),
        ]


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")


class Coupon(BaseModel):
    """One unique code; a member's once issued to them (by HQ, a store or a guide). A code issued to an audience
    carries its `source` ("audience:<id>"): once per (campaign, member, source), so a retried or doubled issue
    reaches each member once."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(CouponCampaign, on_delete=models.PROTECT, related_name="coupons")
    code = models.CharField(_("code"), max_length=32)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE)
    source = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="coupon_code_unique"),
                       models.UniqueConstraint(fields=["campaign", "member", "source"], condition=~Q(source=""),
                                               name="coupon_once_per_source")]
        indexes = [models.Index(fields=["campaign", "member"], name="coupon_campaign_member")]


class RedemptionStatus(models.TextChoices):
    REDEEMED = "redeemed", _("Redeemed")
    RESTORED = "restored", _("Given back")


class CouponRedemption(BaseModel):
    """One use of a campaign's code on one order: once per (campaign, order) and, for a unique code, once while it
    stands (a partial unique index), so racing checkouts with the same code cannot both redeem it."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(CouponCampaign, on_delete=models.PROTECT, related_name="redemptions")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="redemptions")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=32)
    order_ref = models.CharField(max_length=64)
    discount = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.REDEEMED)
    restored_at = models.DateTimeField(null=True, blank=True)
    restore_reason = models.CharField(max_length=16, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "order_ref"], name="coupon_redemption_once_per_order"),
            models.UniqueConstraint(fields=["coupon"], condition=Q(status="redeemed"),
                                    name="coupon_redeemed_once"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="coupon_redemption_discount_gte_0"),
        ]
        indexes = [models.Index(fields=["enterprise", "order_ref"], name="coupon_redemption_order"),
                   models.Index(fields=["campaign", "member", "status"], name="coupon_redemption_member")]


# --- flash sales -----------------------------------------------------------------------------------------------------

class FlashSale(BaseModel):
    """秒杀: `cap` units of one SKU at `price`, at most `per_member_limit` per member, between two moments.
    `sold` only moves by conditional UPDATEs (sold + n <= cap); `is_sold_out` lets later buyers be turned away by
    a read, without a write transaction."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    price = models.BigIntegerField(_("price (fen)"))
    cap = models.PositiveIntegerField(_("units"))
    sold = models.PositiveIntegerField(default=0)
    per_member_limit = models.PositiveIntegerField(_("per member"), default=1)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    hold_minutes = models.PositiveIntegerField(_("minutes to order"), default=15)
    is_active = models.BooleanField(_("active"), default=True)
    is_sold_out = models.BooleanField(default=False)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("flash sale")
        verbose_name_plural = _("flash sales")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="flash_sale_code_unique"),
            models.CheckConstraint(condition=Q(sold__lte=F("cap")), name="flash_sale_sold_lte_cap"),
            models.CheckConstraint(condition=Q(price__gte=0) & Q(per_member_limit__gte=1), name="flash_sale_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="flash_sale_window_ordered"),
        ]


class FlashSaleBuyer(models.Model):
    """Units one member holds in one flash sale; `quantity` only moves by conditional UPDATEs (<= the limit)."""

    flash_sale = models.ForeignKey(FlashSale, on_delete=models.CASCADE, related_name="buyers")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["flash_sale", "member"], name="flash_buyer_unique")]


class ClaimStatus(models.TextChoices):
    HELD = "held", _("Held")
    ORDERED = "ordered", _("Ordered")
    RELEASED = "released", _("Released")


class FlashSaleClaim(BaseModel):
    """Units secured by one buy (idempotent per member and client key); ordered within the hold, else released."""

    flash_sale = models.ForeignKey(FlashSale, on_delete=models.PROTECT, related_name="claims")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    client_ref = models.CharField(max_length=128)
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.HELD)
    order_ref = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flash_sale", "member", "client_ref"], name="flash_claim_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="flash_claim_quantity_gte_1"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="flash_claim_expiry")]


# --- group buying ----------------------------------------------------------------------------------------------------

class GroupBuyCampaign(BaseModel):
    """拼团: a SKU sold to groups. `price_tiers` gives the price per group size ([{"size": 2, "price": 8900}, ...]);
    a group has `window_minutes` to fill. `cap` bounds the units all groups may hold; `sold` is its counter."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    price_tiers = models.JSONField(_("price per group size"))
    window_minutes = models.PositiveIntegerField(_("minutes to fill a group"), default=24 * 60)
    cap = models.PositiveIntegerField(_("units"))
    sold = models.PositiveIntegerField(default=0)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("group buy")
        verbose_name_plural = _("group buys")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="group_buy_code_unique"),
            models.CheckConstraint(condition=Q(sold__lte=F("cap")), name="group_buy_sold_lte_cap"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="group_buy_window_ordered"),
        ]


class GroupStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class GroupBuyGroup(BaseModel):
    campaign = models.ForeignKey(GroupBuyCampaign, on_delete=models.PROTECT, related_name="groups")
    leader = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    size = models.PositiveSmallIntegerField()
    price = models.BigIntegerField()
    token = models.CharField(max_length=24, unique=True)
    status = models.CharField(max_length=10, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    expires_at = models.DateTimeField()
    joined_count = models.PositiveSmallIntegerField(default=0)
    paid_count = models.PositiveSmallIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(joined_count__lte=F("size")) & Q(paid_count__lte=F("joined_count")),
                                   name="group_buy_group_counts"),
            models.CheckConstraint(condition=Q(size__gte=2), name="group_buy_group_size_gte_2"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="group_buy_group_expiry")]


class GroupMemberStatus(models.TextChoices):
    JOINED = "joined", _("Joined (awaiting payment)")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    LEFT = "left", _("Left before paying")


class GroupBuyMember(BaseModel):
    group = models.ForeignKey(GroupBuyGroup, on_delete=models.PROTECT, related_name="members")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    is_leader = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=GroupMemberStatus.choices, default=GroupMemberStatus.JOINED)
    order_ref = models.CharField(max_length=64, blank=True)
    amount = models.BigIntegerField(default=0, help_text="what the member paid (fen)")
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "member"], name="group_buy_member_once"),
            models.UniqueConstraint(fields=["order_ref"], condition=~Q(order_ref=""), name="group_buy_order_once"),
        ]


class GroupBuyRefund(models.Model):
    """The refund of one paid member of a failed group: one row per member (the unique key makes it exactly once).
    Sales' registered refund hook runs in the same transaction (hooks.py)."""

    group_member = models.OneToOneField(GroupBuyMember, on_delete=models.PROTECT, related_name="refund")
    order_ref = models.CharField(max_length=64)
    amount = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


# --- referral distribution (分销) ------------------------------------------------------------------------------------

class RewardKind(models.TextChoices):
    POINTS = "points", _("Points")
    COMMISSION = "commission", _("Commission")


class ReferralRule(BaseModel):
    """What a paid order through a share link gives the sharer: a rate of what was paid for the product (or any
    product: the enterprise default, product empty), as points (1 point per yuan of reward) or commission."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    reward_kind = models.CharField(max_length=12, choices=RewardKind.choices, default=RewardKind.COMMISSION)
    rate = models.DecimalField(_("share of the amount paid"), max_digits=5, decimal_places=4)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "product"], condition=Q(product__isnull=False),
                                    name="referral_rule_product_unique"),
            models.UniqueConstraint(fields=["enterprise"], condition=Q(product__isnull=True),
                                    name="referral_rule_default_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=1), name="referral_rule_rate_0_1"),
        ]


class ShareLink(BaseModel):
    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=24, unique=True)
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sharer_member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    sharer_staff = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    visits = models.PositiveIntegerField(default=0)  # every hit, reloads included; opens: ShareLinkVisit rows
    # what the link was shared from, for funnels ("material:<id>", "group:<id>"; empty: a plain product/store link).
    # A higher context names its own objects here; promotions never reads it.
    source = models.CharField(_("shared from"), max_length=32, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(
            condition=Q(sharer_member__isnull=False, sharer_staff__isnull=True)
            | Q(sharer_member__isnull=True, sharer_staff__isnull=False), name="share_link_one_sharer")]
        indexes = [models.Index(fields=["enterprise", "source"], name="share_link_source"),
                   models.Index(fields=["sharer_staff", "source"], name="share_link_staff_source")]


class ShareLinkVisit(models.Model):
    """A link opened by one visitor (a browser cookie), once: a reload or a second tap is not a second open."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="opens")
    visitor = models.CharField(max_length=32)
    first_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "visitor"], name="share_visit_once")]


class ShareLinkSignup(models.Model):
    """A member who joined through a link (a new membership signed up while the link's cookie was set); a member
    is brought in by one link only."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="signups")
    member = models.OneToOneField("members.Member", on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(db_index=True)


class ReferralEntry(models.Model):
    """The referral ledger: a reward when an order through a link is paid, a reversing entry per return.
    Insert-only; once per (kind, source_ref). Points rewards are also posted to the members' points ledger."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(ShareLink, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10)  # reward, reversal
    reward_kind = models.CharField(max_length=12, choices=RewardKind.choices)
    amount = models.BigIntegerField(help_text="fen of commission, or points; negative for a reversal")
    base_amount = models.BigIntegerField(default=0, help_text="what was paid (or returned) behind it (fen)")
    order_ref = models.CharField(max_length=64)
    source_ref = models.CharField(max_length=64, help_text="the order for a reward, the return for a reversal")
    shortfall = models.BigIntegerField(default=0, help_text="points that could not be taken back (already spent)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "kind", "source_ref"], name="referral_entry_once")]
        indexes = [models.Index(fields=["enterprise", "order_ref"], name="referral_entry_order")]


# --- results ---------------------------------------------------------------------------------------------------------

class UsageSource(models.TextChoices):
    PROMOTION = "promotion", _("Promotion")
    COUPON = "coupon", _("Coupon")
    FLASH_SALE = "flash_sale", _("Flash sale")
    GROUP_BUY = "group_buy", _("Group buy")
    REFERRAL = "referral", _("Referral")
    LIVE = "live", _("Live session")


class PromotionUsage(models.Model):
    """One paid order that a promotion touched: what it brought in (the order's total) and what it cost (the
    discount it gave). Written when sales reports the order paid; marked reversed on cancellation or full return."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=12, choices=UsageSource.choices)
    source_id = models.BigIntegerField()
    order_ref = models.CharField(max_length=64)
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_new_member = models.BooleanField(default=False)
    gmv = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    is_reversed = models.BooleanField(default=False)
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id", "order_ref"], name="promotion_usage_once")]
        indexes = [models.Index(fields=["enterprise", "source", "source_id"], name="promotion_usage_source")]


# --- coupons issued to an audience -----------------------------------------------------------------------------------

class IssueRunStatus(models.TextChoices):
    RUNNING = "running", _("Issuing")
    DONE = "done", _("Done")


class CouponIssueRun(BaseModel):
    """Issuing a campaign's codes to the members of an audience (a segment's list), in batches of members by id
    (`cursor`: the last member id done), so a retry or a second worker continues instead of starting over. Each
    code carries the source "audience:<id>" (unique per campaign and member), so nobody gets two."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(CouponCampaign, on_delete=models.PROTECT, related_name="issue_runs")
    audience = models.ForeignKey("members.Audience", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=IssueRunStatus.choices, default=IssueRunStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    issued = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="members who already held the code or the limit")
    cursor = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["audience", "status"], name="coupon_issue_run_audience")]

    @property
    def source(self) -> str:
        return f"audience:{self.audience_id}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, (self.issued + self.skipped) * 100 // self.total)


# --- live selling sessions (直播) --------------------------------------------------------------------------------------

class LiveStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class LiveSession(BaseModel):
    """A live selling session (直播) of one store: its host (a guide of the store or HQ staff), its window and its
    products. `status` keeps what people decided (scheduled, cancelled, ended early); whether it is live now is read
    from the clock (`state_at`). Viewers who sign in on its page join `store`; orders that come by one of its share
    links (promotions.ShareLink with source "live:<id>") are its orders, the link's guide the lines' guide."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    host = models.ForeignKey("org.Staff", verbose_name=_("host"), on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=10, choices=LiveStatus.choices, default=LiveStatus.SCHEDULED)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="live_session_window_ordered"),
            models.CheckConstraint(condition=Q(status__in=["scheduled", "ended", "cancelled"]),
                                   name="live_session_status_stored"),
        ]
        indexes = [models.Index(fields=["enterprise", "starts_at"], name="live_session_start")]

    @property
    def closes_at(self):
        """When its prices stop: the planned end, or when it was ended early."""
        return self.ended_at if self.ended_at is not None and self.ended_at < self.ends_at else self.ends_at

    def state_at(self, now) -> str:
        if self.status == LiveStatus.CANCELLED:
            return LiveStatus.CANCELLED
        if self.status == LiveStatus.ENDED or now >= self.closes_at:
            return LiveStatus.ENDED
        return LiveStatus.LIVE if now >= self.starts_at else LiveStatus.SCHEDULED

    @property
    def source(self) -> str:
        return f"live:{self.pk}"


class LiveSessionItem(BaseModel):
    """One product of a session: a live price (a special price for everyone buying it online at the store while the
    session runs, in the one pricing engine) or a flash allocation (a FlashSale over the session's window: its cap
    and per-member limit, secured through the flash-sale machinery)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    live_price = models.BigIntegerField(_("live price (fen)"), null=True, blank=True)
    flash_sale = models.OneToOneField(FlashSale, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sku"], name="live_item_once"),
            models.CheckConstraint(condition=Q(live_price__isnull=False, flash_sale__isnull=True)
                                   | Q(live_price__isnull=True, flash_sale__isnull=False), name="live_item_one_price"),
            models.CheckConstraint(condition=Q(live_price__isnull=True) | Q(live_price__gte=0),
                                   name="live_item_price_gte_0"),
        ]
