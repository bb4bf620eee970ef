"""Inventory API (/api/v1/inventory): warehouses, balances and moves (ERP/WMS sync), available to promise,
receipts, reservations, purchase orders, transfers, allocations, stocktakes, adjustments, replenishment.
Parse -> one service/selector -> plain body. Creates take an `Idempotency-Key` header."""
from datetime import datetime, timedelta
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.errors import ValidationFailed
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors, idempotent_response
from yundian.org.selectors import org_node_get

from . import selectors, services
from .services.replenish import replenishment_suggest

router = Router(tags=["inventory"])
MAX_API_LINES = 5000


# --- schemas ---------------------------------------------------------------------------------------------------

class WarehouseIn(Schema):
    node_id: int
    kind: str = Field(..., max_length=12)
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)


class WarehouseOut(Schema):
    id: int
    node_id: int
    kind: str
    code: str
    name: str
    is_active: bool


class BalanceOut(Schema):
    sku_id: int
    sku_code: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime

    @staticmethod
    def resolve_sku_code(obj) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_warehouse_code(obj) -> str:
        return obj.warehouse.code


class BalanceFilter(Schema):
    warehouse_id: int | None = None
    sku_id: int | None = None
    updated_since: datetime | None = Field(None, description="only rows changed after this time (incremental sync)")


class MoveOut(Schema):
    id: int
    sku_id: int
    warehouse_id: int
    kind: str
    quantity: int
    reserved_delta: int
    source_type: str
    source_id: str
    reason: str
    occurred_at: datetime


class MoveFilter(Schema):
    sku_id: int | None = None
    warehouse_id: int | None = None
    kind: SafeStr | None = Field(None, max_length=24)


class AtpQuery(Schema):
    store_id: int
    sku_ids: SafeStr = Field(..., max_length=2000, description="comma-separated SKU ids (at most 200)")


class AtpOut(Schema):
    sku_id: int
    store: int
    virtual: int
    central: int
    total: int


class SkuQty(Schema):
    sku_id: int
    quantity: int


class StockLineIn(Schema):
    sku_id: int
    warehouse_id: int
    quantity: int


class ReceiptIn(Schema):
    warehouse_id: int
    order_id: int | None = None
    reference: str = Field("", max_length=64)
    lines: list[SkuQty] = Field(..., max_length=MAX_API_LINES)


class ReceiptOut(Schema):
    id: int
    warehouse_id: int
    order_id: int | None
    reference: str
    lines: list[SkuQty]


class ReserveIn(Schema):
    lines: list[StockLineIn] = Field(..., max_length=MAX_API_LINES)
    source_type: str = Field(..., max_length=32)
    source_id: str = Field(..., max_length=64)
    expires_in_minutes: int = Field(15, ge=1, le=7 * 24 * 60)


class ReservationOut(Schema):
    id: int
    sku_id: int
    warehouse_id: int
    quantity: int
    status: str
    expires_at: datetime


class ReleaseIn(Schema):
    source_type: str = Field(..., max_length=32)
    source_id: str = Field(..., max_length=64)


class ReleasedOut(Schema):
    released: int


class OrderLineIn(Schema):
    sku_id: int
    quantity: int
    unit_cost: int | None = None  # fen; left out: the supplier's price for the SKU


class PurchaseOrderIn(Schema):
    warehouse_id: int
    supplier_id: int | None = None
    source_warehouse_id: int | None = None
    tolerance_percent: int = 5
    note: str = Field("", max_length=255)
    lines: list[OrderLineIn] = Field(..., max_length=MAX_API_LINES)


class OrderLineOut(Schema):
    sku_id: int
    quantity: int
    received: int
    unit_cost: int


class PurchaseOrderOut(Schema):
    id: int
    number: str
    status: str
    warehouse_id: int
    supplier_id: int | None
    source_warehouse_id: int | None
    tolerance_percent: int
    origin: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj):
        return obj["lines"] if isinstance(obj, dict) else _order(obj)["lines"]


class SupplierIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=120)
    contact_name: str = Field("", max_length=60)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=120)
    payment_terms: str = Field("net_30", max_length=12)
    lead_time_days: int = 3


class SupplierPatch(Schema):
    name: str | None = Field(None, max_length=120)
    contact_name: str | None = Field(None, max_length=60)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=120)
    payment_terms: str | None = Field(None, max_length=12)
    lead_time_days: int | None = None
    is_active: bool | None = None


class SupplierOut(Schema):
    id: int
    code: str
    name: str
    contact_name: str
    phone: str
    email: str
    payment_terms: str
    lead_time_days: int
    is_active: bool


class SupplierFilter(Schema):
    q: SafeStr = Field("", max_length=64)
    is_active: bool | None = None


class SupplierPriceIn(Schema):
    unit_cost: int
    lead_time_days: int | None = None
    is_preferred: bool = False


class SupplierPriceOut(Schema):
    supplier_id: int
    sku_id: int
    sku_code: str
    unit_cost: int
    lead_time_days: int
    is_preferred: bool

    @staticmethod
    def resolve_sku_code(obj) -> str:
        return obj.sku.code


class DocFilter(Schema):
    status: SafeStr | None = Field(None, max_length=16)
    warehouse_id: int | None = None


class TransferIn(Schema):
    from_warehouse_id: int
    to_warehouse_id: int
    note: str = Field("", max_length=255)
    lines: list[SkuQty] = Field(..., max_length=MAX_API_LINES)


class TransferLinesIn(Schema):
    lines: list[SkuQty] | None = Field(None, max_length=MAX_API_LINES)


class TransferLineOut(Schema):
    sku_id: int
    quantity: int
    shipped: int
    received: int


class TransferOut(Schema):
    id: int
    number: str
    status: str
    from_warehouse_id: int
    to_warehouse_id: int
    purchase_order_id: int | None
    allocation_id: int | None
    lines: list[TransferLineOut]

    @staticmethod
    def resolve_lines(obj):
        return obj["lines"] if isinstance(obj, dict) else _transfer(obj)["lines"]


class AllocationLineIn(Schema):
    to_warehouse_id: int
    sku_id: int
    quantity: int


class AllocationIn(Schema):
    from_warehouse_id: int
    note: str = Field("", max_length=255)
    lines: list[AllocationLineIn] = Field(..., max_length=MAX_API_LINES)


class AllocationOut(Schema):
    id: int
    number: str
    status: str
    from_warehouse_id: int
    transfer_ids: list[int]


class StocktakeIn(Schema):
    warehouse_id: int
    kind: str = Field(..., max_length=8)
    sku_ids: list[int] | None = Field(None, max_length=100_000)
    category_id: int | None = None
    note: str = Field("", max_length=255)


class StocktakeOut(Schema):
    id: int
    number: str
    status: str
    kind: str
    warehouse_id: int
    lines: int
    counted: int


class CountLineIn(Schema):
    sku_id: int | None = None
    barcode: SafeStr | None = Field(None, max_length=32)
    quantity: int = 1


class CountIn(Schema):
    mode: Literal["add", "set"] = "add"
    lines: list[CountLineIn] = Field(..., max_length=MAX_API_LINES)


class CountedOut(Schema):
    recorded: int


class AdjustmentIn(Schema):
    warehouse_id: int
    reason: str = Field(..., max_length=16)
    note: str = Field("", max_length=255)
    lines: list[SkuQty] = Field(..., max_length=MAX_API_LINES)


class AdjustmentOut(Schema):
    id: int
    number: str
    status: str
    warehouse_id: int
    reason: str
    value: int
    lines: list[SkuQty]


class SuggestionOut(Schema):
    sku_id: int
    method: str
    on_hand: int
    reserved: int
    on_order: int
    mean_daily: float
    quantity: int


# --- bodies (plain dicts, so an idempotent replay returns exactly what was stored) ----------------------------

def _receipt(receipt) -> dict:
    return {"id": receipt.id, "warehouse_id": receipt.warehouse_id, "order_id": receipt.order_id,
            "reference": receipt.reference,
            "lines": [{"sku_id": l.sku_id, "quantity": l.quantity} for l in receipt.lines.all()]}


def _order(order) -> dict:
    return {"id": order.id, "number": order.number, "status": order.status, "warehouse_id": order.warehouse_id,
            "supplier_id": order.supplier_id, "source_warehouse_id": order.source_warehouse_id,
            "tolerance_percent": order.tolerance_percent, "origin": order.origin,
            "lines": [{"sku_id": l.sku_id, "quantity": l.quantity, "received": l.received, "unit_cost": l.unit_cost}
                      for l in order.lines.all()]}


def _transfer(transfer) -> dict:
    return {"id": transfer.id, "number": transfer.number, "status": transfer.status,
            "from_warehouse_id": transfer.from_warehouse_id, "to_warehouse_id": transfer.to_warehouse_id,
            "purchase_order_id": transfer.purchase_order_id, "allocation_id": transfer.allocation_id,
            "lines": [{"sku_id": l.sku_id, "quantity": l.quantity, "shipped": l.shipped, "received": l.received}
                      for l in transfer.lines.all()]}


def _allocation(allocation) -> dict:
    return {"id": allocation.id, "number": allocation.number, "status": allocation.status,
            "from_warehouse_id": allocation.from_warehouse_id,
            "transfer_ids": list(allocation.transfers.order_by("id").values_list("id", flat=True))}


def _stocktake(stocktake) -> dict:
    return {"id": stocktake.id, "number": stocktake.number, "status": stocktake.status, "kind": stocktake.kind,
            "warehouse_id": stocktake.warehouse_id, "lines": stocktake.lines.count(),
            "counted": stocktake.lines.filter(counted__isnull=False).count()}


def _adjustment(adjustment) -> dict:
    return {"id": adjustment.id, "number": adjustment.number, "status": adjustment.status,
            "warehouse_id": adjustment.warehouse_id, "reason": adjustment.reason, "value": adjustment.value,
            "lines": [{"sku_id": l.sku_id, "quantity": l.quantity} for l in adjustment.lines.all()]}


def _pairs(lines) -> list[tuple[int, int]]:
    return [(l.sku_id, l.quantity) for l in lines]


# --- warehouses, balances, moves, ATP ---------------------------------------------------------------------------

@router.get("/warehouses", response={200: list[WarehouseOut], **errors()})
def warehouse_list(request: HttpRequest, kind: SafeStr | None = None):
    return list(selectors.warehouse_list(actor=request.auth, kind=kind))


@router.post("/warehouses", response={201: WarehouseOut, **errors(403, 404, 409)})
def warehouse_create(request: HttpRequest, payload: WarehouseIn):
    def work():
        warehouse = services.warehouse_create(actor=request.auth, **payload.dict())
        return 201, WarehouseOut.from_orm(warehouse).dict()

    return idempotent_response(request, scope="inventory.warehouse_create", payload=payload.dict(), work=work)


@router.get("/balances", response={200: list[BalanceOut], **errors()})
@paginate(LimitOffsetPagination)
def balance_list(request: HttpRequest, filters: Query[BalanceFilter]):
    return selectors.balance_list(actor=request.auth, **filters.dict())


@router.get("/moves", response={200: list[MoveOut], **errors()})
@paginate(LimitOffsetPagination)
def move_list(request: HttpRequest, filters: Query[MoveFilter]):
    return selectors.move_list(actor=request.auth, **filters.dict())


@router.get("/atp", response={200: list[AtpOut], **errors(404)})
def atp(request: HttpRequest, query: Query[AtpQuery]):
    try:
        sku_ids = [int(part) for part in query.sku_ids.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed(code="invalid_id", details={"field": "sku_ids"})
    if not 1 <= len(sku_ids) <= 200:
        raise ValidationFailed(code="invalid_id", details={"field": "sku_ids"})
    node = org_node_get(actor=request.auth, node_id=query.store_id)
    result = selectors.atp(sku_ids=sku_ids, store_node=node, actor=request.auth)
    return [{"sku_id": s, "store": a.store, "virtual": a.virtual, "central": a.central, "total": a.total}
            for s, a in result.items()]


# --- receipts and reservations ----------------------------------------------------------------------------------

@router.post("/receipts", response={201: ReceiptOut, **errors(403, 404, 409)})
def receipt_create(request: HttpRequest, payload: ReceiptIn):
    """Goods received (ERP/WMS sync or a store's goods-in); send an `Idempotency-Key` so a retry posts once."""
    def work():
        receipt = services.receipt_create(actor=request.auth, warehouse_id=payload.warehouse_id,
                                          order_id=payload.order_id, reference=payload.reference,
                                          lines=_pairs(payload.lines))
        return 201, _receipt(receipt)

    return idempotent_response(request, scope="inventory.receipt_create", payload=payload.dict(), work=work)


@router.post("/reservations", response={201: list[ReservationOut], **errors(403, 404, 409)})
def reservation_create(request: HttpRequest, payload: ReserveIn):
    def work():
        reservations = services.stock_reserve(
            actor=request.auth, lines=[(l.sku_id, l.warehouse_id, l.quantity) for l in payload.lines],
            source_type=payload.source_type, source_id=payload.source_id,
            expires_at=timezone.now() + timedelta(minutes=payload.expires_in_minutes))
        return 201, [ReservationOut.from_orm(r).dict() for r in reservations]

    return idempotent_response(request, scope="inventory.reserve", payload=payload.dict(), work=work)


@router.post("/reservations/release", response={200: ReleasedOut, **errors(403, 404, 409)})
def reservation_release(request: HttpRequest, payload: ReleaseIn):
    return {"released": services.stock_release(actor=request.auth, **payload.dict())}


# --- purchase orders --------------------------------------------------------------------------------------------

@router.get("/purchase-orders", response={200: list[PurchaseOrderOut], **errors()})
@paginate(LimitOffsetPagination)
def purchase_order_list(request: HttpRequest, filters: Query[DocFilter]):
    return selectors.purchase_order_list(actor=request.auth, **filters.dict())


@router.post("/purchase-orders", response={201: PurchaseOrderOut, **errors(403, 404, 409)})
def purchase_order_create(request: HttpRequest, payload: PurchaseOrderIn):
    def work():
        data = payload.dict()
        data["lines"] = [l.dict() for l in payload.lines]
        return 201, _order(services.purchase_order_create(actor=request.auth, **data))

    return idempotent_response(request, scope="inventory.po_create", payload=payload.dict(), work=work)


@router.get("/purchase-orders/{order_id}", response={200: PurchaseOrderOut, **errors(404)})
def purchase_order_get(request: HttpRequest, order_id: int):
    return _order(selectors.purchase_order_get(actor=request.auth, order_id=order_id))


@router.post("/purchase-orders/{order_id}/{action}", response={200: PurchaseOrderOut, **errors(403, 404, 409)})
def purchase_order_action(request: HttpRequest, order_id: int, action: Literal["submit", "approve", "reject", "close"]):
    handler = {"submit": services.purchase_order_submit, "approve": services.purchase_order_approve,
               "reject": services.purchase_order_reject, "close": services.purchase_order_close}[action]
    return _order(handler(actor=request.auth, order_id=order_id))


# --- suppliers --------------------------------------------------------------------------------------------------

@router.get("/suppliers", response={200: list[SupplierOut], **errors()})
@paginate(LimitOffsetPagination)
def supplier_list(request: HttpRequest, filters: Query[SupplierFilter]):
    return selectors.supplier_list(actor=request.auth, query=filters.q, is_active=filters.is_active)


@router.post("/suppliers", response={201: SupplierOut, **errors(403, 404, 409)})
def supplier_create(request: HttpRequest, payload: SupplierIn):
    def work():
        return 201, SupplierOut.from_orm(services.supplier_create(actor=request.auth, **payload.dict())).dict()

    return idempotent_response(request, scope="inventory.supplier_create", payload=payload.dict(), work=work)


@router.get("/suppliers/{supplier_id}", response={200: SupplierOut, **errors(404)})
def supplier_get(request: HttpRequest, supplier_id: int):
    return selectors.supplier_get(actor=request.auth, supplier_id=supplier_id)


@router.patch("/suppliers/{supplier_id}", response={200: SupplierOut, **errors(403, 404, 409)})
def supplier_update(request: HttpRequest, supplier_id: int, payload: SupplierPatch):
    changes = payload.dict(exclude_unset=True)
    return services.supplier_update(actor=request.auth, supplier_id=supplier_id, changes=changes)


@router.get("/suppliers/{supplier_id}/prices", response={200: list[SupplierPriceOut], **errors(404)})
@paginate(LimitOffsetPagination)
def supplier_price_list(request: HttpRequest, supplier_id: int):
    supplier = selectors.supplier_get(actor=request.auth, supplier_id=supplier_id)
    return selectors.supplier_price_list(actor=request.auth, supplier_id=supplier.id)


@router.put("/suppliers/{supplier_id}/prices/{sku_id}", response={200: SupplierPriceOut, **errors(403, 404, 409)})
def supplier_price_set(request: HttpRequest, supplier_id: int, sku_id: int, payload: SupplierPriceIn):
    """Set (or replace) the supplier's price for a SKU; PUT is idempotent by nature."""
    return services.supplier_price_set(actor=request.auth, supplier_id=supplier_id, sku_id=sku_id, **payload.dict())


@router.delete("/suppliers/{supplier_id}/prices/{sku_id}", response={204: None, **errors(403, 404, 409)})
def supplier_price_remove(request: HttpRequest, supplier_id: int, sku_id: int):
    services.supplier_price_remove(actor=request.auth, supplier_id=supplier_id, sku_id=sku_id)
    return Status(204, None)


# --- transfers and allocations ----------------------------------------------------------------------------------

@router.get("/transfers", response={200: list[TransferOut], **errors()})
@paginate(LimitOffsetPagination)
def transfer_list(request: HttpRequest, status: SafeStr | None = None):
    return selectors.transfer_list(actor=request.auth, status=status)


@router.post("/transfers", response={201: TransferOut, **errors(403, 404, 409)})
def transfer_request(request: HttpRequest, payload: TransferIn):
    def work():
        transfer = services.transfer_request(actor=request.auth, from_warehouse_id=payload.from_warehouse_id,
                                             to_warehouse_id=payload.to_warehouse_id, note=payload.note,
                                             lines=_pairs(payload.lines))
        return 201, _transfer(transfer)

    return idempotent_response(request, scope="inventory.transfer_request", payload=payload.dict(), work=work)


@router.get("/transfers/{transfer_id}", response={200: TransferOut, **errors(404)})
def transfer_get(request: HttpRequest, transfer_id: int):
    return _transfer(selectors.transfer_get(actor=request.auth, transfer_id=transfer_id))


@router.post("/transfers/{transfer_id}/ship", response={200: TransferOut, **errors(403, 404, 409)})
def transfer_ship(request: HttpRequest, transfer_id: int, payload: TransferLinesIn):
    """Ship an approved transfer; `{}` ships everything requested, `lines` ships less."""
    lines = _pairs(payload.lines) if payload.lines is not None else None
    return _transfer(services.transfer_ship(actor=request.auth, transfer_id=transfer_id, lines=lines))


@router.post("/transfers/{transfer_id}/receive", response={200: TransferOut, **errors(403, 404, 409)})
def transfer_receive(request: HttpRequest, transfer_id: int, payload: TransferLinesIn):
    """Receive a shipped transfer; `{}` receives everything shipped, `lines` records a shortfall."""
    lines = _pairs(payload.lines) if payload.lines is not None else None
    return _transfer(services.transfer_receive(actor=request.auth, transfer_id=transfer_id, lines=lines))


@router.post("/transfers/{transfer_id}/{action}", response={200: TransferOut, **errors(403, 404, 409)})
def transfer_action(request: HttpRequest, transfer_id: int, action: Literal["approve", "reject", "cancel"]):
    handler = {"approve": services.transfer_approve, "reject": services.transfer_reject,
               "cancel": services.transfer_cancel}[action]
    return _transfer(handler(actor=request.auth, transfer_id=transfer_id))


@router.post("/allocations", response={201: AllocationOut, **errors(403, 404, 409)})
def allocation_create(request: HttpRequest, payload: AllocationIn):
    def work():
        allocation = services.allocation_create(
            actor=request.auth, from_warehouse_id=payload.from_warehouse_id, note=payload.note,
            lines=[(l.to_warehouse_id, l.sku_id, l.quantity) for l in payload.lines])
        return 201, _allocation(allocation)

    return idempotent_response(request, scope="inventory.allocation_create", payload=payload.dict(), work=work)


@router.post("/allocations/{allocation_id}/release", response={200: AllocationOut, **errors(403, 404, 409)})
def allocation_release(request: HttpRequest, allocation_id: int):
    transfers = services.allocation_release(actor=request.auth, allocation_id=allocation_id)
    return _allocation(transfers[0].allocation)


# --- stocktakes and adjustments ---------------------------------------------------------------------------------

@router.post("/stocktakes", response={201: StocktakeOut, **errors(403, 404, 409)})
def stocktake_start(request: HttpRequest, payload: StocktakeIn):
    def work():
        return 201, _stocktake(services.stocktake_start(actor=request.auth, **payload.dict()))

    return idempotent_response(request, scope="inventory.stocktake_start", payload=payload.dict(), work=work)


@router.get("/stocktakes/{stocktake_id}", response={200: StocktakeOut, **errors(404)})
def stocktake_get(request: HttpRequest, stocktake_id: int):
    return _stocktake(selectors.stocktake_get(actor=request.auth, stocktake_id=stocktake_id))


@router.post("/stocktakes/{stocktake_id}/counts", response={200: CountedOut, **errors(403, 404, 409)})
def stocktake_count(request: HttpRequest, stocktake_id: int, payload: CountIn):
    lines = [{k: v for k, v in l.dict().items() if v is not None} for l in payload.lines]
    return {"recorded": services.stocktake_count(actor=request.auth, stocktake_id=stocktake_id, lines=lines,
                                                 mode=payload.mode)}


@router.post("/stocktakes/{stocktake_id}/{action}", response={200: StocktakeOut, **errors(403, 404, 409)})
def stocktake_action(request: HttpRequest, stocktake_id: int, action: Literal["submit", "post", "cancel"]):
    handler = {"submit": services.stocktake_submit, "post": services.stocktake_post,
               "cancel": services.stocktake_cancel}[action]
    return _stocktake(handler(actor=request.auth, stocktake_id=stocktake_id))


@router.post("/adjustments", response={201: AdjustmentOut, **errors(403, 404, 409)})
def adjustment_create(request: HttpRequest, payload: AdjustmentIn):
    def work():
        adjustment = services.adjustment_create(actor=request.auth, warehouse_id=payload.warehouse_id,
                                                reason=payload.reason, note=payload.note, lines=_pairs(payload.lines))
        return 201, _adjustment(adjustment)

    return idempotent_response(request, scope="inventory.adjustment_create", payload=payload.dict(), work=work)


@router.post("/adjustments/{adjustment_id}/{action}", response={200: AdjustmentOut, **errors(403, 404, 409)})
def adjustment_decide(request: HttpRequest, adjustment_id: int, action: Literal["approve", "reject"]):
    return _adjustment(services.adjustment_decide(actor=request.auth, adjustment_id=adjustment_id,
                                                  approve=action == "approve"))


@router.get("/replenishment/suggestions", response={200: list[SuggestionOut], **errors(404)})
def replenishment_suggestions(request: HttpRequest, warehouse_id: int):
    return [s.__dict__ for s in replenishment_suggest(actor=request.auth, warehouse_id=warehouse_id)]
