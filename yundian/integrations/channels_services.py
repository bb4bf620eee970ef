"""Channel connections and their sync: orders in (sales orders, stock reserved under the till's locks), stock and
prices out, statuses out. The adapter interface and its contract are in channels.py."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from yundian.org.models import NodeKind, OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require, scope_q

from .channel_models import ChannelConnection, ChannelOrder, ChannelOrderStatus, ChannelSyncRun
from .channels import (ADAPTERS, ChannelError, ExternalOrder, PriceUpdate, StatusUpdate, StockLevel, adapter_for)

log = logging.getLogger(__name__)

MAX_PUSH_SKUS = 5000


def _clean(value, field: str, max_length: int, *, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if (required and not text) or len(text) > max_length:
        raise ValidationFailed(_("This field is required (at most %(n)s characters).") % {"n": max_length},
                               code="invalid", details={"field": field})
    return text


@transaction.atomic
def channel_connection_create(*, actor: Staff, store_id: int, kind: str, code: str, name: str, base_url: str,
                              api_key: str = "") -> ChannelConnection:
    """Connect an outside channel to a store. The actor (who must sell, approve and manage orders there) is the one
    its orders are taken by. Audited; the code is unique in the enterprise (409)."""
    from . import channels_fake  # noqa: F401 - registers the reference adapter

    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id).first()
    if store is None or store.kind != NodeKind.STORE:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, Perm.ORDER_MANAGE, store)
    if not (has_perm(actor, Perm.ORDER_SELL, store) and has_perm(actor, Perm.ORDER_APPROVE, store)):
        raise Forbidden()
    if kind not in ADAPTERS:
        raise ValidationFailed(_("Unknown kind of channel."), code="invalid_kind",
                               details={"field": "kind", "allowed": sorted(ADAPTERS)})
    url = _clean(base_url, "base_url", 300)
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed(_("The address starts with http:// or https://."), code="invalid_url",
                               details={"field": "base_url"})
    code = _clean(code, "code", 40)
    if ChannelConnection.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    connection = ChannelConnection.objects.create(
        enterprise_id=actor.enterprise_id, store=store, acting_staff=actor, kind=kind, code=code,
        name=_clean(name, "name", 120), base_url=url, api_key=_clean(api_key, "api_key", 200, required=False))
    audit_record(actor=actor, action="channel.create", target=connection, scope_path=store.path,
                 after={"kind": kind, "code": code, "store": store.code, "base_url": url})
    return connection


def channel_connection_list(*, actor: Staff) -> QuerySet[ChannelConnection]:
    return (ChannelConnection.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"),
                                             enterprise_id=actor.enterprise_id)
            .select_related("store", "acting_staff").order_by("id"))


def channel_connection_get(*, actor: Staff, connection_id: int) -> ChannelConnection:
    connection = channel_connection_list(actor=actor).filter(pk=connection_id).first()
    if connection is None:
        raise NotFound(_("Channel not found."), code="channel_not_found")
    return connection


# --- orders in -------------------------------------------------------------------------------------------------

@dataclass
class Taken:
    channel_order: ChannelOrder
    outcome: str  # placed | rejected | cancelled | repeat


def channel_order_take(*, connection: ChannelConnection, external: ExternalOrder) -> Taken:
    """Take one marketplace order in, once per (connection, external id): a sales order (channel marketplace,
    delivery, paid on the marketplace) reserving its units in the store's stock room under the same ordered row
    locks as the till — or a refusal with its reason (out of stock, unknown SKU). A repeat changes nothing; a
    repeat saying "cancelled" cancels the order once (stock released, payment refunded)."""
    from yundian.catalog.models import Sku
    from yundian.sales.services import order_cancel, order_create

    existing = ChannelOrder.objects.filter(connection=connection, external_id=external.external_id).first()
    if existing is not None:
        return _apply_change(connection, existing, external, order_cancel)
    if external.status == "cancelled":
        return _record(connection, external, ChannelOrderStatus.CANCELLED, "cancelled_before_taken", "")
    codes = {line.sku_code for line in external.lines}
    skus = dict(Sku.objects.filter(enterprise_id=connection.enterprise_id, code__in=codes, is_active=True)
                .values_list("code", "pk"))
    unknown = sorted(codes - set(skus))
    if unknown or not external.lines or any(line.quantity < 1 for line in external.lines):
        return _record(connection, external, ChannelOrderStatus.REJECTED, "sku_not_found",
                       str(_("Unknown SKU codes: %(codes)s") % {"codes": ", ".join(unknown)}) if unknown
                       else str(_("The order has no valid lines.")))
    actor = Staff.objects.select_related("enterprise", "home", "user").get(pk=connection.acting_staff_id)
    try:
        with transaction.atomic():
            result = order_create(
                actor=actor, store_id=connection.store_id, channel="marketplace", mode="delivery",
                client_ref=f"mkt-{connection.pk}-{external.external_id}"[:128],
                lines=[{"sku_id": skus[line.sku_code], "quantity": line.quantity} for line in external.lines],
                payments=[{"method": "wallet", "client_ref": "marketplace", "reference": external.external_id[:64]}],
                delivery=external.address or {"channel": connection.code},
                note=f"{connection.name} {external.external_id}"[:500])
            row = ChannelOrder.objects.create(connection=connection, external_id=external.external_id,
                                              order=result.order, status=ChannelOrderStatus.PLACED,
                                              total=external.total)
        return Taken(row, "placed")
    except IntegrityError:  # the same order taken at the same moment by another sync
        return Taken(ChannelOrder.objects.get(connection=connection, external_id=external.external_id), "repeat")
    except DomainError as exc:
        code = "out_of_stock" if exc.code == "insufficient_stock" else exc.code
        return _record(connection, external, ChannelOrderStatus.REJECTED, code, str(exc.message))


def _record(connection, external: ExternalOrder, status: str, code: str, reason: str) -> Taken:
    try:
        with transaction.atomic():
            row = ChannelOrder.objects.create(connection=connection, external_id=external.external_id, status=status,
                                              reason_code=code[:48], reason=reason[:255], total=external.total,
                                              pushed_status="cancelled" if status == ChannelOrderStatus.CANCELLED else "")
        return Taken(row, "rejected" if status == ChannelOrderStatus.REJECTED else "cancelled")
    except IntegrityError:
        return Taken(ChannelOrder.objects.get(connection=connection, external_id=external.external_id), "repeat")


def _apply_change(connection, row: ChannelOrder, external: ExternalOrder, order_cancel) -> Taken:
    if external.status != "cancelled" or row.status != ChannelOrderStatus.PLACED or row.order_id is None:
        return Taken(row, "repeat")
    actor = Staff.objects.select_related("enterprise", "home", "user").get(pk=connection.acting_staff_id)
    with transaction.atomic():
        locked = ChannelOrder.objects.select_for_update().get(pk=row.pk)
        if locked.status != ChannelOrderStatus.PLACED:
            return Taken(locked, "repeat")
        try:
            order_cancel(actor=actor, order_id=row.order_id, reason=str(_("Cancelled on the marketplace")))
        except DomainError as exc:  # already shipped: a return, for a person to handle
            ChannelOrder.objects.filter(pk=row.pk).update(reason_code=exc.code[:48], reason=str(exc.message)[:255])
            return Taken(locked, "repeat")
        ChannelOrder.objects.filter(pk=row.pk).update(status=ChannelOrderStatus.CANCELLED, pushed_status="cancelled")
    row.refresh_from_db()
    return Taken(row, "cancelled")


# --- statuses, stock and prices out --------------------------------------------------------------------------

def _status_of(row: ChannelOrder) -> str:
    """What the marketplace should know now: shipped, cancelled, refunded, or "" (nothing to tell yet)."""
    if row.status == ChannelOrderStatus.REJECTED:
        return "cancelled"
    order = row.order
    if order is None:
        return row.pushed_status
    if order.status == "cancelled":
        return "cancelled"
    if order.status in ("returned", "partially_returned") or order.refunded_total:
        return "refunded"
    if order.status in ("fulfilled", "completed") or (order.fulfilled_at is not None):
        return "shipped"
    return ""


def _push_statuses(connection, adapter) -> int:
    told = 0
    rows = (ChannelOrder.objects.filter(connection=connection).exclude(status=ChannelOrderStatus.CANCELLED,
                                                                       pushed_status="cancelled")
            .select_related("order").order_by("id"))
    for row in rows:
        status = _status_of(row)
        if not status or status == row.pushed_status:
            continue
        adapter.push_status(StatusUpdate(external_id=row.external_id, status=status))
        new = {"shipped": ChannelOrderStatus.SHIPPED, "cancelled": row.status if row.status == "rejected"
               else ChannelOrderStatus.CANCELLED, "refunded": ChannelOrderStatus.REFUNDED}[status]
        ChannelOrder.objects.filter(pk=row.pk).update(pushed_status=status, status=new)
        told += 1
    return told


def _skus_and_levels(connection) -> tuple[list[StockLevel], list[PriceUpdate]]:
    from yundian.catalog.models import Channel, Sku
    from yundian.catalog.pricing import price_resolve_many
    from yundian.inventory.selectors import atp

    skus = list(Sku.objects.filter(enterprise_id=connection.enterprise_id, is_active=True, product__is_active=True)
                .select_related("product").order_by("id")[:MAX_PUSH_SKUS])
    available = atp(sku_ids=[s.pk for s in skus], store_node=connection.store)
    prices = price_resolve_many(skus, connection.store, Channel.ONLINE)
    levels = [StockLevel(sku_code=s.code, available=available[s.pk].store) for s in skus]
    updates = [PriceUpdate(sku_code=s.code, price=prices[s.pk].price.amount) for s in skus if s.pk in prices]
    return levels, updates


def channel_sync(*, connection_id: int, actor: Staff | None = None) -> ChannelSyncRun:
    """One sync: orders in (the cursor saved after they are taken), statuses out, then stock and prices out.
    A marketplace failure ends the run with its error (nothing half-taken: each order is its own transaction)."""
    connection = (channel_connection_get(actor=actor, connection_id=connection_id) if actor is not None else
                  ChannelConnection.objects.select_related("store").get(pk=connection_id))
    if not connection.is_active:
        raise Conflict(_("This channel is switched off."), code="channel_inactive")
    adapter = adapter_for(connection)
    counts = {"placed": 0, "rejected": 0, "cancelled": 0, "repeat": 0, "statuses": 0, "stock": 0, "prices": 0}
    error = ""
    try:
        batch = adapter.fetch_orders(cursor=connection.order_cursor)
        for external in batch.orders:
            counts[channel_order_take(connection=connection, external=external).outcome] += 1
        ChannelConnection.objects.filter(pk=connection.pk).update(order_cursor=batch.cursor[:200])
        counts["statuses"] = _push_statuses(connection, adapter)
        levels, prices = _skus_and_levels(connection)
        adapter.push_stock(levels)
        adapter.push_prices(prices)
        counts["stock"], counts["prices"] = len(levels), len(prices)
    except ChannelError as exc:
        error = str(exc)[:255]
        log.warning("channel %s: %s", connection.code, error)
    ChannelConnection.objects.filter(pk=connection.pk).update(last_sync_at=timezone.now(), last_error=error,
                                                              updated_at=timezone.now())
    return ChannelSyncRun.objects.create(connection=connection, ok=not error, counts=counts, error=error)


def channels_sync_all() -> int:
    """Sync every active connection (the scheduler, every minute); returns how many ran."""
    ran = 0
    for connection_id in ChannelConnection.objects.filter(is_active=True).values_list("pk", flat=True):
        try:
            channel_sync(connection_id=connection_id)
            ran += 1
        except DomainError:
            log.exception("channel %s sync failed", connection_id)
    return ran
