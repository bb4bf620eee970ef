"""The storefront's own checkout: a signed-in member orders from one store's cloud storefront for pickup in the
store or home delivery. The order is an ordinary order (channel storefront) made by `create_at_store` with no clerk:
the same pricing (promotions, the member's tier, coupons, flash-sale and group prices, the share link), the same
stock reservation in the store's pool, the same once-per-key rule. It is paid with stored value at once, or at the
store when collected / on delivery (it stays open and its units stay held until then).
"""
from typing import Any

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Conflict, ValidationFailed
from yundian.members.models import Member
from yundian.org.roles import Perm
from yundian.stores.models import StoreProfile

from ..models import OrderChannel, OrderMode
from ._common import MAX_QUANTITY, clean_id, clean_int, clean_text, store_for
from .orders import OrderResult, create_at_store

STOREFRONT_MODES = (OrderMode.PICKUP, OrderMode.DELIVERY)
MAX_CART_LINES = 50


def clean_cart(raw: Any) -> list[dict]:
    """Cart lines {sku_id, quantity} (only these: a shopper sets no prices and no guide); same SKU added up."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed(_("Your cart is empty."), code="no_lines", details={"field": "lines"})
    if len(raw) > MAX_CART_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_CART_LINES})
    merged: dict[int, int] = {}
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            raise ValidationFailed(_("Not an order line."), code="invalid_line", details={"line": index})
        sku_id = clean_id(line.get("sku_id"), "sku_id")
        merged[sku_id] = merged.get(sku_id, 0) + clean_int(line.get("quantity"), "quantity", low=1, high=999,
                                                           code="invalid_quantity")
    return [{"sku_id": sku_id, "quantity": min(quantity, MAX_QUANTITY)} for sku_id, quantity in merged.items()]


def storefront_order_create(*, store_id: int, member: Member, lines: Any, mode: str, client_ref: str,
                            delivery: dict | None = None, coupon_codes: Any = None, share_code: str | None = None,
                            pay_with_stored_value: bool = False, note: str = "") -> OrderResult:
    """Place the member's storefront order at the store, once per `client_ref` (the checkout form's key).
    422 for a mode the store does not offer or a delivery without an address; 409 `insufficient_stock` when the
    store cannot hold the goods, `insufficient_stored_value` when the balance is short. Nothing is written then."""
    store = store_for(None, store_id, Perm.ORDER_SELL, enterprise_id=member.enterprise_id)
    profile = StoreProfile.objects.filter(node=store).first()
    if profile is None:
        raise Conflict(_("This store does not sell online."), code="no_storefront")
    offered = [m for m, on in ((OrderMode.PICKUP, profile.pickup_enabled),
                               (OrderMode.DELIVERY, profile.delivery_enabled)) if on]
    if mode not in offered:
        raise ValidationFailed(_("This store does not offer that."), code="invalid_mode", details={"allowed": offered})
    if mode == OrderMode.DELIVERY:
        address = clean_text((delivery or {}).get("address"), "address", 300, required=True)
        delivery = {"address": address, "phone": clean_text((delivery or {}).get("phone"), "phone", 32)}
    else:
        delivery = None
    payments = [{"method": "stored_value", "client_ref": "stored-value"}] if pay_with_stored_value else []
    return create_at_store(actor=None, store=store, lines=clean_cart(lines), channel=OrderChannel.STOREFRONT, mode=mode,
                           client_ref=client_ref, member_id=member.pk, payments=payments, note=note, delivery=delivery,
                           coupon_codes=coupon_codes, share_code=share_code)


__all__ = ["STOREFRONT_MODES", "clean_cart", "storefront_order_create"]
