"""Coupons: campaigns (a benefit + codes), issuing (bulk unique codes, or to members by HQ, a store or a guide),
redemption at checkout and restoration on cancellation or return.

`coupon_redeem` and `coupon_restore` are the hooks sales calls inside the order's transaction; both are
idempotent by order reference. A code is redeemed once however many checkouts race for it: the campaign row is
locked first (pk order), then the coupon row; the coupon moves available -> redeemed by a conditional UPDATE;
and a partial unique index (one standing redemption per coupon) backs it up. Per-member limits and the campaign's
total limit are checked under the campaign lock; the total counter moves by a conditional UPDATE.
"""
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.members.models import Member
from yundian.members.selectors import audiences_holding
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .. import locks
from ..models import (
    CodeMode, Coupon, CouponCampaign, CouponRedemption, CouponStatus, PromotionStatus, RedemptionStatus, RestoreRule,
)
from ..pricing import normalize_code
from ..scoping import may_view, require_manage, visible_q
from ._common import clean_code, clean_int, clean_ref, member_for, node_for, random_code
from .promotions import create_promotion_row, promotion_fields

MAX_BULK = 10_000
MAX_MEMBERS_PER_ISSUE = 1_000


@transaction.atomic
def coupon_campaign_create(*, actor: Staff, node_id: int, code: str, name: str, kind: str,
                           code_mode: str = CodeMode.UNIQUE, shared_code: str = "", total_limit: int | None = None,
                           per_member_limit: int = 1, restore_rule: str = RestoreRule.CANCEL_OR_FULL_RETURN,
                           priority: int = 0, is_exclusive: bool = False, channels=None, tier_codes=None,
                           audience_id: int | None = None, valid_from: datetime | None = None,
                           valid_to: datetime | None = None, status: str = PromotionStatus.ACTIVE,
                           description: str = "", **maths) -> CouponCampaign:
    """A coupon campaign on a node of the actor's subtree (promotion.manage there): its benefit (any promotion
    kind) applies when one of its codes is presented (by a member of `audience_id` only, when given). Audited."""
    node = node_for(actor, node_id, Perm.PROMOTION_MANAGE)
    if code_mode not in CodeMode.values:
        raise ValidationFailed(_("Unknown code mode."), code="invalid_code_mode", details={"field": "code_mode"})
    if restore_rule not in RestoreRule.values:
        raise ValidationFailed(_("Unknown restore rule."), code="invalid_restore_rule", details={"field": "restore_rule"})
    shared = ""
    if code_mode == CodeMode.SHARED:
        shared = normalize_code(clean_code(shared_code, "shared_code", 32))
        if Coupon.objects.filter(enterprise_id=actor.enterprise_id, code=shared).exists():
            raise Conflict(_("This code is taken."), code="coupon_code_taken", details={"field": "shared_code"})
    elif shared_code:
        raise ValidationFailed(_("Only a shared-code campaign has a shared code."), code="invalid_shared_code",
                               details={"field": "shared_code"})
    if total_limit is not None:
        clean_int(total_limit, "total_limit", low=1, high=10**9)
    clean_int(per_member_limit, "per_member_limit", low=1, high=1000)
    fields = promotion_fields(enterprise_id=actor.enterprise_id, kind=kind, **maths)
    promotion = create_promotion_row(actor=actor, node=node, code=code, name=name, fields=fields,
                                     description=description, priority=priority, is_exclusive=is_exclusive,
                                     channels=channels, tier_codes=tier_codes, audience_id=audience_id,
                                     valid_from=valid_from, valid_to=valid_to, status=status, requires_coupon=True)
    try:
        with transaction.atomic():
            campaign = CouponCampaign.objects.create(
                enterprise_id=actor.enterprise_id, node=node, promotion=promotion, code_mode=code_mode,
                shared_code=shared, total_limit=total_limit, per_member_limit=per_member_limit,
                restore_rule=restore_rule)
    except IntegrityError:
        raise Conflict(_("This code is taken."), code="coupon_code_taken", details={"field": "shared_code"})
    audit_record(actor=actor, action="coupon_campaign.create", target=campaign,
                 after={"code_mode": code_mode, "shared_code": shared, "total_limit": total_limit,
                        "per_member_limit": per_member_limit, "promotion": promotion.code}, scope_path=node.path)
    return campaign


def campaign_for(actor: Staff, campaign_id: int, perm: str) -> CouponCampaign:
    campaign = (CouponCampaign.objects.filter(visible_q(actor), pk=campaign_id)
                .select_related("node", "promotion").first())
    if campaign is None:
        raise NotFound(_("Coupon campaign not found."), code="campaign_not_found")
    if perm != Perm.COUPON_ISSUE:  # issuing to members is checked at each member's home
        require_manage(actor, campaign.node, perm)
    return campaign


def _new_codes(enterprise_id: int, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        batch = {random_code(10) for _ in range(count - len(codes))}
        taken = set(Coupon.objects.filter(enterprise_id=enterprise_id, code__in=batch).values_list("code", flat=True))
        taken |= set(CouponCampaign.objects.filter(enterprise_id=enterprise_id, shared_code__in=batch)
                     .values_list("shared_code", flat=True))
        codes |= batch - taken
    return sorted(codes)


@transaction.atomic
def coupon_issue(*, actor: Staff, campaign_id: int, count: int | None = None,
                 member_ids: list[int] | None = None) -> list[Coupon]:
    """Issue unique codes of a campaign: `count` bearer codes (bulk, promotion.manage at the campaign's node), or
    one code to each member (coupon.issue where the member belongs: HQ, their region, their store's manager or
    guides). A member's issued codes never exceed the campaign's per-member limit. Audited.
    Locks: the campaign row."""
    campaign = campaign_for(actor, campaign_id, Perm.COUPON_ISSUE)
    if campaign.code_mode != CodeMode.UNIQUE:
        raise Conflict(_("A shared-code campaign has no codes to issue."), code="campaign_is_shared")
    if campaign.promotion.status == PromotionStatus.ENDED:
        raise Conflict(_("This campaign has ended."), code="campaign_ended")
    if (count is None) == (member_ids is None):
        raise ValidationFailed(_("Give a number of codes or members."), code="invalid_issue", details={"field": "count"})
    now = timezone.now()
    if count is not None:
        require_manage(actor, campaign.node)
        count = clean_int(count, "count", low=1, high=MAX_BULK)
        targets: list[Member | None] = [None] * count
    else:
        if not isinstance(member_ids, list) or not 1 <= len(member_ids) <= MAX_MEMBERS_PER_ISSUE:
            raise ValidationFailed(_("Give 1 to 1000 members."), code="invalid_members", details={"field": "member_ids"})
        targets = []
        for member_id in sorted(set(member_ids)):
            member = member_for(actor.enterprise_id, member_id)
            if not has_perm(actor, Perm.MEMBER_VIEW, member.home):
                raise NotFound(_("Member not found."), code="member_not_found")
            if not has_perm(actor, Perm.COUPON_ISSUE, member.home):
                raise Forbidden()
            targets.append(member)
    campaign = locks.lock_campaigns([campaign.pk])[campaign.pk]
    if member_ids is not None:
        held = dict(Coupon.objects.filter(campaign=campaign, member__in=targets).values("member_id")
                    .annotate(n=Count("id")).values_list("member_id", "n"))
        over = [m.pk for m in targets if held.get(m.pk, 0) >= campaign.per_member_limit]
        if over:
            raise Conflict(_("These members already hold as many codes as allowed."), code="member_limit_reached",
                           details={"member_ids": over})
    codes = _new_codes(actor.enterprise_id, len(targets))
    coupons = Coupon.objects.bulk_create([
        Coupon(enterprise_id=actor.enterprise_id, campaign=campaign, code=code, member=member, issued_by=actor,
               issued_at=now) for code, member in zip(codes, targets)])
    CouponCampaign.objects.filter(pk=campaign.pk).update(issued_count=F("issued_count") + len(coupons))
    audit_record(actor=actor, action="coupon.issue", target=campaign,
                 after={"count": len(coupons), "member_ids": [m.pk for m in targets if m is not None]},
                 scope_path=campaign.node.path)
    return coupons


@dataclass(frozen=True)
class Redemption:
    redemption: CouponRedemption
    replayed: bool


def _resolve_code(enterprise_id: int, code: str) -> tuple[CouponCampaign, Coupon | None]:
    coupon = Coupon.objects.filter(enterprise_id=enterprise_id, code=code).first()
    if coupon is not None:
        return CouponCampaign.objects.get(pk=coupon.campaign_id), coupon
    campaign = CouponCampaign.objects.filter(enterprise_id=enterprise_id, shared_code=code).first()
    if campaign is None:
        raise NotFound(_("No such coupon."), code="unknown_coupon")
    return campaign, None


@transaction.atomic
def coupon_redeem(*, enterprise_id: int, store: OrgNode, code: str, order_ref: str, member_id: int | None = None,
                  discount: int = 0, at: datetime | None = None) -> Redemption:
    """Use a code on an order, once per (campaign, order): the same order again returns the first redemption; the
    code on another order once used is a 409. Checks the campaign's state and window, the store, the member (a
    member's code, per-member and total limits). Locks: the campaign row, then the coupon row."""
    order_ref = clean_ref(order_ref)
    code = normalize_code(code) if isinstance(code, str) else ""
    if not code:
        raise ValidationFailed(_("Give a coupon code."), code="required", details={"field": "code"})
    clean_int(discount, "discount")
    at = at or timezone.now()
    campaign, coupon = _resolve_code(enterprise_id, code)
    campaign = locks.lock_campaigns([campaign.pk])[campaign.pk]
    existing = CouponRedemption.objects.filter(campaign=campaign, order_ref=order_ref).first()
    if existing is not None:
        if existing.code != code or existing.member_id != member_id:
            raise Conflict(_("This order already used another code of this campaign."), code="already_redeemed",
                           details={"code": existing.code})
        return Redemption(existing, True)
    promotion = campaign.promotion
    if promotion.status != PromotionStatus.ACTIVE:
        raise Conflict(_("This coupon is void."), code="coupon_void")
    if (promotion.valid_from and at < promotion.valid_from) or (promotion.valid_to and at >= promotion.valid_to):
        raise Conflict(_("This coupon is not valid now."), code="coupon_expired")
    if not store.path.startswith(promotion.node.path):
        raise Conflict(_("Not offered at this store."), code="other_store")
    if promotion.audience_id and not audiences_holding(member_id=member_id, audience_ids=[promotion.audience_id]):
        raise Conflict(_("For selected members only."), code="audience_required")
    if coupon is not None:
        coupon = locks.lock_coupon(coupon.pk)
        if coupon.status != CouponStatus.AVAILABLE:
            raise Conflict(_("This coupon was already used."), code="coupon_used")
        if coupon.member_id is not None and coupon.member_id != member_id:
            raise Conflict(_("This coupon belongs to another member."), code="coupon_not_yours")
    elif member_id is None:
        raise ValidationFailed(_("A shared code needs a member."), code="member_required", details={"field": "member"})
    if member_id is not None:
        used = CouponRedemption.objects.filter(campaign=campaign, member_id=member_id,
                                               status=RedemptionStatus.REDEEMED).count()
        if used >= campaign.per_member_limit:
            raise Conflict(_("This member already used the coupon as often as allowed."), code="member_limit_reached")
    limit = Q() if campaign.total_limit is None else Q(redeemed_count__lt=campaign.total_limit)
    if not CouponCampaign.objects.filter(limit, pk=campaign.pk).update(redeemed_count=F("redeemed_count") + 1):
        raise Conflict(_("The coupon's use limit is reached."), code="coupon_limit_reached")
    if coupon is not None and not Coupon.objects.filter(pk=coupon.pk, status=CouponStatus.AVAILABLE).update(
            status=CouponStatus.REDEEMED, updated_at=at):
        raise Conflict(_("This coupon was already used."), code="coupon_used")
    redemption = CouponRedemption.objects.create(
        enterprise_id=enterprise_id, campaign=campaign, coupon=coupon, member_id=member_id, store=store, code=code,
        order_ref=order_ref, discount=discount)
    return Redemption(redemption, False)


RESTORE_REASONS = ("cancel", "return")


@transaction.atomic
def coupon_restore(*, enterprise_id: int, order_ref: str, reason: str, full: bool = True) -> list[CouponRedemption]:
    """Give back the codes an order used, as each campaign's rule allows: on cancellation, or on a full return.
    Idempotent: a redemption is given back once; returns the redemptions given back by this call.
    Locks: the campaign rows (pk order), then each coupon row."""
    order_ref = clean_ref(order_ref)
    if reason not in RESTORE_REASONS:
        raise ValidationFailed(_("Unknown reason."), code="invalid_reason", details={"field": "reason"})
    standing = list(CouponRedemption.objects.filter(enterprise_id=enterprise_id, order_ref=order_ref,
                                                    status=RedemptionStatus.REDEEMED))
    if not standing:
        return []
    campaigns = locks.lock_campaigns([r.campaign_id for r in standing])
    now = timezone.now()
    restored = []
    for redemption in sorted(standing, key=lambda r: r.campaign_id):
        rule = campaigns[redemption.campaign_id].restore_rule
        allowed = (rule == RestoreRule.CANCEL and reason == "cancel") or (
            rule == RestoreRule.CANCEL_OR_FULL_RETURN and (reason == "cancel" or full))
        if not allowed:
            continue
        if not CouponRedemption.objects.filter(pk=redemption.pk, status=RedemptionStatus.REDEEMED).update(
                status=RedemptionStatus.RESTORED, restored_at=now, restore_reason=reason, updated_at=now):
            continue
        if redemption.coupon_id is not None:
            locks.lock_coupon(redemption.coupon_id)
            Coupon.objects.filter(pk=redemption.coupon_id, status=CouponStatus.REDEEMED).update(
                status=CouponStatus.AVAILABLE, updated_at=now)
        CouponCampaign.objects.filter(pk=redemption.campaign_id, redeemed_count__gt=0).update(
            redeemed_count=F("redeemed_count") - 1)
        redemption.status = RedemptionStatus.RESTORED
        restored.append(redemption)
    return restored


@transaction.atomic
def coupon_void(*, actor: Staff, coupon_id: int) -> Coupon:
    """Void an unused code (promotion.manage at the campaign's node). Audited. Locks: the coupon row."""
    coupon = Coupon.objects.filter(pk=coupon_id, enterprise_id=actor.enterprise_id).select_related(
        "campaign__node").first()
    if coupon is None or not may_view(actor, coupon.campaign.node):
        raise NotFound(_("Coupon not found."), code="coupon_not_found")
    require_manage(actor, coupon.campaign.node)
    coupon = locks.lock_coupon(coupon.pk)
    if coupon.status != CouponStatus.AVAILABLE:
        raise Conflict(_("Only an unused coupon can be voided."), code="coupon_not_available")
    Coupon.objects.filter(pk=coupon.pk).update(status=CouponStatus.VOID, updated_at=timezone.now())
    coupon.status = CouponStatus.VOID
    audit_record(actor=actor, action="coupon.void", target=coupon, before={"status": "available"},
                 after={"status": "void"}, scope_path=coupon.campaign.node.path)
    return coupon
