"""`yundian check-ledgers` for promotions: every cap counter equals what its rows add up to.

coupon_redemptions   CouponCampaign.redeemed_count == standing redemptions of the campaign
flash_sales          FlashSale.sold == units of its held and ordered claims
flash_buyers         FlashSaleBuyer.quantity == units of that member's held and ordered claims
group_buys           GroupBuyCampaign.sold == places joined or paid in its groups
"""
from collections.abc import Iterator

from django.db.models import Count, Q, Sum

from yundian.core.ledgers import LedgerMismatch, compare_sums, register_ledger_check

from .models import (
    ClaimStatus, CouponCampaign, CouponRedemption, FlashSale, FlashSaleBuyer, FlashSaleClaim, GroupBuyCampaign,
    GroupBuyMember, GroupMemberStatus, RedemptionStatus,
)

STANDING = [ClaimStatus.HELD, ClaimStatus.ORDERED]


@register_ledger_check("coupon_redemptions")
def check_coupon_redemptions() -> Iterator[LedgerMismatch]:
    sums = dict(CouponRedemption.objects.filter(status=RedemptionStatus.REDEEMED).values("campaign_id")
                .annotate(n=Count("id")).values_list("campaign_id", "n"))
    balances = dict(CouponCampaign.objects.values_list("id", "redeemed_count"))
    yield from compare_sums("coupon_redemptions", sums, balances)


@register_ledger_check("flash_sales")
def check_flash_sales() -> Iterator[LedgerMismatch]:
    sums = dict(FlashSaleClaim.objects.filter(status__in=STANDING).values("flash_sale_id")
                .annotate(n=Sum("quantity")).values_list("flash_sale_id", "n"))
    yield from compare_sums("flash_sales", sums, dict(FlashSale.objects.values_list("id", "sold")))


@register_ledger_check("flash_buyers")
def check_flash_buyers() -> Iterator[LedgerMismatch]:
    sums = {(r["flash_sale_id"], r["member_id"]): r["n"] for r in
            FlashSaleClaim.objects.filter(status__in=STANDING).values("flash_sale_id", "member_id")
            .annotate(n=Sum("quantity"))}
    balances = {(b.flash_sale_id, b.member_id): b.quantity for b in FlashSaleBuyer.objects.all()}
    yield from compare_sums("flash_buyers", sums, balances)


@register_ledger_check("group_buys")
def check_group_buys() -> Iterator[LedgerMismatch]:
    sums = dict(GroupBuyMember.objects.filter(Q(status=GroupMemberStatus.JOINED) | Q(status=GroupMemberStatus.PAID))
                .values("group__campaign_id").annotate(n=Count("id")).values_list("group__campaign_id", "n"))
    yield from compare_sums("group_buys", sums, dict(GroupBuyCampaign.objects.values_list("id", "sold")))
