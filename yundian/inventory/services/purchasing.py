"""Purchase orders (to a supplier, priced from its prices, or to HQ) with approval, and receiving with tolerance."""
from datetime import timedelta
from math import ceil, floor
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require

from ..models import (MoveKind, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Receipt, ReceiptLine, Supplier,
                      SupplierPrice, Transfer, TransferLine, TransferStatus, WarehouseKind)
from ._common import clean_text
from ._docs import assign_number, clean_sku_lines, get_scoped, temp_number
from .ledger import Posting, resolve_skus, resolve_warehouses

MAX_UNIT_COST = 10**10
S = PurchaseOrderStatus


def _order_lines(lines: Any) -> list[tuple[int, int, int | None]]:
    """[(sku_id, quantity, unit_cost)] from dicts or tuples; unit cost in fen, None when not given."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(_("At least one line is needed."), code="no_lines")
    costs: dict[int, int | None] = {}
    plain = []
    for index, raw in enumerate(lines):
        if isinstance(raw, dict):
            sku_id, quantity, cost = raw.get("sku_id"), raw.get("quantity"), raw.get("unit_cost")
        elif isinstance(raw, list | tuple) and len(raw) in (2, 3):
            sku_id, quantity, cost = (*raw, None)[:3]
        else:
            raise ValidationFailed(_("Each line is (sku_id, quantity, unit_cost)."), code="invalid_line",
                                   details={"line": index})
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= MAX_UNIT_COST):
            raise ValidationFailed(_("A cost is a whole number of fen from 0 upwards."), code="invalid_price",
                                   details={"line": index, "field": "unit_cost"})
        plain.append((sku_id, quantity))
        if isinstance(sku_id, int):
            costs[sku_id] = cost
    merged = clean_sku_lines(plain)
    return [(s, q, costs.get(s)) for s, q in sorted(merged.items())]


def _priced(cleaned: list[tuple[int, int, int | None]], supplier: Supplier | None,
            strict: bool) -> list[tuple[int, int, int]]:
    """Fill the lines' missing unit costs from the supplier's prices. A person ordering a SKU the supplier has
    no price for (and typing none) gets 422 `no_supplier_price`; the replenishment task (`strict` False) orders
    it at 0 on the draft, for a person to price before submitting. Orders to HQ carry no price (0)."""
    prices = {}
    if supplier is not None:
        prices = dict(SupplierPrice.objects.filter(supplier=supplier, sku_id__in=[s for s, _q, _c in cleaned])
                      .values_list("sku_id", "unit_cost"))
    unpriced = [s for s, _q, c in cleaned if c is None and supplier is not None and s not in prices]
    if unpriced and strict:
        raise ValidationFailed(_("The supplier has no price for these SKUs; enter a unit cost."),
                               code="no_supplier_price", details={"sku_ids": unpriced})
    return [(s, q, c if c is not None else prices.get(s, 0)) for s, q, c in cleaned]


@transaction.atomic
def purchase_order_create(*, actor: Staff | None, warehouse_id: int, lines: Any, supplier_id: int | None = None,
                          source_warehouse_id: int | None = None, tolerance_percent: int = 5, note: str = "",
                          origin: str = "manual", enterprise_id: int | None = None) -> PurchaseOrder:
    """A draft purchase order into a warehouse, from a supplier or from an HQ central warehouse (exactly one).
    Lines without a unit cost take the supplier's price for the SKU (see `_priced`).

    `actor=None` is the replenishment task (system). Needs stock.manage on the receiving warehouse.
    """
    warehouse = resolve_warehouses(actor=actor, warehouse_ids=[warehouse_id], perm=Perm.STOCK_MANAGE,
                                   enterprise_id=enterprise_id)[warehouse_id]
    enterprise_id = warehouse.enterprise_id
    if (supplier_id is None) == (source_warehouse_id is None):
        raise ValidationFailed(_("Order either from a supplier or from a central warehouse."), code="one_source_needed")
    supplier = source = None
    if supplier_id is not None:
        supplier = Supplier.objects.filter(enterprise_id=enterprise_id, pk=supplier_id, is_active=True).first()
        if supplier is None:
            raise NotFound(_("Supplier not found."), code="supplier_not_found")
    else:
        # ordering from HQ: the central warehouse need not be in the store's scope, only in its enterprise
        source = resolve_warehouses(actor=None, warehouse_ids=[source_warehouse_id], perm=Perm.STOCK_VIEW,
                                    enterprise_id=enterprise_id)[source_warehouse_id]
        if source.kind != WarehouseKind.CENTRAL or source.id == warehouse.id:
            raise ValidationFailed(_("Order from a central warehouse."), code="source_not_central")
    if isinstance(tolerance_percent, bool) or not isinstance(tolerance_percent, int) or not 0 <= tolerance_percent <= 50:
        raise ValidationFailed(_("Tolerance is 0 to 50 percent."), code="invalid_number", details={"field": "tolerance_percent"})
    cleaned = _order_lines(lines)
    resolve_skus(enterprise_id=enterprise_id, sku_ids=[s for s, _q, _c in cleaned])
    cleaned = _priced(cleaned, supplier, strict=actor is not None)
    order = PurchaseOrder.objects.create(
        enterprise_id=enterprise_id, number=temp_number(), warehouse=warehouse, supplier=supplier,
        source_warehouse=source, tolerance_percent=tolerance_percent, origin=origin,
        note=clean_text(note, "note", 255, required=False), created_by=actor,
        expected_at=(timezone.localdate() + timedelta(days=supplier.lead_time_days)) if supplier else None)
    assign_number(order, "PO")
    PurchaseOrderLine.objects.bulk_create([PurchaseOrderLine(order=order, sku_id=s, quantity=q, unit_cost=c)
                                           for s, q, c in cleaned])
    audit_record(actor=actor, enterprise=order.enterprise, action="purchase_order.create", target=order,
                 after={"number": order.number, "lines": [[s, q, c] for s, q, c in cleaned]},
                 scope_path=warehouse.node.path)
    return order


def _order_for(actor: Staff, order_id: int) -> PurchaseOrder:
    order = get_scoped(PurchaseOrder, actor=actor, pk=order_id, path_field="warehouse__node__path",
                       code="purchase_order_not_found", lock=True)
    return PurchaseOrder.objects.select_related("warehouse__node", "source_warehouse").get(pk=order.pk)


def _transition(order: PurchaseOrder, allowed: set[str], to: str) -> None:
    if order.status not in allowed:
        raise Conflict(_("The order is %(status)s.") % {"status": order.get_status_display()},
                       code="invalid_status", details={"status": order.status})
    order.status = to


@transaction.atomic
def purchase_order_submit(*, actor: Staff, order_id: int) -> PurchaseOrder:
    """Send a draft order for approval (stock.manage on the receiving warehouse)."""
    order = _order_for(actor, order_id)
    require(actor, Perm.STOCK_MANAGE, order.warehouse.node)
    _transition(order, {S.DRAFT}, S.SUBMITTED)
    order.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="purchase_order.submit", target=order, after={"status": order.status},
                 scope_path=order.warehouse.node.path)
    return order


@transaction.atomic
def purchase_order_approve(*, actor: Staff, order_id: int) -> PurchaseOrder:
    """Approve a submitted order (purchase.approve over the receiving warehouse). An order to HQ becomes an
    approved transfer from the central warehouse, which HQ ships and the store receives."""
    order = _order_for(actor, order_id)
    if not has_perm(actor, Perm.PURCHASE_APPROVE, order.warehouse.node):
        raise Forbidden(_("Purchase orders are approved by headquarters or the region."), code="approval_required")
    _transition(order, {S.SUBMITTED}, S.APPROVED)
    order.approved_by, order.approved_at = actor, timezone.now()
    order.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    if order.source_warehouse_id is not None:
        transfer = Transfer.objects.create(enterprise_id=order.enterprise_id, number=temp_number(),
                                           from_warehouse_id=order.source_warehouse_id,
                                           to_warehouse_id=order.warehouse_id, status=TransferStatus.APPROVED,
                                           purchase_order=order, requested_by=order.created_by, approved_by=actor,
                                           note=order.number)
        assign_number(transfer, "TR")
        TransferLine.objects.bulk_create([TransferLine(transfer=transfer, sku_id=l.sku_id, quantity=l.quantity)
                                          for l in order.lines.all()])
    audit_record(actor=actor, action="purchase_order.approve", target=order, after={"status": order.status},
                 scope_path=order.warehouse.node.path)
    return order


@transaction.atomic
def purchase_order_reject(*, actor: Staff, order_id: int, reason: str = "") -> PurchaseOrder:
    order = _order_for(actor, order_id)
    if not has_perm(actor, Perm.PURCHASE_APPROVE, order.warehouse.node):
        raise Forbidden(_("Purchase orders are approved by headquarters or the region."), code="approval_required")
    _transition(order, {S.SUBMITTED}, S.REJECTED)
    order.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="purchase_order.reject", target=order, after={"status": order.status},
                 reason=clean_text(reason, "reason", 255, required=False), scope_path=order.warehouse.node.path)
    return order


@transaction.atomic
def purchase_order_close(*, actor: Staff, order_id: int) -> PurchaseOrder:
    """Close a partly received order short (nothing more will come), or cancel a draft/submitted one."""
    order = _order_for(actor, order_id)
    require(actor, Perm.STOCK_MANAGE, order.warehouse.node)
    if order.status in (S.DRAFT, S.SUBMITTED):
        _transition(order, {S.DRAFT, S.SUBMITTED}, S.CANCELLED)
    else:
        _transition(order, {S.APPROVED, S.PARTIAL}, S.CLOSED)
        if order.source_warehouse_id is not None and order.transfers.exclude(
                status__in=[TransferStatus.RECEIVED, TransferStatus.CANCELLED, TransferStatus.REJECTED]).exists():
            raise Conflict(_("Its transfer is still open."), code="transfer_open")
    order.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="purchase_order.close", target=order, after={"status": order.status},
                 scope_path=order.warehouse.node.path)
    return order


def _limits(line: PurchaseOrderLine, tolerance: int) -> tuple[int, int]:
    """(lowest total that completes the line, highest total accepted) under the tolerance."""
    return ceil(line.quantity * (100 - tolerance) / 100), floor(line.quantity * (100 + tolerance) / 100)


def order_status_after(order: PurchaseOrder, lines: list[PurchaseOrderLine]) -> str:
    complete = all(l.received >= _limits(l, order.tolerance_percent)[0] for l in lines)
    return S.RECEIVED if complete else S.PARTIAL


@transaction.atomic
def receipt_create(*, actor: Staff, warehouse_id: int, lines: Any, order_id: int | None = None,
                   reference: str = "") -> Receipt:
    """Receive goods into a warehouse (receipt moves), against a supplier order or on their own (ERP/WMS sync).

    Against an order: every SKU must be on it, and each line's total received stays within ordered x
    (100 + tolerance)% (422 `over_tolerance` otherwise); the order becomes partial or received. Locks the order,
    then the balance rows in (sku, warehouse) order.
    """
    warehouse = resolve_warehouses(actor=actor, warehouse_ids=[warehouse_id], perm=Perm.STOCK_MANAGE)[warehouse_id]
    cleaned = clean_sku_lines(lines)
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=list(cleaned))
    reference = clean_text(reference, "reference", 64, required=False)
    order = None
    if order_id is not None:
        order = _order_for(actor, order_id)
        if order.warehouse_id != warehouse.id:
            raise ValidationFailed(_("The order is for another warehouse."), code="wrong_warehouse")
        if order.source_warehouse_id is not None:
            raise ValidationFailed(_("Orders to headquarters arrive as transfers; receive the transfer."),
                                   code="receive_the_transfer")
        if order.status not in (S.APPROVED, S.PARTIAL):
            raise Conflict(_("The order is %(status)s.") % {"status": order.get_status_display()},
                           code="invalid_status", details={"status": order.status})
        order_lines = {l.sku_id: l for l in order.lines.all()}
        not_on = sorted(s for s in cleaned if s not in order_lines)
        if not_on:
            raise ValidationFailed(_("These SKUs are not on the order."), code="sku_not_on_order",
                                   details={"sku_ids": not_on})
        over = []
        for sku_id, quantity in cleaned.items():
            line = order_lines[sku_id]
            ceiling = _limits(line, order.tolerance_percent)[1]
            if line.received + quantity > ceiling:
                over.append({"sku_id": sku_id, "ordered": line.quantity, "received": line.received,
                             "receiving": quantity, "max_total": ceiling})
        if over:
            raise ValidationFailed(_("More than the order allows (tolerance %(pct)d%%).") % {"pct": order.tolerance_percent},
                                   code="over_tolerance", details={"lines": over})
    receipt = Receipt.objects.create(enterprise_id=actor.enterprise_id, warehouse=warehouse, order=order,
                                     reference=reference, received_by=actor)
    ReceiptLine.objects.bulk_create([ReceiptLine(receipt=receipt, sku_id=s, quantity=q) for s, q in cleaned.items()])
    posting = Posting(enterprise_id=actor.enterprise_id, actor=actor, source_type="receipt", source_id=str(receipt.pk))
    posting.lock((s, warehouse.id) for s in cleaned)
    for sku_id, quantity in cleaned.items():
        # at the order's price; a receipt without an order comes in at the row's average cost
        posting.add(sku_id, warehouse.id, MoveKind.RECEIPT, quantity=quantity,
                    reason=order.number if order else reference[:32],
                    value=quantity * order_lines[sku_id].unit_cost if order else None)
    posting.commit()
    if order is not None:
        lines_now = []
        for line in order.lines.all():
            if line.sku_id in cleaned:
                line.received += cleaned[line.sku_id]
                PurchaseOrderLine.objects.filter(pk=line.pk).update(received=line.received)
            lines_now.append(line)
        order.status = order_status_after(order, lines_now)
        order.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="receipt.create", target=receipt,
                 after={"warehouse": warehouse.id, "order": order_id, "lines": cleaned}, scope_path=warehouse.node.path)
    return receipt
