"""Referral distribution (分销): members and guides share a product (or a store) link; a paid order through the
link rewards the sharer — a share of what was paid, by the product's rule or the enterprise default — as
commission (this context's ReferralEntry ledger; guides read it) or as points (also posted to the members' points
ledger). One level: only the direct sharer is rewarded; nobody earns on their own order. A return reverses the
reward pro rata (points already spent are recorded as a shortfall, never taken below zero).

Once per order (reward) and once per return (reversal): unique (kind, source_ref) on the ledger.
"""
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Product
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.members import locks as member_locks
from yundian.members.models import PointsKind
from yundian.members.services import points as member_points
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm, Role
from yundian.org.selectors import actor_roles, require

from ..models import ReferralEntry, ReferralRule, RewardKind, ShareLink, ShareLinkSignup, ShareLinkVisit
from ._common import clean_int, clean_rate, clean_ref, member_for, random_code

REWARD, REVERSAL = "reward", "reversal"
POINTS_SOURCE = "referral"
POINTS_REVERSAL_SOURCE = "referral_reversal"


@transaction.atomic
def referral_rule_set(*, actor: Staff, rate, reward_kind: str = RewardKind.COMMISSION, product_id: int | None = None,
                      is_active: bool = True) -> ReferralRule:
    """Set the reward of a product (or the enterprise default, no product): HQ (promotion.manage at the root).
    Audited."""
    root = OrgNode.objects.get(enterprise_id=actor.enterprise_id, parent__isnull=True)
    require(actor, Perm.PROMOTION_MANAGE, root)
    rate = clean_rate(rate, "rate", high=Decimal("0.5"))
    if reward_kind not in RewardKind.values:
        raise ValidationFailed(_("Unknown reward kind."), code="invalid_reward_kind", details={"field": "reward_kind"})
    if product_id is not None and not Product.objects.filter(pk=product_id, enterprise_id=actor.enterprise_id).exists():
        raise ValidationFailed(_("Unknown product."), code="unknown_product", details={"field": "product_id"})
    rule = ReferralRule.objects.select_for_update().filter(enterprise_id=actor.enterprise_id,
                                                           product_id=product_id).first()
    before = None if rule is None else {"rate": rule.rate, "reward_kind": rule.reward_kind, "is_active": rule.is_active}
    if rule is None:
        rule = ReferralRule(enterprise_id=actor.enterprise_id, product_id=product_id)
    rule.rate, rule.reward_kind, rule.is_active = rate, reward_kind, bool(is_active)
    rule.save()
    audit_record(actor=actor, action="referral_rule.set", target=rule, before=before,
                 after={"rate": rate, "reward_kind": reward_kind, "product_id": product_id, "is_active": is_active},
                 scope_path=root.path)
    return rule


def _is_guide_of(staff: Staff, store: OrgNode) -> bool:
    return any(role in (Role.GUIDE, Role.STORE_MANAGER) and store.path.startswith(path)
               for role, path, _id in actor_roles(staff))


@transaction.atomic
def share_link_create(*, store_id: int, product_id: int | None = None, actor: Staff | None = None,
                      member_id: int | None = None, source: str = "") -> ShareLink:
    """A share link for a store (and a product): by a guide or manager of that store (`actor`), or by a member
    (`member_id`, from the storefront). The same sharer, store, product and `source` (what it was shared from, e.g.
    "material:12", for funnels) get the same link back."""
    if not isinstance(source, str) or len(source) > 32 or not all(c.isalnum() or c in ":_-" for c in source):
        raise ValidationFailed(_("Unknown source."), code="invalid_source", details={"field": "source"})
    if (actor is None) == (member_id is None):
        raise ValidationFailed(_("A link is shared by a staff member or a member."), code="invalid_sharer")
    store = OrgNode.objects.filter(pk=store_id, kind=NodeKind.STORE, is_active=True).first() \
        if isinstance(store_id, int) and not isinstance(store_id, bool) else None
    if store is None or (actor is not None and store.enterprise_id != actor.enterprise_id):
        raise NotFound(_("Store not found."), code="store_not_found")
    sharer: dict = {}
    if actor is not None:
        require(actor, Perm.ORG_VIEW, store)
        if not _is_guide_of(actor, store):
            raise ValidationFailed(_("Only the store's guides and managers share its links."), code="not_a_guide",
                                   details={"field": "store_id"})
        sharer["sharer_staff"] = actor
    else:
        sharer["sharer_member"] = member_for(store.enterprise_id, member_id)
    product = None
    if product_id is not None:
        product = Product.objects.filter(pk=product_id, enterprise_id=store.enterprise_id, is_active=True).first() \
            if isinstance(product_id, int) and not isinstance(product_id, bool) else None
        if product is None:
            raise ValidationFailed(_("Unknown product."), code="unknown_product", details={"field": "product_id"})
    existing = ShareLink.objects.filter(store=store, product=product, source=source, **sharer).first()
    if existing is not None:
        return existing
    return ShareLink.objects.create(enterprise_id=store.enterprise_id, code=random_code(12), store=store,
                                    product=product, source=source, **sharer)


def share_link_get(code) -> ShareLink:
    if not isinstance(code, str) or not 1 <= len(code) <= 24 or not code.isalnum():
        raise NotFound(_("Link not found."), code="share_link_not_found")
    link = ShareLink.objects.filter(code=code).select_related("store", "product").first()
    if link is None:
        raise NotFound(_("Link not found."), code="share_link_not_found")
    return link


@dataclass(frozen=True)
class PaidLine:
    product_id: int
    amount: int  # fen paid for the line


def _rules(enterprise_id: int, product_ids: set[int]) -> tuple[dict[int, ReferralRule], ReferralRule | None]:
    rules = ReferralRule.objects.filter(enterprise_id=enterprise_id, is_active=True)
    by_product, default = {}, None
    for rule in rules.filter(product_id__in=product_ids) | rules.filter(product__isnull=True):
        if rule.product_id is None:
            default = rule
        else:
            by_product[rule.product_id] = rule
    return by_product, default


@transaction.atomic
def referral_reward_for_order(*, share_code: str, order_ref: str, lines: list[PaidLine],
                              buyer_member_id: int | None = None) -> ReferralEntry | None:
    """Reward the sharer of a paid order through their link, once per order; None when nothing is due (no rule,
    a product link and none of it bought, or the buyer shared it themself). Points: 1 point per yuan of reward,
    posted to the sharer's points ledger under their member lock."""
    order_ref = clean_ref(order_ref)
    link = share_link_get(share_code)
    existing = ReferralEntry.objects.filter(enterprise_id=link.enterprise_id, kind=REWARD, source_ref=order_ref).first()
    if existing is not None:
        return existing
    if link.sharer_member_id is not None and link.sharer_member_id == buyer_member_id:
        return None
    if link.sharer_staff_id is not None and not link.sharer_staff.is_active:
        return None  # a guide who left (handover) earns nothing more from links still in circulation
    lines = [l for l in lines if link.product_id is None or l.product_id == link.product_id]
    by_product, default = _rules(link.enterprise_id, {l.product_id for l in lines})
    reward_kind, reward, base = None, Decimal(0), 0
    for line in lines:
        clean_int(line.amount, "amount")
        rule = by_product.get(line.product_id, default)
        if rule is None or rule.rate == 0:
            continue
        reward_kind = reward_kind or rule.reward_kind
        if rule.reward_kind != reward_kind:
            continue  # one kind per order: the first rule's
        reward += Decimal(line.amount) * rule.rate
        base += line.amount
    amount = int(reward.to_integral_value(rounding=ROUND_FLOOR))
    if reward_kind == RewardKind.POINTS:
        amount //= 100  # a point per yuan
    if amount <= 0:
        return None
    if reward_kind == RewardKind.POINTS and link.sharer_member_id is None:
        reward_kind = RewardKind.COMMISSION  # staff earn commission, not points
        amount = int(reward.to_integral_value(rounding=ROUND_FLOOR))
    try:
        with transaction.atomic():
            entry = ReferralEntry.objects.create(enterprise_id=link.enterprise_id, link=link, kind=REWARD,
                                                 reward_kind=reward_kind, amount=amount, base_amount=base,
                                                 order_ref=order_ref, source_ref=order_ref)
    except IntegrityError:
        return ReferralEntry.objects.get(enterprise_id=link.enterprise_id, kind=REWARD, source_ref=order_ref)
    if reward_kind == RewardKind.POINTS:
        member = member_locks.lock_member(link.sharer_member_id, enterprise_id=link.enterprise_id)
        member_points.credit(member, kind=PointsKind.ADJUST, points=amount, source_type=POINTS_SOURCE,
                             source_id=order_ref, store=link.store, reason="referral reward",
                             detail={"share_link": link.pk})
    return entry


@transaction.atomic
def referral_reverse_for_return(*, order_ref: str, return_ref: str, returned_amount: int) -> ReferralEntry | None:
    """Take back the part of an order's reward that a return refunds (pro rata to the amount, cumulative, never
    more than the reward), once per return. Points already spent are recorded as the entry's shortfall."""
    order_ref, return_ref = clean_ref(order_ref), clean_ref(return_ref, "return_ref")
    returned_amount = clean_int(returned_amount, "returned_amount")
    reward = ReferralEntry.objects.filter(kind=REWARD, order_ref=order_ref).select_related("link").first()
    if reward is None:
        return None
    existing = ReferralEntry.objects.filter(enterprise_id=reward.enterprise_id, kind=REVERSAL,
                                            source_ref=return_ref).first()
    if existing is not None:
        return existing
    before = ReferralEntry.objects.filter(enterprise_id=reward.enterprise_id, kind=REVERSAL, order_ref=order_ref)
    taken = -(before.aggregate(s=Sum("amount"))["s"] or 0) + (before.aggregate(s=Sum("shortfall"))["s"] or 0)
    returned_before = before.aggregate(s=Sum("base_amount"))["s"] or 0
    returned_total = min(reward.base_amount, returned_before + returned_amount)
    due = (reward.amount * returned_total // reward.base_amount if reward.base_amount else reward.amount) - taken
    due = max(0, min(due, reward.amount - taken))
    shortfall = 0
    if reward.reward_kind == RewardKind.POINTS and due > 0:
        member = member_locks.lock_member(reward.link.sharer_member_id, enterprise_id=reward.enterprise_id)
        available = member_points.balance_of(member)
        take = min(due, available)
        shortfall = due - take
        if take > 0:
            member_points.debit(member, kind=PointsKind.ADJUST, points=take, source_type=POINTS_REVERSAL_SOURCE,
                                source_id=return_ref, store=reward.link.store, reason="referral reward reversed",
                                detail={"share_link": reward.link_id, "order_ref": order_ref})
        due_posted = take
    else:
        due_posted = due
    return ReferralEntry.objects.create(
        enterprise_id=reward.enterprise_id, link=reward.link, kind=REVERSAL, reward_kind=reward.reward_kind,
        amount=-due_posted, base_amount=min(returned_amount, reward.base_amount - returned_before), order_ref=order_ref,
        source_ref=return_ref, shortfall=shortfall)


def referral_link_visit(code: str, visitor: str = "", at=None) -> ShareLink:
    """Count a visit of a share link (the public page); returns the link. With a `visitor` (the browser's cookie)
    the first visit is also an open (ShareLinkVisit, once per link and visitor: a reload is not a second open)."""
    from django.db.models import F
    from django.utils import timezone

    link = share_link_get(code)
    ShareLink.objects.filter(pk=link.pk).update(visits=F("visits") + 1)
    if visitor and isinstance(visitor, str) and len(visitor) <= 32 and visitor.isalnum():
        try:
            with transaction.atomic():
                ShareLinkVisit.objects.create(link=link, visitor=visitor, first_at=at or timezone.now())
        except IntegrityError:
            pass  # this browser opened it before
    return link


def share_link_signup(*, code: str, member_id: int, at=None) -> ShareLinkSignup | None:
    """A member who just joined through a link (its cookie was set when they signed up) is the link's sign-up,
    once: a member is brought in by one link. None for an unknown link or another enterprise's member."""
    from django.utils import timezone

    from yundian.members.models import Member

    try:
        link = share_link_get(code)
    except NotFound:
        return None
    if not Member.objects.filter(pk=member_id, enterprise_id=link.enterprise_id).exists():
        return None
    try:
        with transaction.atomic():
            return ShareLinkSignup.objects.create(link=link, member_id=member_id, joined_at=at or timezone.now())
    except IntegrityError:
        return None


__all__ = ["Conflict", "PaidLine", "REWARD", "REVERSAL", "referral_link_visit", "referral_reverse_for_return",
           "referral_reward_for_order", "referral_rule_set", "share_link_create", "share_link_get",
           "share_link_signup"]
