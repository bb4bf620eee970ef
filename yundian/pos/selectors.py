"""Reads for the POS page: which stores the actor may sell in, the store's catalogue/price snapshot for offline
selling, the guides who may be attributed, and server-side cart quotes through the one pricing function.

Prices come from `yundian.sales.pricing` (quotes) and `yundian.catalog.pricing.price_resolve_many` with the
price channel sales uses for POS orders (snapshot): no price is computed here.
"""
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Barcode, Category, MediaKind, ProductMedia, Sku, WeighedBarcodeScheme
from yundian.catalog.pricing import price_resolve_many
from yundian.catalog.selectors import scan_resolve
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.core.when import format_when
from yundian.inventory.models import StockBalance, Warehouse, WarehouseKind
from yundian.members.models import Member
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.roles import NodeKind, Perm, Role
from yundian.org.selectors import has_perm, require, scope_q
from yundian.sales.models import Order, OrderChannel, OrderLine, PaymentMethod
from yundian.sales.services._common import policy_for
from yundian.sales.services.returns import RETURNABLE, line_refund
from yundian.sales.pricing import PRICE_CHANNEL, CartLine, cart_price, clean_codes, scanned_line

MAX_QUOTE_LINES = 200
MAX_QUANTITY = 1_000_000
SELLER_ROLES = (Role.GUIDE, Role.STORE_MANAGER)


def pos_store_list(*, actor: Staff) -> list[OrgNode]:
    """Open stores where the actor may sell, by path."""
    nodes = OrgNode.objects.filter(scope_q(actor, Perm.ORDER_SELL), enterprise_id=actor.enterprise_id,
                                   kind=NodeKind.STORE, is_active=True)
    return list(nodes.order_by("path"))


def pos_store_get(*, actor: Staff, store_id: int) -> OrgNode:
    """A store the actor may sell in: 404 outside their view, 403 without order.sell, 404 if not an open store."""
    node = OrgNode.objects.filter(pk=store_id).select_related("enterprise").first()
    if node is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, Perm.ORDER_SELL, node)
    if node.kind != NodeKind.STORE or not node.is_active:
        raise NotFound(_("Store not found."), code="store_not_found")
    return node


def pos_guide_list(*, store: OrgNode, actor: Staff | None = None) -> list[Staff]:
    """Active staff who sell at the store (its guides and manager), plus the actor when they may sell there.
    Each carries `is_guide`: holds the guide role at the store (who may become a member's exclusive guide)."""
    roles = list(RoleAssignment.objects.filter(node=store, role__in=SELLER_ROLES, node__is_active=True)
                 .values_list("staff_id", "role"))
    ids = {staff_id for staff_id, _role in roles}
    guides = {staff_id for staff_id, role in roles if role == Role.GUIDE}
    if actor is not None and has_perm(actor, Perm.ORDER_SELL, store):
        ids.add(actor.pk)
    staff = list(Staff.objects.filter(pk__in=ids, is_active=True, enterprise_id=store.enterprise_id)
                 .order_by("display_name", "id"))
    for s in staff:
        s.is_guide = s.pk in guides
    return staff


def _fingerprint(content: Any) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def _top_category(sku: Sku) -> int:
    """The id of the top-level category a SKU's product sits under (0 when it has none): its quick-key tab."""
    category = sku.product.category
    if category is None:
        return 0
    head = category.path.strip("/").split("/")[0]
    return int(head) if head.isdigit() else category.pk


def pos_snapshot(*, store: OrgNode, actor: Staff | None = None) -> dict:
    """The store's sellable catalogue with today's unit prices (per kg for weighed SKUs), barcodes, weighed
    barcode schemes, the top-level categories its quick keys are grouped by and the store's sellers, for selling
    offline. `version` fingerprints the content (not the
    time it was made), so it changes exactly when a SKU, a barcode, a price or a seller changes."""
    now = timezone.now()
    skus = list(Sku.objects.filter(enterprise_id=store.enterprise_id, is_active=True, product__is_active=True)
                .select_related("product__category").order_by("product__name", "product_id", "sort_order", "id"))
    prices = price_resolve_many(skus, store, PRICE_CHANNEL[OrderChannel.POS], now)
    # one query for every barcode of the enterprise (no IN list of tens of thousands of SKU ids)
    codes: dict[int, list[str]] = defaultdict(list)
    for sku_id, code in (Barcode.objects.filter(enterprise_id=store.enterprise_id)
                         .order_by("sku_id", "-is_primary", "id").values_list("sku_id", "code")):
        codes[sku_id].append(code)
    currency = store.enterprise.currency
    covers: dict[int, str] = {}
    for media in (ProductMedia.objects.filter(product__enterprise_id=store.enterprise_id, kind=MediaKind.IMAGE,
                                              product__is_active=True).order_by("product_id", "sort_order", "id")):
        covers.setdefault(media.product_id, media.src)
    rows = [{
        "id": s.pk, "code": s.code, "name": f"{s.product.name} {s.name}".strip(), "unit": s.unit,
        "is_weighed": s.is_weighed, "plu": s.plu or "", "price": prices[s.pk].price.amount,
        "barcodes": codes.get(s.pk, []), "image": covers.get(s.product_id, ""), "group": _top_category(s),
    } for s in skus]
    # the quick keys' tabs: the top-level categories that hold a sellable SKU, in the catalogue's order
    used = {row["group"] for row in rows}
    groups = [{"id": c.pk, "name": c.name} for c in Category.objects.filter(
        enterprise_id=store.enterprise_id, depth=0, pk__in=used - {0}).order_by("sort_order", "name", "id")]
    schemes = [{"prefix": p, "item_digits": i, "value_digits": v, "value_kind": k} for p, i, v, k in
               WeighedBarcodeScheme.objects.filter(enterprise_id=store.enterprise_id, is_active=True)
               .order_by("prefix").values_list("prefix", "item_digits", "value_digits", "value_kind")]
    guides = [{"id": g.pk, "name": g.display_name, "is_guide": g.is_guide} for g in pos_guide_list(store=store, actor=actor)]
    content = {"store": {"id": store.pk, "name": store.name, "code": store.code}, "currency": currency,
               "skus": rows, "groups": groups, "weighed_schemes": schemes, "guides": guides}
    return {"version": _fingerprint(content), "generated_at": now, **content}


@dataclass(frozen=True)
class QuoteLine:
    cart: CartLine
    barcode: str


def _clean_quote_lines(enterprise_id: int, store: OrgNode, raw: Any) -> list[QuoteLine]:
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed(_("A cart needs at least one line."), code="no_lines", details={"field": "lines"})
    if len(raw) > MAX_QUOTE_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_QUOTE_LINES})
    wanted: list[tuple[int | None, str, int | None]] = []
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            raise ValidationFailed(_("Not a cart line."), code="invalid_line", details={"line": index})
        sku_id, barcode, quantity = line.get("sku_id"), line.get("barcode") or "", line.get("quantity")
        if sku_id is not None and (isinstance(sku_id, bool) or not isinstance(sku_id, int) or sku_id <= 0):
            raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"line": index, "field": "sku_id"})
        if not isinstance(barcode, str) or len(barcode) > 32 or (sku_id is None) == (not barcode):
            raise ValidationFailed(_("Give a SKU or a barcode for each line."), code="invalid_line",
                                   details={"line": index})
        if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int)
                                     or not 1 <= quantity <= MAX_QUANTITY):
            raise ValidationFailed(_("Quantities are whole numbers greater than zero."), code="invalid_quantity",
                                   details={"line": index, "field": "quantity"})
        if sku_id is not None and quantity is None:
            raise ValidationFailed(_("Quantities are whole numbers greater than zero."), code="invalid_quantity",
                                   details={"line": index, "field": "quantity"})
        wanted.append((sku_id, barcode, quantity))
    ids = {s for s, _b, _q in wanted if s is not None}
    found = {s.pk: s for s in Sku.objects.filter(enterprise_id=enterprise_id, pk__in=ids, is_active=True,
                                                 product__is_active=True).select_related("product")}
    out = []
    for index, (sku_id, barcode, quantity) in enumerate(wanted):
        if barcode:
            try:
                scan = scan_resolve(enterprise_id=enterprise_id, code=barcode, node=store)
            except (NotFound, ValidationFailed) as exc:
                exc.details["line"] = index
                raise
            sku = scan.sku
            if not sku.is_active or not sku.product.is_active:
                raise Conflict(_("This SKU is no longer sold."), code="sku_inactive", details={"line": index})
            cart_line = scanned_line(scan, quantity)
        else:
            sku = found.get(sku_id)
            if sku is None:
                raise NotFound(_("SKU not found."), code="sku_not_found", details={"line": index, "sku_id": sku_id})
            cart_line = CartLine(sku=sku, quantity=quantity)
        out.append(QuoteLine(cart_line, barcode))
    return out


def store_available(store: OrgNode, sku_ids: list[int]) -> dict[int, int]:
    """What the store's own stock room can still sell of each SKU (on hand less reserved; 0 with no stock row).
    Empty when the store has no open stock room (nothing to show)."""
    warehouse = (Warehouse.objects.filter(node=store, kind=WarehouseKind.STORE, is_active=True)
                 .order_by("id").first())
    if warehouse is None:
        return {}
    found = {sku_id: on_hand - reserved for sku_id, on_hand, reserved in
             StockBalance.objects.filter(warehouse=warehouse, sku_id__in=set(sku_ids))
             .values_list("sku_id", "on_hand", "reserved")}
    return {sku_id: found.get(sku_id, 0) for sku_id in sku_ids}


def pos_quote(*, actor: Staff, store: OrgNode, lines: Any, member_id: Any = None, coupon_codes: Any = None) -> dict:
    """What the cart costs now, from `sales.pricing.cart_price` (the function orders are priced with): the promotions
    it applied, and for each presented coupon that does not apply, why (the order would be refused with it)."""
    cleaned = _clean_quote_lines(store.enterprise_id, store, lines)
    codes = clean_codes(coupon_codes)
    member = None
    if member_id is not None:
        if isinstance(member_id, bool) or not isinstance(member_id, int) or member_id <= 0:
            raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "member_id"})
        member = Member.objects.filter(pk=member_id, enterprise_id=store.enterprise_id).first()
        if member is None:
            raise NotFound(_("Member not found."), code="member_not_found")
    priced = cart_price(store=store, channel=OrderChannel.POS,
                        lines=[line.cart for line in cleaned], member=member,
                        coupon_codes=codes)
    refused = [{"code": code, **why} for code, why in priced.coupons_refused(codes).items()]
    currency = priced.currency
    available = store_available(store, [p.sku.pk for p in priced.lines])
    wanted: dict[int, int] = defaultdict(int)
    for p in priced.lines:
        wanted[p.sku.pk] += p.quantity

    def money(amount: int) -> str:
        return Money(amount, currency).format()

    return {
        "currency": currency,
        "lines": [{"sku_id": p.sku.pk, "barcode": q.barcode, "code": p.sku.code,
                   "name": f"{p.sku.product.name} {p.sku.name}".strip(), "is_weighed": p.sku.is_weighed,
                   "quantity": p.quantity, "list_price": p.list_price, "unit_price": p.unit_price,
                   "line_total": p.line_total, "unit_price_display": money(p.unit_price),
                   "line_total_display": money(p.line_total), "available": available.get(p.sku.pk),
                   "short": available.get(p.sku.pk) is not None and wanted[p.sku.pk] > available[p.sku.pk]}
                  for p, q in zip(priced.lines, cleaned)],
        "subtotal": priced.subtotal, "discount_total": priced.discount_total, "total": priced.total,
        "subtotal_display": money(priced.subtotal), "discount_display": money(priced.discount_total),
        "total_display": money(priced.total), "applied": priced.applied, "coupons_refused": refused,
    }



RECEIPT_QUERY_MAX = 40


def _returnable(line: OrderLine) -> int:
    return line.shipped_quantity - line.returned_quantity


def pos_receipt_lookup(*, actor: Staff, store: OrgNode, query: Any) -> dict:
    """The store's order with this number (SO…, or its bare digits) or client key, with what each line can still
    take back, for a return or an exchange at the till. 404 `order_not_found` otherwise."""
    query = (query or "").strip() if isinstance(query, str) else ""
    if not query or len(query) > RECEIPT_QUERY_MAX:
        raise ValidationFailed(_("Scan or type the receipt's order number."), code="invalid_receipt",
                               details={"field": "q"})
    digits = query.upper().removeprefix("SO")
    orders = Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id,
                                  store=store)
    order = orders.filter(pk=int(digits)).first() if digits.isascii() and digits.isdigit() and len(digits) <= 12 else None
    if order is None:
        order = orders.filter(client_ref=query).first()
    if order is None:
        raise NotFound(_("No order of this store has this number."), code="order_not_found", details={"q": query})
    currency = order.currency

    def money(amount: int) -> str:
        return Money(amount, currency).format()

    methods = dict(PaymentMethod.choices)
    window = policy_for(store).return_days
    lines = list(OrderLine.objects.filter(order=order).order_by("line_no"))
    return {
        "id": order.pk, "number": order.number, "status": order.status, "status_label": order.get_status_display(),
        "placed_at": format_when(order.placed_at),
        "member_id": order.member_id, "total": order.total, "total_display": money(order.total),
        "refunded_total": order.refunded_total, "refunded_display": money(order.refunded_total),
        "returnable": order.status in RETURNABLE,
        "return_days": window,
        # later than the store's return window: a manager approves (unless the clerk may approve orders there)
        "needs_approval": order.placed_at < timezone.now() - timedelta(days=window)
                          and not has_perm(actor, Perm.ORDER_APPROVE, store),
        "payments": [{"method": p.method, "label": str(methods.get(p.method, p.method)), "amount": p.amount,
                      "amount_display": money(p.amount)} for p in order.payments.order_by("id")],
        "lines": [{"id": l.pk, "line_no": l.line_no, "name": l.name, "code": l.sku_code, "is_weighed": l.is_weighed,
                   "quantity": l.quantity, "returned_quantity": l.returned_quantity, "returnable": _returnable(l),
                   "line_total": l.line_total, "line_total_display": money(l.line_total)} for l in lines],
    }


def pos_return_quote(*, actor: Staff, store: OrgNode, order_id: Any, lines: Any) -> dict:
    """What returning these quantities refunds, line by line, by the rule the return itself uses
    (`sales.services.returns.line_refund`); 409 `return_exceeds_sale` past what a line can take back."""
    if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "order_id"})
    order = Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id,
                                 store=store, pk=order_id).first()
    if order is None:
        raise NotFound(_("No order of this store has this number."), code="order_not_found")
    if not isinstance(lines, list) or len(lines) > MAX_QUOTE_LINES:
        raise ValidationFailed(_("Not a cart line."), code="invalid_line", details={"field": "lines"})
    by_id = {l.pk: l for l in OrderLine.objects.filter(order=order)}
    out, total = [], 0
    for index, raw in enumerate(lines):
        line_id = raw.get("order_line_id") if isinstance(raw, dict) else None
        quantity = raw.get("quantity") if isinstance(raw, dict) else None
        if not isinstance(line_id, int) or line_id not in by_id or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationFailed(_("Not a cart line."), code="invalid_line", details={"line": index})
        line = by_id[line_id]
        if quantity > _returnable(line):
            raise Conflict(_("More would come back than was handed over."), code="return_exceeds_sale",
                           details={"line": index, "returnable": _returnable(line)})
        refund = line_refund(line, quantity)
        total += refund
        out.append({"order_line_id": line.pk, "quantity": quantity, "refund": refund})
    refund_total = min(total, order.paid_total - order.refunded_total)
    return {"order_id": order.pk, "lines": out, "refund_total": refund_total,
            "refund_display": Money(refund_total, order.currency).format()}


def pos_approver_list(*, store: OrgNode, actor: Staff | None = None) -> list[Staff]:
    """The store's sellers who may approve orders there (its manager): whose PIN the till asks for."""
    return [s for s in pos_guide_list(store=store, actor=actor) if has_perm(s, Perm.ORDER_APPROVE, store)]
