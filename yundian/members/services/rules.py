"""Programme rules: points earning rules per store subtree and category, tier edits, top-up rule retirement.

Points rules: an enterprise-wide rule (no node) needs member_program.manage at the enterprise's root; a rule for a
store subtree needs it at that node. A node outside the actor's subtree is a 404 (never 403); a rule there is
invisible. Every change is audited with before and after; nothing is ever deleted (a rule is deactivated), so the
points an order earned can always be explained.
"""
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require

from .. import locks, selectors
from ..models import PointsRule, Tier, TopUpRule
from ._common import clean_int, clean_text

MAX_RATE = Decimal("1000")
UNSET = object()


def _clean_rate(value, field: str, *, low: Decimal, high: Decimal, places: str) -> Decimal:
    try:
        rate = Decimal(str(value)) if not isinstance(value, (bool, float)) and value is not None else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or not low <= rate <= high or rate != rate.quantize(Decimal(places)):
        raise ValidationFailed(_("Must be a number from %(low)s to %(high)s with at most %(places)d decimals.")
                               % {"low": low, "high": high, "places": len(places.split(".")[1])},
                               code="invalid_rate", details={"field": field})
    return rate.quantize(Decimal(places))


def _root(enterprise_id: int) -> OrgNode:
    return OrgNode.objects.get(enterprise_id=enterprise_id, parent__isnull=True)


def _rule_scope(actor: Staff, node: OrgNode | None) -> OrgNode:
    """The node whose member_program.manage the rule needs (the root for an enterprise-wide rule); 403 without it."""
    target = node or _root(actor.enterprise_id)
    if not has_perm(actor, Perm.MEMBER_PROGRAM_MANAGE, target):
        raise Forbidden()
    return target


def _node(actor: Staff, node_id) -> OrgNode | None:
    if node_id is None:
        return None
    if isinstance(node_id, bool) or not isinstance(node_id, int):
        raise ValidationFailed(_("Not an id."), code="invalid", details={"field": "node_id"})
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first()
    if node is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, Perm.MEMBER_PROGRAM_MANAGE, node)  # 404 outside the subtree, 403 without the permission
    return node


def _category(actor: Staff, category_id) -> Category | None:
    if category_id is None:
        return None
    if isinstance(category_id, bool) or not isinstance(category_id, int):
        raise ValidationFailed(_("Not an id."), code="invalid", details={"field": "category_id"})
    category = Category.objects.filter(pk=category_id, enterprise_id=actor.enterprise_id).first()
    if category is None:
        raise NotFound(_("Category not found."), code="category_not_found")
    return category


def _lock_for_hq(actor: Staff, model, lock, pk: int, not_found_message, not_found_code: str):
    """The enterprise's `model` row `pk`, locked by `lock`, for an HQ change (member_program.manage anywhere): 404
    if the enterprise has no such row, else 403 without the permission."""
    if not has_perm(actor, Perm.MEMBER_PROGRAM_MANAGE):
        if not model.objects.filter(pk=pk, enterprise_id=actor.enterprise_id).exists():
            raise NotFound(not_found_message, code=not_found_code)
        raise Forbidden()
    row = lock(pk, enterprise_id=actor.enterprise_id)
    if row is None:
        raise NotFound(not_found_message, code=not_found_code)
    return row


def _rule_values(rule: PointsRule) -> dict:
    return {"name": rule.name, "node": rule.node_id, "category": rule.category_id,
            "points_per_yuan": str(rule.points_per_yuan), "priority": rule.priority, "is_active": rule.is_active}


@transaction.atomic
def points_rule_create(*, actor: Staff, name: str, points_per_yuan, node_id: int | None = None,
                       category_id: int | None = None, priority: int = 0) -> PointsRule:
    """Add a points earning rule for a store subtree (node; none: every store) and a category subtree (none: any).
    member_program.manage at the node (the root when none). Audited."""
    node = _node(actor, node_id)
    target = _rule_scope(actor, node)
    category = _category(actor, category_id)
    name = clean_text(name, "name", max_length=80, required=True)
    rate = _clean_rate(points_per_yuan, "points_per_yuan", low=Decimal(0), high=MAX_RATE, places="0.01")
    priority = clean_int(priority, "priority", low=-1000, high=1000)
    rule = PointsRule.objects.create(enterprise_id=actor.enterprise_id, name=name, node=node, category=category,
                                     points_per_yuan=rate, priority=priority)
    audit_record(actor=actor, action="points_rule.create", target=rule, scope_path=target.path,
                 after=_rule_values(rule))
    return rule


def _rule_for_change(actor: Staff, rule_id: int) -> tuple[PointsRule, OrgNode]:
    rule = selectors.points_rule_get(actor=actor, rule_id=rule_id)
    target = _rule_scope(actor, rule.node)
    rule = locks.lock_points_rule(rule.pk, enterprise_id=actor.enterprise_id)
    return rule, target


@transaction.atomic
def points_rule_update(*, actor: Staff, rule_id: int, name=UNSET, points_per_yuan=UNSET, priority=UNSET,
                       is_active=UNSET) -> PointsRule:
    """Change a rule's name, rate, priority or active flag (its node and category stay: make a new rule to move
    it). member_program.manage where the rule applies. Audited. Locks: the rule row."""
    rule, target = _rule_for_change(actor, rule_id)
    before = _rule_values(rule)
    if name is not UNSET:
        rule.name = clean_text(name, "name", max_length=80, required=True)
    if points_per_yuan is not UNSET:
        rule.points_per_yuan = _clean_rate(points_per_yuan, "points_per_yuan", low=Decimal(0), high=MAX_RATE,
                                           places="0.01")
    if priority is not UNSET:
        rule.priority = clean_int(priority, "priority", low=-1000, high=1000)
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise ValidationFailed(_("Must be true or false."), code="invalid", details={"field": "is_active"})
        rule.is_active = is_active
    after = _rule_values(rule)
    if after != before:
        rule.save(update_fields=["name", "points_per_yuan", "priority", "is_active", "updated_at"])
        audit_record(actor=actor, action="points_rule.update", target=rule, scope_path=target.path, before=before,
                     after=after)
    return rule


def points_rule_deactivate(*, actor: Staff, rule_id: int) -> PointsRule:
    """Stop a rule from applying to new orders (kept for history). Audited."""
    return points_rule_update(actor=actor, rule_id=rule_id, is_active=False)


# --- tiers --------------------------------------------------------------------------------------------

def _tier_values(tier: Tier) -> dict:
    return {"code": tier.code, "name": tier.name, "rank": tier.rank, "min_growth": tier.min_growth,
            "discount_rate": str(tier.discount_rate), "birthday_gift_points": tier.birthday_gift_points,
            "free_shipping": tier.free_shipping, "points_multiplier": str(tier.points_multiplier)}


@transaction.atomic
def tier_update(*, actor: Staff, tier_id: int, name=UNSET, min_growth=UNSET, discount_rate=UNSET,
                birthday_gift_points=UNSET, free_shipping=UNSET, points_multiplier=UNSET) -> Tier:
    """Edit a tier's name, growth threshold and benefits (HQ, member_program.manage). A higher rank must still need
    more growth than every lower rank. Members move at their next upgrade or review. Audited. Locks: the tier row."""
    tier = _lock_for_hq(actor, Tier, locks.lock_tier, tier_id, _("Tier not found."), "tier_not_found")
    before = _tier_values(tier)
    if name is not UNSET:
        tier.name = clean_text(name, "name", max_length=80, required=True)
    if min_growth is not UNSET:
        tier.min_growth = clean_int(min_growth, "min_growth", low=0)
    if discount_rate is not UNSET:
        tier.discount_rate = _clean_rate(discount_rate, "discount_rate", low=Decimal("0.01"), high=Decimal(1),
                                         places="0.001")
    if birthday_gift_points is not UNSET:
        tier.birthday_gift_points = clean_int(birthday_gift_points, "birthday_gift_points", low=0)
    if free_shipping is not UNSET:
        if not isinstance(free_shipping, bool):
            raise ValidationFailed(_("Must be true or false."), code="invalid", details={"field": "free_shipping"})
        tier.free_shipping = free_shipping
    if points_multiplier is not UNSET:
        tier.points_multiplier = _clean_rate(points_multiplier, "points_multiplier", low=Decimal(0), high=Decimal(10),
                                             places="0.01")
    others = Tier.objects.filter(enterprise_id=actor.enterprise_id).exclude(pk=tier.pk)
    if (others.filter(rank__lt=tier.rank, min_growth__gte=tier.min_growth).exists()
            or others.filter(rank__gt=tier.rank, min_growth__lte=tier.min_growth).exists()):
        raise ValidationFailed(_("A higher tier must need more growth."), code="tier_order",
                               details={"field": "min_growth"})
    after = _tier_values(tier)
    if after != before:
        tier.save()
        audit_record(actor=actor, action="member_tier.update", target=tier, scope_path=actor.home.path,
                     before=before, after=after)
    return tier


# --- top-up rules -------------------------------------------------------------------------------------

@transaction.atomic
def topup_rule_deactivate(*, actor: Staff, rule_id: int) -> TopUpRule:
    """Retire a top-up bonus rule (HQ, member_program.manage); top-ups from now on no longer get its bonus.
    Audited. Locks: the rule row."""
    rule = _lock_for_hq(actor, TopUpRule, locks.lock_topup_rule, rule_id, _("Top-up rule not found."),
                        "topup_rule_not_found")
    if not rule.is_active:
        raise Conflict(_("This rule is already inactive."), code="already_inactive")
    rule.is_active = False
    rule.save(update_fields=["is_active", "updated_at"])
    audit_record(actor=actor, action="topup_rule.deactivate", target=rule, scope_path=actor.home.path,
                 before={"is_active": True}, after={"is_active": False, "min_amount": rule.min_amount,
                                                    "bonus": rule.bonus})
    return rule
