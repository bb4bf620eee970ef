"""Payments: cash with change, card and wallet as recorded tenders, stored value (the members' ledger), split
payments. An order is paid exactly once whatever the retries: each payment has a client key, unique per order;
the order row is locked and `paid_total <= total` is both re-checked and a check constraint.

When the last payment covers the total the order becomes paid: points are earned (members' hook, if a member is
attached) and the paid hooks run (guides' commission), all in the same transaction.
"""
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Conflict, IdempotencyConflict, ValidationFailed
from yundian.members import services as member_services
from yundian.members.services import EarnLine
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.promotions.services import checkout as promo_checkout
from yundian.promotions.services.referrals import PaidLine

from .. import hooks, locks
from ..models import Order, OrderLine, OrderMode, OrderStatus, Payment, PaymentMethod
from .shifts import current_shift
from ._common import MAX_AMOUNT, clean_int, clean_ref, clean_text, order_changed, order_for

PAYMENT_SOURCE = "sales_payment"


@dataclass(frozen=True)
class PaymentIn:
    method: str
    client_ref: str
    amount: int | None = None  # None: whatever is due (cash: at most what was tendered)
    tendered: int | None = None  # cash only
    reference: str = ""

    def as_dict(self) -> dict:
        return {"method": self.method, "client_ref": self.client_ref, "amount": self.amount,
                "tendered": self.tendered, "reference": self.reference}


def clean_payment(raw: Any, index: int | None = None) -> PaymentIn:
    where = {"payment": index} if index is not None else {}
    if isinstance(raw, PaymentIn):
        raw = raw.as_dict()
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Not a payment."), code="invalid_payment", details=where)
    method = raw.get("method")
    if method not in PaymentMethod.values:
        raise ValidationFailed(_("Unknown payment method."), code="invalid_payment_method",
                               details={**where, "allowed": list(PaymentMethod.values)})
    client_ref = clean_ref(raw.get("client_ref"), "client_ref", required=True)
    amount = raw.get("amount")
    if amount is not None:
        amount = clean_int(amount, "amount", low=1)
    tendered = raw.get("tendered")
    if tendered is not None:
        if method != PaymentMethod.CASH:
            raise ValidationFailed(_("Only cash is tendered."), code="invalid_payment", details={**where, "field": "tendered"})
        tendered = clean_int(tendered, "tendered", low=1)
        if amount is not None and tendered < amount:
            raise ValidationFailed(_("Less cash was tendered than the amount."), code="tendered_too_low",
                                   details={**where, "field": "tendered"})
    reference = clean_text(raw.get("reference"), "reference", 64)
    return PaymentIn(method=method, client_ref=client_ref, amount=amount, tendered=tendered, reference=reference)


def apply_payment(order: Order, payment: PaymentIn, *, actor: Staff | None) -> tuple[Payment, bool]:
    """Apply one payment to a locked order and save it. Returns (payment, replayed). A retry with the same client
    key and tender returns the first payment; with another tender, 409."""
    existing = Payment.objects.filter(order=order, client_ref=payment.client_ref).first()
    if existing is not None:
        return apply_payment_replay(existing, payment)
    row = take_payment(order, payment, actor=actor)
    row.save(force_insert=True)
    spend_stored_value(order, [row], actor=actor)
    fields = ["paid_total", "updated_at"]
    if order.paid_total == order.total:
        mark_paid(order, actor=actor)
        fields += ["status", "paid_at", "fulfilled_at", "points_earned"]
    order.save(update_fields=fields)
    order_changed(order)
    return row, False


def take_payment(order: Order, payment: PaymentIn, *, actor: Staff | None) -> Payment:
    """Check one new payment against the order (in memory: it may not be saved yet) and add it to paid_total;
    returns the unsaved Payment row. 409 if the order takes no payments or it would pay more than is due."""
    if order.status not in (OrderStatus.OPEN,):
        raise Conflict(_("This order takes no more payments."), code="order_not_payable",
                       details={"status": order.status})
    due = order.total - order.paid_total
    if due <= 0:
        raise Conflict(_("This order is already paid."), code="already_paid")
    amount = payment.amount
    if amount is None:
        amount = min(due, payment.tendered) if payment.tendered is not None else due
    if amount > due:
        raise Conflict(_("The payment is more than is due."), code="overpayment", details={"due": due, "amount": amount})
    tendered = payment.tendered if payment.tendered is not None else (amount if payment.method == PaymentMethod.CASH else 0)
    change = tendered - amount if payment.method == PaymentMethod.CASH else 0
    if payment.method == PaymentMethod.STORED_VALUE and order.member_id is None:
        raise ValidationFailed(_("Stored value needs a member on the order."), code="member_required")
    order.paid_total += amount
    shift = current_shift(actor, order.store_id)
    return Payment(order=order, method=payment.method, amount=amount, tendered=tendered, change=change,
                   client_ref=payment.client_ref, reference=payment.reference, taken_by=actor, shift=shift)


def spend_stored_value(order: Order, rows: list[Payment], *, actor: Staff | None, savepoint: bool = True) -> None:
    """Debit the member's stored value for the saved stored-value payments among `rows` (members' ledger)."""
    for row in rows:
        if row.method == PaymentMethod.STORED_VALUE:
            member_services.stored_value_spend(actor=actor, member_id=order.member_id, amount_fen=row.amount,
                                               store_id=order.store_id, source_type=PAYMENT_SOURCE,
                                               source_id=str(row.pk), enterprise_id=order.enterprise_id,
                                               savepoint=savepoint)


def set_paid(order: Order, now) -> None:
    """The status fields of a fully paid order (in memory)."""
    order.paid_at = now
    if order.mode == OrderMode.TAKE_NOW:
        order.status, order.fulfilled_at = OrderStatus.COMPLETED, now
    else:
        order.status = OrderStatus.PAID


def earn_lines(lines) -> list[EarnLine]:
    return [EarnLine(amount_fen=line.line_total, category_id=line.category_id) for line in lines]


def earn_for_paid(order: Order, *, actor: Staff | None, quote: member_services.EarnQuote | None = None,
                  savepoint: bool = True, fresh: bool = False) -> None:
    """What a saved, fully paid order earns: points (members' hook, if a member is attached; sets
    order.points_earned, which the caller saves) and commission (paid hooks). `quote`, `savepoint=False` and
    `fresh=True` are passed on to the points hook (a sale, paid in the transaction that created the order, that
    quoted the points before writing and fails as a whole)."""
    lines = list(order.lines.select_related("sku")) if not hasattr(order, "_lines") else order._lines
    if order.member_id and order.total > 0:
        result = member_services.points_earn_for_order(
            actor=actor, member_id=order.member_id, order_ref=str(order.pk), store_id=order.store_id,
            lines=earn_lines(lines), paid_at=order.paid_at, enterprise_id=order.enterprise_id, quote=quote,
            savepoint=savepoint, fresh=fresh)
        order.points_earned = result.points
    # promotions: each promotion's usage (results), the group place paid (409 `group_closed` stops the payment),
    # the 分销 sharer's reward
    if order.uses_promotions:
        promo_checkout.order_paid(
            store=order.store, order_ref=str(order.pk), total=order.total, pricing=order.pricing, member=order.member,
            share_code=order.share_code or None, at=order.paid_at,
            lines=[PaidLine(product_id=line.sku.product_id, amount=line.line_total) for line in lines])
    hooks.run_order_paid(order, lines, actor)


def mark_paid(order: Order, *, actor: Staff | None) -> None:
    """The order is fully paid: status, points (members' hook), commission (paid hooks). Caller saves the order."""
    set_paid(order, timezone.now())
    earn_for_paid(order, actor=actor)


@dataclass(frozen=True)
class PaymentResult:
    order: Order
    payment: Payment
    replayed: bool


def payment_add(*, actor: Staff, order_id: int, payment: Any) -> PaymentResult:
    """Add a payment to an open order, once per client key (unique (order, client_ref); a race between two
    retries is decided by that constraint). Locks: the order row, then the member (stored value, points), then
    commission balances."""
    payment = clean_payment(payment)
    order = order_for(actor, order_id, Perm.ORDER_SELL)
    try:
        with transaction.atomic():
            order = locks.lock_order(order.pk)
            row, replayed = apply_payment(order, payment, actor=actor)
    except IntegrityError:
        row = Payment.objects.filter(order_id=order.pk, client_ref=payment.client_ref).first()
        if row is None:
            raise
        order = Order.objects.get(pk=order.pk)
        return PaymentResult(order, *apply_payment_replay(row, payment))
    return PaymentResult(order, row, replayed)


def apply_payment_replay(row: Payment, payment: PaymentIn) -> tuple[Payment, bool]:
    """A retry of a payment already taken: the same method and tender replay it; another tender is a 409."""
    same = row.method == payment.method and (payment.amount is None or payment.amount == row.amount) \
        and (payment.tendered is None or payment.tendered == row.tendered)
    if not same:
        raise IdempotencyConflict(details={"client_ref": payment.client_ref})
    return row, True


__all__ = ["MAX_AMOUNT", "OrderLine", "PaymentIn", "PaymentResult", "apply_payment", "clean_payment", "earn_for_paid",
           "earn_lines",
           "mark_paid", "set_paid", "spend_stored_value", "take_payment",
           "payment_add"]
