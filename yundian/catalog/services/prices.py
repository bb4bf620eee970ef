"""Price list writes. price.manage on the list's node (HQ anywhere; a region or dealer inside its own subtree).

Every change of a price (entry set/removed, list window/priority/active changed) writes an audit entry with
before and after, scoped to the list's node. Prices are never copied to stores, so a change is live everywhere.
"""
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import PRICES, cache_bump
from yundian.core.audit import audit_record
from yundian.core.outbox import outbox_emit
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.numbers import clean_int
from yundian.org import selectors as org_selectors
from yundian.org.models import Staff
from yundian.org.roles import Perm

from ..models import PriceEntry, PriceList, Sku
from ..pricing import check_channel
from ._common import clean_code, clean_price, clean_text


def _list_snapshot(pl: PriceList) -> dict:
    return {"code": pl.code, "name": pl.name, "node": pl.node_id, "channel": pl.channel, "priority": pl.priority,
            "valid_from": pl.valid_from, "valid_to": pl.valid_to, "is_active": pl.is_active}


def _check_window(valid_from: datetime | None, valid_to: datetime | None) -> None:
    for name, value in (("valid_from", valid_from), ("valid_to", valid_to)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValidationFailed(_("Give a date and time with a time zone."), code="invalid_datetime",
                                   details={"field": name})
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise ValidationFailed(_("The end of the validity window must be after its start."), code="invalid_window",
                               details={"field": "valid_to"})


def price_list_for_write(actor: Staff, price_list_id: int, *, lock: bool = False) -> PriceList:
    """The list if the actor may see it (else 404) and holds price.manage on its node (else 403)."""
    from ..selectors import price_list_get

    price_list = price_list_get(actor=actor, price_list_id=price_list_id)
    if not org_selectors.has_perm(actor, Perm.PRICE_MANAGE, price_list.node):
        raise Forbidden(_("You may not change the prices of this list."), code="price_manage_required")
    if lock:
        price_list = lock_one(PriceList.objects.filter(pk=price_list.pk).select_related("node"))
    return price_list


@transaction.atomic
def price_list_create(*, actor: Staff, node_id: int, channel: str, code: str, name: str, priority: int = 0,
                      valid_from: datetime | None = None, valid_to: datetime | None = None,
                      is_active: bool = True) -> PriceList:
    """Attach a new price list to an org node in the actor's price.manage scope. Audited."""
    node = org_selectors.org_node_get(actor=actor, node_id=node_id)
    org_selectors.require(actor, Perm.PRICE_MANAGE, node)
    check_channel(channel)
    code = clean_code(code)
    name = clean_text(name, "name", 120)
    priority = clean_int(priority, "priority", -1000, 1000)
    _check_window(valid_from, valid_to)
    if PriceList.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            price_list = PriceList.objects.create(enterprise_id=actor.enterprise_id, node=node, channel=channel,
                                                  code=code, name=name, priority=priority, valid_from=valid_from,
                                                  valid_to=valid_to, is_active=bool(is_active))
    except IntegrityError:
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    audit_record(actor=actor, action="price_list.create", target=price_list, scope_path=node.path,
                 after=_list_snapshot(price_list))
    return price_list


_UNSET = object()


@transaction.atomic
def price_list_update(*, actor: Staff, price_list_id: int, name: str | None = None, priority: int | None = None,
                      valid_from: datetime | None | object = _UNSET, valid_to: datetime | None | object = _UNSET,
                      is_active: bool | None = None) -> PriceList:
    """Rename, re-prioritise, re-window or (de)activate a list; node and channel are fixed. Audited."""
    price_list = price_list_for_write(actor, price_list_id, lock=True)
    before = _list_snapshot(price_list)
    if name is not None:
        price_list.name = clean_text(name, "name", 120)
    if priority is not None:
        price_list.priority = clean_int(priority, "priority", -1000, 1000)
    if valid_from is not _UNSET:
        price_list.valid_from = valid_from
    if valid_to is not _UNSET:
        price_list.valid_to = valid_to
    _check_window(price_list.valid_from, price_list.valid_to)
    if is_active is not None:
        price_list.is_active = bool(is_active)
    price_list.save()
    audit_record(actor=actor, action="price_list.update", target=price_list, scope_path=price_list.node.path,
                 before=before, after=_list_snapshot(price_list))
    return price_list


def _sku_for_price(actor: Staff, sku_id: int) -> Sku:
    sku = Sku.objects.filter(enterprise_id=actor.enterprise_id, pk=sku_id).first()
    if sku is None:
        raise NotFound(_("SKU not found."), code="sku_not_found")
    return sku


def price_entry_put(*, actor: Staff, price_list: PriceList, sku: Sku, price: int) -> tuple[PriceEntry, int | None]:
    """Set one price in a list the caller already checked and locked; audited. Returns (entry, old price)."""
    price = clean_price(price)
    entry = lock_one(PriceEntry.objects.filter(price_list=price_list, sku=sku))
    old = entry.price if entry else None
    if entry is None:
        try:
            with transaction.atomic():
                entry = PriceEntry.objects.create(price_list=price_list, sku=sku, price=price)
        except IntegrityError:
            raise Conflict(_("Someone else set this price at the same moment; try again."), code="concurrent_change")
    elif entry.price != price:
        PriceEntry.objects.filter(pk=entry.pk).update(price=price, updated_at=timezone.now())
        cache_bump(PRICES)  # a bulk update sends no signal: every process's price cache reloads
        entry.price = price
    if old != price:
        audit_record(actor=actor, action="price.set", target=entry, scope_path=price_list.node.path,
                     before=None if old is None else {"price": old, "sku": sku.code, "price_list": price_list.code},
                     after={"price": price, "sku": sku.code, "price_list": price_list.code})
        outbox_emit(enterprise_id=sku.enterprise_id, topic="price.changed", key=sku.pk,
                    payload={"sku": sku.pk, "price_list": price_list.pk, "before": old, "after": price})
    return entry, old


@transaction.atomic
def price_entry_set(*, actor: Staff, price_list_id: int, sku_id: int, price: int) -> PriceEntry:
    """Set the price (fen) of a SKU in a list (create or change). Audited with before/after; live at once."""
    price_list = price_list_for_write(actor, price_list_id, lock=True)
    sku = _sku_for_price(actor, sku_id)
    entry, _old = price_entry_put(actor=actor, price_list=price_list, sku=sku, price=price)
    return entry


@transaction.atomic
def price_entry_delete(*, actor: Staff, price_list_id: int, sku_id: int) -> None:
    """Remove a SKU's price from a list (the next applicable list or the base price then applies). Audited."""
    price_list = price_list_for_write(actor, price_list_id, lock=True)
    sku = _sku_for_price(actor, sku_id)
    entry = lock_one(PriceEntry.objects.filter(price_list=price_list, sku=sku))
    if entry is None:
        raise NotFound(_("This SKU has no price in this list."), code="price_entry_not_found")
    audit_record(actor=actor, action="price.remove", target=entry, scope_path=price_list.node.path,
                 before={"price": entry.price, "sku": sku.code, "price_list": price_list.code})
    outbox_emit(enterprise_id=sku.enterprise_id, topic="price.changed", key=sku.pk,
                payload={"sku": sku.pk, "price_list": price_list.pk, "before": entry.price, "after": None})
    entry.delete()
