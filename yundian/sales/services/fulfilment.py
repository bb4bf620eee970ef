"""After the sale: shipments and collections (split allowed), pre-order allocation, cancellation and voids.

- `shipment_create` issues the shipped (or collected) units from the order's pool; the rest of the order's
  reservation stays held. When every unit went out the order is fulfilled (delivery, ship) or completed (pickup).
- `order_preorder_allocate` reserves a pre-order's goods in the store once they arrived; it is then collected
  like a pickup order.
- `order_cancel` cancels an unpaid order (reservations released, issued units back on the shelf); an order with
  money on it is voided instead: a manager's approval, all payments refunded, points and commission reversed
  (a void is posted as a return, reason "void", so the same reversal path runs).
"""
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from yundian.inventory import services as stock
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.promotions.services import checkout as promo_checkout

from .. import locks
from ..models import (ApprovalKind, Order, OrderLine, OrderMode, OrderReturn, OrderStatus, ReturnLine, Shipment,
                      ShipmentLine)
from .approvals import ApprovalGate, ApprovalIn, run_with_approval
from ._common import (MAX_QUANTITY, ORDER_SOURCE, RESERVATION_DAYS, RETURN_SOURCE, clean_id, clean_int, clean_ref,
                      clean_text, order_changed, order_for, store_warehouse)
from .returns import _settle, _stock_actor, line_refund, refund_to_tenders

SHIPPABLE_MODES = {OrderMode.PICKUP, OrderMode.DELIVERY, OrderMode.SHIP_FROM_WAREHOUSE, OrderMode.PREORDER}


@dataclass(frozen=True)
class ShipmentResult:
    shipment: Shipment
    replayed: bool


def shipment_create(*, actor: Staff, order_id: int, client_ref: str, lines: Any = None, carrier: str = "",
                    tracking_no: str = "") -> ShipmentResult:
    """Ship (or hand over at the counter) some or all outstanding units of a paid order, once per client key.
    Locks: the order row, then the stock balances."""
    client_ref = clean_ref(client_ref, required=True)
    carrier = clean_text(carrier, "carrier", 40)
    tracking_no = clean_text(tracking_no, "tracking_no", 64)
    wanted: dict[int, int] | None = None
    if lines is not None:
        if not isinstance(lines, list | tuple) or not lines:
            raise ValidationFailed(_("A shipment needs at least one line."), code="no_lines")
        wanted = {}
        for index, line in enumerate(lines):
            if not isinstance(line, dict):
                raise ValidationFailed(_("Not a shipment line."), code="invalid_line", details={"line": index})
            line_id = clean_id(line.get("order_line_id"), "order_line_id")
            wanted[line_id] = wanted.get(line_id, 0) + clean_int(line.get("quantity"), "quantity", low=1,
                                                                 high=MAX_QUANTITY, code="invalid_quantity")
    order = order_for(actor, order_id, Perm.ORDER_SELL)
    existing = Shipment.objects.filter(order=order, client_ref=client_ref).first()
    if existing is not None:
        return ShipmentResult(existing, True)
    try:
        with transaction.atomic():
            return ShipmentResult(_ship(actor, order.pk, client_ref, wanted, carrier, tracking_no), False)
    except IntegrityError:
        existing = Shipment.objects.filter(order=order, client_ref=client_ref).first()
        if existing is None:
            raise
        return ShipmentResult(existing, True)


def _ship(actor: Staff, order_id: int, client_ref: str, wanted: dict[int, int] | None, carrier: str,
          tracking_no: str) -> Shipment:
    order = locks.lock_order(order_id)
    if order.mode not in SHIPPABLE_MODES:
        raise Conflict(_("This order was handed over at the till."), code="not_shippable")
    if order.status != OrderStatus.PAID:
        raise Conflict(_("Only a paid order ships."), code="order_not_shippable", details={"status": order.status})
    lines = {l.pk: l for l in OrderLine.objects.filter(order=order).select_related("warehouse")}
    if any(l.warehouse_id is None for l in lines.values()):
        raise Conflict(_("Allocate the pre-order's stock first."), code="preorder_not_allocated")
    if wanted is None:
        wanted = {pk: l.quantity - l.shipped_quantity for pk, l in lines.items() if l.quantity > l.shipped_quantity}
    for line_id, quantity in wanted.items():
        line = lines.get(line_id)
        if line is None:
            raise NotFound(_("Order line not found."), code="order_line_not_found", details={"order_line_id": line_id})
        if quantity > line.quantity - line.shipped_quantity:
            raise Conflict(_("More than is outstanding."), code="ship_exceeds_order",
                           details={"order_line_id": line_id, "outstanding": line.quantity - line.shipped_quantity})
    if not wanted:
        raise Conflict(_("Nothing is left to ship."), code="nothing_to_ship")
    shipment = Shipment.objects.create(order=order, client_ref=client_ref, carrier=carrier, tracking_no=tracking_no,
                                       shipped_by=actor)
    ShipmentLine.objects.bulk_create([ShipmentLine(shipment=shipment, order_line_id=pk, quantity=q)
                                      for pk, q in sorted(wanted.items())])
    warehouse = next(iter(lines.values())).warehouse
    stock_actor = _stock_actor(actor, warehouse, order.store)
    # stock_issue consumes the source's whole reservation on these rows: re-hold what stays outstanding
    keep = []
    for pk, line in lines.items():
        line.shipped_quantity += wanted.get(pk, 0)
        if wanted.get(pk):
            OrderLine.objects.filter(pk=pk).update(shipped_quantity=F("shipped_quantity") + wanted[pk])
            if line.quantity > line.shipped_quantity:
                keep.append((line.sku_id, line.warehouse_id, line.quantity - line.shipped_quantity))
    issued_keys = {(lines[pk].sku_id, lines[pk].warehouse_id) for pk in wanted}
    for pk, line in lines.items():  # lines of the same SKU not shipped now lose their hold too: re-hold them
        if pk not in wanted and (line.sku_id, line.warehouse_id) in issued_keys and line.quantity > line.shipped_quantity:
            keep.append((line.sku_id, line.warehouse_id, line.quantity - line.shipped_quantity))
    stock.stock_issue(actor=stock_actor, source_type=ORDER_SOURCE, source_id=order.pk,
                      lines=[(lines[pk].sku_id, lines[pk].warehouse_id, q) for pk, q in sorted(wanted.items())])
    if keep:
        stock.stock_reserve(actor=stock_actor, source_type=ORDER_SOURCE, source_id=order.pk, lines=keep,
                            expires_at=timezone.now() + timedelta(days=RESERVATION_DAYS) - timedelta(minutes=1))
    if all(l.shipped_quantity >= l.quantity for l in lines.values()):
        order.status = OrderStatus.COMPLETED if order.mode in (OrderMode.PICKUP, OrderMode.PREORDER) \
            else OrderStatus.FULFILLED
        order.fulfilled_at = timezone.now()
        order.save(update_fields=["status", "fulfilled_at", "updated_at"])
        order_changed(order)
    return shipment


@transaction.atomic
def order_preorder_allocate(*, actor: Staff, order_id: int) -> Order:
    """The pre-ordered goods arrived: reserve them in the store's warehouse (409 `insufficient_stock` if they have
    not). Locks: the order row, then the stock balances."""
    order = order_for(actor, order_id, Perm.ORDER_SELL)
    order = locks.lock_order(order.pk)
    if order.mode != OrderMode.PREORDER or order.warehouse_id is not None:
        raise Conflict(_("This is not a pre-order waiting for stock."), code="not_a_waiting_preorder")
    if order.status not in (OrderStatus.OPEN, OrderStatus.PAID):
        raise Conflict(_("This order is closed."), code="order_closed", details={"status": order.status})
    warehouse = store_warehouse(order.store)
    lines = list(OrderLine.objects.filter(order=order))
    stock.stock_reserve(actor=actor, source_type=ORDER_SOURCE, source_id=order.pk,
                        lines=[(l.sku_id, warehouse.pk, l.quantity) for l in lines],
                        expires_at=timezone.now() + timedelta(days=RESERVATION_DAYS) - timedelta(minutes=1))
    OrderLine.objects.filter(order=order).update(warehouse=warehouse)
    order.warehouse = warehouse
    order.save(update_fields=["warehouse", "updated_at"])
    order_changed(order)
    audit_record(actor=actor, action="sales.order.preorder_allocated", target=order, after={"warehouse": warehouse.pk},
                 scope_path=order.store.path)
    return order


def order_cancel(*, actor: Staff, order_id: int, reason: str = "", approval: Any = None) -> Order:
    """Cancel an unpaid order, or void one with money on it (a manager's approval). Stock goes back where it came
    from (reservations released, issued units returned), payments are refunded, points and commission reversed,
    and promotions told (coupons back per rule, claims and group places released, results and the 分销 reward
    reversed). Audited. Locks: the order row, payments, coupons / group rows, stock balances, the member,
    commission balances."""
    reason = clean_text(reason, "reason", 255)
    approval = ApprovalIn.parse(approval)
    order = order_for(actor, order_id, Perm.ORDER_SELL)

    def work(gate: ApprovalGate) -> Order:
        locked = locks.lock_order(order.pk)
        if locked.status not in (OrderStatus.OPEN, OrderStatus.PAID, OrderStatus.COMPLETED):
            raise Conflict(_("This order can no longer be cancelled."), code="order_not_cancellable",
                           details={"status": locked.status})
        locked.store = order.store
        return _void(locked, actor=actor, reason=reason, gate=gate)

    return run_with_approval(actor=actor, store=order.store, approval=approval, work=work)


def _void(locked: Order, *, actor: Staff | None, reason: str, gate: ApprovalGate | None,
          shipped_stays_out: bool = False) -> Order:
    """Cancel or void a locked order (the caller checked its status). `gate` None: the system does it (a failed
    group buy), no approval asked. `shipped_stays_out`: units that already went out of a pickup / delivery / ship
    order are refunded but not put back on the shelf (the shopper has them)."""
    store = locked.store
    lines = list(OrderLine.objects.filter(order=locked).select_related("warehouse"))
    if locked.mode != OrderMode.TAKE_NOW and any(l.shipped_quantity for l in lines) and not shipped_stays_out:
        raise Conflict(_("Goods already went out: take them back as a return."), code="already_shipped")
    before = {"status": locked.status, "paid_total": locked.paid_total}
    if locked.paid_total > 0 and gate is not None:
        gate.require(ApprovalKind.VOID, {"action": "void", "order_id": locked.pk}, summary=reason or locked.number,
                     target=locked)
    doc = OrderReturn.objects.create(enterprise_id=locked.enterprise_id, store_id=locked.store_id, order=locked,
                                     reason=f"void: {reason}"[:255] if reason else "void", created_by=actor)
    rows = []
    for line in lines:
        quantity = line.quantity - line.returned_quantity
        if quantity <= 0:
            continue
        restock = line.shipped_quantity - line.returned_quantity if line.warehouse_id else 0
        if shipped_stays_out and locked.mode != OrderMode.TAKE_NOW:
            restock = 0
        amount = line_refund(line, quantity)
        rows.append(ReturnLine(return_doc=doc, order_line=line, sku_id=line.sku_id, quantity=quantity,
                               amount=amount, warehouse_id=line.warehouse_id, restocked=max(restock, 0)))
        OrderLine.objects.filter(pk=line.pk).update(returned_quantity=F("returned_quantity") + quantity,
                                                    returned_amount=F("returned_amount") + amount)
        line.returned_quantity += quantity
    ReturnLine.objects.bulk_create(rows)
    stock_actor = _stock_actor(actor, lines[0].warehouse, store) if lines[0].warehouse_id else actor
    stock.stock_release(actor=stock_actor, source_type=ORDER_SOURCE, source_id=locked.pk)
    back = [(r.sku_id, r.warehouse_id, r.restocked) for r in rows if r.restocked]
    if back:
        stock.stock_return(actor=stock_actor, source_type=RETURN_SOURCE, source_id=doc.pk, lines=back,
                           sale_source_type=ORDER_SOURCE, sale_source_id=locked.pk)
    if locked.paid_total > 0:
        _settle(doc, locked, rows, sum(r.amount for r in rows), actor, all_lines=lines, void=True)
    else:
        locked.status, locked.cancelled_at = OrderStatus.CANCELLED, timezone.now()
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        order_changed(locked)
    if locked.uses_promotions:
        promo_checkout.order_cancelled(enterprise_id=locked.enterprise_id, order_ref=str(locked.pk))
    audit_record(actor=actor, action="sales.order.voided" if locked.paid_total else "sales.order.cancelled",
                 target=locked, before=before, after={"status": locked.status, "refunded": locked.refunded_total},
                 reason=reason, scope_path=store.path, enterprise=store.enterprise)
    return locked


def refund_group_buy_order(refund) -> None:
    """Promotions' group-refund hook: the group failed, so the member's order is voided by the system — money back
    to its tenders, reservations released, points and commission reversed — in the transaction that records the
    refund (exactly once: the refund row is unique per member, and an order already cancelled or returned is left
    as it is). Registered in SalesConfig.ready()."""
    ref = str(refund.order_ref)
    order = Order.objects.filter(pk=int(ref)).select_related("store__enterprise").first() if ref.isdigit() else None
    if order is None:
        return
    locked = locks.lock_order(order.pk)
    if locked.status not in (OrderStatus.OPEN, OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED,
                             OrderStatus.PARTIALLY_RETURNED):
        return
    locked.store = order.store
    _void(locked, actor=None, reason="group buy failed", gate=None, shipped_stays_out=True)


__all__ = ["ShipmentResult", "order_cancel", "refund_group_buy_order", "order_preorder_allocate", "refund_to_tenders", "shipment_create",
           "IdempotencyConflict"]
