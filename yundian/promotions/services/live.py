"""Live selling sessions (直播): HQ or a store schedules a session with a host, a window and its products — each at
a live price (a special price in the one pricing engine, for everyone buying it online at the store while the
session runs) or as a flash allocation (a FlashSale over the session's window: the flash-sale machinery's exact cap
and per-member limit). Every guide of the store and the host get their own share link of the session
(promotions.ShareLink, source "live:<id>"): what comes by it is theirs (sales makes the link's guide the lines'
guide, so commission follows the existing plans) and the session's (its report reads the links).

Writes are keyed by the session; a session is edited only before it starts; cancelling or ending it early stops its
prices and flash sales at once. Audited.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import PROMOTIONS, cache_bump
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm, Role
from yundian.org.selectors import actor_roles, has_perm, require

from ..models import FlashSale, LiveSession, LiveSessionItem, LiveStatus, ShareLink
from ._common import MAX_AMOUNT, clean_int, clean_text, clean_window, random_code, sku_for
from .flash import flash_sale_create
from .referrals import share_link_create

MAX_ITEMS = 50
MAX_LENGTH = timedelta(days=2)


@dataclass(frozen=True)
class ItemIn:
    """One product line of a session: `live_price` (fen), or a flash allocation (`flash_price`, `cap`, `limit`)."""

    sku_id: int
    live_price: int | None = None
    flash_price: int | None = None
    cap: int | None = None
    limit: int = 1


def _store(actor: Staff, store_id: Any) -> OrgNode:
    if isinstance(store_id, bool) or not isinstance(store_id, int):
        raise ValidationFailed(_("Choose a store."), code="required", details={"field": "store_id"})
    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id).first()
    if store is None:
        raise NotFound(_("Store not found."), code="store_not_found")
    require(actor, Perm.PROMOTION_MANAGE, store)
    if store.kind != NodeKind.STORE or not store.is_active:
        raise ValidationFailed(_("A live session is held by an open store."), code="not_a_store",
                               details={"field": "store_id"})
    return store


def is_store_guide(staff: Staff, store: OrgNode) -> bool:
    return any(role in (Role.GUIDE, Role.STORE_MANAGER) and store.path.startswith(path)
               for role, path, _id in actor_roles(staff))


def _host(actor: Staff, store: OrgNode, host_id: Any) -> Staff:
    """A guide or manager of the store, or HQ staff (who work at the root)."""
    if isinstance(host_id, bool) or not isinstance(host_id, int):
        raise ValidationFailed(_("Choose a host."), code="required", details={"field": "host_id"})
    host = Staff.objects.filter(pk=host_id, enterprise_id=actor.enterprise_id, is_active=True) \
        .select_related("home").first()
    if host is None or not (is_store_guide(host, store) or host.home.parent_id is None):
        raise ValidationFailed(_("The host is a guide of the store or HQ staff."), code="invalid_host",
                               details={"field": "host_id"})
    return host


def _items(enterprise_id: int, items: Any) -> list[tuple[ItemIn, Any]]:
    if not isinstance(items, (list, tuple)) or not items:
        raise ValidationFailed(_("Add at least one product."), code="required", details={"field": "items"})
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(_("At most %(n)d products in a session.") % {"n": MAX_ITEMS}, code="too_many_items",
                               details={"field": "items", "max": MAX_ITEMS})
    out, seen = [], set()
    for item in items:
        if not isinstance(item, ItemIn):
            raise ValidationFailed(_("Not a valid product line."), code="invalid_item", details={"field": "items"})
        sku = sku_for(enterprise_id, item.sku_id)
        if sku.pk in seen:
            raise ValidationFailed(_("A product is listed twice."), code="duplicate_sku", details={"field": "items"})
        seen.add(sku.pk)
        if not sku.is_active or sku.is_weighed:
            raise ValidationFailed(_("Weighed or inactive goods cannot be sold live."), code="invalid_sku",
                                   details={"field": "items"})
        if (item.live_price is None) == (item.flash_price is None):
            raise ValidationFailed(_("Give each product a live price or a flash allocation."), code="price_required",
                                   details={"field": "items"})
        if item.live_price is not None:
            clean_int(item.live_price, "live_price", high=MAX_AMOUNT)
        else:
            clean_int(item.flash_price, "flash_price", high=MAX_AMOUNT)
            clean_int(item.cap, "cap", low=1, high=10_000_000)
            clean_int(item.limit, "per_member_limit", low=1, high=1000)
        out.append((item, sku))
    return out


def _window(starts_at, ends_at) -> None:
    clean_window(starts_at, ends_at, required=True)
    if ends_at - starts_at > MAX_LENGTH:
        raise ValidationFailed(_("A live session lasts at most two days."), code="invalid_window",
                               details={"field": "ends_at"})


def _write_items(actor: Staff, session: LiveSession, cleaned: list[tuple[ItemIn, Any]]) -> None:
    for position, (item, sku) in enumerate(cleaned):
        sale = None
        if item.flash_price is not None:
            sale = flash_sale_create(actor=actor, node_id=session.store_id, code=f"LIVE{session.pk}-{random_code(6)}",
                                     name=session.title[:120], sku_id=sku.pk, price=item.flash_price, cap=item.cap,
                                     starts_at=session.starts_at, ends_at=session.ends_at,
                                     per_member_limit=item.limit)
        LiveSessionItem.objects.create(enterprise_id=session.enterprise_id, session=session, sku=sku,
                                       position=position, live_price=item.live_price, flash_sale=sale)


def _stop_flash(session: LiveSession) -> None:
    ids = [i for i in session.items.values_list("flash_sale_id", flat=True) if i]
    FlashSale.objects.filter(pk__in=ids, is_active=True).update(is_active=False, updated_at=timezone.now())
    cache_bump(PROMOTIONS)


def _snapshot(session: LiveSession) -> dict:
    return {"title": session.title, "host": session.host_id, "store": session.store_id, "status": session.status,
            "starts_at": session.starts_at, "ends_at": session.ends_at,
            "items": [{"sku": i.sku_id, "live_price": i.live_price, "flash_sale": i.flash_sale_id}
                      for i in session.items.all()]}


@transaction.atomic
def live_session_create(*, actor: Staff, store_id: int, title: str, host_id: int, starts_at: datetime,
                        ends_at: datetime, items: list[ItemIn]) -> LiveSession:
    """Schedule a session at a store (promotion.manage there) with its products; the host's share link is made at
    once. Audited. Locks: none (new rows only)."""
    store = _store(actor, store_id)
    title = clean_text(title, "title", 120, required=True)
    host = _host(actor, store, host_id)
    _window(starts_at, ends_at)
    cleaned = _items(actor.enterprise_id, items)
    session = LiveSession.objects.create(enterprise_id=actor.enterprise_id, store=store, title=title, host=host,
                                         starts_at=starts_at, ends_at=ends_at, created_by=actor)
    _write_items(actor, session, cleaned)
    live_share_link(session=session, guide=host)
    audit_record(actor=actor, action="live_session.create", target=session, after=_snapshot(session),
                 scope_path=store.path)
    return session


def _for_write(actor: Staff, session_id: Any) -> LiveSession:
    from ..selectors import live_session_get

    session = live_session_get(actor=actor, session_id=session_id)
    if not has_perm(actor, Perm.PROMOTION_MANAGE, session.store):
        from yundian.core.errors import Forbidden
        raise Forbidden()
    session = LiveSession.objects.select_for_update().select_related("store", "host").get(pk=session.pk)
    return session


@transaction.atomic
def live_session_update(*, actor: Staff, session_id: int, title: str, host_id: int, starts_at: datetime,
                        ends_at: datetime, items: list[ItemIn]) -> LiveSession:
    """Change a session that has not started (409 `live_session_started` after): its products are replaced (flash
    allocations stopped and made anew). Audited. Locks: the session row."""
    session = _for_write(actor, session_id)
    if session.state_at(timezone.now()) != LiveStatus.SCHEDULED:
        raise Conflict(_("A session can only be changed before it starts."), code="live_session_started")
    before = _snapshot(session)
    title = clean_text(title, "title", 120, required=True)
    host = _host(actor, session.store, host_id)
    _window(starts_at, ends_at)
    cleaned = _items(actor.enterprise_id, items)
    _stop_flash(session)
    session.items.all().delete()
    session.title, session.host, session.starts_at, session.ends_at = title, host, starts_at, ends_at
    session.save(update_fields=["title", "host", "starts_at", "ends_at", "updated_at"])
    _write_items(actor, session, cleaned)
    live_share_link(session=session, guide=host)
    audit_record(actor=actor, action="live_session.update", target=session, before=before, after=_snapshot(session),
                 scope_path=session.store.path)
    return session


@transaction.atomic
def live_session_close(*, actor: Staff, session_id: int, cancel: bool) -> LiveSession:
    """Cancel a session that has not ended, or end a live one now: its live prices and flash sales stop at once
    (409 `live_session_closed` when it is over already). Audited. Locks: the session row."""
    session = _for_write(actor, session_id)
    now = timezone.now()
    state = session.state_at(now)
    if state in (LiveStatus.ENDED, LiveStatus.CANCELLED) or (not cancel and state != LiveStatus.LIVE):
        raise Conflict(_("This session cannot be closed now."), code="live_session_closed",
                       details={"status": state})
    before = {"status": state}
    session.status = LiveStatus.CANCELLED if cancel else LiveStatus.ENDED
    session.ended_at = now
    session.save(update_fields=["status", "ended_at", "updated_at"])
    _stop_flash(session)
    audit_record(actor=actor, action="live_session.cancel" if cancel else "live_session.end", target=session,
                 before=before, after={"status": session.status}, scope_path=session.store.path)
    return session


def live_share_link(*, session: LiveSession, guide: Staff) -> ShareLink:
    """The session's link shared by `guide` (the host, or any guide of the store), the same one each time. An HQ
    host's link is made here: the store's guides' links go through share_link_create's checks."""
    if is_store_guide(guide, session.store):
        return share_link_create(store_id=session.store_id, actor=guide, source=session.source)
    if guide.pk != session.host_id:
        raise ValidationFailed(_("Only the store's guides and managers share its links."), code="not_a_guide")
    existing = ShareLink.objects.filter(store_id=session.store_id, product=None, source=session.source,
                                        sharer_staff=guide).first()
    if existing is not None:
        return existing
    return ShareLink.objects.create(enterprise_id=session.enterprise_id, code=random_code(12),
                                    store_id=session.store_id, source=session.source, sharer_staff=guide)


def live_share_link_for(*, actor: Staff, session_id: int) -> ShareLink:
    """The acting guide's own link of a session they may see (404 otherwise)."""
    from ..selectors import live_session_get

    session = live_session_get(actor=actor, session_id=session_id)
    return live_share_link(session=session, guide=actor)


__all__ = ["ItemIn", "live_session_close", "live_session_create", "live_session_update", "live_share_link",
           "live_share_link_for"]
