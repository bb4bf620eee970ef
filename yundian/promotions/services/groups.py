"""Group buying (拼团): a leader opens a group of N at the price for that size, others join by its link within the
window; each member orders at the group price (sales) and pays; the group succeeds when all N have paid, or fails
when the window closes first, and then every paid member is refunded automatically, exactly once.

Caps: every place holds one unit of the campaign's `cap` (conditional UPDATE sold + 1 <= cap); a failed group
gives its places back. Locks: the group row, then its members (pk order); the campaign counter moves by a
conditional UPDATE after them. Failing a group is claimed by a conditional UPDATE (open -> failed), so however
many workers run the expiry task, one of them processes each group, and the GroupBuyRefund row (one per member)
makes each refund happen once.
"""
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm

from .. import hooks, locks
from ..models import (
    GroupBuyCampaign, GroupBuyGroup, GroupBuyMember, GroupBuyRefund, GroupMemberStatus, GroupStatus,
)
from ._common import (
    clean_code, clean_int, clean_ref, clean_text, clean_window, member_for, node_for, random_code, sku_for,
)


def _clean_price_tiers(value) -> list[dict]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 10:
        raise ValidationFailed(_("Give 1 to 10 group sizes with their prices."), code="invalid_price_tiers",
                               details={"field": "price_tiers"})
    tiers, sizes = [], set()
    for tier in value:
        if not isinstance(tier, dict):
            raise ValidationFailed(_("Each size is an object."), code="invalid_price_tiers",
                                   details={"field": "price_tiers"})
        size = clean_int(tier.get("size"), "price_tiers.size", low=2, high=100)
        if size in sizes:
            raise ValidationFailed(_("A group size appears twice."), code="invalid_price_tiers",
                                   details={"field": "price_tiers"})
        sizes.add(size)
        tiers.append({"size": size, "price": clean_int(tier.get("price"), "price_tiers.price")})
    return sorted(tiers, key=lambda t: t["size"])


@transaction.atomic
def group_buy_create(*, actor: Staff, node_id: int, code: str, name: str, sku_id: int, price_tiers, cap: int,
                     starts_at: datetime, ends_at: datetime, window_minutes: int = 24 * 60) -> GroupBuyCampaign:
    """A group-buy campaign on a node of the actor's subtree (promotion.manage there). Audited."""
    node = node_for(actor, node_id, Perm.PROMOTION_MANAGE)
    clean_window(starts_at, ends_at, required=True)
    sku = sku_for(actor.enterprise_id, sku_id)
    if sku.is_weighed:
        raise ValidationFailed(_("Weighed goods cannot be sold by group buying."), code="weighed_sku",
                               details={"field": "sku_id"})
    try:
        with transaction.atomic():
            campaign = GroupBuyCampaign.objects.create(
                enterprise_id=actor.enterprise_id, node=node, code=clean_code(code),
                name=clean_text(name, "name", 120, required=True), sku=sku, price_tiers=_clean_price_tiers(price_tiers),
                cap=clean_int(cap, "cap", low=2, high=10_000_000),
                window_minutes=clean_int(window_minutes, "window_minutes", low=1, high=30 * 24 * 60),
                starts_at=starts_at, ends_at=ends_at, created_by=actor)
    except IntegrityError:
        raise Conflict(_("A group buy with this code exists."), code="group_buy_code_taken", details={"field": "code"})
    audit_record(actor=actor, action="group_buy.create", target=campaign,
                 after={"code": campaign.code, "sku_id": sku.pk, "price_tiers": campaign.price_tiers,
                        "cap": campaign.cap}, scope_path=node.path)
    return campaign


def _take_unit(campaign_id: int) -> None:
    if not GroupBuyCampaign.objects.filter(pk=campaign_id, sold__lt=F("cap")).update(sold=F("sold") + 1):
        raise Conflict(_("Sold out."), code="sold_out")


def _check_no_open_place(campaign_id: int, member_id: int) -> None:
    if GroupBuyMember.objects.filter(group__campaign_id=campaign_id, member_id=member_id,
                                     group__status=GroupStatus.OPEN,
                                     status__in=[GroupMemberStatus.JOINED, GroupMemberStatus.PAID]).exists():
        raise Conflict(_("You are already in an open group of this campaign."), code="already_in_group")


@transaction.atomic
def group_open(*, campaign_id: int, member_id: int, size: int, now: datetime | None = None) -> GroupBuyGroup:
    """A member opens a group of `size` (one of the campaign's sizes) and leads it; the window starts now (it
    never outlasts the campaign). Takes one unit of the cap. 409 when sold out, outside the campaign, or the
    member already has an open place in this campaign."""
    now = now or timezone.now()
    campaign = GroupBuyCampaign.objects.filter(pk=campaign_id, is_active=True).first() \
        if isinstance(campaign_id, int) and not isinstance(campaign_id, bool) else None
    if campaign is None:
        raise NotFound(_("Group buy not found."), code="group_buy_not_found")
    prices = {t["size"]: t["price"] for t in campaign.price_tiers}
    size = clean_int(size, "size", low=2, high=100)
    if size not in prices:
        raise ValidationFailed(_("This group size is not offered."), code="invalid_size",
                               details={"field": "size", "allowed": sorted(prices)})
    if not campaign.starts_at <= now < campaign.ends_at:
        raise Conflict(_("This group buy is not running."), code="not_running")
    member = member_for(campaign.enterprise_id, member_id)
    _check_no_open_place(campaign.pk, member.pk)
    _take_unit(campaign.pk)
    group = GroupBuyGroup.objects.create(
        campaign=campaign, leader=member, size=size, price=prices[size], token=random_code(16),
        expires_at=min(now + timedelta(minutes=campaign.window_minutes), campaign.ends_at), joined_count=1)
    GroupBuyMember.objects.create(group=group, member=member, is_leader=True)
    return group


def group_for_token(token) -> GroupBuyGroup:
    if not isinstance(token, str) or not 1 <= len(token) <= 24 or not token.isalnum():
        raise NotFound(_("Group not found."), code="group_not_found")
    group = GroupBuyGroup.objects.filter(token=token).select_related("campaign__sku__product", "leader").first()
    if group is None:
        raise NotFound(_("Group not found."), code="group_not_found")
    return group


@transaction.atomic
def group_join(*, token: str, member_id: int, now: datetime | None = None) -> GroupBuyMember:
    """A member joins a group by its link while it is open and not full. Takes one unit of the cap.
    Locks: the group row."""
    now = now or timezone.now()
    group = group_for_token(token)
    member = member_for(group.campaign.enterprise_id, member_id)
    group = locks.lock_group(group.pk)
    if group.status != GroupStatus.OPEN or group.expires_at <= now:
        raise Conflict(_("This group has closed."), code="group_closed")
    if GroupBuyMember.objects.filter(group=group, member=member).exists():
        raise Conflict(_("You are already in this group."), code="already_in_group")
    if group.joined_count >= group.size:
        raise Conflict(_("This group is full."), code="group_full")
    _check_no_open_place(group.campaign_id, member.pk)
    _take_unit(group.campaign_id)
    place = GroupBuyMember.objects.create(group=group, member=member)
    GroupBuyGroup.objects.filter(pk=group.pk).update(joined_count=F("joined_count") + 1, updated_at=now)
    return place


def group_place_order(*, place_id: int, member_id: int, order_ref: str) -> GroupBuyMember:
    """Tie a member's place to the order that buys it at the group price (inside the order's transaction).
    The same order again is a no-op; another order for a place already ordered is a 409."""
    order_ref = clean_ref(order_ref)
    place = GroupBuyMember.objects.filter(pk=place_id, member_id=member_id).first()
    if place is None:
        raise NotFound(_("Group place not found."), code="group_place_not_found")
    if place.order_ref == order_ref:
        return place
    if not GroupBuyMember.objects.filter(pk=place.pk, order_ref="", status=GroupMemberStatus.JOINED).update(
            order_ref=order_ref, updated_at=timezone.now()):
        raise Conflict(_("This place was already ordered."), code="group_place_ordered")
    place.order_ref = order_ref
    return place


def _locked_place(order_ref) -> tuple[GroupBuyMember | None, GroupBuyGroup | None]:
    """The place an order holds and its group, both locked (the group row, then its members) and re-read."""
    place = GroupBuyMember.objects.filter(order_ref=clean_ref(order_ref)).first()
    if place is None:
        return None, None
    group = locks.lock_group(place.group_id)
    locks.lock_group_members(group.pk)
    place.refresh_from_db()
    return place, group


def group_order_paid(*, order_ref: str, amount: int, now: datetime | None = None) -> GroupBuyMember | None:
    """The order of a group place is paid: the place counts as paid; the N-th payment completes the group. None if
    the order holds no place; the same order again is a no-op. 409 `group_closed` if the group failed or its
    window passed first (the payment must not go through). Locks: the group row, then its members."""
    now = now or timezone.now()
    place, group = _locked_place(order_ref)
    if place is None:
        return None
    if place.status == GroupMemberStatus.PAID:
        return place
    if group.status != GroupStatus.OPEN or group.expires_at <= now or place.status != GroupMemberStatus.JOINED:
        raise Conflict(_("This group has closed."), code="group_closed")
    GroupBuyMember.objects.filter(pk=place.pk).update(status=GroupMemberStatus.PAID, amount=clean_int(amount, "amount"),
                                                      paid_at=now, updated_at=now)
    paid = group.paid_count + 1
    changes = {"paid_count": paid, "updated_at": now}
    if paid == group.size:
        changes.update(status=GroupStatus.SUCCEEDED, closed_at=now)
    GroupBuyGroup.objects.filter(pk=group.pk).update(**changes)
    place.refresh_from_db()
    return place


def group_order_cancelled(*, order_ref: str) -> GroupBuyMember | None:
    """The order of a place in an open group was cancelled (sales refunds what was paid): the member leaves and the
    place and its unit go back. Once. Locks: the group row, then its members."""
    place, group = _locked_place(order_ref)
    if place is None:
        return None
    if group.status != GroupStatus.OPEN or place.status not in (GroupMemberStatus.JOINED, GroupMemberStatus.PAID):
        return place
    was_paid = place.status == GroupMemberStatus.PAID
    GroupBuyMember.objects.filter(pk=place.pk).update(status=GroupMemberStatus.LEFT, updated_at=timezone.now())
    GroupBuyGroup.objects.filter(pk=group.pk).update(joined_count=F("joined_count") - 1,
                                                     paid_count=F("paid_count") - (1 if was_paid else 0))
    GroupBuyCampaign.objects.filter(pk=group.campaign_id, sold__gte=1).update(sold=F("sold") - 1)
    place.refresh_from_db()
    return place


def _fail(group: GroupBuyGroup, now: datetime) -> list[GroupBuyRefund]:
    """Fail one expired group (caller is in a transaction): claim it, refund every paid member once, free places."""
    if not GroupBuyGroup.objects.filter(pk=group.pk, status=GroupStatus.OPEN, expires_at__lte=now).update(
            status=GroupStatus.FAILED, closed_at=now, updated_at=now):
        return []  # another worker failed it, or it completed
    locks.lock_group(group.pk)
    refunds = []
    places = locks.lock_group_members(group.pk)
    for place in places:
        if place.status == GroupMemberStatus.PAID:
            refund = GroupBuyRefund.objects.create(group_member=place, order_ref=place.order_ref, amount=place.amount)
            GroupBuyMember.objects.filter(pk=place.pk).update(status=GroupMemberStatus.REFUNDED, updated_at=now)
            hooks.run_group_buy_refund(refund)
            refunds.append(refund)
        elif place.status == GroupMemberStatus.JOINED:
            GroupBuyMember.objects.filter(pk=place.pk).update(status=GroupMemberStatus.LEFT, updated_at=now)
    held = sum(1 for p in places if p.status in (GroupMemberStatus.PAID, GroupMemberStatus.JOINED))
    if held:
        GroupBuyCampaign.objects.filter(pk=group.campaign_id, sold__gte=held).update(sold=F("sold") - held)
    return refunds


def group_buy_expire_due(*, now: datetime | None = None, batch: int = 200) -> dict[str, int]:
    """Fail every open group whose window has closed and refund its paid members (the task). Idempotent and safe to
    run from several workers at once: each group is claimed by a conditional UPDATE, each refund is one unique row.
    One transaction per group; a refund hook that raises rolls back that group only (retried next run)."""
    now = now or timezone.now()
    groups = list(GroupBuyGroup.objects.filter(status=GroupStatus.OPEN, expires_at__lte=now).order_by("id")[:batch])
    failed = refunded = errors = 0
    for group in groups:
        try:
            with transaction.atomic():
                refunds = _fail(group, now)
        except IntegrityError:
            errors += 1  # a refund row exists already: another worker got there; nothing was written here
            continue
        if refunds or GroupBuyGroup.objects.filter(pk=group.pk, status=GroupStatus.FAILED, closed_at=now).exists():
            failed += 1
        refunded += len(refunds)
    return {"failed": failed, "refunded": refunded, "skipped": errors}
