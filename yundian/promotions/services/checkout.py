"""What sales calls at each step of an order, inside the order's transaction (after the order row, before stock):

    order_placed(...)     redeem the coupons the pricing applied, tie flash-sale claims and group places to the order
    order_paid(...)       record each promotion's usage (results), pay the group place, reward the share link's sharer
    order_cancelled(...)  give coupons back (per campaign rule), release claims, leave the group, reverse usage/reward
    order_returned(...)   give coupons back on a full return (per rule), reverse the referral reward pro rata

Each is idempotent by the order (and return) reference, so a retried sales call changes nothing twice. `pricing`
is `PricingResult.as_dict()` — the dict sales stores on the order — so what is redeemed is what was priced.
"""
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed
from yundian.members.models import Member
from yundian.org.models import OrgNode

from ..models import (
    CouponCampaign, FlashSaleClaim, GroupBuyCampaign, GroupBuyMember, LiveSession, Promotion, PromotionUsage, UsageSource,
)
from . import coupons, flash, groups, referrals
from ._common import clean_int, clean_ref


def _applied(pricing: dict) -> list[dict]:
    if not isinstance(pricing, dict) or not isinstance(pricing.get("applied", []), list):
        raise ValidationFailed(_("Not a pricing result."), code="invalid_pricing")
    return pricing.get("applied", [])


@transaction.atomic
def order_placed(*, store: OrgNode, order_ref: str, pricing: dict, member: Member | None = None,
                 at: datetime | None = None) -> dict:
    """Redeem every coupon the pricing applied (409 if one was used meanwhile: the order must not go through) and
    tie the special prices to the order. Returns {"coupons": [...redemption ids], "claims": [...], "places": [...]}."""
    order_ref = clean_ref(order_ref)
    member_id = member.pk if member is not None else None
    out = {"coupons": [], "claims": [], "places": []}
    for entry in sorted(_applied(pricing), key=lambda e: (e.get("source", ""), e.get("source_id", 0))):
        source = entry.get("source")
        if source == "coupon":
            result = coupons.coupon_redeem(enterprise_id=store.enterprise_id, store=store, code=entry["coupon_code"],
                                           order_ref=order_ref, member_id=member_id,
                                           discount=int(entry.get("amount", 0)), at=at)
            out["coupons"].append(result.redemption.pk)
        elif source == "flash_sale" and member_id is not None:
            out["claims"].append(flash.flash_claim_order(claim_id=entry["source_id"], member_id=member_id,
                                                         order_ref=order_ref, now=at).pk)
        elif source == "group_buy" and member_id is not None:
            out["places"].append(groups.group_place_order(place_id=entry["source_id"], member_id=member_id,
                                                          order_ref=order_ref).pk)
    return out


def _start_of(source: str, source_id: int) -> datetime | None:
    """When a promotion started (for 'new member': registered on or after it)."""
    if source in (UsageSource.PROMOTION, UsageSource.COUPON):
        model = Promotion if source == UsageSource.PROMOTION else CouponCampaign
        row = model.objects.filter(pk=source_id).values_list(
            "valid_from" if model is Promotion else "promotion__valid_from", "created_at").first()
    elif source == UsageSource.FLASH_SALE:
        claim = FlashSaleClaim.objects.filter(pk=source_id).values_list("flash_sale__starts_at",
                                                                         "flash_sale__created_at").first()
        row = claim
    elif source == UsageSource.LIVE:
        row = LiveSession.objects.filter(pk=source_id).values_list("starts_at", "created_at").first()
    elif source == UsageSource.GROUP_BUY:
        row = GroupBuyMember.objects.filter(pk=source_id).values_list("group__campaign__starts_at",
                                                                       "group__campaign__created_at").first()
    else:
        return None
    return (row[0] or row[1]) if row else None


def _usage_key(entry: dict) -> tuple[str, int]:
    """Usage is counted per promotion: a flash-sale claim or a group place counts for its campaign."""
    source = entry.get("source", "promotion")
    if source == "flash_sale":
        return UsageSource.FLASH_SALE, int(entry["rule_id"])
    if source == "group_buy":
        return UsageSource.GROUP_BUY, int(entry["rule_id"])
    if source == "coupon":
        return UsageSource.COUPON, int(entry["source_id"])
    if source == "live":
        return UsageSource.LIVE, int(entry["rule_id"])
    return UsageSource.PROMOTION, int(entry["rule_id"])


@transaction.atomic
def order_paid(*, store: OrgNode, order_ref: str, total: int, pricing: dict, member: Member | None = None,
               share_code: str | None = None, lines: list[referrals.PaidLine] | None = None,
               at: datetime | None = None) -> dict:
    """The order is paid: one usage row per promotion it used (GMV = the order's total, cost = that promotion's
    discount), the group place paid (may complete the group; 409 if the group closed first) and the sharer's
    reward. Idempotent by order."""
    order_ref = clean_ref(order_ref)
    total = clean_int(total, "total")
    at = at or timezone.now()
    usages = []
    for entry in _applied(pricing):
        source, source_id = _usage_key(entry)
        start = _start_of(source, entry.get("source_id", 0) if source in (UsageSource.FLASH_SALE,
                                                                          UsageSource.GROUP_BUY) else source_id)
        is_new = bool(member is not None and start is not None and member.created_at >= start)
        usages.append(PromotionUsage(enterprise_id=store.enterprise_id, source=source, source_id=source_id,
                                     order_ref=order_ref, store=store, member=member, is_new_member=is_new, gmv=total,
                                     discount=int(entry.get("amount", 0)), at=at))
        if entry.get("source") == "group_buy":
            groups.group_order_paid(order_ref=order_ref, amount=total, now=at)
    reward = None
    if share_code:
        reward = referrals.referral_reward_for_order(share_code=share_code, order_ref=order_ref, lines=lines or [],
                                                     buyer_member_id=member.pk if member else None)
        if reward is not None:
            is_new = bool(member is not None and member.created_at >= reward.link.created_at)
            usages.append(PromotionUsage(enterprise_id=store.enterprise_id, source=UsageSource.REFERRAL,
                                         source_id=reward.link_id, order_ref=order_ref, store=store, member=member,
                                         is_new_member=is_new, gmv=total, discount=0, at=at))
    try:
        with transaction.atomic():
            PromotionUsage.objects.bulk_create(usages, ignore_conflicts=True)
    except IntegrityError:  # pragma: no cover - ignore_conflicts covers the replay
        pass
    return {"usages": len(usages), "referral_entry": reward.pk if reward else None}


@transaction.atomic
def order_cancelled(*, enterprise_id: int, order_ref: str) -> dict:
    """The order was cancelled (or voided): coupons back per rule, claims released, group place left, usage and the
    referral reward reversed. Idempotent."""
    order_ref = clean_ref(order_ref)
    restored = coupons.coupon_restore(enterprise_id=enterprise_id, order_ref=order_ref, reason="cancel")
    released = flash.flash_claims_cancel(order_ref=order_ref)
    place = groups.group_order_cancelled(order_ref=order_ref)
    reversed_ = PromotionUsage.objects.filter(enterprise_id=enterprise_id, order_ref=order_ref,
                                              is_reversed=False).update(is_reversed=True)
    reward = referrals.referral_reverse_for_return(order_ref=order_ref, return_ref=f"cancel:{order_ref}"[:64],
                                                   returned_amount=10**11)
    return {"coupons_restored": len(restored), "claims_released": released, "left_group": place is not None,
            "usages_reversed": reversed_, "referral_reversal": reward.pk if reward else None}


@transaction.atomic
def order_returned(*, enterprise_id: int, order_ref: str, return_ref: str, returned_amount: int,
                   full: bool) -> dict:
    """Goods of the order came back: on a full return the coupons come back (per rule) and the usage is reversed;
    the referral reward is reversed pro rata to `returned_amount`. Idempotent per return."""
    order_ref = clean_ref(order_ref)
    restored = coupons.coupon_restore(enterprise_id=enterprise_id, order_ref=order_ref, reason="return", full=full) \
        if full else []
    reversed_ = 0
    if full:
        reversed_ = PromotionUsage.objects.filter(enterprise_id=enterprise_id, order_ref=order_ref,
                                                  is_reversed=False).update(is_reversed=True)
    reward = referrals.referral_reverse_for_return(order_ref=order_ref, return_ref=return_ref,
                                                   returned_amount=returned_amount)
    return {"coupons_restored": len(restored), "usages_reversed": reversed_,
            "referral_reversal": reward.pk if reward else None}


__all__ = ["GroupBuyCampaign", "order_cancelled", "order_paid", "order_placed", "order_returned"]
