"""Automatic promotions and price floors: create (validated per kind), activate / pause / end, floors per SKU or
category. Scoped: a promotion lives on an org node where the actor holds promotion.manage; floors are HQ's
(catalog-wide, price.manage at the root)."""
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category, Product, Sku
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.members import selectors as member_selectors
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import require

from ..engine import Kind
from .. import locks
from ..scoping import require_manage, visible_q
from ..models import PriceFloor, Promotion, PromotionKind, PromotionStatus
from ._common import (
    check_ids_exist, clean_code, clean_ids, clean_int, clean_rate, clean_text, clean_window, node_for,
)

CHANNELS = ("pos", "storefront", "api")
MAX_TIERS = 10


def _clean_tiers(kind: str, tiers: Any, threshold_by: str) -> list[dict]:
    if not isinstance(tiers, (list, tuple)) or not 1 <= len(tiers) <= MAX_TIERS:
        raise ValidationFailed(_("Give 1 to 10 thresholds."), code="invalid_tiers", details={"field": "tiers"})
    out, minimums = [], set()
    for tier in tiers:
        if not isinstance(tier, dict):
            raise ValidationFailed(_("Each threshold is an object."), code="invalid_tiers", details={"field": "tiers"})
        minimum = clean_int(tier.get("min"), "tiers.min", low=0 if kind == Kind.THRESHOLD_AMOUNT else 1,
                            high=10**11 if threshold_by == "amount" else 10_000)
        if minimum in minimums:
            raise ValidationFailed(_("Two thresholds have the same minimum."), code="invalid_tiers",
                                   details={"field": "tiers"})
        minimums.add(minimum)
        if kind == Kind.THRESHOLD_AMOUNT:
            off = clean_int(tier.get("off"), "tiers.off", low=1)
            if threshold_by == "amount" and minimum and off > minimum:
                raise ValidationFailed(_("The amount off is more than the threshold."), code="invalid_tiers",
                                       details={"field": "tiers"})
            out.append({"min": minimum, "off": off})
        else:
            out.append({"min": minimum, "rate": str(clean_rate(tier.get("rate"), "tiers.rate", high=Decimal("0.9999")))})
    return sorted(out, key=lambda t: t["min"])


def _clean_channels(channels: Any) -> list[str]:
    if channels is None:
        return []
    if not isinstance(channels, (list, tuple)) or any(c not in CHANNELS for c in channels):
        raise ValidationFailed(_("Unknown channel."), code="invalid_channel",
                               details={"field": "channels", "allowed": list(CHANNELS)})
    return sorted(set(channels))


def _clean_tier_codes(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)) or len(values) > 20:
        raise ValidationFailed(_("Give a list of tier codes."), code="invalid_tiers", details={"field": "tier_codes"})
    return sorted({clean_code(v, "tier_codes", 32) for v in values})


def promotion_fields(*, enterprise_id: int, kind: str, rate=None, amount: int = 0, tiers=None,
                     threshold_by: str = "amount", repeat: bool = False, max_off: int | None = None,
                     buy_quantity: int = 0, get_quantity: int = 0, get_rate="0", bundle_items=None,
                     bundle_price: int = 0, sku_ids=None, product_ids=None, category_ids=None,
                     exclude_sku_ids=None) -> dict:
    """Validate the maths and targets of one kind; returns model fields. Shared with coupon campaigns."""
    if kind not in PromotionKind.values:
        raise ValidationFailed(_("Unknown promotion kind."), code="invalid_kind",
                               details={"field": "kind", "allowed": list(PromotionKind.values)})
    if threshold_by not in ("amount", "quantity"):
        raise ValidationFailed(_("Thresholds count an amount or a quantity."), code="invalid_threshold_by",
                               details={"field": "threshold_by"})
    fields: dict = {"kind": kind, "threshold_by": threshold_by, "repeat": bool(repeat)}
    for name, values, model in (("sku_ids", sku_ids, Sku), ("product_ids", product_ids, Product),
                                ("category_ids", category_ids, Category), ("exclude_sku_ids", exclude_sku_ids, Sku)):
        ids = clean_ids(values, name)
        check_ids_exist(model, ids, enterprise_id, name)
        fields[name] = ids
    if max_off is not None:
        fields["max_off"] = clean_int(max_off, "max_off", low=1)
    if kind in (Kind.PERCENT_OFF,):
        fields["rate"] = clean_rate(rate, "rate", high=Decimal("0.9999"))
    elif kind == Kind.AMOUNT_OFF:
        fields["amount"] = clean_int(amount, "amount", low=1)
    elif kind in (Kind.THRESHOLD_AMOUNT, Kind.THRESHOLD_PERCENT):
        fields["tiers"] = _clean_tiers(kind, tiers, threshold_by)
        if repeat and (kind != Kind.THRESHOLD_AMOUNT or len(fields["tiers"]) != 1 or fields["tiers"][0]["min"] == 0):
            raise ValidationFailed(_("'For every' needs one amount-off threshold above zero."), code="invalid_repeat",
                                   details={"field": "repeat"})
    elif kind == Kind.BUY_X_GET_Y:
        fields["buy_quantity"] = clean_int(buy_quantity, "buy_quantity", low=1, high=100)
        fields["get_quantity"] = clean_int(get_quantity, "get_quantity", low=1, high=100)
        fields["get_rate"] = clean_rate(get_rate, "get_rate", high=Decimal("0.9999"))
    elif kind == Kind.BUNDLE:
        if not isinstance(bundle_items, (list, tuple)) or not 2 <= len(bundle_items) <= 10:
            raise ValidationFailed(_("A bundle has 2 to 10 items."), code="invalid_bundle",
                                   details={"field": "bundle_items"})
        items, seen = [], set()
        for item in bundle_items:
            if not isinstance(item, dict):
                raise ValidationFailed(_("Each bundle item is an object."), code="invalid_bundle",
                                       details={"field": "bundle_items"})
            sku_id = clean_ids([item.get("sku_id")], "bundle_items.sku_id")[0]
            if sku_id in seen:
                raise ValidationFailed(_("A SKU appears twice in the bundle."), code="invalid_bundle",
                                       details={"field": "bundle_items"})
            seen.add(sku_id)
            items.append({"sku_id": sku_id, "quantity": clean_int(item.get("quantity"), "bundle_items.quantity",
                                                                  low=1, high=100)})
        check_ids_exist(Sku, sorted(seen), enterprise_id, "bundle_items")
        fields["bundle_items"] = items
        fields["bundle_price"] = clean_int(bundle_price, "bundle_price", low=0)
    elif kind == Kind.TIER_RATE:
        pass  # the rate is the member's tier's
    return fields


def _dump(p: Promotion) -> dict:
    return {"code": p.code, "name": p.name, "kind": p.kind, "status": p.status, "node_id": p.node_id,
            "priority": p.priority, "is_exclusive": p.is_exclusive, "rate": p.rate, "amount": p.amount,
            "tiers": p.tiers, "valid_from": p.valid_from, "valid_to": p.valid_to, "audience_id": p.audience_id}


def audience_for(actor: Staff, audience_id) -> int | None:
    """The id of an audience (member list) the actor may aim at, or None; anything else is a 422 on the field."""
    if audience_id is None:
        return None
    try:
        return member_selectors.audience_get(actor=actor, audience_id=clean_int(audience_id, "audience_id", low=1,
                                                                                high=2**62)).pk
    except NotFound:
        raise ValidationFailed(_("Member list not found."), code="audience_not_found",
                               details={"field": "audience_id"})


def create_promotion_row(*, actor: Staff, node, code: str, name: str, fields: dict, description: str = "",
                         priority: int = 0, is_exclusive: bool = False, channels=None, tier_codes=None,
                         members_only: bool = False, audience_id: int | None = None,
                         valid_from: datetime | None = None, valid_to: datetime | None = None,
                         status: str = PromotionStatus.DRAFT, requires_coupon: bool = False) -> Promotion:
    clean_window(valid_from, valid_to)
    audience_id = audience_for(actor, audience_id)
    if status not in (PromotionStatus.DRAFT, PromotionStatus.ACTIVE):
        raise ValidationFailed(_("A new promotion is a draft or active."), code="invalid_status",
                               details={"field": "status"})
    try:
        with transaction.atomic():
            promotion = Promotion.objects.create(
                enterprise_id=actor.enterprise_id, node=node, code=clean_code(code), name=clean_text(name, "name", 120,
                                                                                                     required=True),
                description=clean_text(description, "description", 500),
                priority=clean_int(priority, "priority", low=-1000, high=1000), is_exclusive=bool(is_exclusive),
                channels=_clean_channels(channels), tier_codes=_clean_tier_codes(tier_codes),
                members_only=bool(members_only), audience_id=audience_id, valid_from=valid_from, valid_to=valid_to,
                status=status, requires_coupon=requires_coupon, created_by=actor, **fields)
    except IntegrityError:
        raise Conflict(_("A promotion with this code exists."), code="promotion_code_taken", details={"field": "code"})
    audit_record(actor=actor, action="promotion.create", target=promotion, after=_dump(promotion),
                 scope_path=node.path)
    return promotion


@transaction.atomic
def promotion_create(*, actor: Staff, node_id: int, code: str, name: str, kind: str, description: str = "",
                     priority: int = 0, is_exclusive: bool = False, channels=None, tier_codes=None,
                     members_only: bool = False, audience_id: int | None = None, valid_from: datetime | None = None,
                     valid_to: datetime | None = None, status: str = PromotionStatus.DRAFT, **maths) -> Promotion:
    """Create an automatic promotion on a node of the actor's subtree (promotion.manage there), optionally for the
    members of one audience only. Audited."""
    node = node_for(actor, node_id, Perm.PROMOTION_MANAGE)
    fields = promotion_fields(enterprise_id=actor.enterprise_id, kind=kind, **maths)
    return create_promotion_row(actor=actor, node=node, code=code, name=name, fields=fields, description=description,
                                priority=priority, is_exclusive=is_exclusive, channels=channels,
                                tier_codes=tier_codes, members_only=members_only, audience_id=audience_id,
                                valid_from=valid_from, valid_to=valid_to, status=status)


STATUS_MOVES = {
    PromotionStatus.DRAFT: {PromotionStatus.ACTIVE, PromotionStatus.ENDED},
    PromotionStatus.ACTIVE: {PromotionStatus.PAUSED, PromotionStatus.ENDED},
    PromotionStatus.PAUSED: {PromotionStatus.ACTIVE, PromotionStatus.ENDED},
    PromotionStatus.ENDED: set(),
}


@transaction.atomic
def promotion_set_status(*, actor: Staff, promotion_id: int, status: str) -> Promotion:
    """Activate, pause or end a promotion (promotion.manage at its node); ended is final. Audited.
    Locks: the promotion row."""
    promotion = Promotion.objects.filter(visible_q(actor), pk=promotion_id).first()
    if promotion is None:
        raise NotFound(_("Promotion not found."), code="promotion_not_found")
    promotion = locks.lock_promotion(promotion.pk)
    require_manage(actor, promotion.node)
    if status not in PromotionStatus.values:
        raise ValidationFailed(_("Unknown status."), code="invalid_status", details={"field": "status"})
    if status == promotion.status:
        return promotion
    if status not in STATUS_MOVES[promotion.status]:
        raise Conflict(_("A promotion cannot go from %(old)s to %(new)s.") % {"old": promotion.status, "new": status},
                       code="invalid_status_change")
    before = promotion.status
    promotion.status = status
    promotion.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="promotion.status", target=promotion, before={"status": before},
                 after={"status": status}, scope_path=promotion.node.path)
    return promotion


@transaction.atomic
def price_floor_set(*, actor: Staff, sku_id: int | None = None, category_id: int | None = None,
                    min_unit_price: int | None = None, min_percent: int | None = None) -> PriceFloor:
    """Set (or replace) the floor of a SKU or a category subtree: no promotion takes a line below it. HQ only
    (price.manage and promotion.manage at the enterprise root). Audited."""
    root = actor.enterprise.nodes.filter(parent__isnull=True).first()
    require(actor, Perm.PRICE_MANAGE, root)
    require(actor, Perm.PROMOTION_MANAGE, root)
    if (sku_id is None) == (category_id is None):
        raise ValidationFailed(_("Give a SKU or a category."), code="invalid_target", details={"field": "sku_id"})
    if min_unit_price is None and min_percent is None:
        raise ValidationFailed(_("Give a minimum price or percentage."), code="required",
                               details={"field": "min_unit_price"})
    if min_unit_price is not None:
        clean_int(min_unit_price, "min_unit_price")
    if min_percent is not None:
        clean_int(min_percent, "min_percent", high=100)
    if sku_id is not None:
        check_ids_exist(Sku, clean_ids([sku_id], "sku_id"), actor.enterprise_id, "sku_id")
        lookup = {"sku_id": sku_id}
    else:
        check_ids_exist(Category, clean_ids([category_id], "category_id"), actor.enterprise_id, "category_id")
        lookup = {"category_id": category_id}
    floor = PriceFloor.objects.select_for_update().filter(enterprise_id=actor.enterprise_id, **lookup).first()
    before = None if floor is None else {"min_unit_price": floor.min_unit_price, "min_percent": floor.min_percent}
    if floor is None:
        floor = PriceFloor(enterprise_id=actor.enterprise_id, **lookup)
    floor.min_unit_price, floor.min_percent = min_unit_price, min_percent
    floor.save()
    audit_record(actor=actor, action="price_floor.set", target=floor, before=before,
                 after={"min_unit_price": min_unit_price, "min_percent": min_percent, **lookup},
                 scope_path=root.path)
    return floor
