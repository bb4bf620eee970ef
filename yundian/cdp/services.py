"""Accepting behaviour events: validate a batch event by event, keep the good ones in the inbox, say why the others
were refused.

A batch comes from staff (an integrator's token, the till, the console) or from a storefront page (anonymous,
named by its store's address). Each event is checked on its own; a bad event is refused with its index, a code
and a translated message while the others are kept. Accepted events go to the OLTP inbox (`EventInbox`) in one
bulk insert, deduplicated by (enterprise, event_id) by a unique constraint, so a retried batch keeps nothing twice
and the request never opens the warehouse. Events of a member who withdrew tracking consent (or was erased) are
dropped, counted, and not stored.

Clock skew: a sender's clock may be wrong, so the batch says when it was sent (`sent_at`, the sender's clock) and
each event's time is shifted by the difference to the server's clock: occurred_at = timestamp + (now - sent_at).
The result is never later than the server's now, and an event more than MAX_AGE old is refused. `received_at`,
the server's own clock, is kept beside it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Sku
from yundian.core.errors import NotFound
from yundian.members.models import Channel, ConsentChannel, ConsentState, Member, MemberStatus
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import scope_q
from yundian.stores.models import StoreProfile

from .models import EventInbox
from .tokens import member_token_read
from .warehouse_tables import EVENT_KINDS

MAX_EVENTS = 1000
MAX_AGE = timedelta(days=7)
MAX_PROPERTIES_BYTES = 4096
MAX_ID_LENGTH = 64
STAFF_ONLY_KINDS = frozenset({"scan", "member_identified"})
FIELDS = frozenset({"event_id", "kind", "name", "timestamp", "anonymous_id", "member_token", "member_id", "store",
                    "store_id", "sku_id", "order_id", "amount", "channel", "properties"})
CHANNELS = frozenset({Channel.POS, Channel.STOREFRONT, Channel.MINIPROGRAM, Channel.API})
MAX_INT = 2**53  # what a JavaScript sender can count to exactly; fits every database's bigint

REFUSALS = {
    "invalid_event": _("An event must be a JSON object."),
    "unknown_field": _("The event has a field this API does not know."),
    "invalid_event_id": _("Give each event an event_id of 1 to 64 characters."),
    "unknown_kind": _("Unknown event kind."),
    "kind_not_allowed": _("Only staff may send this kind of event."),
    "invalid_name": _("A custom event needs a name of 1 to 64 characters; other kinds take none."),
    "invalid_timestamp": _("The timestamp is not a valid date and time."),
    "too_old": _("The event happened more than 7 days ago."),
    "anonymous_id_required": _("Storefront events need a device id (anonymous_id)."),
    "invalid_field": _("A field has the wrong type or is out of range."),
    "invalid_properties": _("Properties must be an object of at most 4 KB."),
    "property_required": _("A property this kind of event needs is missing or not valid."),
    "unknown_store": _("Unknown store."),
    "store_required": _("This kind of event needs a store."),
    "unknown_sku": _("Unknown SKU."),
    "sku_required": _("This kind of event needs a SKU."),
    "invalid_member_token": _("The member token is not valid; reload the page."),
    "unknown_member": _("Unknown member."),
    "member_required": _("This kind of event needs a member."),
}


def _text(low: int, high: int):
    return lambda v: isinstance(v, str) and low <= len(v) <= high


def _whole(low: int, high: int):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


# per kind: what the event needs beyond the common fields (sku / store / member / name) and which properties
KIND_RULES: dict[str, dict] = {
    "page_view": {},
    "product_view": {"sku": True},
    "search": {"properties": {"query": _text(1, 200)}},
    "add_to_cart": {"sku": True, "properties": {"quantity": _whole(1, 9999)}},
    "remove_from_cart": {"sku": True, "properties": {"quantity": _whole(1, 9999)}},
    "share": {},
    "coupon_view": {"properties_any": {"campaign_id": _whole(1, MAX_INT), "code": _text(1, 64)}},
    "store_visit": {"store": True},
    "scan": {"store": True, "properties": {"barcode": _text(1, 32)}},
    "member_identified": {"store": True, "member": True},
    "custom": {"name": True},
    # a recommendation block shown (an A/B holdout's empty one too) and a product in it opened (yundian.recommend)
    "recommendation_view": {"properties": {"rec_slot": _text(1, 32), "rec_variant": _text(1, 32)}},
    "recommendation_click": {"sku": True, "properties": {"rec_slot": _text(1, 32), "rec_variant": _text(1, 32)}},
}
assert set(KIND_RULES) == set(EVENT_KINDS)


class Refused(Exception):
    def __init__(self, code: str, field: str | None = None):
        self.code = code
        self.field = field
        super().__init__(code)


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    dropped: int = 0
    rejected: list[dict] = field(default_factory=list)

    def refuse(self, index: int, exc: Refused) -> None:
        self.rejected.append({"index": index, "code": exc.code, "message": str(REFUSALS[exc.code]),
                              "field": exc.field})


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=dt_timezone.utc) if timezone.is_naive(value) else value.astimezone(dt_timezone.utc)


def _id_field(raw: dict, name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not _whole(1, MAX_INT)(value):
        raise Refused("invalid_field", name)
    return value


def _parse(raw, *, staff: bool, skew: timedelta, now: datetime) -> dict:
    """The event's own checks (no database): a normalised dict, or Refused."""
    if not isinstance(raw, dict):
        raise Refused("invalid_event")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise Refused("unknown_field", unknown[0])
    key = raw.get("event_id")
    if not _text(1, MAX_ID_LENGTH)(key) or not key.isprintable():
        raise Refused("invalid_event_id", "event_id")
    kind = raw.get("kind")
    if kind not in KIND_RULES:
        raise Refused("unknown_kind", "kind")
    if kind in STAFF_ONLY_KINDS and not staff:
        raise Refused("kind_not_allowed", "kind")
    rules = KIND_RULES[kind]
    name = raw.get("name") or ""
    if rules.get("name") and not (_text(1, 64)(name) and name.isprintable()) or not rules.get("name") and name:
        raise Refused("invalid_name", "name")
    occurred = now
    if raw.get("timestamp") is not None:
        try:
            stamp = parse_datetime(raw["timestamp"]) if isinstance(raw["timestamp"], str) else None
        except ValueError:
            stamp = None
        if stamp is None:
            raise Refused("invalid_timestamp", "timestamp")
        occurred = min(_utc(stamp) + skew, now)
        if occurred < now - MAX_AGE:
            raise Refused("too_old", "timestamp")
    device = raw.get("anonymous_id") or ""
    if device and not (_text(1, MAX_ID_LENGTH)(device) and device.isprintable()) or not isinstance(device, str):
        raise Refused("invalid_field", "anonymous_id")
    if not device and not staff:
        raise Refused("anonymous_id_required", "anonymous_id")
    token = raw.get("member_token")
    if token is not None and not _text(1, 512)(token):
        raise Refused("invalid_member_token", "member_token")
    member_id = _id_field(raw, "member_id")
    if member_id is not None and not staff:
        raise Refused("unknown_field", "member_id")  # storefront pages name their member by token only
    store = raw.get("store")
    if store is not None and not _text(1, 80)(store):
        raise Refused("unknown_store", "store")
    channel = raw.get("channel")
    if channel is not None and (not staff or channel not in CHANNELS):
        raise Refused("invalid_field", "channel")
    amount = raw.get("amount")
    if amount is not None and not _whole(0, MAX_INT)(amount):
        raise Refused("invalid_field", "amount")
    properties = raw.get("properties")
    properties = {} if properties is None else properties
    if not isinstance(properties, dict):
        raise Refused("invalid_properties", "properties")
    text = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_PROPERTIES_BYTES or "\x00" in text:
        raise Refused("invalid_properties", "properties")
    for prop, check in rules.get("properties", {}).items():
        if not check(properties.get(prop)):
            raise Refused("property_required", f"properties.{prop}")
    choices = rules.get("properties_any")
    if choices and not any(prop in properties and check(properties[prop]) for prop, check in choices.items()):
        raise Refused("property_required", "properties." + "|".join(choices))
    sku_id = _id_field(raw, "sku_id")
    if rules.get("sku") and sku_id is None:
        raise Refused("sku_required", "sku_id")
    return {"event_key": key, "kind": kind, "name": name, "occurred_at": occurred, "anonymous_id": device,
            "member_token": token, "member_id": member_id, "store": store, "store_id": _id_field(raw, "store_id"),
            "sku_id": sku_id, "order_id": _id_field(raw, "order_id"), "amount": amount,
            "channel": channel or (Channel.API if staff else Channel.STOREFRONT), "properties": text}


def _batch_store(store: str | None, *, actor: Staff | None) -> StoreProfile | None:
    """The storefront a batch names (its public address): required for anonymous callers, optional for staff."""
    if store is None:
        if actor is None:
            raise NotFound(_("Name the storefront (store) the events come from."), code="store_required")
        return None
    profile = StoreProfile.objects.filter(slug=store, node__is_active=True).select_related("node").first()
    if profile is None or actor is not None and profile.enterprise_id != actor.enterprise_id:
        raise NotFound(_("Store not found."), code="store_not_found")
    return profile


@transaction.atomic
def events_accept(*, actor: Staff | None, store: str | None, sent_at: datetime | None, events: list,
                  now: datetime | None = None) -> BatchResult:
    """Validate a batch and keep its good events in the inbox (one bulk insert; a retry keeps nothing twice).

    `actor` is the staff member sending (None: a storefront page, which must name its store). Staff may send for
    stores in their scope, give member ids and till kinds; a storefront names its member by a member token only.
    Takes no locks: the unique (enterprise, event_key) constraint settles concurrent retries (each event is kept
    once; two identical batches racing may both count an event as accepted)."""
    now = _utc(now or timezone.now())
    batch_store = _batch_store(store, actor=actor)
    enterprise_id = actor.enterprise_id if actor is not None else batch_store.enterprise_id
    skew = now - _utc(sent_at) if sent_at is not None else timedelta(0)
    result = BatchResult()
    parsed: list[tuple[int, dict]] = []
    for index, raw in enumerate(events):
        try:
            parsed.append((index, _parse(raw, staff=actor is not None, skew=skew, now=now)))
        except Refused as exc:
            result.refuse(index, exc)

    # one query per kind of reference for the whole batch
    slugs = {e["store"] for _i, e in parsed if e["store"]}
    by_slug = dict(StoreProfile.objects.filter(enterprise_id=enterprise_id, slug__in=slugs, node__is_active=True)
                   .values_list("slug", "node_id")) if slugs else {}
    node_ids = {e["store_id"] for _i, e in parsed if e["store_id"]} | set(by_slug.values())
    nodes = OrgNode.objects.filter(enterprise_id=enterprise_id, kind=NodeKind.STORE, pk__in=node_ids)
    if actor is not None:
        nodes = nodes.filter(scope_q(actor, Perm.ORG_VIEW))
    known_stores = set(nodes.values_list("pk", flat=True)) if node_ids else set()
    sku_ids = {e["sku_id"] for _i, e in parsed if e["sku_id"]}
    known_skus = set(Sku.objects.filter(enterprise_id=enterprise_id, pk__in=sku_ids).values_list("pk", flat=True)) \
        if sku_ids else set()
    for _i, e in parsed:
        if e["member_token"]:
            e["member_id"] = member_token_read(e["member_token"], enterprise_id=enterprise_id) or -1
    member_ids = {e["member_id"] for _i, e in parsed if e["member_id"] and e["member_id"] > 0}
    members = dict(Member.objects.filter(enterprise_id=enterprise_id, pk__in=member_ids)
                   .values_list("pk", "status")) if member_ids else {}
    untracked = set(ConsentState.objects.filter(member_id__in=members, channel=ConsentChannel.TRACKING, granted=False)
                    .values_list("member_id", flat=True)) if members else set()

    rows: list[tuple] = []
    seen: set[str] = set()
    for index, e in parsed:
        try:
            store_id = by_slug.get(e["store"], -1) if e["store"] else e["store_id"]
            if store_id is None and batch_store is not None:
                store_id = batch_store.node_id
            elif store_id is not None and store_id not in known_stores:
                raise Refused("unknown_store", "store" if e["store"] else "store_id")
            if store_id is None and KIND_RULES[e["kind"]].get("store"):
                raise Refused("store_required", "store_id")
            if e["sku_id"] is not None and e["sku_id"] not in known_skus:
                raise Refused("unknown_sku", "sku_id")
            if e["member_id"] == -1:
                raise Refused("invalid_member_token", "member_token")
            if e["member_id"] is not None and e["member_id"] not in members:
                raise Refused("unknown_member", "member_id")
            if e["member_id"] is None and KIND_RULES[e["kind"]].get("member"):
                raise Refused("member_required", "member_id")
        except Refused as exc:
            result.refuse(index, exc)
            continue
        if e["member_id"] in untracked or members.get(e["member_id"]) == MemberStatus.ERASED:
            result.dropped += 1
            continue
        if e["event_key"] in seen:
            result.duplicates += 1
            continue
        seen.add(e["event_key"])
        rows.append((enterprise_id, e["event_key"], e["kind"], e["name"], e["occurred_at"], now, e["anonymous_id"],
                     e["member_id"], store_id, e["channel"], e["sku_id"], e["order_id"], e["amount"],
                     e["properties"]))
    result.rejected.sort(key=lambda r: r["index"])
    if rows:
        existing = set(EventInbox.objects.filter(enterprise_id=enterprise_id, event_key__in=seen)
                       .values_list("event_key", flat=True))
        fresh = [row for row in rows if row[1] not in existing]
        result.duplicates += len(rows) - len(fresh)
        _inbox_insert(fresh)
        result.accepted = len(fresh)
    return result


_INBOX_COLUMNS = ("enterprise_id", "event_key", "kind", "name", "occurred_at", "received_at", "anonymous_id",
                  "member_id", "store_id", "channel", "sku_id", "order_id", "amount", "properties")


def _inbox_insert(rows: list[tuple]) -> None:
    """Rows in _INBOX_COLUMNS order: INSERT ... ON CONFLICT DO NOTHING with executemany: what bulk_create(ignore_conflicts=True) does, without
    the ORM compiling a statement for every 1,000 rows (most of a batch's time). SQLite and PostgreSQL alike."""
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(EventInbox._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _INBOX_COLUMNS)
    marks = ", ".join(["%s"] * len(_INBOX_COLUMNS))
    sql = (f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
           f"ON CONFLICT ({ops.quote_name('enterprise_id')}, {ops.quote_name('event_key')}) DO NOTHING")
    adapted: dict = {}  # a batch's times repeat (received_at always): adapt each once

    def stamp(value):
        if value not in adapted:
            adapted[value] = ops.adapt_datetimefield_value(value)
        return adapted[value]

    params = [(*r[:4], stamp(r[4]), stamp(r[5]), *r[6:]) for r in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
