"""Flash sales (秒杀): an exact cap under a burst of buyers, without a queue.

A buy is one short transaction of conditional UPDATEs, so it holds on SQLite (IMMEDIATE: writers take turns) and
on PostgreSQL (row locks):
1. the member's row for this sale: quantity + n <= per-member limit, else 409 `member_limit_reached`;
2. the sale: sold + n <= cap (and the sold-out flag set by the update that reaches the cap), else 409 `sold_out`;
3. the claim row, unique per (sale, member, client key): a retry returns the first claim.
Every buy takes the member row before the sale row (and so does a release), so they never deadlock. Once sold
out, buyers are turned away by a plain read of `is_sold_out`, and a member who already holds their limit by a read
of their row, with no write transaction at all. Nothing is cached: units given back (an expired claim, a cancelled
order) clear `is_sold_out` in the same UPDATE, so the very next tap can win them.

A claim is a reserved price: the order that uses it must be placed within `hold_minutes`; a task releases the
claims nobody ordered and gives their units back.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import PROMOTIONS, cache_bump
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm

from ..scoping import require_manage, visible_q
from ..models import ClaimStatus, FlashSale, FlashSaleBuyer, FlashSaleClaim
from ._common import clean_code, clean_int, clean_ref, clean_text, clean_window, member_for, node_for, sku_for

MAX_CLIENT_REF = 64


@transaction.atomic
def flash_sale_create(*, actor: Staff, node_id: int, code: str, name: str, sku_id: int, price: int, cap: int,
                      starts_at: datetime, ends_at: datetime, per_member_limit: int = 1,
                      hold_minutes: int = 15) -> FlashSale:
    """A flash sale on a node of the actor's subtree (promotion.manage there). Audited."""
    node = node_for(actor, node_id, Perm.PROMOTION_MANAGE)
    clean_window(starts_at, ends_at, required=True)
    sku = sku_for(actor.enterprise_id, sku_id)
    if sku.is_weighed:
        raise ValidationFailed(_("Weighed goods cannot be sold in a flash sale."), code="weighed_sku",
                               details={"field": "sku_id"})
    try:
        with transaction.atomic():
            sale = FlashSale.objects.create(
                enterprise_id=actor.enterprise_id, node=node, code=clean_code(code),
                name=clean_text(name, "name", 120, required=True), sku=sku, price=clean_int(price, "price"),
                cap=clean_int(cap, "cap", low=1, high=10_000_000),
                per_member_limit=clean_int(per_member_limit, "per_member_limit", low=1, high=1000),
                starts_at=starts_at, ends_at=ends_at,
                hold_minutes=clean_int(hold_minutes, "hold_minutes", low=1, high=24 * 60), created_by=actor)
    except IntegrityError:
        raise Conflict(_("A flash sale with this code exists."), code="flash_sale_code_taken", details={"field": "code"})
    audit_record(actor=actor, action="flash_sale.create", target=sale,
                 after={"code": sale.code, "sku_id": sku.pk, "price": sale.price, "cap": sale.cap,
                        "per_member_limit": sale.per_member_limit, "starts_at": starts_at, "ends_at": ends_at},
                 scope_path=node.path)
    return sale


@dataclass(frozen=True)
class BuyResult:
    claim: FlashSaleClaim
    replayed: bool


def _live_sale(flash_sale_id, now: datetime) -> FlashSale:
    if isinstance(flash_sale_id, bool) or not isinstance(flash_sale_id, int):
        raise NotFound(_("Flash sale not found."), code="flash_sale_not_found")
    sale = FlashSale.objects.filter(pk=flash_sale_id, is_active=True).first()
    if sale is None:
        raise NotFound(_("Flash sale not found."), code="flash_sale_not_found")
    return sale


def flash_sale_buy(*, flash_sale_id: int, member_id: int, client_ref: str, quantity: int = 1,
                   now: datetime | None = None, enterprise_id: int | None = None) -> BuyResult:
    """Secure `quantity` units of a flash sale for a member, once per client key (a retry returns the first claim).
    409 `sold_out` (fast, by a read, once the cap is reached), `member_limit_reached`, `not_started`, `ended`.
    Never sells past the cap or past a member's limit. Takes no lock: conditional UPDATEs, member row first.
    `enterprise_id` (the buyer's, from their token): a sale of another enterprise is not found."""
    now = now or timezone.now()
    client_ref = clean_ref(client_ref, "client_ref")
    sale = _live_sale(flash_sale_id, now)
    if enterprise_id is not None and sale.enterprise_id != enterprise_id:
        raise NotFound(_("Flash sale not found."), code="flash_sale_not_found")
    quantity = clean_int(quantity, "quantity", low=1, high=sale.per_member_limit, code="invalid_quantity")
    existing = FlashSaleClaim.objects.filter(flash_sale=sale, member_id=member_id, client_ref=client_ref).first()
    if existing is not None:
        return _replay(existing, quantity)
    if now < sale.starts_at:
        raise Conflict(_("The flash sale has not started."), code="not_started",
                       details={"starts_at": sale.starts_at.isoformat()})
    if now >= sale.ends_at:
        raise Conflict(_("The flash sale has ended."), code="ended")
    if sale.is_sold_out:
        raise Conflict(_("Sold out."), code="sold_out")
    if isinstance(member_id, int) and FlashSaleBuyer.objects.filter(flash_sale_id=sale.pk, member_id=member_id,
                                                                    quantity__gt=sale.per_member_limit - quantity).exists():
        # already holds their limit: refused by a read, like sold out, without a write transaction (a unit given
        # back meanwhile is seen by the next tap; the conditional UPDATE below stays the guard for the rest)
        raise Conflict(_("You already bought as many as allowed."), code="member_limit_reached",
                       details={"limit": sale.per_member_limit})
    member = member_for(sale.enterprise_id, member_id)
    try:
        with transaction.atomic():
            buyer, _created = FlashSaleBuyer.objects.get_or_create(flash_sale=sale, member=member)
            if not FlashSaleBuyer.objects.filter(pk=buyer.pk, quantity__lte=sale.per_member_limit - quantity).update(
                    quantity=F("quantity") + quantity):
                raise Conflict(_("You already bought as many as allowed."), code="member_limit_reached",
                               details={"limit": sale.per_member_limit})
            won = FlashSale.objects.filter(pk=sale.pk, is_active=True, sold__lte=F("cap") - quantity).update(
                sold=F("sold") + quantity,
                is_sold_out=Case(When(sold__gte=F("cap") - quantity, then=Value(True)), default=Value(False)))
            if not won:
                raise Conflict(_("Sold out."), code="sold_out")
            claim = FlashSaleClaim.objects.create(flash_sale=sale, member=member, quantity=quantity,
                                                  client_ref=client_ref,
                                                  expires_at=now + timedelta(minutes=sale.hold_minutes))
    except IntegrityError:
        existing = FlashSaleClaim.objects.filter(flash_sale=sale, member=member, client_ref=client_ref).first()
        if existing is None:
            raise
        return _replay(existing, quantity)
    return BuyResult(claim, False)


def _replay(claim: FlashSaleClaim, quantity: int) -> BuyResult:
    if claim.quantity != quantity:
        raise Conflict(_("This client key was used for another quantity."), code="idempotency_key_reused")
    return BuyResult(claim, True)


def _give_back(claim: FlashSaleClaim) -> None:
    """Return a claim's units to the member's allowance and the sale (member row first, as a buy does)."""
    FlashSaleBuyer.objects.filter(flash_sale_id=claim.flash_sale_id, member_id=claim.member_id,
                                  quantity__gte=claim.quantity).update(quantity=F("quantity") - claim.quantity)
    FlashSale.objects.filter(pk=claim.flash_sale_id, sold__gte=claim.quantity).update(
        sold=F("sold") - claim.quantity, is_sold_out=False)


def flash_claims_release_expired(*, now: datetime | None = None, batch: int = 500) -> int:
    """Release held claims whose time to order has passed and give their units back. Idempotent: a claim moves
    held -> released by a conditional UPDATE, once. One short transaction per claim."""
    now = now or timezone.now()
    released = 0
    for claim in FlashSaleClaim.objects.filter(status=ClaimStatus.HELD, expires_at__lte=now).order_by("id")[:batch]:
        with transaction.atomic():
            if FlashSaleClaim.objects.filter(pk=claim.pk, status=ClaimStatus.HELD).update(
                    status=ClaimStatus.RELEASED, updated_at=now):
                _give_back(claim)
                released += 1
    return released


def flash_claim_order(*, claim_id: int, member_id: int, order_ref: str, now: datetime | None = None) -> FlashSaleClaim:
    """Mark a held claim as ordered (inside the order's transaction); the same order again is a no-op.
    409 `claim_expired` if it was released or belongs to another order."""
    now = now or timezone.now()
    order_ref = clean_ref(order_ref)
    claim = FlashSaleClaim.objects.filter(pk=claim_id, member_id=member_id).first()
    if claim is None:
        raise NotFound(_("Claim not found."), code="claim_not_found")
    if claim.status == ClaimStatus.ORDERED and claim.order_ref == order_ref:
        return claim
    if not FlashSaleClaim.objects.filter(pk=claim.pk, status=ClaimStatus.HELD, expires_at__gt=now).update(
            status=ClaimStatus.ORDERED, order_ref=order_ref, updated_at=now):
        raise Conflict(_("The reserved price has expired."), code="claim_expired")
    claim.status, claim.order_ref = ClaimStatus.ORDERED, order_ref
    return claim


def flash_claims_cancel(*, order_ref: str) -> int:
    """An order that used claims was cancelled: release them and give the units back (once). Returns claims released."""
    order_ref = clean_ref(order_ref)
    released = 0
    for claim in FlashSaleClaim.objects.filter(order_ref=order_ref, status=ClaimStatus.ORDERED).order_by("id"):
        if FlashSaleClaim.objects.filter(pk=claim.pk, status=ClaimStatus.ORDERED).update(
                status=ClaimStatus.RELEASED, updated_at=timezone.now()):
            _give_back(claim)
            released += 1
    return released


@transaction.atomic
def flash_sale_stop(*, actor: Staff, flash_sale_id: int) -> FlashSale:
    """Stop a flash sale now (promotion.manage at its node): later buys are refused. Audited."""
    sale = FlashSale.objects.filter(visible_q(actor), pk=flash_sale_id).select_related("node").first()
    if sale is None:
        raise NotFound(_("Flash sale not found."), code="flash_sale_not_found")
    require_manage(actor, sale.node)
    FlashSale.objects.filter(pk=sale.pk).update(is_active=False, updated_at=timezone.now())
    cache_bump(PROMOTIONS)
    sale.is_active = False
    audit_record(actor=actor, action="flash_sale.stop", target=sale, before={"is_active": True},
                 after={"is_active": False}, scope_path=sale.node.path)
    return sale
