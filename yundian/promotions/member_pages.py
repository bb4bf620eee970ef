"""The member's coupons on their own storefront pages ("my account"), registered with members' member-facing
hooks when promotions is ready (members sits below promotions and never imports it).

Only coupons issued to that member are listed: code, campaign name, what it is worth, validity and status
(available, used, void, or expired once the campaign's window has passed or it ended).
"""
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from yundian.core.money import Money
from yundian.members.hooks import register_member_coupons, register_profile_section

from .engine import Kind
from .models import Coupon, CouponStatus, PromotionStatus

MEMBER_COUPON_ROWS = 100
EXPIRED = "expired"
# with a context: other catalogues translate the same words otherwise (stock's "Available" is 可用库存)
STATUS_LABELS = {CouponStatus.AVAILABLE: pgettext_lazy("coupon status", "Available"),
                 CouponStatus.REDEEMED: pgettext_lazy("coupon status", "Used"),
                 CouponStatus.VOID: pgettext_lazy("coupon status", "Void"),
                 EXPIRED: pgettext_lazy("coupon status", "Expired")}


def _percent_off(rate) -> str:
    off = (1 - Decimal(str(rate))) * 100
    return f"{off.normalize():f}"


def coupon_value(promotion, currency: str) -> str:
    """What the coupon gives, in a few words ("¥10.00 off", "15% off", "¥30.00 off from ¥300.00")."""
    kind = promotion.kind
    if kind == Kind.AMOUNT_OFF:
        return gettext("%(amount)s off") % {"amount": Money(promotion.amount, currency).format()}
    if kind in (Kind.PERCENT_OFF, Kind.TIER_RATE) and promotion.rate is not None:
        return gettext("%(percent)s%% off") % {"percent": _percent_off(promotion.rate)}
    if kind in (Kind.THRESHOLD_AMOUNT, Kind.THRESHOLD_PERCENT) and promotion.tiers:
        first = promotion.tiers[0]
        if promotion.threshold_by == "amount":
            threshold = Money(int(first.get("min", 0)), currency).format()
        else:
            threshold = gettext("%(n)s items") % {"n": first.get("min", 0)}
        if "off" in first:
            return gettext("%(amount)s off from %(threshold)s") % {
                "amount": Money(int(first["off"]), currency).format(), "threshold": threshold}
        if "rate" in first:
            return gettext("%(percent)s%% off from %(threshold)s") % {"percent": _percent_off(first["rate"]),
                                                                       "threshold": threshold}
    if kind == Kind.BUY_X_GET_Y:
        return gettext("Buy %(buy)s get %(get)s") % {"buy": promotion.buy_quantity, "get": promotion.get_quantity}
    if kind == Kind.BUNDLE:
        return gettext("Bundle for %(price)s") % {"price": Money(promotion.bundle_price, currency).format()}
    return str(promotion.get_kind_display())


def coupon_status(coupon, now) -> str:
    """available, redeemed, void, or expired (still available, but the campaign ended or its window passed)."""
    promotion = coupon.campaign.promotion
    if coupon.status == CouponStatus.AVAILABLE and (promotion.status == PromotionStatus.ENDED
                                                    or (promotion.valid_to is not None and promotion.valid_to <= now)):
        return EXPIRED
    return coupon.status


def _coupon_rows(coupons, currency: str) -> list[dict]:
    now = timezone.now()
    rows = []
    for coupon in coupons:
        promotion = coupon.campaign.promotion
        status = coupon_status(coupon, now)
        rows.append({"code": coupon.code, "campaign": promotion.name, "value": coupon_value(promotion, currency),
                     "valid_from": promotion.valid_from, "valid_to": promotion.valid_to, "status": status,
                     "status_label": STATUS_LABELS[status], "issued_at": coupon.issued_at})
    return rows


@register_member_coupons
def member_coupons(member) -> list[dict]:
    coupons = (Coupon.objects.filter(enterprise_id=member.enterprise_id, member=member)
               .select_related("campaign__promotion").order_by("-issued_at", "-id")[:MEMBER_COUPON_ROWS])
    return _coupon_rows(coupons, member.enterprise.currency)


@register_profile_section("coupons")
def member_coupons_section(actor, member) -> dict:
    """The coupons section of the staff 360° profile: the member's codes with status and validity (the member is
    already one the actor may see; their coupons are theirs, wherever issued)."""
    coupons = Coupon.objects.filter(enterprise_id=member.enterprise_id, member=member)
    rows = _coupon_rows(coupons.select_related("campaign__promotion").order_by("-issued_at", "-id")
                        [:MEMBER_COUPON_ROWS], member.enterprise.currency)
    return {"rows": rows, "count_all": coupons.count(),
            "available": sum(1 for r in rows if r["status"] == CouponStatus.AVAILABLE)}
