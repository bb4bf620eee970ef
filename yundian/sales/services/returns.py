"""Returns (with or without receipt), voids and refunds.

A return against an order takes back units that were handed over (take-now lines, shipped or collected units),
refunds exactly what those units were paid (pro rata of the line total, cumulative, so the last unit takes the
remainder and a fully returned line refunds its whole total), restocks them into the warehouse they came from,
reverses the points they earned (members' hook) and their commission (the return hooks), in one transaction.
A return without a receipt needs a manager's approval and restocks into the store's warehouse.

Refunds go back to the order's tenders, newest payment first (stored value back to the member's balance through
the members' ledger; cash, card and wallet are recorded).
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from yundian.inventory import services as stock
from yundian.members import services as member_services
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.promotions.services import checkout as promo_checkout

from .. import hooks, locks
from ..models import (ApprovalKind, Order, OrderLine, OrderReturn, OrderStatus, Payment, PaymentMethod, Refund,
                      ReturnLine)
from .approvals import ApprovalGate, ApprovalIn, run_with_approval
from ._common import (MAX_LINES, MAX_QUANTITY, ORDER_SOURCE, RETURN_SOURCE, clean_id, clean_int, clean_ref,
                      clean_text, fingerprint, order_changed, order_for, policy_for, skus_for, store_for, store_warehouse)
from .payments import PAYMENT_SOURCE
from .shifts import current_shift

RETURNABLE = {OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_RETURNED}


@dataclass(frozen=True)
class ReturnResult:
    order_return: OrderReturn
    replayed: bool


def _stock_actor(actor: Staff | None, warehouse, store: OrgNode) -> Staff | None:
    """Clerks act on their own store's stock; other pools (virtual/central) are moved by the system on their behalf."""
    return actor if actor is not None and warehouse.node_id == store.pk else None


def refund_to_tenders(order: Order, amount: int, *, source_ref: str, actor: Staff | None) -> list[Refund]:
    """Give `amount` back over the order's payments, newest first (caller holds the order lock)."""
    refunds = []
    remaining = amount
    shift = current_shift(actor, order.store_id) if amount else None
    for payment in reversed(locks.lock_payments(order)):
        if remaining == 0:
            break
        take = min(payment.amount - payment.refunded_amount, remaining)
        if take <= 0:
            continue
        refund = Refund.objects.create(order=order, payment=payment, amount=take, source_ref=source_ref[:64],
                                       refunded_by=actor, shift=shift)
        Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + take)
        if payment.method == PaymentMethod.STORED_VALUE:
            member_services.stored_value_spend_refund(
                actor=actor, member_id=order.member_id, source_type=PAYMENT_SOURCE, source_id=str(payment.pk),
                refund_ref=f"refund:{refund.pk}", amount_fen=take, store_id=order.store_id,
                enterprise_id=order.enterprise_id)
        refunds.append(refund)
        remaining -= take
    if remaining:
        raise Conflict(_("More would be refunded than was paid."), code="refund_exceeds_payment",
                       details={"unrefunded": remaining})
    return refunds


def line_refund(line: OrderLine, quantity: int) -> int:
    """What `quantity` more returned units of a line refund: cumulative pro rata of the line total."""
    before = line.returned_quantity
    return line.line_total * (before + quantity) // line.quantity - line.line_total * before // line.quantity


def reverse_points(order: Order, doc: OrderReturn, amount: int, actor: Staff | None) -> None:
    if not order.member_id or amount <= 0 or order.paid_at is None:
        return
    try:
        member_services.points_reverse_for_return(
            actor=actor, member_id=order.member_id, order_ref=str(order.pk), return_ref=str(doc.pk),
            returned_amount_fen=amount, store_id=order.store_id, enterprise_id=order.enterprise_id)
    except NotFound as exc:  # the order earned nothing (total under a yuan): nothing to take back
        if exc.code != "order_not_earned":
            raise


def _clean_return_lines(raw: Any, *, with_receipt: bool) -> list[dict]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed(_("A return needs at least one line."), code="no_lines", details={"field": "lines"})
    if len(raw) > MAX_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_LINES})
    out = []
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            raise ValidationFailed(_("Not a return line."), code="invalid_line", details={"line": index})
        try:
            quantity = clean_int(line.get("quantity"), "quantity", low=1, high=MAX_QUANTITY, code="invalid_quantity")
            if with_receipt:
                out.append({"order_line_id": clean_id(line.get("order_line_id"), "order_line_id"), "quantity": quantity})
            else:
                out.append({"sku_id": clean_id(line.get("sku_id"), "sku_id"), "quantity": quantity,
                            "amount": clean_int(line.get("amount"), "amount")})
        except ValidationFailed as exc:
            exc.details["line"] = index
            raise
    return out


def return_create(*, actor: Staff, order_id: int | None = None, store_id: int | None = None, lines: Any,
                  client_ref: str | None = None, reason: str = "", refund_method: str = PaymentMethod.CASH,
                  approval: Any = None) -> ReturnResult:
    """Return goods: against `order_id` (receipt) or at `store_id` without one (manager approval). Once per
    (store, client_ref). Locks: the order, the payments, stock balances, the member, commission balances."""
    client_ref = clean_ref(client_ref)
    reason = clean_text(reason, "reason", 255)
    approval = ApprovalIn.parse(approval)
    with_receipt = order_id is not None
    cleaned = _clean_return_lines(lines, with_receipt=with_receipt)
    if with_receipt:
        order = order_for(actor, order_id, Perm.ORDER_SELL)
        store = order.store
    else:
        order = None
        store = store_for(actor, store_id, Perm.ORDER_SELL)
        if refund_method not in (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.WALLET):
            raise ValidationFailed(_("Refund without receipt in cash, card or wallet."), code="invalid_payment_method")
    payload = {"order_id": order.pk if order else None, "store_id": store.pk, "lines": cleaned, "reason": reason,
               "refund_method": refund_method if order is None else ""}
    request_hash = fingerprint(payload)
    if client_ref:
        existing = OrderReturn.objects.filter(store=store, client_ref=client_ref).first()
        if existing is not None:
            return _replay(existing, request_hash)

    def work(gate: ApprovalGate) -> OrderReturn:
        doc = OrderReturn.objects.create(enterprise_id=store.enterprise_id, store=store, order=order,
                                         client_ref=client_ref, request_hash=request_hash, reason=reason,
                                         refund_method="" if order else refund_method, created_by=actor)
        if order is not None:
            window = policy_for(store).return_days
            if order.placed_at < timezone.now() - timedelta(days=window):
                doc.approval = gate.require(ApprovalKind.LATE_RETURN, {"action": "return", "request": request_hash},
                                            summary=f"{order.number} > {window}d", target=doc)
            _with_receipt(doc, order.pk, cleaned, actor)
        else:
            summary = ", ".join(f"{l['sku_id']}x{l['quantity']}" for l in cleaned)
            doc.approval = gate.require(ApprovalKind.RETURN_NO_RECEIPT, {"action": "return", "request": request_hash},
                                        summary=summary[:200], target=doc)
            _without_receipt(doc, store, cleaned, actor)
        return doc

    try:
        doc = run_with_approval(actor=actor, store=store, approval=approval, work=work)
    except IntegrityError:
        existing = OrderReturn.objects.filter(store=store, client_ref=client_ref).first() if client_ref else None
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return ReturnResult(doc, False)


def _replay(existing: OrderReturn, request_hash: str) -> ReturnResult:
    if existing.request_hash != request_hash:
        raise IdempotencyConflict(details={"return_id": existing.pk})
    return ReturnResult(existing, True)


def _with_receipt(doc: OrderReturn, order_id: int, cleaned: list[dict], actor: Staff) -> None:
    order = locks.lock_order(order_id)
    if order.status not in RETURNABLE:
        raise Conflict(_("This order cannot take returns."), code="order_not_returnable", details={"status": order.status})
    by_id = {l.pk: l for l in OrderLine.objects.filter(order=order)}
    wanted: dict[int, int] = {}
    for index, line in enumerate(cleaned):
        if line["order_line_id"] not in by_id:
            raise NotFound(_("Order line not found."), code="order_line_not_found", details={"line": index})
        wanted[line["order_line_id"]] = wanted.get(line["order_line_id"], 0) + line["quantity"]
    rows, amount = [], 0
    for line_id, quantity in sorted(wanted.items()):
        line = by_id[line_id]
        returnable = line.shipped_quantity - line.returned_quantity
        if quantity > returnable:
            raise Conflict(_("More would come back than was handed over."), code="return_exceeds_sale",
                           details={"order_line_id": line_id, "returnable": returnable, "requested": quantity})
        refund = line_refund(line, quantity)
        rows.append(ReturnLine(return_doc=doc, order_line=line, sku_id=line.sku_id, quantity=quantity, amount=refund,
                               warehouse_id=line.warehouse_id, restocked=quantity if line.warehouse_id else 0))
        OrderLine.objects.filter(pk=line.pk).update(returned_quantity=F("returned_quantity") + quantity,
                                                    returned_amount=F("returned_amount") + refund)
        line.returned_quantity += quantity
        line.returned_amount += refund
        amount += refund
    ReturnLine.objects.bulk_create(rows)
    restock = [r for r in rows if r.warehouse_id and r.restocked]
    for warehouse_id in sorted({r.warehouse_id for r in restock}):
        group = [r for r in restock if r.warehouse_id == warehouse_id]
        wh = group[0].order_line.warehouse
        stock.stock_return(actor=_stock_actor(actor, wh, order.store), source_type=RETURN_SOURCE, source_id=doc.pk,
                           lines=[(r.sku_id, warehouse_id, r.restocked) for r in group],
                           sale_source_type=ORDER_SOURCE, sale_source_id=order.pk)
    _settle(doc, order, rows, amount, actor, all_lines=list(by_id.values()))


def _settle(doc: OrderReturn, order: Order, rows: list[ReturnLine], amount: int, actor: Staff | None,
            all_lines: list[OrderLine], void: bool = False) -> None:
    """Refund, points, commission and the order's status for a posted return (caller holds the order lock)."""
    refund_to_tenders(order, min(amount, order.paid_total - order.refunded_total),
                      source_ref=f"return:{doc.pk}", actor=actor)
    reverse_points(order, doc, amount, actor)
    hooks.run_return_posted(doc, rows, actor)
    refunded = min(amount, order.paid_total - order.refunded_total)
    doc.refund_total = refunded
    doc.save(update_fields=["refund_total", "approval", "updated_at"])
    order.refunded_total += refunded
    full = all(l.returned_quantity >= l.quantity for l in all_lines)
    if void:
        order.status, order.cancelled_at = OrderStatus.CANCELLED, timezone.now()
    elif full:
        order.status = OrderStatus.RETURNED
    else:
        order.status = OrderStatus.PARTIALLY_RETURNED
    if not void and order.uses_promotions:
        # promotions: coupons back on a full return (per rule), results reversed, the 分销 reward taken back pro rata
        promo_checkout.order_returned(enterprise_id=order.enterprise_id, order_ref=str(order.pk),
                                      return_ref=f"return:{doc.pk}", returned_amount=amount, full=full)
    order.save(update_fields=["refunded_total", "status", "cancelled_at", "updated_at"])
    order_changed(order)


def _without_receipt(doc: OrderReturn, store: OrgNode, cleaned: list[dict], actor: Staff) -> None:
    warehouse = store_warehouse(store)
    skus = skus_for(store.enterprise_id, [l["sku_id"] for l in cleaned])
    rows = [ReturnLine(return_doc=doc, sku=skus[l["sku_id"]], quantity=l["quantity"], amount=l["amount"],
                       warehouse=warehouse, restocked=l["quantity"]) for l in cleaned]
    ReturnLine.objects.bulk_create(rows)
    stock.stock_return(actor=actor, source_type=RETURN_SOURCE, source_id=doc.pk,
                       lines=[(r.sku_id, warehouse.pk, r.quantity) for r in rows])
    doc.refund_total = sum(r.amount for r in rows)
    doc.save(update_fields=["refund_total", "approval", "updated_at"])


__all__ = ["ReturnResult", "line_refund", "refund_to_tenders", "return_create", "transaction"]
