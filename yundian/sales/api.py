"""Sales API: orders (create idempotently, read, search), payments, returns, shipments, cancellation, approvals,
receipts. Parse -> one service/selector -> schema."""
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.errors import ValidationFailed
from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors

from . import selectors, services

router = Router(tags=["sales"])


# --- schemas ------------------------------------------------------------------------------------------------

class ApprovalSchema(Schema):
    approval_id: int | None = None
    manager_id: int | None = None
    pin: str | None = Field(None, max_length=8)


class LineIn(Schema):
    sku_id: int | None = None
    barcode: str | None = Field(None, max_length=32)
    quantity: int | None = None
    unit_price: int | None = Field(None, description="manual price override, fen per unit (per kg if weighed)")
    guide_id: int | None = None


class PaymentIn(Schema):
    method: str = Field(..., description="cash | card | wallet | stored_value")
    client_ref: str = Field(..., max_length=128, description="idempotency key of this payment")
    amount: int | None = Field(None, description="fen; omitted: what is due (cash: at most what was tendered)")
    tendered: int | None = Field(None, description="cash handed over, fen")
    reference: str = Field("", max_length=64)


class OrderIn(Schema):
    store_id: int
    client_ref: str | None = Field(None, max_length=128,
                                   description="the till's key for this order; or send the Idempotency-Key header")
    channel: str = "pos"
    mode: str = "take_now"
    lines: list[LineIn]
    member_id: int | None = None
    member_phone: str | None = Field(None, max_length=32)
    member_card: str | None = Field(None, max_length=64)
    guide_id: int | None = None
    order_discount: int = 0
    payments: list[PaymentIn] = []
    note: str = Field("", max_length=500)
    delivery: dict[str, Any] | None = None
    warehouse_id: int | None = None
    approval: ApprovalSchema | None = None
    coupon_codes: list[str] | None = Field(None, max_length=5, description="coupon codes the shopper presents; "
                                           "each must apply (else 422 coupon_not_applicable with the reason)")
    share_code: str | None = Field(None, max_length=40, description="the 分销 share link the sale came by")
    placed_at: datetime | None = Field(None, description="an offline till's time of sale (with time zone; at most "
                                       "30 days ago): the order is priced and dated then")


class OrderLineOut(Schema):
    id: int
    line_no: int
    sku_id: int
    sku_code: str
    name: str
    quantity: int
    is_weighed: bool
    list_price: int
    unit_price: int
    discount: int
    line_total: int
    guide_id: int | None
    warehouse_id: int | None
    shipped_quantity: int
    returned_quantity: int
    returned_amount: int


class PaymentOut(Schema):
    id: int
    method: str
    amount: int
    tendered: int
    change: int
    refunded_amount: int
    client_ref: str
    reference: str
    created_at: datetime


class OrderHeadOut(Schema):  # the fields every order answer starts with (OrderOut, OrderSummaryOut)
    id: int
    number: str
    store_id: int
    channel: str
    mode: str
    status: str
    client_ref: str


class OrderOut(OrderHeadOut):
    clerk_id: int | None
    member_id: int | None
    warehouse_id: int | None
    currency: str
    subtotal: int
    discount_total: int
    total: int
    paid_total: int
    refunded_total: int
    due: int
    points_earned: int
    note: str
    delivery: dict[str, Any]
    placed_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    received_at: datetime | None
    share_code: str
    applied: list[dict[str, Any]] = Field(description="the promotions the pricing engine applied, with explanations")
    lines: list[OrderLineOut]
    payments: list[PaymentOut]


def order_out(order) -> dict:
    data = {f: getattr(order, f) for f in (
        "id", "number", "store_id", "channel", "mode", "status", "client_ref", "clerk_id", "member_id",
        "warehouse_id", "currency", "subtotal", "discount_total", "total", "paid_total", "refunded_total", "due",
        "points_earned", "note", "delivery", "placed_at", "paid_at", "fulfilled_at", "cancelled_at", "received_at",
        "share_code")}
    data["applied"] = (order.pricing or {}).get("applied", [])
    lines = getattr(order, "_lines", None) or selectors.order_lines(order)  # just written: no need to re-read
    payments = order._payments if hasattr(order, "_payments") else order.payments.order_by("id")
    # plain attribute reads: the response schema (OrderOut) validates the whole answer once
    data["lines"] = [{f: getattr(l, f) for f in LINE_FIELDS} for l in lines]
    data["payments"] = [{f: getattr(p, f) for f in PAYMENT_FIELDS} for p in payments]
    return data


LINE_FIELDS = tuple(OrderLineOut.model_fields)
PAYMENT_FIELDS = tuple(PaymentOut.model_fields)


# --- orders -----------------------------------------------------------------------------------------------

@router.post("/orders", response={201: OrderOut, 200: OrderOut, **errors(403, 404, 409)})
def order_create(request: HttpRequest, payload: OrderIn):
    """Create an order (any channel and mode) with optional inline payments. Idempotent: the same client key
    (body `client_ref` or the `Idempotency-Key` header) returns the first order (200 with header
    `Idempotent-Replayed: true`); the same key with a different body is 409 `idempotency_key_reused`."""
    header_key = request.headers.get("Idempotency-Key")
    client_ref = payload.client_ref
    if header_key is not None and client_ref is not None and header_key != client_ref:
        raise ValidationFailed(code="client_ref_mismatch", details={"field": "client_ref"})
    data = payload.dict()
    data["client_ref"] = client_ref if client_ref is not None else header_key
    result = services.order_create(actor=request.auth, **data)
    response_status = 200 if result.replayed else 201
    return Status(response_status, order_out(result.order))


class OrderFilter(Schema):
    store_id: int | None = None
    status: str | None = Field(None, max_length=20)
    mode: str | None = Field(None, max_length=20)
    channel: str | None = Field(None, max_length=12)
    member_id: int | None = None
    guide_id: int | None = None
    number: SafeStr | None = Field(None, max_length=20)
    client_ref: SafeStr | None = Field(None, max_length=128)
    placed_from: datetime | None = None
    placed_to: datetime | None = None


class OrderSummaryOut(OrderHeadOut):
    member_id: int | None
    total: int
    paid_total: int
    refunded_total: int
    placed_at: datetime


@router.get("/orders", response={200: list[OrderSummaryOut], **errors(404)})
@paginate(LimitOffsetPagination)
def order_list(request: HttpRequest, filters: Query[OrderFilter]):
    """Orders in the caller's scope (a clerk sees only their store's), newest first, filtered."""
    return selectors.order_list(actor=request.auth, **filters.dict())


@router.get("/orders/{order_id}", response={200: OrderOut, **errors(404)})
def order_get(request: HttpRequest, order_id: int):
    return order_out(selectors.order_get(actor=request.auth, order_id=order_id))


@router.post("/orders/{order_id}/payments", response={201: OrderOut, 200: OrderOut, **errors(403, 404, 409)})
def payment_add(request: HttpRequest, order_id: int, payload: PaymentIn):
    """Pay (part of) an order. Once per payment client key: a retry returns the order as it is (200)."""
    result = services.payment_add(actor=request.auth, order_id=order_id, payment=payload.dict())
    return Status(200 if result.replayed else 201, order_out(result.order))


# --- after the sale -------------------------------------------------------------------------------------

class ReturnLineIn(Schema):
    order_line_id: int | None = None
    sku_id: int | None = Field(None, description="returns without receipt")
    quantity: int
    amount: int | None = Field(None, description="refund in fen, returns without receipt")


class ReturnIn(Schema):
    order_id: int | None = Field(None, description="the original order (receipt); omit for a return without receipt")
    store_id: int | None = Field(None, description="returns without receipt")
    client_ref: str | None = Field(None, max_length=128)
    lines: list[ReturnLineIn]
    reason: str = Field("", max_length=255)
    refund_method: str = "cash"
    approval: ApprovalSchema | None = None


class ReturnLineOut(Schema):
    id: int
    order_line_id: int | None
    sku_id: int
    quantity: int
    amount: int
    warehouse_id: int | None
    restocked: int


class ReturnOut(Schema):
    id: int
    number: str
    store_id: int
    order_id: int | None
    client_ref: str
    refund_total: int
    refund_method: str
    reason: str
    approval_id: int | None
    created_at: datetime
    lines: list[ReturnLineOut]


def return_out(doc) -> dict:
    data = {f: getattr(doc, f) for f in ("id", "number", "store_id", "order_id", "client_ref", "refund_total",
                                         "refund_method", "reason", "approval_id", "created_at")}
    data["lines"] = [ReturnLineOut.from_orm(l).dict() for l in doc.lines.order_by("id")]
    return data


@router.post("/returns", response={201: ReturnOut, 200: ReturnOut, **errors(403, 404, 409)})
def return_create(request: HttpRequest, payload: ReturnIn):
    """Return goods against an order (partial allowed; refunds, restock, points and commission reversed) or without
    a receipt (needs a manager's approval: 403 `approval_required`). Idempotent per client key."""
    data = payload.dict()
    if data["client_ref"] is None:
        data["client_ref"] = request.headers.get("Idempotency-Key")
    if data["order_id"] is not None:
        data["lines"] = [{"order_line_id": l["order_line_id"], "quantity": l["quantity"]} for l in data["lines"]]
        data.pop("store_id")
    else:
        data["lines"] = [{"sku_id": l["sku_id"], "quantity": l["quantity"], "amount": l["amount"]} for l in data["lines"]]
    result = services.return_create(actor=request.auth, **data)
    return Status(200 if result.replayed else 201, return_out(result.order_return))


@router.get("/returns/{return_id}", response={200: ReturnOut, **errors(404)})
def return_get(request: HttpRequest, return_id: int):
    return return_out(selectors.return_get(actor=request.auth, return_id=return_id))


class ShipmentLineIn(Schema):
    order_line_id: int
    quantity: int


class ShipmentIn(Schema):
    client_ref: str = Field(..., max_length=128)
    lines: list[ShipmentLineIn] | None = Field(None, description="omit to ship everything outstanding")
    carrier: str = Field("", max_length=40)
    tracking_no: str = Field("", max_length=64)


class ShipmentOut(Schema):
    id: int
    order_id: int
    client_ref: str
    carrier: str
    tracking_no: str
    created_at: datetime


@router.post("/orders/{order_id}/shipments", response={201: ShipmentOut, 200: ShipmentOut, **errors(403, 404, 409)})
def shipment_create(request: HttpRequest, order_id: int, payload: ShipmentIn):
    """Ship or hand over (pickup) some or all outstanding units; issues them from the order's pool."""
    data = payload.dict()
    result = services.shipment_create(actor=request.auth, order_id=order_id, **data)
    return Status(200 if result.replayed else 201, result.shipment)


class CancelIn(Schema):
    reason: str = Field("", max_length=255)
    approval: ApprovalSchema | None = None


@router.post("/orders/{order_id}/cancel", response={200: OrderOut, **errors(403, 404, 409)})
def order_cancel(request: HttpRequest, order_id: int, payload: CancelIn):
    """Cancel an unpaid order, or void a paid one (manager approval): stock back, refunds, reversals."""
    order = services.order_cancel(actor=request.auth, order_id=order_id, reason=payload.reason,
                                  approval=payload.dict()["approval"])
    return order_out(order)


class EditLineIn(Schema):
    order_line_id: int
    unit_price: int | None = None
    guide_id: int | None = None


class EditIn(Schema):
    lines: list[EditLineIn] = []
    note: str | None = Field(None, max_length=500)
    approval: ApprovalSchema | None = None


@router.patch("/orders/{order_id}", response={200: OrderOut, **errors(403, 404, 409)})
def order_edit(request: HttpRequest, order_id: int, payload: EditIn):
    """Edit an unpaid order: guides and note (audited); prices through a manager's approval."""
    data = payload.dict()
    return order_out(services.order_edit(actor=request.auth, order_id=order_id, **data))


@router.post("/orders/{order_id}/allocate", response={200: OrderOut, **errors(403, 404, 409)})
def order_preorder_allocate(request: HttpRequest, order_id: int):
    """A pre-order's goods arrived: reserve them in the store."""
    return order_out(services.order_preorder_allocate(actor=request.auth, order_id=order_id))


@router.get("/orders/{order_id}/receipt.escpos", response={200: None, **errors(403, 404)})
def receipt_escpos(request: HttpRequest, order_id: int):
    """The receipt as ESC/POS bytes for an 80 mm printer. The second and later prints are marked as reprints."""
    from .receipts import escpos

    receipt = services.receipt_print(actor=request.auth, order_id=order_id)
    response = HttpResponse(escpos(receipt), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}.bin"'
    return response


# --- approvals -------------------------------------------------------------------------------------------

class ApprovalOut(Schema):
    id: int
    store_id: int
    kind: str
    status: str
    summary: str
    payload: dict[str, Any]
    requested_by_id: int
    decided_by_id: int | None
    decided_at: datetime | None
    via: str
    reason: str
    used_at: datetime | None
    expires_at: datetime
    created_at: datetime


class DecisionIn(Schema):
    reason: str = Field("", max_length=255)


class PinIn(Schema):
    store_id: int
    pin: str = Field(..., max_length=8)


@router.get("/approvals", response={200: list[ApprovalOut], **errors()})
@paginate(LimitOffsetPagination)
def approval_list(request: HttpRequest, status: str | None = None, store_id: int | None = None):
    return selectors.approval_list(actor=request.auth, status=status, store_id=store_id)


@router.get("/approvals/{approval_id}", response={200: ApprovalOut, **errors(404)})
def approval_get(request: HttpRequest, approval_id: int):
    return selectors.approval_get(actor=request.auth, approval_id=approval_id)


@router.post("/approvals/{approval_id}/approve", response={200: ApprovalOut, **errors(403, 404, 409)})
def approval_approve(request: HttpRequest, approval_id: int, payload: DecisionIn):
    return services.approval_decide(actor=request.auth, approval_id=approval_id, approve=True, reason=payload.reason)


@router.post("/approvals/{approval_id}/reject", response={200: ApprovalOut, **errors(403, 404, 409)})
def approval_reject(request: HttpRequest, approval_id: int, payload: DecisionIn):
    return services.approval_decide(actor=request.auth, approval_id=approval_id, approve=False, reason=payload.reason)


@router.put("/manager-pin", response={204: None, **errors(403, 404)})
def manager_pin_set(request: HttpRequest, payload: PinIn):
    """Set your own approval PIN (store managers and above)."""
    services.manager_pin_set(actor=request.auth, store_id=payload.store_id, pin=payload.pin)
    return Status(204, None)


__all__ = ["router", "HttpResponse"]
