"""What integrators can subscribe to, and how each webhook event is derived from the transactional outbox.

The dispatcher reads `core.OutboxEvent` by id above its watermark (re-reading id gaps, as the warehouse sync does,
because PostgreSQL hands out ids before commit), turns each row into zero or more webhook events keyed by what
happened to what ("order.paid:42", "order.returned:r7", "stock.changed:o1234"), inserts the events it has not seen
and one delivery per subscription that chose the type — all in one transaction with the watermark. Keys make it
idempotent: an order changed five times is paid once; a row read twice adds nothing.

    outbox topic        webhook events
    order.changed       order.paid (paid_at set), order.cancelled (status cancelled), order.returned (one per
                        return document), coupon.redeemed (one per redemption of the order)
    stock.changed       stock.changed (one per posting that moved on-hand stock: receipts, sales, returns,
                        transfers, counts, adjustments)
    member.created      member.created
    member.merged       member.merged
    message.sent        journey.message_sent (messages a journey sent)
"""
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yundian.core import when
from yundian.core.warehouse import gap_filter, gaps_after_read

from .webhook_models import WebhookCursor, WebhookDelivery, WebhookEvent, WebhookSubscription

# the catalogue: name -> what a person reads (translated where shown)
EVENT_TYPES: dict[str, object] = {
    "order.paid": _("Order paid"),
    "order.cancelled": _("Order cancelled"),
    "order.returned": _("Order returned (in part or whole)"),
    "stock.changed": _("Stock changed"),
    "member.created": _("Member registered"),
    "member.merged": _("Members merged"),
    "coupon.redeemed": _("Coupon redeemed"),
    "journey.message_sent": _("Journey message sent"),
}
EVENT_HELP: dict[str, object] = {
    "order.paid": _("An order of any channel is paid in full (the order with its lines)."),
    "order.cancelled": _("An open or paid order is cancelled or voided."),
    "order.returned": _("A return is recorded against an order (the returned lines and the refund)."),
    "stock.changed": _("On-hand stock moved: a receipt, sale, return, transfer, count or adjustment (each SKU and "
                       "warehouse with its change and the new on-hand)."),
    "member.created": _("A member registers at a till, on the storefront or through the API."),
    "member.merged": _("Two member records are merged into one (the absorbed and the surviving id)."),
    "coupon.redeemed": _("A coupon is used on an order."),
    "journey.message_sent": _("A journey's message step sent a message to a member."),
}

CURSOR = "webhooks"
BATCH = 1000


def event_label(name: str) -> str:
    return str(EVENT_TYPES.get(name, name))


@dataclass
class Derived:
    enterprise_id: int
    type: str
    key: str
    outbox_id: int
    occurred_at: datetime
    data: dict


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# --- derivation: outbox rows -> events ------------------------------------------------------------------------

def _order_data(order, lines) -> dict:
    return {"id": order.pk, "number": order.number, "store_id": order.store_id, "channel": order.channel,
            "mode": order.mode, "status": order.status, "member_id": order.member_id, "currency": order.currency,
            "subtotal": order.subtotal, "discount_total": order.discount_total, "total": order.total,
            "paid_total": order.paid_total, "refunded_total": order.refunded_total,
            "placed_at": _iso(order.placed_at), "paid_at": _iso(order.paid_at),
            "cancelled_at": _iso(order.cancelled_at),
            "lines": [{"line_no": ln.line_no, "sku_id": ln.sku_id, "sku_code": ln.sku_code, "name": ln.name,
                       "quantity": ln.quantity, "unit_price": ln.unit_price, "discount": ln.discount,
                       "line_total": ln.line_total, "returned_quantity": ln.returned_quantity}
                      for ln in lines]}


def _orders(rows) -> list[Derived]:
    from yundian.promotions.models import CouponRedemption
    from yundian.sales.models import Order, OrderLine, OrderReturn, ReturnLine

    first_row: dict[int, int] = {}
    for row in rows:
        if row.key.isdigit():
            first_row.setdefault(int(row.key), row.id)
    if not first_row:
        return []
    orders = {o.pk: o for o in Order.objects.filter(pk__in=first_row)}
    lines = defaultdict(list)
    for ln in OrderLine.objects.filter(order_id__in=orders).order_by("order_id", "line_no"):
        lines[ln.order_id].append(ln)
    out: list[Derived] = []
    for pk, order in orders.items():
        oid = first_row[pk]
        data = None
        if order.paid_at is not None:
            data = _order_data(order, lines[pk])
            out.append(Derived(order.enterprise_id, "order.paid", f"order.paid:{pk}", oid, order.paid_at, data))
        if order.status == "cancelled":
            data = data or _order_data(order, lines[pk])
            out.append(Derived(order.enterprise_id, "order.cancelled", f"order.cancelled:{pk}", oid,
                               order.cancelled_at or order.updated_at, data))
    returns = list(OrderReturn.objects.filter(order_id__in=orders).order_by("id"))
    return_lines = defaultdict(list)
    for rl in ReturnLine.objects.filter(return_doc__in=returns).order_by("id"):
        return_lines[rl.return_doc_id].append(rl)
    for doc in returns:
        order = orders[doc.order_id]
        if order.status == "cancelled" and doc.reason.startswith("void"):
            continue  # a cancel or void keeps its goods and money on a return document: it is order.cancelled
        out.append(Derived(order.enterprise_id, "order.returned", f"order.returned:{doc.pk}", first_row[doc.order_id],
                           doc.created_at, {
                               "return": {"id": doc.pk, "refund_total": doc.refund_total,
                                          "refund_method": doc.refund_method, "reason": doc.reason,
                                          "created_at": _iso(doc.created_at),
                                          "lines": [{"sku_id": rl.sku_id, "quantity": rl.quantity,
                                                     "amount": rl.amount, "restocked": rl.restocked}
                                                    for rl in return_lines[doc.pk]]},
                               "order": _order_data(order, lines[order.pk])}))
    refs = {str(pk): pk for pk in orders}
    for red in CouponRedemption.objects.filter(order_ref__in=list(refs), status="redeemed").order_by("id"):
        pk = refs[red.order_ref]
        if orders[pk].enterprise_id != red.enterprise_id:
            continue
        out.append(Derived(red.enterprise_id, "coupon.redeemed", f"coupon.redeemed:{red.pk}", first_row[pk],
                           red.created_at, {"redemption_id": red.pk, "campaign_id": red.campaign_id,
                                            "coupon_id": red.coupon_id, "code": red.code, "member_id": red.member_id,
                                            "store_id": red.store_id, "order_id": pk, "discount": red.discount}))
    return out


def _stock(rows) -> list[Derived]:
    from yundian.catalog.models import Sku
    from yundian.inventory.models import Warehouse

    skus, warehouses = set(), set()
    for row in rows:
        for line in row.payload.get("lines", []):
            skus.add(line[0])
            warehouses.add(line[1])
    sku_codes = dict(Sku.objects.filter(pk__in=skus).values_list("id", "code"))
    wh_codes = dict(Warehouse.objects.filter(pk__in=warehouses).values_list("id", "code"))
    out = []
    for row in rows:
        p = row.payload
        out.append(Derived(row.enterprise_id, "stock.changed", f"stock.changed:{row.id}", row.id, row.created_at, {
            "source_type": p.get("source_type", ""), "source_id": p.get("source_id", ""),
            "lines": [{"sku_id": s, "sku_code": sku_codes.get(s, ""), "warehouse_id": w,
                       "warehouse_code": wh_codes.get(w, ""), "change": dq, "on_hand": on_hand}
                      for s, w, dq, on_hand in p.get("lines", [])]}))
    return out


def _members(rows) -> list[Derived]:
    from yundian.members.models import Member

    ids = {int(r.key): r.id for r in rows if r.key.isdigit()}
    out = []
    for m in Member.objects.filter(pk__in=ids):
        out.append(Derived(m.enterprise_id, "member.created", f"member.created:{m.pk}", ids[m.pk], m.created_at,
                           {"id": m.pk, "name": m.name, "home_store_id": m.home_id, "channel": m.channel,
                            "guide_id": m.guide_id, "created_at": _iso(m.created_at)}))
    return out


def _merges(rows) -> list[Derived]:
    return [Derived(r.enterprise_id, "member.merged", f"member.merged:{r.id}", r.id, r.created_at,
                    {"absorbed_member_id": int(r.key), "surviving_member_id": r.payload.get("survivor")})
            for r in rows if r.key.isdigit()]


def _messages(rows) -> list[Derived]:
    from yundian.messaging.models import OutboundMessage

    ids = {int(r.key): r.id for r in rows if r.key.isdigit()}
    out = []
    for m in OutboundMessage.objects.filter(pk__in=ids):
        journey = m.source[2:] if m.source.startswith("jy") else ""
        out.append(Derived(m.enterprise_id, "journey.message_sent", f"journey.message_sent:{m.pk}", ids[m.pk],
                           m.sent_at or m.updated_at, {
                               "message_id": m.pk, "journey_id": int(journey) if journey.isdigit() else None,
                               "member_id": m.member_id, "channel": m.channel, "template_id": m.template_id,
                               "status": m.status, "sent_at": _iso(m.sent_at)}))
    return out


DERIVERS = {"order.changed": _orders, "stock.changed": _stock, "member.created": _members,
            "member.merged": _merges, "message.sent": _messages}


def derive(rows) -> list[Derived]:
    """The webhook events the outbox rows name (several rows may name the same event: its key is one)."""
    by_topic = defaultdict(list)
    for row in rows:
        if row.topic in DERIVERS:
            by_topic[row.topic].append(row)
    out: list[Derived] = []
    for topic, topic_rows in by_topic.items():
        out.extend(DERIVERS[topic](topic_rows))
    return out


def event_body(event_pk: int, d: Derived, created_at: datetime) -> str:
    return json.dumps({"id": f"evt_{event_pk}", "type": d.type, "created_at": _iso(created_at),
                       "occurred_at": _iso(d.occurred_at), "enterprise_id": d.enterprise_id, "data": d.data},
                      ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)


# --- the dispatcher ---------------------------------------------------------------------------------------------

class _State:
    def __init__(self, cursor: WebhookCursor):
        self.gaps = cursor.gaps or []


def dispatch(*, limit: int = BATCH, now: datetime | None = None) -> int:
    """Read the outbox after the watermark (and its open gaps), record the webhook events of enterprises with an
    active subscription and their deliveries, move the watermark — one transaction, one dispatcher at a time (the
    cursor row is locked). Returns the number of events created."""
    from yundian.core.models import OutboxEvent

    now = now or when.now()
    with transaction.atomic():
        WebhookCursor.objects.get_or_create(name=CURSOR)
        cursor = WebhookCursor.objects.select_for_update().get(name=CURSOR)
        state = _State(cursor)
        in_gaps = gap_filter(state)
        refound = list(OutboxEvent.objects.filter(in_gaps)) if in_gaps is not None else []
        rows = list(OutboxEvent.objects.filter(id__gt=cursor.watermark).order_by("id")[:limit])
        if not rows and not refound and not cursor.gaps:
            return 0
        created = _record(refound + rows, now)
        read_above = cursor.watermark
        cursor.gaps = gaps_after_read(state, [r.id for r in refound + rows], read_above, now)
        if rows:
            cursor.watermark = rows[-1].id
        cursor.updated_at = now
        cursor.save(update_fields=["gaps", "watermark", "updated_at"])
    return created


def _record(rows, now: datetime) -> int:
    subscriptions = defaultdict(list)
    for sub in WebhookSubscription.objects.filter(is_active=True, enterprise_id__in={r.enterprise_id for r in rows}):
        subscriptions[sub.enterprise_id].append(sub)
    rows = [r for r in rows if r.enterprise_id in subscriptions]
    if not rows:
        return 0
    derived: dict[tuple[int, str], Derived] = {}
    for d in derive(rows):
        derived.setdefault((d.enterprise_id, d.key), d)
    if not derived:
        return 0
    seen = set()
    for enterprise_id in {e for e, _k in derived}:
        keys = [k for e, k in derived if e == enterprise_id]
        for i in range(0, len(keys), 500):
            seen |= {(enterprise_id, k) for k in WebhookEvent.objects.filter(
                enterprise_id=enterprise_id, key__in=keys[i:i + 500]).values_list("key", flat=True)}
    # an event goes to the subscriptions that existed when its outbox row was written and chose its type; an event
    # nobody gets is not kept
    written = {r.id: r.created_at for r in rows}

    def takers(d: Derived) -> list[WebhookSubscription]:
        return [s for s in subscriptions[d.enterprise_id]
                if d.type in s.events and s.created_at <= written.get(d.outbox_id, d.occurred_at)]

    fresh = [d for k, d in derived.items() if k not in seen and takers(d)]
    if not fresh:
        return 0
    # the body names the event's own id, so the row is inserted first and its body written once the id is known
    events = WebhookEvent.objects.bulk_create([
        WebhookEvent(enterprise_id=d.enterprise_id, type=d.type, key=d.key, outbox_id=d.outbox_id,
                     occurred_at=d.occurred_at, created_at=now, body="") for d in fresh], batch_size=500)
    if any(e.pk is None for e in events):  # a backend that does not return ids: read them back by key
        ids = {(e, k): pk for e, k, pk in WebhookEvent.objects.filter(
            key__in=[d.key for d in fresh]).values_list("enterprise_id", "key", "id")}
        for e, d in zip(events, fresh):
            e.pk = ids[(d.enterprise_id, d.key)]
    for e, d in zip(events, fresh):
        e.body = event_body(e.pk, d, now)
    WebhookEvent.objects.bulk_update(events, ["body"], batch_size=500)
    deliveries = []
    for e, d in zip(events, fresh):
        for sub in takers(d):
            deliveries.append(WebhookDelivery(enterprise_id=e.enterprise_id, subscription=sub, event=e,
                                                  next_attempt_at=now, created_at=now))
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=1000)
    return len(events)


def pending_count() -> int:
    from yundian.core.models import OutboxEvent

    cursor = WebhookCursor.objects.filter(name=CURSOR).first()
    return OutboxEvent.objects.filter(id__gt=cursor.watermark if cursor else 0).count()

