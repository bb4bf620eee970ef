"""Build the engine's Cart from the database and price it: the entry point sales' `cart_price` calls.

Hot path: the enterprise's active promotions, floors and the SKUs of live flash sales / group buys are read once
into a process-local snapshot (core.cache), rebuilt when their version moves: every writer of those tables bumps
it in its transaction, so every process sees a change at its next request (no time-to-live, no staleness). The member's claims are only looked up when the cart holds a
SKU that has a live flash sale or group buy.

`price_lines(...)` loads, for one store at one moment: the active promotions of the store's node and its
ancestors, the coupon campaigns behind the presented codes (with why a code cannot be used), the member's held
flash-sale claims and unpaid group-buy places for SKUs in the cart (their special prices), the price floors of the
cart's SKUs and categories, and the member's tier benefits; then calls `engine.price_cart`.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from yundian.catalog.barcodes import weighed_price
from yundian.catalog.models import Category, Sku
from yundian.catalog.pricing import ancestor_ids
from yundian.core.cache import ORG, PROMOTIONS, VersionCache
from yundian.members.selectors import audiences_holding, member_benefits

from . import engine
from .engine import Cart, Kind, Line, MemberInfo, PricingResult, Rule
from .models import (
    ClaimStatus, CodeMode, Coupon, CouponCampaign, CouponRedemption, CouponStatus, FlashSale, FlashSaleClaim,
    GroupBuyCampaign, GroupBuyMember, GroupMemberStatus, GroupStatus, LiveSessionItem, LiveStatus,
    PriceFloor, Promotion, PromotionStatus, RedemptionStatus,
)

LIVE_CHANNELS = frozenset({"storefront"})  # a live price is for buying online at the store, not at its till
LIVE_PRIORITY = 900  # below a member's own flash or group claim (1000)

MAX_COUPON_CODES = 5
MAX_CODE_LENGTH = 32


@dataclass(frozen=True)
class LineIn:
    """One cart line as sales has priced it before promotions."""

    sku: Sku
    quantity: int
    unit_price: int  # charged per unit (list price or the clerk's override); per kg for weighed SKUs
    gross: int  # unit_price x quantity, or the scale's amount
    list_price: int | None = None


def normalize_code(code: str) -> str:
    return "".join(str(code).split()).upper()[:MAX_CODE_LENGTH]


def _frozen(values) -> frozenset:
    return frozenset(int(v) for v in values or ())


def rule_from(promotion: Promotion, *, coupon_code: str = "", source: str = "promotion", source_id: int = 0,
              blocked: str = "", blocked_details: dict | None = None) -> Rule:
    tiers = []
    for tier in promotion.tiers or ():
        value = tier.get("off") if promotion.kind == Kind.THRESHOLD_AMOUNT else tier.get("rate")
        tiers.append((int(tier["min"]), int(value) if promotion.kind == Kind.THRESHOLD_AMOUNT else Decimal(str(value))))
    return Rule(
        id=promotion.pk, code=promotion.code, name=promotion.name, kind=promotion.kind, priority=promotion.priority,
        exclusive=promotion.is_exclusive, source=source, source_id=source_id or promotion.pk,
        sku_ids=_frozen(promotion.sku_ids), product_ids=_frozen(promotion.product_ids),
        category_ids=_frozen(promotion.category_ids), exclude_sku_ids=_frozen(promotion.exclude_sku_ids),
        store_paths=(promotion.node.path,), channels=frozenset(promotion.channels or ()),
        tier_codes=frozenset(promotion.tier_codes or ()), members_only=promotion.members_only,
        audience_id=promotion.audience_id or 0,
        valid_from=promotion.valid_from, valid_to=promotion.valid_to, coupon_code=coupon_code,
        blocked=blocked or ("" if promotion.status == PromotionStatus.ACTIVE else "coupon_void" if coupon_code
                            else "not_active"),
        blocked_details=tuple((blocked_details or {}).items()),
        rate=Decimal(promotion.rate) if promotion.rate is not None else None, amount=promotion.amount,
        tiers=tuple(tiers), threshold_by=promotion.threshold_by, repeat=promotion.repeat, max_off=promotion.max_off,
        buy=promotion.buy_quantity, get=promotion.get_quantity, get_rate=Decimal(promotion.get_rate),
        bundle=tuple((int(i["sku_id"]), int(i["quantity"])) for i in promotion.bundle_items or ()),
        bundle_price=promotion.bundle_price,
    )


@dataclass(frozen=True)
class Snapshot:
    rules: tuple[tuple[int, Rule], ...]  # (node id, rule) of every active automatic promotion
    floors_by_sku: dict[int, tuple[int | None, int | None]]
    floors_by_category: dict[int, tuple[int | None, int | None]]
    claim_skus: frozenset[int]  # SKUs with an active flash sale or group buy


# per process, by enterprise: rebuilt when a promotion, floor, flash sale, group buy or live session changes (their
# writers bump PROMOTIONS in their transaction) or the org does (node paths)
_SNAPSHOTS = VersionCache("promotions.snapshot", PROMOTIONS, ORG, max_entries=256)


def snapshot(enterprise_id: int) -> Snapshot:
    """The enterprise's promotions, floors and claimable SKUs (rebuilt when their version moves)."""
    return _SNAPSHOTS.get(enterprise_id, _snapshot_build)


def _snapshot_build(enterprise_id: int) -> Snapshot:
    promotions = (Promotion.objects.filter(enterprise_id=enterprise_id, status=PromotionStatus.ACTIVE,
                                           requires_coupon=False).select_related("node"))
    by_sku, by_category = {}, {}
    for row in PriceFloor.objects.filter(enterprise_id=enterprise_id):
        if row.sku_id:
            by_sku[row.sku_id] = (row.min_unit_price, row.min_percent)
        else:
            by_category[row.category_id] = (row.min_unit_price, row.min_percent)
    claim_skus = set(FlashSale.objects.filter(enterprise_id=enterprise_id, is_active=True).values_list("sku_id",
                                                                                                         flat=True))
    claim_skus |= set(GroupBuyCampaign.objects.filter(enterprise_id=enterprise_id, is_active=True)
                      .values_list("sku_id", flat=True))
    rules = [(p.node_id, rule_from(p)) for p in promotions] + live_rules(enterprise_id)
    return Snapshot(rules=tuple(rules), floors_by_sku=by_sku,
                    floors_by_category=by_category, claim_skus=frozenset(claim_skus))


def live_rules(enterprise_id: int) -> list[tuple[int, Rule]]:
    """(store id, rule) per live-price product of every session not cancelled and not over: a special price at the
    session's store, online, between its start and its close (its planned end, or when it was ended early)."""
    since = timezone.now() - timedelta(hours=1)
    items = (LiveSessionItem.objects.filter(enterprise_id=enterprise_id, live_price__isnull=False,
                                            session__ends_at__gt=since)
             .exclude(session__status=LiveStatus.CANCELLED).select_related("session__store"))
    out = []
    for item in items:
        session = item.session
        out.append((session.store_id, Rule(
            id=session.pk, code=f"LIVE-{session.pk}", name=session.title, kind=Kind.SPECIAL_PRICE, source="live",
            source_id=item.pk, priority=LIVE_PRIORITY, sku_ids=frozenset({item.sku_id}),
            store_paths=(session.store.path,), channels=LIVE_CHANNELS, valid_from=session.starts_at,
            valid_to=session.closes_at, special_price=item.live_price, max_quantity=10**6)))
    return out


def automatic_rules(store, at: datetime, snap: Snapshot | None = None) -> list[Rule]:
    """Active, non-coupon promotions of the store's node and its ancestors whose window contains `at`."""
    snap = snap or snapshot(store.enterprise_id)
    chain = set(ancestor_ids(store))
    return [rule for node_id, rule in snap.rules if node_id in chain
            and (rule.valid_from is None or rule.valid_from <= at) and (rule.valid_to is None or at < rule.valid_to)]


def _member_uses(campaign_ids: list[int], member_id: int | None) -> dict[int, int]:
    if member_id is None or not campaign_ids:
        return {}
    rows = (CouponRedemption.objects.filter(campaign_id__in=campaign_ids, member_id=member_id,
                                            status=RedemptionStatus.REDEEMED)
            .values("campaign_id").annotate(n=Count("id")))
    return {r["campaign_id"]: r["n"] for r in rows}


def coupon_rules(store, codes: Sequence[str], member_id: int | None) -> list[Rule]:
    """One rule per presented code (the campaign's benefit), blocked with the reason when it cannot be used."""
    codes = list(dict.fromkeys(normalize_code(c) for c in codes if str(c).strip()))[:MAX_COUPON_CODES]
    if not codes:
        return []
    enterprise_id = store.enterprise_id
    coupons = {c.code: c for c in Coupon.objects.filter(enterprise_id=enterprise_id, code__in=codes)}
    shared = {c.shared_code: c for c in CouponCampaign.objects.filter(enterprise_id=enterprise_id,
                                                                      shared_code__in=codes)}
    campaign_ids = {c.campaign_id for c in coupons.values()} | {c.pk for c in shared.values()}
    campaigns = {c.pk: c for c in CouponCampaign.objects.filter(pk__in=campaign_ids)
                 .select_related("promotion__node", "node")}
    uses = _member_uses(list(campaigns), member_id)
    chain = set(ancestor_ids(store))
    rules, seen = [], set()
    for index, code in enumerate(codes):
        coupon = coupons.get(code)
        campaign = campaigns.get(coupon.campaign_id if coupon else shared[code].pk if code in shared else -1)
        if campaign is None:
            rules.append(Rule(id=-(index + 1), code=code, name=code, kind=Kind.AMOUNT_OFF, source="coupon",
                              coupon_code=code, blocked="unknown_coupon"))
            continue
        blocked = ""
        if campaign.pk in seen:
            blocked = "one_per_campaign"
        elif campaign.promotion.node_id not in chain:
            blocked = "other_store"
        elif coupon is not None and coupon.status == CouponStatus.REDEEMED:
            blocked = "coupon_used"
        elif coupon is not None and coupon.status == CouponStatus.VOID:
            blocked = "coupon_void"
        elif coupon is not None and coupon.member_id is not None and coupon.member_id != member_id:
            blocked = "coupon_not_yours"
        elif campaign.code_mode == CodeMode.SHARED and member_id is None:
            blocked = "member_required"
        elif campaign.total_limit is not None and campaign.redeemed_count >= campaign.total_limit:
            blocked = "coupon_limit_reached"
        elif uses.get(campaign.pk, 0) >= campaign.per_member_limit:
            blocked = "member_limit_reached"
        seen.add(campaign.pk)
        rules.append(rule_from(campaign.promotion, coupon_code=code, source="coupon", source_id=campaign.pk,
                               blocked=blocked))
    return rules


def claim_rules(store, sku_ids: set[int], member_id: int | None, at: datetime,
                snap: Snapshot | None = None) -> list[Rule]:
    """Special prices the member secured for SKUs in the cart: held flash-sale claims, unpaid group-buy places."""
    if member_id is None or not sku_ids:
        return []
    snap = snap or snapshot(store.enterprise_id)
    sku_ids = sku_ids & snap.claim_skus
    if not sku_ids:
        return []
    rules = []
    claims = (FlashSaleClaim.objects.filter(member_id=member_id, status=ClaimStatus.HELD, expires_at__gt=at,
                                            flash_sale__sku_id__in=sku_ids, flash_sale__is_active=True,
                                            flash_sale__enterprise_id=store.enterprise_id)
              .select_related("flash_sale").order_by("id"))
    for claim in claims:
        sale = claim.flash_sale
        rules.append(Rule(id=sale.pk, code=sale.code, name=sale.name, kind=Kind.SPECIAL_PRICE, source="flash_sale",
                          source_id=claim.pk, priority=1000, sku_ids=frozenset({sale.sku_id}),
                          special_price=sale.price, max_quantity=claim.quantity))
    places = (GroupBuyMember.objects.filter(member_id=member_id, status=GroupMemberStatus.JOINED, order_ref="",
                                            group__status=GroupStatus.OPEN, group__expires_at__gt=at,
                                            group__campaign__sku_id__in=sku_ids,
                                            group__campaign__enterprise_id=store.enterprise_id)
              .select_related("group__campaign").order_by("id"))
    for place in places:
        campaign = place.group.campaign
        rules.append(Rule(id=campaign.pk, code=campaign.code, name=campaign.name, kind=Kind.SPECIAL_PRICE,
                          source="group_buy", source_id=place.pk, priority=1000,
                          sku_ids=frozenset({campaign.sku_id}), special_price=place.group.price, max_quantity=1))
    return rules


def floors_for(skus: Sequence[Sku], enterprise_id: int,
               snap: Snapshot | None = None) -> dict[int, tuple[int | None, int | None]]:
    """{sku id: (min unit price, min percent)}: the SKU's own floor, else the nearest category's."""
    snap = snap or snapshot(enterprise_id)
    by_sku, by_category = snap.floors_by_sku, snap.floors_by_category
    categories = {sku.pk: _category_chain(sku.product.category if sku.product.category_id else None) for sku in skus}
    out = {}
    for sku in skus:
        if sku.pk in by_sku:
            out[sku.pk] = by_sku[sku.pk]
            continue
        for category_id in categories[sku.pk]:
            if category_id in by_category:
                out[sku.pk] = by_category[category_id]
                break
    return out


def _category_chain(category: Category | None) -> list[int]:
    """The category's id and its ancestors', nearest first (from the materialised path)."""
    if category is None:
        return []
    return [int(part) for part in reversed(category.path.strip("/").split("/")) if part]


def line_floor(line: LineIn, floor: tuple[int | None, int | None] | None) -> int:
    if floor is None:
        return 0
    min_unit, min_percent = floor
    values = [0]
    if min_unit is not None:
        values.append(weighed_price(min_unit, line.quantity) if line.sku.is_weighed else min_unit * line.quantity)
    if min_percent is not None:
        base = line.list_price if line.list_price is not None else line.unit_price
        list_gross = weighed_price(base, line.quantity) if line.sku.is_weighed else base * line.quantity
        values.append(-(-list_gross * min_percent // 100))  # round up: never below the percentage
    return max(values)


def cart_build(*, store, channel: str, lines: Sequence[LineIn], member=None, coupon_codes: Sequence[str] = (),
               at: datetime | None = None, currency: str = "CNY") -> Cart:
    at = at or timezone.now()
    skus = [l.sku for l in lines]
    snap = snapshot(store.enterprise_id)
    floors = floors_for(skus, store.enterprise_id, snap)
    engine_lines = tuple(
        Line(key=i, sku_id=l.sku.pk, quantity=l.quantity, unit_price=l.unit_price, gross=l.gross,
             product_id=l.sku.product_id,
             category_ids=tuple(_category_chain(l.sku.product.category if l.sku.product.category_id else None)),
             floor=line_floor(l, floors.get(l.sku.pk)), is_weighed=l.sku.is_weighed, list_price=l.list_price)
        for i, l in enumerate(lines))
    member_id = member.pk if member is not None else None
    rules = automatic_rules(store, at, snap)
    rules += coupon_rules(store, coupon_codes, member_id)
    rules += claim_rules(store, {l.sku.pk for l in lines}, member_id, at, snap)
    member_info = None
    if member is not None:
        benefits = member_benefits(member)
        # one query for the whole cart, and none when no rule is for an audience
        holding = audiences_holding(member_id=member_id, audience_ids={r.audience_id for r in rules})
        member_info = MemberInfo(id=member.pk, tier_code=benefits.tier_code, discount_rate=benefits.discount_rate,
                                 tier_name=benefits.tier_name or "", audience_ids=holding)
    return Cart(lines=engine_lines, rules=tuple(rules), store_path=store.path, channel=channel, at=at,
                member=member_info, coupon_codes=tuple(normalize_code(c) for c in coupon_codes), currency=currency,
                store_id=store.pk)


def price_lines(*, store, channel: str, lines: Sequence[LineIn], member=None, coupon_codes: Sequence[str] = (),
                at: datetime | None = None, currency: str = "CNY") -> PricingResult:
    """Price sales' cart lines with every promotion that may apply: the one pricing function behind cart_price."""
    return engine.price_cart(cart_build(store=store, channel=channel, lines=lines, member=member,
                                        coupon_codes=coupon_codes, at=at, currency=currency))
