"""Stored value (储值): top-ups with bonus rules, spending at checkout, refunds, gift cards. Amounts in fen.

The balance has two parts: `principal` (money the member paid in; refundable) and `bonus` (granted by a top-up
rule or a gift card; spendable, never paid out). Spending takes principal first, then bonus. Each movement is
one `StoredValueEntry` with signed principal and bonus, posted once per (kind, source_type, source_id), under
the member's row lock, with F() updates and CheckConstraints keeping both parts >= 0.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .. import locks
from ..models import (
    GiftCard, GiftCardStatus, Member, StoredValueBalance, StoredValueEntry, StoredValueKind, TopUpRule,
)
from ._common import clean_amount, clean_int, clean_ref, clean_text, insert_once, require_active
from .points import _hook_context

GIFT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
GIFT_CODE_LENGTH = 16


def post(member: Member, *, kind: str, principal: int, bonus: int, source_type: str, source_id: str,
         store: OrgNode | None = None, actor: Staff | None = None, reason: str = "",
         savepoint: bool = True) -> StoredValueEntry:
    """Move the balance by one entry and append it (caller holds the member lock). The balance moves by one
    relative UPDATE that matches only while neither part would go below zero: otherwise 409
    `insufficient_stored_value` and nothing is written, whoever else spent it."""
    bounds = {}
    if principal < 0:
        bounds["principal__gte"] = -principal
    if bonus < 0:
        bounds["bonus__gte"] = -bonus
    if not StoredValueBalance.objects.filter(member=member, **bounds).update(principal=F("principal") + principal,
                                                                             bonus=F("bonus") + bonus):
        raise Conflict(_("Not enough stored value."), code="insufficient_stored_value",
                       details={"available": sum(balance_of(member)), "requested": -(principal + bonus)})
    return insert_once(StoredValueEntry, savepoint=savepoint, enterprise_id=member.enterprise_id, member=member,
                       kind=kind, principal=principal, bonus=bonus, currency=member.enterprise.currency,
                       source_type=source_type, source_id=source_id, store=store, actor=actor, reason=reason[:255])


def balance_of(member: Member) -> tuple[int, int]:
    row = StoredValueBalance.objects.filter(member=member).values_list("principal", "bonus").first()
    return row or (0, 0)


def topup_bonus(enterprise_id: int, amount_fen: int) -> int:
    rule = (TopUpRule.objects.filter(enterprise_id=enterprise_id, is_active=True, min_amount__lte=amount_fen)
            .order_by("-min_amount", "-bonus").first())
    return int(rule.bonus) if rule else 0


def _replay(enterprise_id: int, kind: str, source_type: str, source_id: str, member: Member,
            principal: int | None = None) -> StoredValueEntry | None:
    existing = StoredValueEntry.objects.filter(enterprise_id=enterprise_id, kind=kind, source_type=source_type,
                                               source_id=source_id).first()
    if existing is not None and (existing.member_id != member.pk or (principal is not None and existing.principal != principal)):
        raise Conflict(_("This source reference was already posted."), code="already_posted")
    return existing


@transaction.atomic
def stored_value_topup(*, actor: Staff | None, member_id: int, amount_fen: int, store_id: int | None,
                       payment_ref: str, enterprise_id: int | None = None) -> StoredValueEntry:
    """Credit a paid top-up (principal) plus the best matching bonus rule, once per payment_ref. Audited.
    Locks: the member row."""
    amount_fen = clean_amount(amount_fen)
    payment_ref = clean_ref(payment_ref, "payment_ref")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id, perm=Perm.STORED_VALUE_MANAGE)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    existing = _replay(enterprise_id, StoredValueKind.TOPUP, "payment", payment_ref, member, principal=amount_fen)
    if existing:
        return existing
    bonus = topup_bonus(enterprise_id, amount_fen)
    entry = post(member, kind=StoredValueKind.TOPUP, principal=amount_fen, bonus=bonus, source_type="payment",
                 source_id=payment_ref, store=store, actor=actor)
    audit_record(actor=actor, enterprise=member.enterprise, action="stored_value.topup", target=member,
                 scope_path=member.home.path, after={"principal": amount_fen, "bonus": bonus, "payment_ref": payment_ref})
    return entry


@dataclass(frozen=True)
class TopUpRefund:
    entry: StoredValueEntry
    cash_refund_fen: int  # what the member gets back: the top-up, less any of its bonus already spent


@transaction.atomic
def stored_value_topup_refund(*, actor: Staff, member_id: int, payment_ref: str, refund_ref: str,
                              store_id: int) -> TopUpRefund:
    """Refund a whole top-up: its principal leaves the balance and its bonus is forfeited; bonus already spent is
    kept back from the cash refund. 409 if the principal was partly spent. Once per refund_ref. Audited."""
    payment_ref = clean_ref(payment_ref, "payment_ref")
    refund_ref = clean_ref(refund_ref, "refund_ref")
    enterprise_id, store = _hook_context(actor, member_id, store_id, None, perm=Perm.STORED_VALUE_MANAGE)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    topup = StoredValueEntry.objects.filter(enterprise_id=enterprise_id, kind=StoredValueKind.TOPUP, member=member,
                                            source_type="payment", source_id=payment_ref).first()
    if topup is None:
        raise NotFound(_("No such top-up for this member."), code="topup_not_found")
    if StoredValueEntry.objects.filter(enterprise_id=enterprise_id, kind=StoredValueKind.TOPUP_REFUND,
                                       source_type="topup", source_id=str(topup.pk)).exists():
        raise Conflict(_("This top-up was already refunded."), code="already_refunded")
    principal, bonus = balance_of(member)
    if principal < topup.principal:
        raise Conflict(_("Part of this top-up was already spent."), code="insufficient_stored_value",
                       details={"principal": principal, "topup": topup.principal})
    forfeit = min(topup.bonus, bonus)
    kept_back = topup.bonus - forfeit
    entry = post(member, kind=StoredValueKind.TOPUP_REFUND, principal=-topup.principal, bonus=-forfeit,
                 source_type="topup", source_id=str(topup.pk), store=store, actor=actor, reason=refund_ref)
    audit_record(actor=actor, action="stored_value.topup_refund", target=member, scope_path=member.home.path,
                 after={"topup": topup.pk, "principal": topup.principal, "bonus_forfeited": forfeit,
                        "cash_refund": topup.principal - kept_back})
    return TopUpRefund(entry=entry, cash_refund_fen=topup.principal - kept_back)


def stored_value_spend(*, actor: Staff | None, member_id: int, amount_fen: int, store_id: int | None,
                       source_type: str, source_id: str, enterprise_id: int | None = None,
                       savepoint: bool = True) -> StoredValueEntry:
    """Pay with stored value at checkout (principal first, then bonus), once per source. 409 if short: racing
    checkouts cannot both spend the last yuan. `savepoint=False`: the caller fails as a whole if this fails (a
    sale), so no savepoint is set in its transaction. Locks: the member row."""
    with transaction.atomic(savepoint=savepoint):
        return _spend(actor=actor, member_id=member_id, amount_fen=amount_fen, store_id=store_id,
                      source_type=source_type, source_id=source_id, enterprise_id=enterprise_id, savepoint=savepoint)


def _spend(*, actor: Staff | None, member_id: int, amount_fen: int, store_id: int | None, source_type: str,
           source_id: str, enterprise_id: int | None, savepoint: bool) -> StoredValueEntry:
    amount_fen = clean_amount(amount_fen)
    source_type = clean_ref(source_type, "source_type")
    source_id = clean_ref(source_id, "source_id")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    existing = _replay(enterprise_id, StoredValueKind.SPEND, source_type, source_id, member)
    if existing:
        if existing.amount != -amount_fen:
            raise Conflict(_("This source reference was already posted."), code="already_posted")
        return existing
    principal, bonus = balance_of(member)
    if principal + bonus < amount_fen:
        raise Conflict(_("Not enough stored value."), code="insufficient_stored_value",
                       details={"available": principal + bonus, "requested": amount_fen})
    from_principal = min(principal, amount_fen)
    return post(member, kind=StoredValueKind.SPEND, principal=-from_principal, bonus=-(amount_fen - from_principal),
                source_type=source_type, source_id=source_id, store=store, actor=actor, savepoint=savepoint)


@transaction.atomic
def stored_value_spend_refund(*, actor: Staff | None, member_id: int, source_type: str, source_id: str,
                              refund_ref: str, amount_fen: int, store_id: int | None,
                              enterprise_id: int | None = None) -> StoredValueEntry:
    """Return money paid with stored value back to the balance (at most what that spend took, bonus part last).
    Once per refund_ref. Locks: the member row."""
    amount_fen = clean_amount(amount_fen)
    refund_ref = clean_ref(refund_ref, "refund_ref")
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    spend = StoredValueEntry.objects.filter(enterprise_id=enterprise_id, kind=StoredValueKind.SPEND, member=member,
                                            source_type=source_type, source_id=source_id).first()
    if spend is None:
        raise NotFound(_("No such payment for this member."), code="spend_not_found")
    existing = _replay(enterprise_id, StoredValueKind.SPEND_REFUND, "refund", refund_ref, member)
    if existing:
        return existing
    before = (StoredValueEntry.objects.filter(member=member, kind=StoredValueKind.SPEND_REFUND,
                                              reason=f"spend:{spend.pk}").aggregate(p=Sum("principal"), b=Sum("bonus")))
    principal_left = -spend.principal - (before["p"] or 0)
    bonus_left = -spend.bonus - (before["b"] or 0)
    if amount_fen > principal_left + bonus_left:
        raise ValidationFailed(_("More refunded than was paid."), code="refund_exceeds_payment",
                               details={"refundable": principal_left + bonus_left})
    back_principal = min(principal_left, amount_fen)
    return post(member, kind=StoredValueKind.SPEND_REFUND, principal=back_principal, bonus=amount_fen - back_principal,
                source_type="refund", source_id=refund_ref, store=store, actor=actor, reason=f"spend:{spend.pk}")


# --- top-up rules and gift cards ----------------------------------------------------------------------

def _require_program(actor: Staff) -> None:
    if not has_perm(actor, Perm.MEMBER_PROGRAM_MANAGE):
        raise Forbidden()


@transaction.atomic
def topup_rule_create(*, actor: Staff, min_amount_fen: int, bonus_fen: int) -> TopUpRule:
    _require_program(actor)
    min_amount_fen = clean_amount(min_amount_fen, "min_amount_fen")
    bonus_fen = clean_int(bonus_fen, "bonus_fen", low=0, high=min_amount_fen)
    rule = TopUpRule.objects.create(enterprise_id=actor.enterprise_id, min_amount=min_amount_fen, bonus=bonus_fen)
    audit_record(actor=actor, action="topup_rule.create", target=rule, scope_path=actor.home.path,
                 after={"min_amount": min_amount_fen, "bonus": bonus_fen})
    return rule


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").replace(" ", "").encode()).hexdigest()


@transaction.atomic
def gift_card_issue(*, actor: Staff, value_fen: int, count: int, batch: str = "",
                    expires_at: datetime | None = None) -> list[tuple[GiftCard, str]]:
    """Issue `count` gift codes worth `value_fen` each (HQ). The codes are returned once and only their hashes kept."""
    _require_program(actor)
    value_fen = clean_amount(value_fen, "value_fen")
    count = clean_int(count, "count", high=10000)
    batch = clean_text(batch, "batch", max_length=40)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry must be in the future."), code="invalid_expiry", details={"field": "expires_at"})
    codes: set[str] = set()
    while len(codes) < count:  # unique within the batch; across batches the 80-bit codes and the unique hash index
        codes.add("".join(secrets.choice(GIFT_CODE_ALPHABET) for _i in range(GIFT_CODE_LENGTH)))
    issued = [(GiftCard(enterprise_id=actor.enterprise_id, code_hash=hash_code(code), code_tail=code[-4:],
                        value=value_fen, batch=batch, expires_at=expires_at), code) for code in sorted(codes)]
    try:
        with transaction.atomic():
            GiftCard.objects.bulk_create([card for card, _code in issued])
    except IntegrityError:  # a code already issued before (astronomically unlikely): nothing is issued, ask again
        raise Conflict(_("Could not issue unique codes; try again."), code="gift_code_collision")
    audit_record(actor=actor, action="gift_card.issue", target=actor.enterprise, scope_path=actor.home.path,
                 after={"count": count, "value": value_fen, "batch": batch})
    return issued


@transaction.atomic
def gift_card_redeem(*, actor: Staff | None, member_id: int, code: str, store_id: int | None = None,
                     enterprise_id: int | None = None) -> StoredValueEntry:
    """Redeem a gift code into the member's stored value (as bonus), exactly once: the card is claimed by a
    conditional UPDATE (active and unexpired -> redeemed). Locks: the member row, then the card."""
    if not isinstance(code, str) or not 4 <= len(code.strip()) <= 64:
        raise ValidationFailed(_("Not a gift code."), code="invalid_gift_code", details={"field": "code"})
    enterprise_id, store = _hook_context(actor, member_id, store_id, enterprise_id)
    member = locks.lock_member(member_id, enterprise_id=enterprise_id)
    require_active(member)
    card = GiftCard.objects.filter(enterprise_id=enterprise_id, code_hash=hash_code(code)).first()
    if card is None:
        raise NotFound(_("Unknown gift code."), code="gift_card_not_found")
    now = timezone.now()
    claimed = (GiftCard.objects.filter(pk=card.pk, status=GiftCardStatus.ACTIVE)
               .exclude(expires_at__lte=now)
               .update(status=GiftCardStatus.REDEEMED, redeemed_by=member, redeemed_at=now, updated_at=now))
    if not claimed:
        card.refresh_from_db()
        if card.status == GiftCardStatus.ACTIVE:
            raise Conflict(_("This gift code has expired."), code="gift_card_expired")
        raise Conflict(_("This gift code was already used."), code="gift_card_used")
    return post(member, kind=StoredValueKind.GIFT_CARD, principal=0, bonus=int(card.value), source_type="gift_card",
                source_id=str(card.pk), store=store, actor=actor)


def may_top_up(actor: Staff, member: Member) -> bool:
    return has_perm(actor, Perm.STORED_VALUE_MANAGE, member.home)
