"""Growth value (成长值) and tiers: growth is a ledger of dated entries; a tier is held while the growth inside the
programme's window reaches it. Upgrades happen at once (when growth arrives); downgrades only at the review
(`tier_review_due`, a scheduled task), one window after the tier was reached or last reviewed."""
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, ValidationFailed
from yundian.core.outbox import outbox_emit
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .. import locks, selectors
from ..models import GrowthEntry, Member, MemberProgram, MemberStatus, Tier, TierChange
from ._common import clean_int, clean_text, insert_once


def growth_post(member: Member, *, kind: str, growth: int, occurred_at: datetime, source_type: str,
                source_id: str, amount_fen: int = 0, savepoint: bool = True) -> GrowthEntry | None:
    """Append one growth entry (caller holds the member lock). Zero growth writes nothing."""
    if growth == 0:
        return None
    return insert_once(GrowthEntry, savepoint=savepoint, enterprise_id=member.enterprise_id, member=member, kind=kind,
                       growth=growth, occurred_at=occurred_at, source_type=source_type, source_id=source_id,
                       amount_fen=amount_fen)


def _set_tier(member: Member, tier: Tier | None, *, reason: str, growth: int, now: datetime, window_days: int) -> None:
    TierChange.objects.create(member=member, from_tier=member.tier, to_tier=tier, reason=reason, growth=growth)
    member.tier = tier
    member.tier_since = now if tier else None
    member.tier_review_at = now + timedelta(days=window_days) if tier else None
    Member.objects.filter(pk=member.pk).update(tier=tier, tier_since=member.tier_since,
                                               tier_review_at=member.tier_review_at, updated_at=now)
    outbox_emit(enterprise_id=member.enterprise_id, topic="member.changed", key=member.pk)


def tier_upgrade_if_qualified(member: Member, *, now: datetime | None = None,
                              program: MemberProgram | None = None) -> bool:
    """Raise the member to the best tier their windowed growth reaches (never lowers). Caller holds the lock;
    `program` when the caller has already read it."""
    now = now or timezone.now()
    current_rank = member.tier.rank if member.tier_id else -1
    if not any(tier.rank > current_rank for tier in selectors.tiers_by_rank(member.enterprise_id)):
        return False  # at the top tier (or the programme has none): no growth to count (per-process cached tiers)
    program = program or selectors.program_get(member.enterprise_id)
    growth = selectors.growth_in_window(member, now=now, window_days=program.growth_window_days)
    qualified = selectors.tier_qualified(member.enterprise_id, growth)
    if qualified is not None and qualified.rank > current_rank:
        _set_tier(member, qualified, reason="upgrade", growth=growth, now=now, window_days=program.growth_window_days)
        return True
    return False


def tier_review(member: Member, *, now: datetime | None = None) -> str:
    """Review one member (caller holds the lock): move to the tier the windowed growth earns, up or down.
    Returns 'upgrade', 'downgrade' or 'kept'; the next review is one window later."""
    now = now or timezone.now()
    program = selectors.program_get(member.enterprise_id)
    growth = selectors.growth_in_window(member, now=now, window_days=program.growth_window_days)
    qualified = selectors.tier_qualified(member.enterprise_id, growth)
    current_rank = member.tier.rank if member.tier_id else -1
    new_rank = qualified.rank if qualified else -1
    if new_rank == current_rank:
        if member.tier_id:
            member.tier_review_at = now + timedelta(days=program.growth_window_days)
            Member.objects.filter(pk=member.pk).update(tier_review_at=member.tier_review_at)
        return "kept"
    reason = "upgrade" if new_rank > current_rank else "downgrade"
    _set_tier(member, qualified, reason=reason, growth=growth, now=now, window_days=program.growth_window_days)
    return reason


def tier_review_due(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Review every active member whose review date has come (one short transaction per member). Idempotent:
    a reviewed member's next review moves a window ahead."""
    now = now or timezone.now()
    counts = {"upgrade": 0, "downgrade": 0, "kept": 0}
    last_id = 0
    while True:
        due = list(Member.objects.filter(status=MemberStatus.ACTIVE, tier_review_at__lte=now, pk__gt=last_id)
                   .order_by("pk").values_list("pk", "enterprise_id")[:batch])
        if not due:
            return counts
        for member_id, enterprise_id in due:
            with transaction.atomic():
                member = locks.lock_member(member_id, enterprise_id=enterprise_id)
                if member.status == MemberStatus.ACTIVE and member.tier_review_at and member.tier_review_at <= now:
                    counts[tier_review(member, now=now)] += 1
            last_id = member_id


def _require_program_manager(actor: Staff) -> None:
    if not has_perm(actor, Perm.MEMBER_PROGRAM_MANAGE):
        raise Forbidden()


@transaction.atomic
def tier_create(*, actor: Staff, code: str, name: str, rank: int, min_growth: int, discount_rate="1",
                birthday_gift_points: int = 0, free_shipping: bool = False, points_multiplier="1") -> Tier:
    """Add a tier (HQ, member_program.manage). Higher rank must need more growth than every lower rank."""
    from decimal import Decimal, InvalidOperation

    _require_program_manager(actor)
    code = clean_text(code, "code", max_length=32, required=True)
    name = clean_text(name, "name", max_length=80, required=True)
    rank = clean_int(rank, "rank", low=0, high=1000)
    min_growth = clean_int(min_growth, "min_growth", low=0)
    birthday_gift_points = clean_int(birthday_gift_points, "birthday_gift_points", low=0)
    try:
        rate, multiplier = Decimal(str(discount_rate)), Decimal(str(points_multiplier))
    except InvalidOperation:
        raise ValidationFailed(_("Not a valid rate."), code="invalid_rate")
    if not (rate.is_finite() and Decimal("0.01") <= rate <= 1 and rate == rate.quantize(Decimal("0.001"))):
        raise ValidationFailed(_("The discount rate must be between 0.01 and 1."), code="invalid_rate",
                               details={"field": "discount_rate"})
    if not (multiplier.is_finite() and 0 <= multiplier <= 10 and multiplier == multiplier.quantize(Decimal("0.01"))):
        raise ValidationFailed(_("The points multiplier must be between 0 and 10."), code="invalid_rate",
                               details={"field": "points_multiplier"})
    tiers = Tier.objects.filter(enterprise_id=actor.enterprise_id)
    if tiers.filter(code=code).exists() or tiers.filter(rank=rank).exists():
        raise Conflict(_("A tier with this code or rank exists."), code="tier_exists")
    if (tiers.filter(rank__lt=rank, min_growth__gte=min_growth).exists()
            or tiers.filter(rank__gt=rank, min_growth__lte=min_growth).exists()):
        raise ValidationFailed(_("A higher tier must need more growth."), code="tier_order", details={"field": "min_growth"})
    try:
        with transaction.atomic():
            tier = Tier.objects.create(enterprise_id=actor.enterprise_id, code=code, name=name, rank=rank,
                                       min_growth=min_growth, discount_rate=rate, free_shipping=bool(free_shipping),
                                       birthday_gift_points=birthday_gift_points, points_multiplier=multiplier)
    except IntegrityError:  # a concurrent create won
        raise Conflict(_("A tier with this code or rank exists."), code="tier_exists")
    audit_record(actor=actor, action="member_tier.create", target=tier, scope_path=actor.home.path,
                 after={"code": code, "rank": rank, "min_growth": min_growth, "discount_rate": str(rate)})
    return tier
