"""Transfers between warehouses (request -> approve -> ship -> receive, through the in-transit warehouse) and
HQ allocations (one document pushing stock to many stores, released as one shipped transfer per store)."""
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require, scope_q

from ..models import (Allocation, AllocationLine, MoveKind, PurchaseOrderLine, Transfer, TransferLine, TransferStatus,
                      Warehouse, WarehouseKind)
from ..selectors import transfer_list
from ._common import clean_id, clean_text
from ._docs import assign_number, clean_sku_lines, temp_number
from .ledger import Posting, clean_lines, resolve_skus, resolve_warehouses, share
from .purchasing import order_status_after
from .warehouses import in_transit_warehouse

T = TransferStatus


def _transfer_for(actor: Staff, transfer_id: int) -> Transfer:
    if not transfer_list(actor=actor).filter(pk=transfer_id).exists():
        raise NotFound(_("Transfer not found."), code="transfer_not_found")
    lock_one(Transfer.objects.filter(pk=transfer_id))
    return Transfer.objects.select_related("from_warehouse__node", "to_warehouse__node").get(pk=transfer_id)


def _require_side(actor: Staff, node) -> None:
    """The transfer is visible (either end); acting on one end needs stock.manage there, else 403."""
    if not has_perm(actor, Perm.STOCK_MANAGE, node):
        raise Forbidden()


def _expect(transfer: Transfer, *allowed: str) -> None:
    if transfer.status not in allowed:
        raise Conflict(_("The transfer is %(status)s.") % {"status": transfer.get_status_display()},
                       code="invalid_status", details={"status": transfer.status})


def _peer_warehouse(enterprise_id: int, warehouse_id: Any, field: str) -> Warehouse:
    """A warehouse of the enterprise that a transfer may come from (need not be in the requester's scope)."""
    wid = clean_id(warehouse_id, field)
    found = Warehouse.objects.filter(enterprise_id=enterprise_id, pk=wid).select_related("node").first()
    if found is None or found.kind not in (WarehouseKind.STORE, WarehouseKind.CENTRAL):
        raise NotFound(_("Warehouse not found."), code="warehouse_not_found", details={"field": field})
    if not found.is_active:
        raise Conflict(_("The warehouse is closed."), code="warehouse_inactive", details={"field": field})
    return found


def _audit(actor, transfer: Transfer, action: str, **after) -> None:
    audit_record(actor=actor, action=f"transfer.{action}", target=transfer,
                 after={"status": transfer.status, **after}, scope_path=transfer.to_warehouse.node.path)


@transaction.atomic
def transfer_request(*, actor: Staff, from_warehouse_id: int, to_warehouse_id: int, lines: Any,
                     note: str = "") -> Transfer:
    """Ask for stock from another store or a central warehouse into one of the actor's (stock.manage on `to`)."""
    to = resolve_warehouses(actor=actor, warehouse_ids=[to_warehouse_id], perm=Perm.STOCK_MANAGE)[to_warehouse_id]
    source = _peer_warehouse(actor.enterprise_id, from_warehouse_id, "from_warehouse_id")
    if source.id == to.id:
        raise ValidationFailed(_("A transfer needs two different warehouses."), code="same_warehouse")
    if to.kind not in (WarehouseKind.STORE, WarehouseKind.CENTRAL):
        raise ValidationFailed(_("Transfers go to a store or a central warehouse."), code="invalid_destination")
    cleaned = clean_sku_lines(lines)
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=list(cleaned))
    transfer = Transfer.objects.create(enterprise_id=actor.enterprise_id, number=temp_number(), from_warehouse=source,
                                       to_warehouse=to, requested_by=actor,
                                       note=clean_text(note, "note", 255, required=False))
    assign_number(transfer, "TR")
    TransferLine.objects.bulk_create([TransferLine(transfer=transfer, sku_id=s, quantity=q) for s, q in sorted(cleaned.items())])
    _audit(actor, transfer, "request", lines=cleaned)
    return transfer


@transaction.atomic
def transfer_approve(*, actor: Staff, transfer_id: int) -> Transfer:
    """The giving side agrees (stock.manage on the source warehouse)."""
    transfer = _transfer_for(actor, transfer_id)
    _require_side(actor, transfer.from_warehouse.node)
    _expect(transfer, T.REQUESTED)
    transfer.status, transfer.approved_by = T.APPROVED, actor
    transfer.save(update_fields=["status", "approved_by", "updated_at"])
    _audit(actor, transfer, "approve")
    return transfer


@transaction.atomic
def transfer_reject(*, actor: Staff, transfer_id: int, reason: str = "") -> Transfer:
    transfer = _transfer_for(actor, transfer_id)
    _require_side(actor, transfer.from_warehouse.node)
    _expect(transfer, T.REQUESTED, T.APPROVED)
    transfer.status = T.REJECTED
    transfer.save(update_fields=["status", "updated_at"])
    _audit(actor, transfer, "reject", reason=clean_text(reason, "reason", 255, required=False))
    return transfer


@transaction.atomic
def transfer_cancel(*, actor: Staff, transfer_id: int) -> Transfer:
    """The requester withdraws a transfer that has not shipped."""
    transfer = _transfer_for(actor, transfer_id)
    _require_side(actor, transfer.to_warehouse.node)
    _expect(transfer, T.REQUESTED, T.APPROVED)
    transfer.status = T.CANCELLED
    transfer.save(update_fields=["status", "updated_at"])
    _audit(actor, transfer, "cancel")
    return transfer


def _partial_lines(lines: Any, allowed: dict[int, int], what: str) -> dict[int, int]:
    """{sku_id: quantity} from optional lines, each within `allowed` (default: all of it); zero allowed."""
    if lines is None:
        return dict(allowed)
    cleaned = clean_sku_lines(lines, allow_zero=True)
    unknown = sorted(s for s in cleaned if s not in allowed)
    if unknown:
        raise ValidationFailed(_("These SKUs are not on the transfer."), code="sku_not_on_transfer",
                               details={"sku_ids": unknown})
    over = [{"sku_id": s, "quantity": q, "max": allowed[s]} for s, q in sorted(cleaned.items()) if q > allowed[s]]
    if over:
        raise ValidationFailed(_("More than the transfer allows."), code=f"over_{what}", details={"lines": over})
    return {s: cleaned.get(s, 0) for s in allowed}


@transaction.atomic
def transfer_ship(*, actor: Staff, transfer_id: int, lines: Any = None) -> Transfer:
    """Ship an approved transfer: units leave the source into in-transit (at most what was requested per SKU).

    Locks the transfer, then the source and in-transit balance rows in (sku, warehouse) order; 409
    `insufficient_stock` and nothing written if the source is short.
    """
    transfer = _transfer_for(actor, transfer_id)
    _require_side(actor, transfer.from_warehouse.node)
    _expect(transfer, T.APPROVED)
    transfer_lines = list(transfer.lines.all())
    shipping = _partial_lines(lines, {l.sku_id: l.quantity for l in transfer_lines}, "requested")
    if not any(shipping.values()):
        raise ValidationFailed(_("Nothing to ship."), code="nothing_to_ship")
    transit = in_transit_warehouse(transfer.enterprise_id)
    posting = Posting(enterprise_id=transfer.enterprise_id, actor=actor, source_type="transfer",
                      source_id=str(transfer.pk))
    posting.lock([(s, transfer.from_warehouse_id) for s in shipping] + [(s, transit.id) for s in shipping])
    carried: dict[int, int] = {}
    for sku_id, quantity in shipping.items():
        carried[sku_id] = -posting.add(sku_id, transfer.from_warehouse_id, MoveKind.TRANSFER_OUT, quantity=-quantity,
                                       reason=transfer.number)
        posting.add(sku_id, transit.id, MoveKind.TRANSFER_IN, quantity=quantity, reason=transfer.number,
                    value=carried[sku_id])
    posting.commit()
    for line in transfer_lines:
        TransferLine.objects.filter(pk=line.pk).update(shipped=shipping[line.sku_id],
                                                       shipped_value=carried.get(line.sku_id, 0))
    transfer.status, transfer.shipped_at = T.SHIPPED, timezone.now()
    transfer.save(update_fields=["status", "shipped_at", "updated_at"])
    _audit(actor, transfer, "ship", lines=shipping)
    return transfer


@transaction.atomic
def transfer_receive(*, actor: Staff, transfer_id: int, lines: Any = None) -> Transfer:
    """Receive a shipped transfer (stock.manage on the destination): units leave in-transit into the destination;
    a shortfall (received < shipped) is written off in transit as an adjustment with reason `transit_shortage`.
    Receiving more than shipped is a 422. A linked order to HQ is marked received."""
    transfer = _transfer_for(actor, transfer_id)
    _require_side(actor, transfer.to_warehouse.node)
    _expect(transfer, T.SHIPPED)
    transfer_lines = [l for l in transfer.lines.all()]
    receiving = _partial_lines(lines, {l.sku_id: l.shipped for l in transfer_lines}, "shipped")
    transit = in_transit_warehouse(transfer.enterprise_id)
    posting = Posting(enterprise_id=transfer.enterprise_id, actor=actor, source_type="transfer",
                      source_id=str(transfer.pk))
    shipped = {l.sku_id: (l.shipped, l.shipped_value) for l in transfer_lines if l.shipped}
    posting.lock([(s, transit.id) for s in shipped] + [(s, transfer.to_warehouse_id) for s in shipped])
    for sku_id, (quantity, value) in shipped.items():
        # the cost carried out of the source arrives with the units; a shortage writes off the rest in transit
        got = receiving[sku_id]
        arrived = -posting.add(sku_id, transit.id, MoveKind.TRANSFER_OUT, quantity=-got, reason=transfer.number,
                               value=-share(value, got, quantity))
        posting.add(sku_id, transfer.to_warehouse_id, MoveKind.TRANSFER_IN, quantity=got, reason=transfer.number,
                    value=arrived)
        if quantity - got:
            posting.add(sku_id, transit.id, MoveKind.ADJUSTMENT, quantity=-(quantity - got), reason="transit_shortage",
                        value=-(value - arrived))
    posting.commit()
    for line in transfer_lines:
        TransferLine.objects.filter(pk=line.pk).update(received=receiving[line.sku_id])
    transfer.status, transfer.received_at = T.RECEIVED, timezone.now()
    transfer.save(update_fields=["status", "received_at", "updated_at"])
    if transfer.purchase_order_id is not None:
        order = transfer.purchase_order
        po_lines = list(order.lines.all())
        for line in po_lines:
            line.received += receiving.get(line.sku_id, 0)
            PurchaseOrderLine.objects.filter(pk=line.pk).update(received=line.received)
        order.status = order_status_after(order, po_lines)
        order.save(update_fields=["status", "updated_at"])
    _audit(actor, transfer, "receive", lines=receiving)
    return transfer


# --- allocation -------------------------------------------------------------------------------------------

@transaction.atomic
def allocation_create(*, actor: Staff, from_warehouse_id: int, lines: Any, note: str = "") -> Allocation:
    """A draft allocation from a central warehouse: lines of (to_warehouse_id, sku_id, quantity) to many stores.

    Needs stock.manage on the central warehouse and on every destination."""
    # lines are (to_warehouse, sku, quantity): reuse the (sku, warehouse, quantity) cleaner with the order swapped
    raw = []
    for index, line in enumerate(lines if isinstance(lines, list | tuple) else [None]):
        if isinstance(line, dict):
            raw.append((line.get("sku_id"), line.get("to_warehouse_id"), line.get("quantity")))
        elif isinstance(line, list | tuple) and len(line) == 3:
            raw.append((line[1], line[0], line[2]))
        else:
            raise ValidationFailed(_("Each line is (to_warehouse_id, sku_id, quantity)."), code="invalid_line",
                                   details={"line": index})
    cleaned = clean_lines(raw)
    source = resolve_warehouses(actor=actor, warehouse_ids=[from_warehouse_id], perm=Perm.STOCK_MANAGE)[from_warehouse_id]
    if source.kind != WarehouseKind.CENTRAL:
        raise ValidationFailed(_("Allocations ship from a central warehouse."), code="source_not_central")
    targets = resolve_warehouses(actor=actor, warehouse_ids={l.warehouse_id for l in cleaned}, perm=Perm.STOCK_MANAGE)
    if source.id in targets or any(w.kind != WarehouseKind.STORE for w in targets.values()):
        raise ValidationFailed(_("Allocations go to store warehouses."), code="invalid_destination")
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=[l.sku_id for l in cleaned])
    allocation = Allocation.objects.create(enterprise_id=actor.enterprise_id, number=temp_number(), from_warehouse=source,
                                           created_by=actor, note=clean_text(note, "note", 255, required=False))
    assign_number(allocation, "AL")
    AllocationLine.objects.bulk_create([AllocationLine(allocation=allocation, to_warehouse_id=l.warehouse_id,
                                                       sku_id=l.sku_id, quantity=l.quantity) for l in cleaned])
    audit_record(actor=actor, action="allocation.create", target=allocation,
                 after={"lines": [[l.warehouse_id, l.sku_id, l.quantity] for l in cleaned]}, scope_path=source.node.path)
    return allocation


@transaction.atomic
def allocation_release(*, actor: Staff, allocation_id: int) -> list[Transfer]:
    """Ship a draft allocation: one shipped transfer per store, all stock leaving the central warehouse into
    in-transit in one posting (one ordered lock). 409 `insufficient_stock` and nothing written if short."""
    found = Allocation.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "from_warehouse__node__path"),
                                      enterprise_id=actor.enterprise_id, pk=allocation_id).exists()
    allocation = lock_one(Allocation.objects.filter(pk=allocation_id)) if found else None
    if allocation is None:
        raise NotFound(_("Allocation not found."), code="allocation_not_found")
    source = Warehouse.objects.select_related("node").get(pk=allocation.from_warehouse_id)
    require(actor, Perm.STOCK_MANAGE, source.node)
    if allocation.status != Allocation.Status.DRAFT:
        raise Conflict(_("The allocation was already released or cancelled."), code="invalid_status",
                       details={"status": allocation.status})
    per_store: dict[int, dict[int, int]] = defaultdict(dict)
    totals: dict[int, int] = defaultdict(int)
    for line in allocation.lines.all():
        per_store[line.to_warehouse_id][line.sku_id] = line.quantity
        totals[line.sku_id] += line.quantity
    transit = in_transit_warehouse(allocation.enterprise_id)
    posting = Posting(enterprise_id=allocation.enterprise_id, actor=actor, source_type="allocation",
                      source_id=str(allocation.pk))
    posting.lock([(s, source.id) for s in totals] + [(s, transit.id) for s in totals])
    carried: dict[int, int] = {}
    for sku_id, quantity in totals.items():
        carried[sku_id] = -posting.add(sku_id, source.id, MoveKind.TRANSFER_OUT, quantity=-quantity,
                                       reason=allocation.number)
        posting.add(sku_id, transit.id, MoveKind.TRANSFER_IN, quantity=quantity, reason=allocation.number,
                    value=carried[sku_id])
    posting.commit()
    # each store's transfer carries its share of the cost (cumulative rounding: the shares add up exactly)
    line_values: dict[tuple[int, int], int] = {}
    counted: dict[int, int] = defaultdict(int)
    for warehouse_id, quantities in sorted(per_store.items()):
        for sku_id, quantity in sorted(quantities.items()):
            before = counted[sku_id]
            counted[sku_id] += quantity
            line_values[(warehouse_id, sku_id)] = (share(carried[sku_id], counted[sku_id], totals[sku_id])
                                                   - share(carried[sku_id], before, totals[sku_id]))
    now = timezone.now()
    transfers = []
    for warehouse_id, quantities in sorted(per_store.items()):
        transfer = Transfer.objects.create(enterprise_id=allocation.enterprise_id, number=temp_number(),
                                           from_warehouse=source, to_warehouse_id=warehouse_id, status=T.SHIPPED,
                                           allocation=allocation, requested_by=actor, approved_by=actor,
                                           shipped_at=now, note=allocation.number)
        assign_number(transfer, "TR")
        TransferLine.objects.bulk_create([TransferLine(transfer=transfer, sku_id=s, quantity=q, shipped=q,
                                                       shipped_value=line_values[(warehouse_id, s)])
                                          for s, q in sorted(quantities.items())])
        transfers.append(transfer)
    allocation.status, allocation.released_at = Allocation.Status.RELEASED, now
    allocation.save(update_fields=["status", "released_at", "updated_at"])
    audit_record(actor=actor, action="allocation.release", target=allocation,
                 after={"transfers": [t.number for t in transfers]}, scope_path=source.node.path)
    return transfers
