"""Reads of warehouses and stock, scoped to the acting staff member (out of scope -> 404)."""
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q


from .models import (Adjustment, Allocation, PurchaseOrder, PurchaseOrderStatus, StockBalance, StockMove, Stocktake,
                     StocktakeLine, Supplier, SupplierPrice, Transfer, TransferStatus, Warehouse, WarehouseKind)


def warehouse_list(*, actor: Staff, kind: str | None = None, node_id: int | None = None,
                   perm: str = Perm.STOCK_VIEW) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.filter(scope_q(actor, perm, "node__path"), enterprise_id=actor.enterprise_id)
    if kind:
        qs = qs.filter(kind=kind)
    if node_id is not None:
        qs = qs.filter(node_id=node_id)
    return qs.select_related("node").order_by("id")


def warehouse_get(*, actor: Staff, warehouse_id: int, perm: str = Perm.STOCK_VIEW) -> Warehouse:
    warehouse = warehouse_list(actor=actor, perm=perm).filter(pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound(_("Warehouse not found."), code="warehouse_not_found")
    return warehouse


# --- available to promise ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Atp:
    """Units that can be promised for one SKU at one store, by pool."""

    store: int = 0
    virtual: int = 0
    central: int = 0

    @property
    def total(self) -> int:
        return self.store + self.virtual + self.central


def store_warehouse(node: OrgNode) -> Warehouse | None:
    """The store warehouse of a store node (every store has exactly one once opened)."""
    return Warehouse.objects.filter(node=node, kind=WarehouseKind.STORE, is_active=True).first()


def atp(*, sku_ids: Iterable[int], store_node: OrgNode, actor: Staff | None = None) -> dict[int, Atp]:
    """Available to promise (on hand - reserved) per SKU for a store, across its pools.

    Pool rule: `store` is the store's own warehouse (what the POS sells and pickup orders take); `virtual` and
    `central` are the active virtual and central warehouses on the store's ancestor nodes (its dealer, region
    and HQ), which delivery orders may be shipped from. `total` is what the storefront may promise for
    delivery; the POS sells only `store`. Reserved units are never counted as available anywhere.
    With an actor, the store must be in their stock.view scope (404 otherwise); without, it is a public read.
    """
    if actor is not None and (store_node.enterprise_id != actor.enterprise_id
                              or not has_perm(actor, Perm.STOCK_VIEW, store_node)):
        raise NotFound(_("Store not found."), code="store_not_found")
    ancestor_ids = [int(p) for p in store_node.path.strip("/").split("/") if p and int(p) != store_node.id]
    pools = Warehouse.objects.filter(
        Q(node=store_node, kind=WarehouseKind.STORE)
        | Q(node_id__in=ancestor_ids, kind__in=[WarehouseKind.VIRTUAL, WarehouseKind.CENTRAL]),
        enterprise_id=store_node.enterprise_id, is_active=True)
    kinds = dict(pools.values_list("pk", "kind"))
    ids = sorted(set(sku_ids))
    totals: dict[int, dict[str, int]] = {s: {"store": 0, "virtual": 0, "central": 0} for s in ids}
    for i in range(0, len(ids), 2000):
        rows = StockBalance.objects.filter(warehouse_id__in=list(kinds), sku_id__in=ids[i:i + 2000]).values_list(
            "sku_id", "warehouse_id", "on_hand", "reserved")
        for sku_id, warehouse_id, on_hand, reserved in rows:
            totals[sku_id][kinds[warehouse_id]] += max(on_hand - reserved, 0)
    return {s: Atp(**v) for s, v in totals.items()}


def balance_list(*, actor: Staff, warehouse_id: int | None = None, sku_id: int | None = None,
                 updated_since=None) -> QuerySet[StockBalance]:
    """Balances in the actor's stock.view scope (for ERP/WMS sync: `updated_since` for incremental pulls)."""
    qs = StockBalance.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                     warehouse__enterprise_id=actor.enterprise_id)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    if updated_since is not None:
        qs = qs.filter(updated_at__gt=updated_since)
    return qs.select_related("sku", "warehouse").order_by("updated_at", "id")


def move_list(*, actor: Staff, sku_id: int | None = None, warehouse_id: int | None = None,
              kind: str | None = None) -> QuerySet[StockMove]:
    qs = StockMove.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"),
                                  enterprise_id=actor.enterprise_id)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("sku__product", "warehouse").order_by("-occurred_at", "-id")


# --- documents ------------------------------------------------------------------------------------------------

def transfer_list(*, actor: Staff, status: str | None = None) -> QuerySet[Transfer]:
    """Transfers the actor may see: either end in their stock.view scope."""
    qs = Transfer.objects.filter(
        scope_q(actor, Perm.STOCK_VIEW, "from_warehouse__node__path") | scope_q(actor, Perm.STOCK_VIEW, "to_warehouse__node__path"),
        enterprise_id=actor.enterprise_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("from_warehouse", "to_warehouse").prefetch_related("lines__sku__product").order_by("-id")


def _by_warehouse(model, actor: Staff, status: str | None, warehouse_id: int | None):
    qs = model.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "warehouse__node__path"), enterprise_id=actor.enterprise_id)
    if status:
        qs = qs.filter(status=status)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    return qs.select_related("warehouse").order_by("-id")


def purchase_order_list(*, actor: Staff, status: str | None = None, warehouse_id: int | None = None):
    return _by_warehouse(PurchaseOrder, actor, status, warehouse_id).prefetch_related("lines__sku__product")


def stocktake_list(*, actor: Staff, status: str | None = None, warehouse_id: int | None = None):
    return _by_warehouse(Stocktake, actor, status, warehouse_id)


def adjustment_list(*, actor: Staff, status: str | None = None, warehouse_id: int | None = None):
    return _by_warehouse(Adjustment, actor, status, warehouse_id).prefetch_related("lines__sku__product")


def _get(qs, pk: int, code: str, message):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(message, code=code)
    return obj


def purchase_order_get(*, actor: Staff, order_id: int) -> PurchaseOrder:
    return _get(purchase_order_list(actor=actor), order_id, "purchase_order_not_found", _("Purchase order not found."))


def transfer_get(*, actor: Staff, transfer_id: int) -> Transfer:
    return _get(transfer_list(actor=actor), transfer_id, "transfer_not_found", _("Transfer not found."))


def stocktake_get(*, actor: Staff, stocktake_id: int) -> Stocktake:
    return _get(stocktake_list(actor=actor), stocktake_id, "stocktake_not_found", _("Stocktake not found."))


def adjustment_get(*, actor: Staff, adjustment_id: int) -> Adjustment:
    return _get(adjustment_list(actor=actor), adjustment_id, "adjustment_not_found", _("Adjustment not found."))


def stocktake_lines(*, stocktake: Stocktake) -> QuerySet[StocktakeLine]:
    return stocktake.lines.select_related("sku__product").order_by("sku_id")


def allocation_list(*, actor: Staff):
    """HQ allocations whose central warehouse is in the actor's stock.view scope (the release service's rule),
    newest first."""
    return (Allocation.objects.filter(scope_q(actor, Perm.STOCK_VIEW, "from_warehouse__node__path"),
                                      enterprise_id=actor.enterprise_id)
            .select_related("from_warehouse__node").order_by("-id"))


# --- what waits for the actor (the console's inbox and the stock overview) -------------------------------------

def purchase_orders_awaiting_approval(*, actor: Staff) -> QuerySet[PurchaseOrder]:
    """Submitted purchase orders the actor may approve (purchase.approve over the receiving warehouse)."""
    return (PurchaseOrder.objects.filter(scope_q(actor, Perm.PURCHASE_APPROVE, "warehouse__node__path"),
                                         enterprise_id=actor.enterprise_id, status=PurchaseOrderStatus.SUBMITTED)
            .select_related("warehouse", "source_warehouse", "supplier").order_by("id"))


TRANSFER_STEPS = {
    # step: (status the transfer is in, the side whose stock.manage acts on it)
    "approve": (TransferStatus.REQUESTED, "from_warehouse"),
    "ship": (TransferStatus.APPROVED, "from_warehouse"),
    "receive": (TransferStatus.SHIPPED, "to_warehouse"),
}


def transfers_awaiting(*, actor: Staff, step: str) -> QuerySet[Transfer]:
    """Transfers waiting for the actor's side to `step` them (approve or ship at the source, receive at the
    destination), oldest first."""
    status, side = TRANSFER_STEPS[step]
    return (Transfer.objects.filter(scope_q(actor, Perm.STOCK_MANAGE, f"{side}__node__path"),
                                    enterprise_id=actor.enterprise_id, status=status)
            .select_related("from_warehouse", "to_warehouse").order_by("id"))


def adjustments_awaiting_approval(*, actor: Staff) -> QuerySet[Adjustment]:
    """Adjustments above the approval threshold the actor may decide (stock.approve over the warehouse)."""
    return (Adjustment.objects.filter(scope_q(actor, Perm.STOCK_APPROVE, "warehouse__node__path"),
                                      enterprise_id=actor.enterprise_id, status=Adjustment.Status.PENDING)
            .select_related("warehouse").order_by("id"))


# --- suppliers ---------------------------------------------------------------------------------------------

def _may_see_suppliers(actor: Staff) -> None:
    if not has_perm(actor, Perm.STOCK_VIEW):
        raise NotFound(_("Supplier not found."), code="supplier_not_found")


def supplier_list(*, actor: Staff, query: str = "", is_active: bool | None = None) -> QuerySet[Supplier]:
    """The enterprise's suppliers (anyone who may see stock), filtered by name/code/contact text and active flag,
    each with `price_count` (SKUs it has a price for)."""
    _may_see_suppliers(actor)
    qs = Supplier.objects.filter(enterprise_id=actor.enterprise_id)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__icontains=query) | Q(contact_name__icontains=query))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.annotate(price_count=Count("prices")).order_by("code")


def supplier_get(*, actor: Staff, supplier_id: int) -> Supplier:
    supplier = supplier_list(actor=actor).filter(pk=supplier_id).first()
    if supplier is None:
        raise NotFound(_("Supplier not found."), code="supplier_not_found")
    return supplier


def supplier_price_list(*, actor: Staff, supplier_id: int | None = None,
                        sku_id: int | None = None) -> QuerySet[SupplierPrice]:
    """Supplier prices of one supplier and/or one SKU, with the SKU and supplier loaded."""
    _may_see_suppliers(actor)
    qs = SupplierPrice.objects.filter(enterprise_id=actor.enterprise_id)
    if supplier_id is not None:
        qs = qs.filter(supplier_id=supplier_id)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    return qs.select_related("sku__product", "supplier").order_by("sku__code", "supplier__code")

