"""Points: earn on paid orders by rules, redeem at checkout, refunds and reversals on returns, manual adjustments
with approval above a threshold, FIFO expiry by lot.

Every movement is one `PointsEntry`; incoming points open a `PointsLot` (remaining + expires_at); outgoing
points take from lots earliest-expiring first (FIFO) and record `PointsLotUse` rows. The balance changes with
an F() update in the same transaction, under the member's row lock, and a CheckConstraint keeps it >= 0, so
two checkouts racing for the last points cannot both spend them. sum(lots.remaining) == balance == sum(entries).

Hooks for the sales context (orders are not built yet) take a source reference and are idempotent:
`points_earn_for_order`, `points_reverse_for_return`, `points_redeem`, `points_redeem_refund`.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Exists, F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .. import locks, selectors
from ..models import (
    AdjustmentStatus, GrowthKind, Member, MemberProgram, MemberStatus, PointsAdjustment, PointsBalance, PointsEntry,
    PointsKind, PointsLot, PointsLotUse, Tier,
)
from . import growth as growth_services
from ._common import MAX_POINTS, clean_amount, clean_int, clean_ref, clean_text, insert_once, require_active

ORDER_SOURCE = "order"
MAX_LINES = 1000


@dataclass(frozen=True)
class EarnLine:
    """One paid order line as the points rules see it: what was paid (fen) and the product's category."""

    amount_fen: int
    category_id: int | None = None


@dataclass(frozen=True)
class EarnResult:
    points: int
    growth: int
    entry: PointsEntry | None
    replayed: bool = False


@dataclass(frozen=True)
class ReverseResult:
    points: int  # taken back now
    shortfall: int  # points that should have been taken back but were already spent (the sales context settles them)
    entry: PointsEntry | None


# --- ledger primitives (caller holds the member lock) ---------------------------------------------------

def _expiry(member: Member, now: datetime, program: MemberProgram | None = None) -> datetime | None:
    days = (program or selectors.program_get(member.enterprise_id)).points_expiry_days
    return now + timedelta(days=days) if days else None


def credit(member: Member, *, kind: str, points: int, source_type: str, source_id: str,
           lots: list[tuple[int, datetime | None]] | None = None, expires_at: datetime | None = None,
           store: OrgNode | None = None, actor: Staff | None = None, reason: str = "",
           detail: dict | None = None, savepoint: bool = True) -> PointsEntry:
    """Post `points` (> 0) in, opening one lot (or the given (points, expires_at) lots, which must add up)."""
    entry = insert_once(PointsEntry, savepoint=savepoint, enterprise_id=member.enterprise_id, member=member, kind=kind,
                        points=points, source_type=source_type, source_id=source_id, store=store, actor=actor,
                        reason=reason[:255], detail=detail or {})
    lots = lots if lots is not None else [(points, expires_at)]
    if sum(p for p, _e in lots) != points or any(p <= 0 for p, _e in lots):
        raise ValueError("lots must be positive and add up to the entry")
    entry.new_lots = PointsLot.objects.bulk_create(
        [PointsLot(member=member, entry=entry, points=p, remaining=p, expires_at=e) for p, e in lots])
    PointsBalance.objects.filter(member=member).update(points=F("points") + points)
    return entry


def _open_lots(member: Member, prefer: Iterable[int] = ()) -> list[PointsLot]:
    lots = list(PointsLot.objects.filter(member=member, remaining__gt=0)
                .order_by(F("expires_at").asc(nulls_last=True), "id"))
    preferred = [pk for pk in prefer]
    if preferred:
        rank = {pk: i for i, pk in enumerate(preferred)}
        lots.sort(key=lambda lot: (0, rank[lot.pk]) if lot.pk in rank else (1, 0))  # stable: FIFO after preferred
    return lots


def balance_of(member: Member) -> int:
    return PointsBalance.objects.filter(member=member).values_list("points", flat=True).first() or 0


def debit(member: Member, *, kind: str, points: int, source_type: str, source_id: str, prefer_lots: Iterable[int] = (),
          store: OrgNode | None = None, actor: Staff | None = None, reason: str = "",
          detail: dict | None = None) -> PointsEntry:
    """Take `points` (> 0) out, from the preferred lots first, then earliest-expiring first. 409 if short: the
    balance moves first, by one UPDATE that matches only while the balance covers `points` (never below zero,
    whoever else spends it), and nothing is written when it matches nothing."""
    if not PointsBalance.objects.filter(member=member, points__gte=points).update(points=F("points") - points):
        raise Conflict(_("Not enough points."), code="insufficient_points",
                       details={"available": balance_of(member), "requested": points})
    entry = insert_once(PointsEntry, enterprise_id=member.enterprise_id, member=member, kind=kind, points=-points,
                        source_type=source_type, source_id=source_id, store=store, actor=actor, reason=reason[:255],
                        detail=detail or {})
    _consume(member, entry, points, prefer_lots, move_balance=False)
    return entry


def _consume(member: Member, entry: PointsEntry, points: int, prefer_lots: Iterable[int] = (), *,
             move_balance: bool = True) -> list[PointsLotUse]:
    need, uses = points, []
    for lot in _open_lots(member, prefer_lots):
        if need == 0:
            break
        take = min(lot.remaining, need)
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        uses.append(PointsLotUse(entry=entry, lot=lot, points=take))
        need -= take
    if need:  # lots disagree with the balance: refuse rather than let the ledgers drift
        raise Conflict(_("Points lots do not cover the balance; run check-ledgers."), code="points_lots_mismatch")
    PointsLotUse.objects.bulk_create(uses)
    if move_balance and not PointsBalance.objects.filter(member=member, points__gte=points).update(
            points=F("points") - points):
        raise Conflict(_("Not enough points."), code="insufficient_points",
                       details={"available": balance_of(member), "requested": points})
    return uses


# --- scoping for hooks --------------------------------------------------------------------------------

def _hook_context(actor: Staff | None, member_id: int, store_id: int | None, enterprise_id: int | None,
                  perm: str = Perm.MEMBER_MANAGE, *, check_member: bool = True) -> tuple[int, OrgNode | None]:
    """(enterprise id, store) for an order hook. Staff act at a store where they hold `perm`; the member may be from
    any store of the enterprise (membership is enterprise-wide). Without an actor (storefront), the enterprise.
    `check_member=False` when the caller locks the member next (the lock 404s the same way)."""
    if actor is not None:
        enterprise_id = actor.enterprise_id
    if enterprise_id is None:
        raise ValueError("a hook without an actor needs enterprise_id")
    store = None
    if store_id is not None:
        store = selectors.store_get(actor=actor, store_id=store_id, perm=perm, enterprise_id=enterprise_id)
    elif actor is not None:
        raise ValidationFailed(_("A store is required."), code="required", details={"field": "store_id"})
    if check_member:
        selectors.member_for_hook(enterprise_id=enterprise_id, member_id=member_id)
    return enterprise_id, store


def _rules_rate(member: Member, store: OrgNode | None, category_ids: set[int],
                program: MemberProgram | None = None) -> dict[int | None, Decimal]:
    """Points per yuan for each category (None: no category) at `store`: the most specific active rule wins."""
    program = program or selectors.program_get(member.enterprise_id)
    rules = selectors.points_rules(member.enterprise_id)  # per process until the programme, org or catalogue changes
    paths = selectors.category_paths(member.enterprise_id, category_ids)
    rates: dict[int | None, Decimal] = {}
    for category_id in {*category_ids, None}:
        category_path = paths.get(category_id, "")
        best, best_key = None, None
        for rule in rules:
            if rule.node_path and (store is None or not store.path.startswith(rule.node_path)):
                continue
            if rule.category_path and not (category_path and category_path.startswith(rule.category_path)):
                continue
            key = (len(rule.node_path), len(rule.category_path), rule.priority, rule.pk)
            if best_key is None or key > best_key:
                best, best_key = rule, key
        rates[category_id] = best.points_per_yuan if best else Decimal(program.default_points_per_yuan)
    return rates


def points_quote(*, member: Member, store: OrgNode | None, lines: list[EarnLine],
                 program: MemberProgram | None = None) -> int:
    """Points a paid order earns: sum over lines of yuan x rule rate, times the tier's multiplier, rounded down."""
    rates = _rules_rate(member, store, {line.category_id for line in lines if line.category_id}, program)
    raw = sum((Decimal(line.amount_fen) / 100 * rates.get(line.category_id, rates[None]) for line in lines), Decimal(0))
    multiplier = selectors.member_benefits(member).points_multiplier
    return int((raw * multiplier).to_integral_value(rounding=ROUND_FLOOR))


def _clean_lines(lines) -> list[EarnLine]:
    if not isinstance(lines, (list, tuple)) or not lines or len(lines) > MAX_LINES:
        raise ValidationFailed(_("An order needs 1 to 1000 lines."), code="invalid_lines", details={"field": "lines"})
    cleaned = []
    for line in lines:
        if not isinstance(line, EarnLine):
            raise ValidationFailed(_("Not an order line."), code="invalid_lines", details={"field": "lines"})
        if isinstance(line.amount_fen, bool) or not isinstance(line.amount_fen, int) or not 0 <= line.amount_fen <= 10**11:
            raise ValidationFailed(_("Line amounts must be whole fen, not negative."), code="invalid_amount",
                                   details={"field": "lines"})
        cleaned.append(line)
    return cleaned


# --- order hooks --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EarnQuote:
    """What a paid order earns, worked out before the sale's writes from the member as read then (the caller
    passes it to points_earn_for_order, which uses it while the locked member still has that tier)."""

    member_id: int
    tier: Tier | None  # the member's tier as quoted (its multiplier and rank)
    store_id: int | None
    paid_fen: int
    points: int
    growth: int
    program: MemberProgram


def points_earn_quote(*, member: Member, store: OrgNode | None, lines: list[EarnLine]) -> EarnQuote:
    """The points and growth a paid order of `lines` earns `member` at `store` now (reads only)."""
    lines = _clean_lines(lines)
    program = selectors.program_get(member.enterprise_id)
    paid_fen = sum(line.amount_fen for line in lines)
    return EarnQuote(member_id=member.pk, tier=member.tier if member.tier_id else None, store_id=store.pk if store is not None else None,
                     paid_fen=paid_fen, points=points_quote(member=member, store=store, lines=lines, program=program),
                     growth=paid_fen // 100 * program.growth_per_yuan, program=program)


def points_earn_for_order(*, actor: Staff | None, member_id: int, order_ref: str, store_id: int | None,
                          lines: list[EarnLine], paid_at: datetime | None = None, enterprise_id: int | None = None,
                          quote: EarnQuote | None = None, savepoint: bool = True, fresh: bool = False) -> EarnResult:
    """Award points (rules per store/category x tier multiplier) and growth for a paid order, once per order_ref;
    upgrades the tier at once if the growth reaches it. `quote`: points_earn_quote of these lines, used while the
    locked member still has the quoted tier (else worked out again). `savepoint=False`: the caller fails as a
    whole if this fails (a sale), so no savepoints are set in its transaction. `fresh=True`: the order was created
    in the caller's transaction, so nothing can have been posted for it yet and the replay check is skipped (the
    ledgers' unique keys still refuse a second posting: a 409 that aborts the caller). Locks: the member row."""
    with transaction.atomic(savepoint=savepoint):
        return _earn(actor=actor, member_id=member_id, order_ref=order_ref, store_id=store_id, lines=lines,
                     paid_at=paid_at, enterprise_id=enterprise_id, quote=quote, savepoint=savepoint, fresh=fresh)


def _earn(*, actor: Staff | None, member_id: int, order_ref: str, store_id: int | None, lines: list[EarnLine],
          paid_at: datetime | None, enterprise_id: int | None, quote: EarnQuote | None, savepoint: bool,
          fresh: bool = False) -> EarnResult:
    order_ref = clean_ref(order_ref, "order_ref")
    lines = _clean_lines(lines)
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id, check_member=False)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    if not fresh and _earn_posted(member, order_ref):  # the points or the growth: one query for both
        existing = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.EARN,
                                              source_type=ORDER_SOURCE, source_id=order_ref).first()
        if existing is not None and existing.member_id != member.pk:
            raise Conflict(_("This order already earned points for another member."), code="already_posted")
        return EarnResult(points=existing.points if existing else 0,
                          growth=existing.detail.get("growth", 0) if existing else 0, entry=existing, replayed=True)
    now = timezone.now()
    paid_at = paid_at or now
    paid_fen = sum(line.amount_fen for line in lines)
    if quote is not None and (quote.member_id, quote.tier.pk if quote.tier else None, quote.store_id,
                              quote.paid_fen) == (member.pk, member.tier_id, store.pk if store else None, paid_fen):
        program, points, growth = quote.program, quote.points, quote.growth
        member.tier = quote.tier  # the same row, read with the quote (the tier check needs its rank)
    else:
        program = selectors.program_get(enterprise_id)  # read once for the rates, growth, expiry and the tier check
        points = points_quote(member=member, store=store, lines=lines, program=program)
        growth = paid_fen // 100 * program.growth_per_yuan
    growth_services.growth_post(member, kind=GrowthKind.ORDER, growth=growth, occurred_at=paid_at,
                                source_type=ORDER_SOURCE, source_id=order_ref, amount_fen=paid_fen,
                                savepoint=savepoint)
    entry = None
    if points > 0:
        entry = credit(member, kind=PointsKind.EARN, points=points, source_type=ORDER_SOURCE, source_id=order_ref,
                       expires_at=_expiry(member, now, program), store=store, actor=actor,
                       detail={"paid_fen": paid_fen, "growth": growth}, savepoint=savepoint)
    growth_services.tier_upgrade_if_qualified(member, now=now, program=program)
    return EarnResult(points=points, growth=growth, entry=entry)


def _earn_posted(member: Member, order_ref: str) -> bool:
    """Whether the order already earned points or growth (for anyone: the keys are per enterprise), in one query.
    An order that earns nothing of one kind posts no entry of it."""
    from ..models import GrowthEntry

    key = {"enterprise_id": member.enterprise_id, "source_type": ORDER_SOURCE, "source_id": order_ref}
    return Member.objects.filter(pk=member.pk).filter(
        Exists(PointsEntry.objects.filter(kind=PointsKind.EARN, **key))
        | Exists(GrowthEntry.objects.filter(kind=GrowthKind.ORDER, **key))).exists()


@transaction.atomic
def points_reverse_for_return(*, actor: Staff | None, member_id: int, order_ref: str, return_ref: str,
                              returned_amount_fen: int, store_id: int | None,
                              enterprise_id: int | None = None) -> ReverseResult:
    """Take back the points and growth a returned part of an order earned (pro rata by amount, cumulative over
    returns, rounded so the sum never exceeds what was earned). Never negative: points already spent are reported
    as `shortfall`. Once per return_ref. Locks: the member row."""
    from ..models import GrowthEntry

    order_ref = clean_ref(order_ref, "order_ref")
    return_ref = clean_ref(return_ref, "return_ref")
    returned_amount_fen = clean_amount(returned_amount_fen, "returned_amount_fen")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    previous = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.REVERSE, source_type="return",
                                          source_id=return_ref).first()
    if previous is not None:
        if previous.member_id != member.pk or previous.detail.get("order_ref") != order_ref:
            raise Conflict(_("This return was already posted for another order."), code="already_posted")
        return ReverseResult(points=-previous.points, shortfall=previous.detail.get("shortfall", 0), entry=previous)
    earn = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.EARN, source_type=ORDER_SOURCE,
                                      source_id=order_ref, member=member).first()
    growth_entry = GrowthEntry.objects.filter(enterprise_id=enterprise_id, kind=GrowthKind.ORDER,
                                              source_type=ORDER_SOURCE, source_id=order_ref, member=member).first()
    if earn is None and growth_entry is None:
        raise NotFound(_("This order earned nothing for this member."), code="order_not_earned")
    paid_fen = earn.detail["paid_fen"] if earn else growth_entry.amount_fen
    earned_points = earn.points if earn else 0
    earned_growth = growth_entry.growth if growth_entry else 0
    earlier = list(PointsEntry.objects.filter(member=member, kind=PointsKind.REVERSE, detail__order_ref=order_ref))
    returned_before = sum(e.detail.get("returned_fen", 0) for e in earlier)
    if returned_before + returned_amount_fen > paid_fen:
        raise ValidationFailed(_("More was returned than was paid for this order."), code="return_exceeds_order",
                               details={"paid_fen": paid_fen, "returned_before_fen": returned_before})
    cumulative = returned_before + returned_amount_fen
    target_points = earned_points * cumulative // paid_fen
    accounted = sum(-e.points + e.detail.get("shortfall", 0) for e in earlier)
    due = max(0, target_points - accounted)
    take = min(due, balance_of(member))
    detail = {"order_ref": order_ref, "returned_fen": returned_amount_fen, "shortfall": due - take}
    if take > 0:
        entry = debit(member, kind=PointsKind.REVERSE, points=take, source_type="return", source_id=return_ref,
                      prefer_lots=list(earn.lots.values_list("pk", flat=True)) if earn else (), store=store,
                      actor=actor, detail=detail)
    else:
        entry = insert_once(PointsEntry, enterprise_id=enterprise_id, member=member, kind=PointsKind.REVERSE, points=0,
                            source_type="return", source_id=return_ref, store=store, actor=actor, detail=detail)
    growth_back = earned_growth * cumulative // paid_fen - earned_growth * returned_before // paid_fen
    growth_services.growth_post(member, kind=GrowthKind.REVERSE, growth=-growth_back,
                                occurred_at=growth_entry.occurred_at if growth_entry else timezone.now(),
                                source_type="return", source_id=return_ref, amount_fen=-returned_amount_fen)
    return ReverseResult(points=take, shortfall=due - take, entry=entry)


@transaction.atomic
def points_redeem(*, actor: Staff | None, member_id: int, points: int, store_id: int | None, source_type: str,
                  source_id: str, enterprise_id: int | None = None) -> PointsEntry:
    """Spend points at checkout (earliest-expiring lots first), once per (source_type, source_id). 409 when the
    balance is short: two checkouts racing for the last points succeed once. Locks: the member row."""
    points = clean_int(points, "points", high=MAX_POINTS)
    source_type = clean_ref(source_type, "source_type")
    source_id = clean_ref(source_id, "source_id")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    existing = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.REDEEM, source_type=source_type,
                                          source_id=source_id).first()
    if existing is not None:
        if existing.member_id != member.pk or existing.points != -points:
            raise Conflict(_("This source reference was already posted."), code="already_posted")
        return existing
    return debit(member, kind=PointsKind.REDEEM, points=points, source_type=source_type, source_id=source_id,
                 store=store, actor=actor)


@transaction.atomic
def points_redeem_refund(*, actor: Staff | None, member_id: int, source_type: str, source_id: str, refund_ref: str,
                         points: int, store_id: int | None, enterprise_id: int | None = None) -> PointsEntry:
    """Give back points redeemed on a cancelled or returned order (at most what was redeemed, over all refunds).
    The points keep the longest validity of the lots they came from. Once per refund_ref. Locks: the member row."""
    points = clean_int(points, "points", high=MAX_POINTS)
    refund_ref = clean_ref(refund_ref, "refund_ref")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    redeem = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.REDEEM, member=member,
                                        source_type=source_type, source_id=source_id).first()
    if redeem is None:
        raise NotFound(_("No such redemption for this member."), code="redemption_not_found")
    existing = PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.REDEEM_REFUND,
                                          source_type="refund", source_id=refund_ref).first()
    if existing is not None:
        if existing.member_id != member.pk or existing.points != points:
            raise Conflict(_("This source reference was already posted."), code="already_posted")
        return existing
    refunded = (PointsEntry.objects.filter(member=member, kind=PointsKind.REDEEM_REFUND,
                                           detail__redeem_entry=redeem.pk).aggregate(s=Sum("points"))["s"] or 0)
    if refunded + points > -redeem.points:
        raise ValidationFailed(_("More points refunded than were redeemed."), code="refund_exceeds_redemption",
                               details={"redeemed": -redeem.points, "refunded_before": refunded})
    expiries = [use.lot.expires_at for use in redeem.lot_uses.select_related("lot")]
    expires_at = None if (not expiries or any(e is None for e in expiries)) else max(expiries)
    return credit(member, kind=PointsKind.REDEEM_REFUND, points=points, source_type="refund", source_id=refund_ref,
                  expires_at=expires_at, store=store, actor=actor, detail={"redeem_entry": redeem.pk})


# --- adjustments --------------------------------------------------------------------------------------

@transaction.atomic
def points_adjust(*, actor: Staff, member_id: int, points: int, reason: str) -> PointsAdjustment:
    """Correct a member's points by hand (points.adjust at their home, a reason required). Up to the programme's
    threshold it posts at once; above it waits for another person's approval. Audited. Locks: the member row."""
    member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.POINTS_ADJUST)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_POINTS:
        raise ValidationFailed(_("An adjustment is a non-zero whole number of points."), code="invalid_number",
                               details={"field": "points"})
    reason = clean_text(reason, "reason", required=True)
    member = locks.lock_member(member.pk, enterprise_id=actor.enterprise_id)
    require_active(member)
    threshold = selectors.program_get(member.enterprise_id).adjust_approval_threshold
    adjustment = PointsAdjustment.objects.create(enterprise_id=member.enterprise_id, member=member, points=points,
                                                 reason=reason, status=AdjustmentStatus.PENDING, requested_by=actor)
    if abs(points) <= threshold:
        _post_adjustment(adjustment, member, decided_by=actor)
    audit_record(actor=actor, action="points.adjust", target=member, reason=reason, scope_path=member.home.path,
                 after={"adjustment": adjustment.pk, "points": points, "status": adjustment.status,
                        "threshold": threshold})
    return adjustment


def _post_adjustment(adjustment: PointsAdjustment, member: Member, *, decided_by: Staff) -> None:
    kwargs = dict(kind=PointsKind.ADJUST, source_type="adjustment", source_id=str(adjustment.pk), actor=decided_by,
                  reason=adjustment.reason)
    if adjustment.points > 0:
        entry = credit(member, points=adjustment.points, expires_at=_expiry(member, timezone.now()), **kwargs)
    else:
        entry = debit(member, points=-adjustment.points, **kwargs)
    adjustment.status, adjustment.entry = AdjustmentStatus.POSTED, entry
    adjustment.decided_by, adjustment.decided_at = decided_by, timezone.now()
    adjustment.save(update_fields=["status", "entry", "decided_by", "decided_at", "updated_at"])


def _pending_adjustment(actor: Staff, adjustment_id: int) -> tuple[PointsAdjustment, Member]:
    adjustment = PointsAdjustment.objects.filter(pk=adjustment_id, enterprise_id=actor.enterprise_id).first()
    if adjustment is None:
        raise NotFound(_("Adjustment not found."), code="adjustment_not_found")
    selectors.member_get(actor=actor, member_id=adjustment.member_id, perm=Perm.POINTS_APPROVE)
    member = locks.lock_member(adjustment.member_id, enterprise_id=actor.enterprise_id)
    adjustment = locks.lock_adjustment(adjustment_id, enterprise_id=actor.enterprise_id)
    if adjustment.status != AdjustmentStatus.PENDING:
        raise Conflict(_("This adjustment was already decided."), code="adjustment_decided")
    if adjustment.requested_by_id == actor.pk:
        raise Forbidden(_("Someone else must approve your own adjustment."), code="self_approval")
    return adjustment, member


@transaction.atomic
def points_adjustment_approve(*, actor: Staff, adjustment_id: int) -> PointsAdjustment:
    """Approve and post a pending adjustment (points.approve at the member's home, not the requester). Audited.
    Locks: the member row, then the adjustment."""
    adjustment, member = _pending_adjustment(actor, adjustment_id)
    require_active(member)
    _post_adjustment(adjustment, member, decided_by=actor)
    audit_record(actor=actor, action="points.adjust.approve", target=member, reason=adjustment.reason,
                 scope_path=member.home.path, after={"adjustment": adjustment.pk, "points": adjustment.points})
    return adjustment


@transaction.atomic
def points_adjustment_reject(*, actor: Staff, adjustment_id: int, reason: str = "") -> PointsAdjustment:
    adjustment, member = _pending_adjustment(actor, adjustment_id)
    reason = clean_text(reason, "reason")
    adjustment.status, adjustment.decided_by, adjustment.decided_at = AdjustmentStatus.REJECTED, actor, timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action="points.adjust.reject", target=member, reason=reason or adjustment.reason,
                 scope_path=member.home.path, after={"adjustment": adjustment.pk, "points": adjustment.points})
    return adjustment


# --- expiry and birthday gifts (tasks) ----------------------------------------------------------------

def points_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Expire every lot whose time has come: one EXPIRE entry per lot (source: the lot, so a lot expires once), in
    one short transaction per member. Idempotent and restartable. Returns the number of lots expired."""
    now = now or timezone.now()
    expired, last_member = 0, 0
    while True:
        due = list(PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now, member_id__gt=last_member)
                   .order_by("member_id").values_list("member_id", "member__enterprise_id").distinct()[:batch])
        if not due:
            return expired
        for member_id, enterprise_id in due:
            with transaction.atomic():
                member = locks.lock_member(member_id, enterprise_id=enterprise_id)
                lots = list(PointsLot.objects.filter(member=member, remaining__gt=0, expires_at__lte=now).order_by("id"))
                for lot in lots:
                    entry = insert_once(PointsEntry, enterprise_id=enterprise_id, member=member, kind=PointsKind.EXPIRE,
                                        points=-lot.remaining, source_type="lot", source_id=str(lot.pk),
                                        detail={"expires_at": lot.expires_at.isoformat()})
                    _consume(member, entry, lot.remaining, prefer_lots=[lot.pk])
                    expired += 1
            last_member = member_id


def points_birthday_gifts(*, day=None) -> int:
    """Give each active member whose birthday is `day` their tier's birthday points, once a year. Returns gifts."""
    day = day or timezone.localdate()
    given = 0
    members = (Member.objects.filter(status=MemberStatus.ACTIVE, birthday__month=day.month, birthday__day=day.day,
                                     tier__birthday_gift_points__gt=0).order_by("pk").values_list("pk", "enterprise_id"))
    for member_id, enterprise_id in members.iterator(chunk_size=1000):
        with transaction.atomic():
            member = locks.lock_member(member_id, enterprise_id=enterprise_id)
            source_id = f"{member.pk}:{day.year}"
            if PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.BIRTHDAY,
                                          source_type="birthday", source_id=source_id).exists():
                continue
            gift = member.tier.birthday_gift_points if member.tier_id else 0
            if gift > 0 and member.status == MemberStatus.ACTIVE:
                credit(member, kind=PointsKind.BIRTHDAY, points=gift, source_type="birthday", source_id=source_id,
                       expires_at=_expiry(member, timezone.now()))
                given += 1
    return given


def may_adjust(actor: Staff, member: Member) -> bool:
    return has_perm(actor, Perm.POINTS_ADJUST, member.home)


def points_grant_keyed(*, enterprise_id: int, grants: list[tuple[int, int, str]], source_type: str,
                       reason: str = "") -> dict[str, int]:
    """Grant points to members by the system (a journey step), each grant (member_id, points, key) at most once
    ever: the key is the entry's source id under `source_type` (unique), so a replay posts nothing twice. Members
    who are not active are skipped. One transaction; locks the members by pk (the global order). Returns
    {key: entry id} of the grants posted or already posted."""
    if not grants:
        return {}
    keys = [k for _m, _p, k in grants]
    with transaction.atomic():
        done = dict(PointsEntry.objects.filter(enterprise_id=enterprise_id, kind=PointsKind.ADJUST,
                                                source_type=source_type, source_id__in=keys)
                    .values_list("source_id", "id"))
        todo = [g for g in grants if g[2] not in done]
        members = locks.lock_members(sorted({m for m, _p, _k in todo}), enterprise_id=enterprise_id)
        now = timezone.now()
        for member_id, amount, key in todo:
            member = members.get(member_id)
            if member is None or member.status != MemberStatus.ACTIVE or amount <= 0:
                continue
            entry = credit(member, kind=PointsKind.ADJUST, points=amount, source_type=source_type, source_id=key,
                           reason=reason, expires_at=_expiry(member, now))
            done[key] = entry.pk
    return done
