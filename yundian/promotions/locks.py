"""The only place promotions rows are locked (select_for_update through core.locking, by primary key).

Order inside promotions: coupon campaigns -> coupons -> group-buy groups -> group members. In the global order,
promotions rows come right after the order row and before inventory, members and commissions
(orders -> promotions -> inventory -> members -> commissions): sales redeems coupons and consumes claims inside
the order's transaction before it touches stock.

Flash sales and group-buy caps are not locked at all: a conditional UPDATE (sold + n <= cap) takes the row lock
for the statement and decides the race on PostgreSQL and SQLite alike.
"""
from collections.abc import Iterable

from yundian.core.locking import lock_one, lock_rows

from .models import Coupon, CouponCampaign, GroupBuyGroup, GroupBuyMember, Promotion


def lock_promotion(promotion_id: int) -> Promotion:
    return lock_rows(Promotion.objects.filter(pk=promotion_id))[0]


def lock_campaigns(campaign_ids: Iterable[int]) -> dict[int, CouponCampaign]:
    return {c.pk: c for c in lock_rows(CouponCampaign.objects.filter(pk__in=sorted(set(campaign_ids))))}


def lock_coupon(coupon_id: int) -> Coupon | None:
    return lock_one(Coupon.objects.filter(pk=coupon_id))


def lock_group(group_id: int) -> GroupBuyGroup | None:
    return lock_one(GroupBuyGroup.objects.filter(pk=group_id))


def lock_group_members(group_id: int) -> list[GroupBuyMember]:
    return lock_rows(GroupBuyMember.objects.filter(group_id=group_id))
