"""Creating orders (every channel, every mode), once per client key.

`order_create` is idempotent on (store, client_ref): the order row is inserted first in the transaction, so a
concurrent retry with the same key waits on the unique index (PostgreSQL) or the write lock (SQLite IMMEDIATE),
then fails the constraint and replays the first order — or hears 409 if its payload differs. Stock, members and
commission are written after the order row, in the global lock order.
"""
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.selectors import scan_resolve
from yundian.core.cache import cache_scope
from yundian.core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from yundian.core.outbox import outbox_batch
from yundian.inventory import services as stock
from yundian.inventory.models import Warehouse
from yundian.members import services as member_services
from yundian.members.models import IdentityKind, Member, MemberStatus
from yundian.members.selectors import member_lookup, resolve_active
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.promotions.services import checkout as promo_checkout
from yundian.promotions.services.referrals import share_link_get

from ..models import Order, OrderChannel, OrderLine, OrderMode, OrderStatus, Payment
from ..pricing import CartLine, CartPrice, cart_price, scanned_line
from .approvals import ApprovalGate, ApprovalIn, run_with_approval
from .payments import clean_payment, earn_for_paid, earn_lines, set_paid, spend_stored_value, take_payment
from ._common import (MAX_LINES, MAX_QUANTITY, ORDER_SOURCE, RESERVATION_DAYS, clean_codes, clean_int,
                      clean_optional_id, clean_ref, clean_share_code, clean_sold_at, clean_text, fingerprint, guide_check,
                      order_changed, policy_for, raw_rows, ship_pool, skus_for, store_for, store_warehouse)

RESERVING_MODES = {OrderMode.PICKUP, OrderMode.DELIVERY, OrderMode.SHIP_FROM_WAREHOUSE}


@dataclass(frozen=True)
class LineIn:
    sku_id: int | None
    barcode: str
    quantity: int | None
    unit_price: int | None
    guide_id: int | None


@dataclass(frozen=True)
class OrderResult:
    order: Order
    replayed: bool


def _clean_lines(raw: Any) -> list[LineIn]:
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed(_("An order needs at least one line."), code="no_lines", details={"field": "lines"})
    if len(raw) > MAX_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_LINES})
    out = []
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            raise ValidationFailed(_("Not an order line."), code="invalid_line", details={"line": index})
        try:
            sku_id = clean_optional_id(line.get("sku_id"), "sku_id")
            barcode = clean_text(line.get("barcode"), "barcode", 32)
            if (sku_id is None) == (not barcode):
                raise ValidationFailed(_("Give a SKU or a barcode for each line."), code="invalid_line",
                                       details={"field": "sku_id"})
            quantity = line.get("quantity")
            if quantity is not None or not barcode:
                quantity = clean_int(quantity, "quantity", low=1, high=MAX_QUANTITY, code="invalid_quantity")
            unit_price = line.get("unit_price")
            if unit_price is not None:
                unit_price = clean_int(unit_price, "unit_price", low=0, high=10**10)
            guide_id = clean_optional_id(line.get("guide_id"), "guide_id")
        except ValidationFailed as exc:
            exc.details["line"] = index
            raise
        out.append(LineIn(sku_id, barcode, quantity, unit_price, guide_id))
    return out


def _resolve_member(actor: Staff, store: OrgNode, member_id, phone, card) -> Member | None:
    given = [v for v in (member_id, phone, card) if v not in (None, "")]
    if len(given) > 1:
        raise ValidationFailed(_("Attach a member by one of id, phone or card."), code="invalid_member",
                               details={"field": "member"})
    if member_id is not None:
        # a fixed statement (no query building); the tier comes from members' per-process cache of the tiers when
        # the pricing engine reads the member's benefits
        member = next(iter(raw_rows(Member, "id = %s AND enterprise_id = %s", [member_id, store.enterprise_id])), None)
        if member is None:
            raise NotFound(_("Member not found."), code="member_not_found")
        member = resolve_active(member)
        if member.status != MemberStatus.ACTIVE:
            raise NotFound(_("Member not found."), code="member_not_found")
        return member
    if phone:
        return member_lookup(actor=actor, store_id=store.pk, kind=IdentityKind.PHONE, value=phone)
    if card:
        return member_lookup(actor=actor, store_id=store.pk, kind=IdentityKind.CARD, value=card)
    return None


def order_create(*, actor: Staff, store_id: int, lines: Any, channel: str = OrderChannel.POS,
                 mode: str = OrderMode.TAKE_NOW, client_ref: str | None = None, member_id: int | None = None,
                 member_phone: str | None = None, member_card: str | None = None, guide_id: int | None = None,
                 order_discount: int = 0, payments: Any = (), note: str = "", delivery: dict | None = None,
                 warehouse_id: int | None = None, approval: Any = None, coupon_codes: Any = None,
                 share_code: str | None = None, placed_at: Any = None) -> OrderResult:
    """Create an order and move its stock in the mode's pool (issue / reserve / nothing for pre-orders), apply
    inline payments, and when fully paid earn points and commission — all in one transaction, once per
    (store, client_ref). Prices come from `sales.pricing.cart_price` (the promotions engine; its result is stored on
    the order); a presented coupon that does not apply is a 422 `coupon_not_applicable` with the engine's reason,
    never a silent full price. The coupons it applied are redeemed, and flash-sale claims and group places tied to
    the order, in the same transaction (promotions.services.checkout). `share_code` is the 分销 link the sale came
    by (rewarded when paid). `placed_at` is when an offline till rang the sale up: the order is priced and dated
    then. A price below the floor or a discount beyond the clerk's limit needs a manager's approval
    (403 `approval_required`).
    Locks: the order row (insert), coupons / claims / group places, stock balances (sku, warehouse order), the
    member, commission balances."""
    with cache_scope():  # the cached reads of the sale check their versions once (core.cache)
        store = store_for(actor, store_id, Perm.ORDER_SELL)
        return create_at_store(
            actor=actor, store=store, lines=lines, channel=channel, mode=mode, client_ref=client_ref,
            member_id=member_id, member_phone=member_phone, member_card=member_card, guide_id=guide_id,
            order_discount=order_discount, payments=payments, note=note, delivery=delivery, warehouse_id=warehouse_id,
            approval=approval, coupon_codes=coupon_codes, share_code=share_code, placed_at=placed_at)


def create_at_store(*, actor: Staff | None, store: OrgNode, lines: Any, channel: str, mode: str,
                    client_ref: str | None, member_id: int | None = None, member_phone: str | None = None,
                    member_card: str | None = None, guide_id: int | None = None, order_discount: int = 0,
                    payments: Any = (), note: str = "", delivery: dict | None = None, warehouse_id: int | None = None,
                    approval: Any = None, coupon_codes: Any = None, share_code: str | None = None,
                    placed_at: Any = None) -> OrderResult:
    """`order_create` at a store already resolved for the actor; `actor=None` is the storefront's own checkout
    (the shopper is the member; no clerk, no approvals)."""
    if channel not in OrderChannel.values:
        raise ValidationFailed(_("Unknown channel."), code="invalid_channel", details={"allowed": list(OrderChannel.values)})
    if mode not in OrderMode.values:
        raise ValidationFailed(_("Unknown order mode."), code="invalid_mode", details={"allowed": list(OrderMode.values)})
    client_ref = clean_ref(client_ref)
    cleaned = _clean_lines(lines)
    member_id = clean_optional_id(member_id, "member_id")
    member_phone = clean_text(member_phone, "member_phone", 32)
    member_card = clean_text(member_card, "member_card", 64)
    guide_id = clean_optional_id(guide_id, "guide_id")
    order_discount = clean_int(order_discount or 0, "order_discount")
    if not isinstance(payments, list | tuple):
        raise ValidationFailed(_("Payments are a list."), code="invalid_payment", details={"field": "payments"})
    if len(payments) > 20:
        raise ValidationFailed(_("Too many payments."), code="invalid_payment", details={"max": 20})
    cleaned_payments = [clean_payment(p, i) for i, p in enumerate(payments)]
    if len({p.client_ref for p in cleaned_payments}) != len(cleaned_payments):
        raise ValidationFailed(_("Each payment needs its own client key."), code="duplicate_payment_ref")
    note = clean_text(note, "note", 500)
    if delivery is not None and (not isinstance(delivery, dict) or len(str(delivery)) > 2000):
        raise ValidationFailed(_("Not a valid delivery address."), code="invalid_delivery", details={"field": "delivery"})
    if mode == OrderMode.DELIVERY and not delivery:
        raise ValidationFailed(_("A delivery order needs an address."), code="required", details={"field": "delivery"})
    warehouse_id = clean_optional_id(warehouse_id, "warehouse_id")
    approval = ApprovalIn.parse(approval)
    coupon_codes = clean_codes(coupon_codes)
    share_code = clean_share_code(share_code)
    sold_at = clean_sold_at(placed_at, timezone.now())
    payload = {
        "store_id": store.pk, "channel": channel, "mode": mode, "member_id": member_id, "member_phone": member_phone,
        "member_card": member_card, "guide_id": guide_id, "order_discount": order_discount, "note": note,
        "delivery": delivery or {}, "warehouse_id": warehouse_id,
        "lines": [line.__dict__ for line in cleaned], "payments": [p.as_dict() for p in cleaned_payments],
    }
    # new keys only when given, so the fingerprints of orders taken before they existed stay the same. The time of
    # sale is not part of it: a till that first tried online and then queued the sale offline sends the same sale
    # once without it and once with it.
    if coupon_codes:
        payload["coupon_codes"] = list(coupon_codes)
    if share_code:
        payload["share_code"] = share_code
    request_hash = fingerprint(payload)
    if client_ref:
        existing = raw_rows(Order, "store_id = %s AND client_ref = %s", [store.pk, client_ref])  # unique
        if existing:
            return _replay(existing[0], request_hash)

    # compute first (reads only, outside the write transaction), then write
    prepared = _prepare(actor=actor, store=store, channel=channel, mode=mode, lines=cleaned, member_id=member_id,
                        member_phone=member_phone, member_card=member_card, guide_id=guide_id,
                        order_discount=order_discount, warehouse_id=warehouse_id, coupon_codes=coupon_codes,
                        share_code=share_code, sold_at=sold_at)

    def work(gate: ApprovalGate) -> Order:
        return _write(actor=actor, store=store, channel=channel, mode=mode, client_ref=client_ref,
                      request_hash=request_hash, prepared=prepared, payments=cleaned_payments, note=note,
                      delivery=delivery or {}, gate=gate)

    try:
        order = run_with_approval(actor=actor, store=store, approval=approval, work=work)
    except IntegrityError:
        existing = Order.objects.filter(store=store, client_ref=client_ref).first() if client_ref else None
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return OrderResult(order, False)


def _replay(existing: Order, request_hash: str) -> OrderResult:
    if existing.request_hash != request_hash:
        raise IdempotencyConflict(details={"order_id": existing.pk})
    return OrderResult(existing, True)


@dataclass
class _Prepared:
    member: Member | None
    priced: CartPrice
    approvals: list[tuple[str, dict]]
    guides: list[Staff | None]
    warehouse: Warehouse | None
    now: datetime  # when the sale happened (an offline till's time), which it is priced and dated at
    share_code: str = ""
    sku_ids: frozenset[int] = frozenset()  # the SKUs read (in the store's enterprise) while pricing


def _prepare(*, actor: Staff, store: OrgNode, channel: str, mode: str, lines: list[LineIn], member_id, member_phone,
             member_card, guide_id, order_discount: int, warehouse_id, coupon_codes: tuple[str, ...] = (),
             share_code: str = "", sold_at: datetime | None = None) -> _Prepared:
    now = sold_at or timezone.now()
    member = _resolve_member(actor, store, member_id, member_phone, member_card)
    # SKUs: by id, or by scanning (weighed barcodes give the grams)
    skus = skus_for(store.enterprise_id, [l.sku_id for l in lines if l.sku_id is not None])
    cart: list[CartLine] = []
    for index, line in enumerate(lines):
        if line.barcode:
            scan = scan_resolve(enterprise_id=store.enterprise_id, code=line.barcode, node=store)
            scan = replace(scan, sku=skus_for(store.enterprise_id, [scan.sku.pk])[scan.sku.pk])
            cart_line = scanned_line(scan, line.quantity, line.unit_price)
        else:
            cart_line = CartLine(sku=skus[line.sku_id], quantity=line.quantity, unit_price=line.unit_price)
        if cart_line.quantity is None or cart_line.quantity < 1:
            raise ValidationFailed(_("Quantities are whole numbers greater than zero."), code="invalid_quantity",
                                   details={"line": index})
        cart.append(cart_line)
    priced = cart_price(store=store, channel=channel, lines=cart, order_discount=order_discount, member=member, at=now,
                        coupon_codes=coupon_codes)
    _check_coupons(priced, coupon_codes)
    sharer = None
    if share_code:
        link = share_link_get(share_code)
        if link.enterprise_id != store.enterprise_id:
            raise NotFound(_("Link not found."), code="share_link_not_found")
        sharer = link.sharer_staff_id
    # the clerk's discount is checked against what is left after the promotions
    gross = priced.total + priced.order_discount
    if order_discount > gross:
        raise ValidationFailed(_("The discount is more than the order."), code="discount_too_large",
                               details={"field": "order_discount"})
    # what needs a manager: a price below the floor, a discount beyond the clerk's limit
    approvals = []
    if order_discount or any(p.unit_price < p.list_price for p in priced.lines):
        policy = policy_for(store)
        below = [{"line": i, "sku_id": p.sku.pk, "list_price": p.list_price, "unit_price": p.unit_price}
                 for i, p in enumerate(priced.lines) if p.unit_price * 100 < p.list_price * policy.price_floor_percent]
        if below:
            approvals.append(("price_override", {"lines": below, "floor_percent": policy.price_floor_percent}))
        if order_discount and order_discount * 100 > gross * policy.clerk_discount_percent:
            approvals.append(("discount", {"order_discount": order_discount, "gross": gross,
                                           "limit_percent": policy.clerk_discount_percent}))
    # guides: line -> order -> the guide whose share link the sale came by -> the member's bound guide (each if
    # they sell here) -> the clerk
    cache: dict[int, Staff] = {}
    default_guide = None
    if guide_id is not None:
        default_guide = guide_check(guide_id, store, cache)
    elif sharer is not None and (shared := Staff.objects.filter(pk=sharer, is_active=True).first()) is not None \
            and has_perm(shared, Perm.ORDER_SELL, store):
        default_guide = shared
    elif member is not None and member.guide_id is not None:
        bound = Staff.objects.filter(pk=member.guide_id, is_active=True).first()
        if bound is not None and has_perm(bound, Perm.ORDER_SELL, store):
            default_guide = bound
    # the clerk, last; not for a marketplace's order: the staff member a channel acts as did not sell it
    if default_guide is None and actor is not None and channel != OrderChannel.MARKETPLACE \
            and has_perm(actor, Perm.ORDER_SELL, store):
        default_guide = actor
    guides = [guide_check(line.guide_id, store, cache) if line.guide_id is not None else default_guide
              for line in lines]
    # the pool
    if mode == OrderMode.SHIP_FROM_WAREHOUSE:
        warehouse = ship_pool(store, warehouse_id)
    else:
        if warehouse_id is not None:
            raise ValidationFailed(_("Only ship-from-warehouse orders choose a warehouse."), code="invalid_warehouse",
                                   details={"field": "warehouse_id"})
        warehouse = store_warehouse(store)
    return _Prepared(member=member, priced=priced, approvals=approvals, guides=guides,
                     warehouse=None if mode == OrderMode.PREORDER else warehouse, now=now, share_code=share_code,
                     sku_ids=frozenset(line.sku.pk for line in cart))


def _check_coupons(priced: CartPrice, codes: tuple[str, ...]) -> None:
    """Every presented coupon must be applied: 422 `coupon_not_applicable` with the engine's reason otherwise."""
    for code, why in priced.coupons_refused(codes).items():
        raise ValidationFailed(_("The coupon %(code)s cannot be used on this order: %(why)s") % {
            "code": code, "why": why["explanation"]}, code="coupon_not_applicable",
            details={"coupon_code": code, "reason": why["reason"], "field": "coupon_codes"})


# which applied promotions sales must tell promotions about when the order is placed (they hold a unit or a code)
_HELD_SOURCES = {"coupon", "flash_sale", "group_buy"}


def _write(*, actor: Staff, store: OrgNode, channel: str, mode: str, client_ref: str, request_hash: str,
           prepared: _Prepared, payments, note: str, delivery: dict, gate: ApprovalGate) -> Order:
    """The sale's writes, failing as a whole: no savepoints inside (a failed step rolls the sale back), and the
    outbox rows (stock.changed, order.changed) go in together at the end."""
    with outbox_batch():
        return _write_sale(actor=actor, store=store, channel=channel, mode=mode, client_ref=client_ref,
                           request_hash=request_hash, prepared=prepared, payments=payments, note=note,
                           delivery=delivery, gate=gate)


def _write_sale(*, actor: Staff, store: OrgNode, channel: str, mode: str, client_ref: str, request_hash: str,
                prepared: _Prepared, payments, note: str, delivery: dict, gate: ApprovalGate) -> Order:
    priced, warehouse, now = prepared.priced, prepared.warehouse, prepared.now
    if prepared.approvals:
        kind = prepared.approvals[0][0]
        gate.require(kind, {"action": "order_create", "request": request_hash, "reasons": dict(prepared.approvals)},
                     summary="; ".join(k for k, _d in prepared.approvals), target=store)
    # the order row first: it claims the client key before any other write. It is inserted as it ends up: the
    # inline payments are checked and added up in memory first (409 before anything is written if one does not
    # fit), so a sale paid at the till is one INSERT, not an INSERT and an UPDATE.
    order = Order(
        enterprise_id=store.enterprise_id, store=store, channel=channel, mode=mode, client_ref=client_ref,
        request_hash=request_hash, clerk=actor, note=note, delivery=delivery, placed_at=now,
        currency=store.enterprise.currency, member=prepared.member, warehouse=warehouse, subtotal=priced.subtotal,
        total=priced.total, discount_total=max(0, priced.subtotal - priced.total), pricing=priced.pricing,
        share_code=prepared.share_code, received_at=timezone.now())
    order.store = store
    if order.total == 0:
        set_paid(order, now)
    taken = [take_payment(order, payment, actor=actor) for payment in payments]
    if taken and order.paid_total == order.total:
        set_paid(order, now)
    paid_now = order.paid_at is not None
    # the points it earns, quoted from the member as read while pricing, so the order row is written once with
    # them; the members hook re-checks the quote under the member's lock (another tier meanwhile: worked out again)
    quote = None
    if paid_now and prepared.member is not None and order.total > 0:
        quote = member_services.points_earn_quote(member=prepared.member, store=store, lines=earn_lines(
            [OrderLine(line_total=p.line_total, category_id=p.sku.product.category_id) for p in priced.lines]))
        order.points_earned = quote.points
    order.save(force_insert=True)
    rows = []
    for index, (p, guide) in enumerate(zip(priced.lines, prepared.guides), start=1):
        rows.append(OrderLine(
            order=order, line_no=index, sku=p.sku, sku_code=p.sku.code,
            name=f"{p.sku.product.name} {p.sku.name}".strip()[:250], category_id=p.sku.product.category_id,
            is_weighed=p.sku.is_weighed, quantity=p.quantity, list_price=p.list_price, unit_price=p.unit_price,
            discount=max(0, p.list_gross - p.line_total), line_total=p.line_total, guide=guide, warehouse=warehouse,
            shipped_quantity=p.quantity if mode == OrderMode.TAKE_NOW else 0))
    OrderLine.objects.bulk_create(rows)
    order._lines = rows
    # promotions: redeem the coupons, tie flash-sale claims and group places to the order (409 if one went meanwhile)
    if any(entry.get("source") in _HELD_SOURCES for entry in priced.applied):
        promo_checkout.order_placed(store=store, order_ref=str(order.pk), pricing=priced.pricing,
                                    member=prepared.member, at=now)
    # stock, in the mode's pool
    if warehouse is not None:
        stock_lines = [(r.sku_id, warehouse.pk, r.quantity) for r in rows]
        stock_actor = actor if warehouse.node_id == store.pk else None  # the clerk's scope ends at their store
        try:
            if mode == OrderMode.TAKE_NOW:
                # the store's stock room and the SKUs were read while preparing: checked again, not read again
                known = None
                if warehouse.node_id == store.pk:
                    warehouse.node = store
                    known = stock.Known(enterprise_id=store.enterprise_id, warehouses={warehouse.pk: warehouse},
                                        sku_ids=prepared.sku_ids)
                stock.stock_issue(actor=stock_actor, lines=stock_lines, source_type=ORDER_SOURCE, source_id=order.pk,
                                  known=known, savepoint=False)
            elif mode in RESERVING_MODES:
                stock.stock_reserve(actor=stock_actor, lines=stock_lines, source_type=ORDER_SOURCE, source_id=order.pk,
                                    expires_at=now + timedelta(days=RESERVATION_DAYS) - timedelta(minutes=1))
        except Conflict as exc:
            if exc.code != "insufficient_stock":
                raise
            raise stock_short(exc, rows) from exc
    # payments (members: stored value), then what the paid order earns (members: points; commissions)
    if taken:
        for row in taken:
            row.order = order
        Payment.objects.bulk_create(taken)
        spend_stored_value(order, taken, actor=actor, savepoint=False)
    order._payments = taken
    if paid_now:
        quoted = order.points_earned
        earn_for_paid(order, actor=actor, quote=quote, savepoint=False, fresh=True)
        if order.points_earned != quoted:  # the member's tier changed between pricing and the lock
            order.save(update_fields=["points_earned", "updated_at"])
    order_changed(order)
    return order


def stock_short(exc: Conflict, rows: list[OrderLine]) -> Conflict:
    """The inventory's bare 409 `insufficient_stock` restated for the order: which lines are short (number, SKU
    name and code), how many they ask for and how many the pool can still sell."""
    available = {row["sku_id"]: row["available"] for row in exc.details.get("lines", [])}
    wanted: dict[int, int] = {}
    for row in rows:
        wanted[row.sku_id] = wanted.get(row.sku_id, 0) + row.quantity
    short = [{"line": row.line_no - 1, "sku_id": row.sku_id, "sku_code": row.sku_code, "name": row.name,
              "requested": wanted[row.sku_id], "available": max(0, available[row.sku_id])}
             for row in rows if row.sku_id in available]
    if not short:
        return exc
    first = short[0]
    message = _("Not enough stock for line %(line)s, %(name)s (%(code)s): %(requested)s wanted, %(available)s "
                "available.") % {"line": first["line"] + 1, "name": first["name"], "code": first["sku_code"],
                                 "requested": first["requested"], "available": first["available"]}
    if len(short) > 1:
        message = _("%(first)s %(more)s more lines are short.") % {"first": message, "more": len(short) - 1}
    return Conflict(message, code="insufficient_stock", details={"lines": short})


def order_lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("sku").order_by("line_no"))


__all__ = ["LineIn", "OrderResult", "create_at_store", "order_create", "order_lines", "Conflict", "OrderStatus"]


def order_edit(*, actor: Staff, order_id: int, lines: Any = (), note: str | None = None, approval: Any = None) -> Order:
    """Edit an unpaid order: re-attribute a line's guide or change the note (audited), or change a line's unit price
    (a manager's approval, kind order_edit, unless the editor holds order.approve). The line keeps its share of the
    order discount. Quantities are not edited: cancel and ring up again, so stock follows the usual path.
    Locks: the order row."""
    from yundian.catalog.barcodes import weighed_price
    from yundian.core.audit import audit_record

    from .. import locks
    from ..models import ApprovalKind
    from ._common import clean_id, order_for

    order = order_for(actor, order_id, Perm.ORDER_SELL)
    if not isinstance(lines, list | tuple) or len(lines) > MAX_LINES:
        raise ValidationFailed(_("Lines are a list."), code="invalid_line", details={"field": "lines"})
    changes: dict[int, dict] = {}
    for index, raw in enumerate(lines):
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Not an order line."), code="invalid_line", details={"line": index})
        line_id = clean_id(raw.get("order_line_id"), "order_line_id")
        change = {}
        if raw.get("unit_price") is not None:
            change["unit_price"] = clean_int(raw["unit_price"], "unit_price", low=0, high=10**10)
        if raw.get("guide_id") is not None:
            change["guide_id"] = clean_id(raw["guide_id"], "guide_id")
        if not change:
            raise ValidationFailed(_("Nothing to change on this line."), code="invalid_line", details={"line": index})
        changes[line_id] = change
    if note is not None:
        note = clean_text(note, "note", 500)
    if not changes and note is None:
        raise ValidationFailed(_("Nothing to change."), code="nothing_to_change")
    approval = ApprovalIn.parse(approval)
    cache: dict[int, Staff] = {}
    guides = {line_id: guide_check(c["guide_id"], order.store, cache) for line_id, c in changes.items() if "guide_id" in c}

    def work(gate: ApprovalGate) -> Order:
        locked = locks.lock_order(order.pk)
        if locked.status != OrderStatus.OPEN or locked.paid_total:
            raise Conflict(_("Only an unpaid open order is edited; return or void a paid one."),
                           code="order_not_editable", details={"status": locked.status})
        rows = {l.pk: l for l in OrderLine.objects.filter(order=locked)}
        missing = [pk for pk in changes if pk not in rows]
        if missing:
            raise NotFound(_("Order line not found."), code="order_line_not_found", details={"order_line_ids": missing})
        before = {"note": locked.note, "total": locked.total,
                  "lines": {pk: {"unit_price": rows[pk].unit_price, "guide_id": rows[pk].guide_id} for pk in changes}}
        repriced = {pk: c["unit_price"] for pk, c in changes.items()
                    if "unit_price" in c and c["unit_price"] != rows[pk].unit_price}
        if repriced:
            gate.require(ApprovalKind.ORDER_EDIT, {"action": "order_edit", "order_id": locked.pk,
                                                   "prices": {str(k): v for k, v in sorted(repriced.items())}},
                         summary=f"{locked.number}: " + ", ".join(f"#{rows[k].line_no} {v}" for k, v in sorted(repriced.items())),
                         target=locked)
        for pk, price in repriced.items():
            line = rows[pk]
            old_gross = weighed_price(line.unit_price, line.quantity) if line.is_weighed else line.unit_price * line.quantity
            share = old_gross - line.line_total
            gross = weighed_price(price, line.quantity) if line.is_weighed else price * line.quantity
            list_gross = weighed_price(line.list_price, line.quantity) if line.is_weighed else line.list_price * line.quantity
            line.unit_price, line.line_total = price, max(0, gross - share)
            line.discount = max(0, list_gross - line.line_total)
        for pk, guide in guides.items():
            rows[pk].guide = guide
        OrderLine.objects.bulk_update([rows[pk] for pk in changes], ["unit_price", "line_total", "discount", "guide"])
        locked.total = sum(l.line_total for l in rows.values())
        locked.discount_total = max(0, locked.subtotal - locked.total)
        if note is not None:
            locked.note = note
        locked.save(update_fields=["total", "discount_total", "note", "updated_at"])
        order_changed(locked)
        audit_record(actor=actor, action="sales.order.edited", target=locked, before=before,
                     after={"note": locked.note, "total": locked.total,
                            "lines": {pk: {"unit_price": rows[pk].unit_price, "guide_id": rows[pk].guide_id}
                                      for pk in changes}}, scope_path=order.store.path)
        return locked

    return run_with_approval(actor=actor, store=order.store, approval=approval, work=work)
