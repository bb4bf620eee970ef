"""The one cart pricing function. POS, storefront and API orders all price through `cart_price`.

Until the promotions engine lands this is list price (catalog price resolution for the store and channel),
plus the clerk's manual price overrides and order discount, which the approval rules in services check.
The promotions issue replaces the body of `cart_price` (same signature, same result type) with its engine.

Weighed SKUs are priced per kilogram and sold by the gram: the line amount is the scale's rounding of
price x grams (catalog.barcodes.weighed_price). A price-embedded scale label is charged exactly what it prints
(`CartLine.label_amount`); its grams are the weight the scale priced, estimated from the price per kg.
"""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from yundian.catalog.barcodes import weighed_price
from yundian.catalog.models import Channel, Sku
from yundian.catalog.pricing import price_resolve_many
from yundian.core.errors import ValidationFailed
from yundian.core.money import Money
from yundian.promotions.pricing import LineIn, price_lines

MAX_COUPON_CODES = 5

# which catalogue price channel each order channel uses
PRICE_CHANNEL = {"pos": Channel.STORE, "api": Channel.STORE, "storefront": Channel.ONLINE, "marketplace": Channel.ONLINE}


@dataclass(frozen=True)
class CartLine:
    sku: Sku
    quantity: int  # units, or grams for weighed SKUs
    unit_price: int | None = None  # a manual price override (fen per unit / per kg)
    label_amount: int | None = None  # fen a price-embedded scale label prints: the line costs exactly that


@dataclass
class PricedLine:
    sku: Sku
    quantity: int
    list_price: int  # resolved price per unit (per kg)
    unit_price: int  # charged price per unit (override or list)
    gross: int  # unit_price x quantity (weighed: scale rounding)
    list_gross: int  # list_price x quantity
    discount: int = 0  # this line's share of the order discount
    line_total: int = 0

    @property
    def is_override(self) -> bool:
        return self.unit_price != self.list_price


@dataclass
class CartPrice:
    currency: str
    lines: list[PricedLine]
    subtotal: int  # sum of list_gross
    discount_total: int  # list price - what is charged: overrides plus the order discount
    order_discount: int
    total: int
    applied: list[dict] = field(default_factory=list)  # promotions applied
    pricing: dict = field(default_factory=dict)  # the promotions engine's whole result (JSON), to store on the order

    def coupons_refused(self, codes) -> dict[str, dict]:
        """For each presented code the engine did not apply: {code: {"reason", "explanation"}} (its reason from the
        engine's not-applicable list)."""
        used = {a.get("coupon_code") for a in self.applied if a.get("source") == "coupon"}
        why = {e.get("coupon_code"): e for e in self.pricing.get("not_applicable", ()) if e.get("coupon_code")}
        return {code: {"reason": why.get(code, {}).get("reason", "not_applicable"),
                       "explanation": str(why.get(code, {}).get("explanation") or _("not applicable"))}
                for code in codes if code not in used}


def _amount(sku: Sku, price: int, quantity: int) -> int:
    return weighed_price(price, quantity) if sku.is_weighed else price * quantity


def cart_price(*, store, channel: str, lines: list[CartLine], order_discount: int = 0, member=None,
               at: datetime | None = None, coupon_codes: tuple[str, ...] = ()) -> CartPrice:
    """Price a cart at `store` for `channel`: per line list price (catalogue resolution), the override if any,
    then the order discount spread over the lines in proportion to their amounts (largest remainder), so the
    lines always add up to the total. `order_discount` is capped at the gross amount."""
    resolved = price_resolve_many([line.sku for line in lines], store, PRICE_CHANNEL.get(channel, Channel.STORE), at)
    currency = next(iter(resolved.values())).price.currency if resolved else "CNY"
    priced: list[PricedLine] = []
    for line in lines:
        list_price = resolved[line.sku.pk].price.amount
        unit_price = list_price if line.unit_price is None else line.unit_price
        if line.label_amount is not None and line.unit_price is None:
            gross = list_gross = line.label_amount
        else:
            gross = _amount(line.sku, unit_price, line.quantity)
            list_gross = _amount(line.sku, list_price, line.quantity)
        priced.append(PricedLine(sku=line.sku, quantity=line.quantity, list_price=list_price, unit_price=unit_price,
                                 gross=gross, list_gross=list_gross))
    # promotions (the one engine, yundian.promotions): each line's discount; the order discount spreads over the rest
    promo = price_lines(store=store, channel=channel, member=member, at=at, currency=currency, coupon_codes=coupon_codes,
                        lines=[LineIn(p.sku, p.quantity, p.unit_price, p.gross, p.list_price) for p in priced])
    for p, promo_line in zip(priced, promo.lines):
        p.discount = promo_line.discount
    gross = sum(p.gross - p.discount for p in priced)
    order_discount = max(0, min(order_discount, gross))
    if order_discount and gross:
        shares = Money(order_discount, currency).allocate([p.gross - p.discount for p in priced])
        for p, share in zip(priced, shares):
            p.discount += share.amount
    for p in priced:
        p.line_total = p.gross - p.discount
    subtotal = sum(p.list_gross for p in priced)
    total = sum(p.line_total for p in priced)
    return CartPrice(currency=currency, lines=priced, subtotal=subtotal, discount_total=max(0, subtotal - total),
                     order_discount=order_discount, total=total, applied=promo.applied, pricing=promo.as_dict())


def clean_codes(value: Any, field: str = "coupon_codes") -> tuple[str, ...]:
    """Coupon codes as the shopper typed them: at most 5, each 1-32 printable characters; blanks and the same code
    twice are dropped (spaces and case do not matter: promotions normalises)."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or len(value) > MAX_COUPON_CODES:
        raise ValidationFailed(_("Give at most 5 coupon codes."), code="invalid_coupon_codes",
                               details={"field": field, "max": MAX_COUPON_CODES})
    out: list[str] = []
    for code in value:
        if not isinstance(code, str) or len(code) > 32 or not code.isprintable():
            raise ValidationFailed(_("A coupon code is 1 to 32 letters and digits."), code="invalid_coupon_codes",
                                   details={"field": field})
        normal = "".join(code.split()).upper()
        if normal and normal not in out:
            out.append(normal)
    return tuple(out)


def scanned_line(scan, quantity: int | None, unit_price: int | None = None) -> CartLine:
    """The cart line a scan gives (catalog.selectors.scan_resolve): a weighed label's grams when no quantity is
    typed, and a price-embedded label's printed amount as the line's price."""
    weighed = scan.weighed if scan.sku.is_weighed else None
    label = None
    if quantity is None:
        quantity = scan.grams if weighed is not None and scan.grams else 1
        if weighed is not None and weighed.price is not None:
            label = weighed.price
    return CartLine(sku=scan.sku, quantity=quantity, unit_price=unit_price, label_amount=label)
