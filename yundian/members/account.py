"""The member's own account on the storefront ("my account"): who is signed in, and reads of their own data only.

A signed-in member is kept in the session under SESSION_KEY as {"m": member id, "e": enterprise id}; it is not
Django's staff sign-in. A page of a store counts the member as signed in only if the store belongs to the same
enterprise and the member is still active (a merged or erased member is signed out). Every read here takes the
member and filters by it, so a member only ever sees their own rows.
"""
from datetime import timedelta

from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.money import Money

from . import selectors
from .hooks import member_coupons, member_orders, member_section
from .models import (
    GrowthEntry, GrowthKind, Member, MemberStatus, PointsEntry, PointsKind, PointsLot, StoredValueEntry, Tier,
)
from .normalize import mask_phone

SESSION_KEY = "yundian.members.storefront"
PAGE_SIZE = 20
EXPIRING_WITHIN = timedelta(days=30)
ORDER_ROWS = 50


TABS = [("overview", _("Overview")), ("points", _("Points")), ("stored_value", _("Stored value")),
        ("coupons", _("Coupons")), ("orders", _("Orders"))]


def page_context(profile, **extra) -> dict:
    """What the account pages' base template needs: the storefront's (stores: store, theme, colours, hours), the
    tabs, and with a member signed in `inbox`, their inbox's unread count where a higher context (messaging)
    provides one, plus the page's own."""
    from yundian.stores import selectors as store_selectors

    member = extra.get("member")
    inbox = member_section("inbox_unread", member) if member is not None else None
    return {**store_selectors.storefront_context(profile), "tabs": TABS, "inbox": inbox[0] if inbox else None,
            **extra}


def session_sign_in(request, member: Member) -> None:
    request.session.cycle_key()  # a new session id at sign-in (no fixation)
    request.session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}


def session_sign_out(request) -> None:
    request.session.pop(SESSION_KEY, None)


def signed_in_member(request, *, enterprise_id: int) -> Member | None:
    """The member signed in on this enterprise's storefronts, or None (another enterprise's session counts as none)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("e") != enterprise_id or not isinstance(data.get("m"), int):
        return None
    return (Member.objects.filter(pk=data["m"], enterprise_id=enterprise_id, status=MemberStatus.ACTIVE)
            .select_related("tier", "enterprise", "home").first())


def _money(member: Member, fen: int) -> Money:
    return Money(fen, member.enterprise.currency)


def account_overview(member: Member) -> dict:
    """Tier, growth towards the next tier, the tier's benefits, points and stored-value balances."""
    points, principal, bonus = selectors.balances(member)
    program = selectors.program_get(member.enterprise_id)
    growth = selectors.growth_in_window(member, window_days=program.growth_window_days)
    current_rank = member.tier.rank if member.tier_id else -1
    next_tier = Tier.objects.filter(enterprise_id=member.enterprise_id, rank__gt=current_rank).order_by("rank").first()
    progress = None
    if next_tier is not None:
        floor = member.tier.min_growth if member.tier_id else 0
        span = max(1, next_tier.min_growth - floor)
        progress = {"tier": next_tier, "needed": max(0, next_tier.min_growth - growth),
                    "percent": max(0, min(100, (growth - floor) * 100 // span))}
    benefits = selectors.member_benefits(member)
    off = (1 - benefits.discount_rate) * 100
    return {
        "phone": mask_phone(selectors.phone_of(member)),
        "tier": member.tier,
        "growth": growth,
        "growth_window_days": program.growth_window_days,
        "progress": progress,
        "benefits": benefits,
        "percent_off": off.normalize() if off else 0,
        "points": points,
        "stored_value": _money(member, principal + bonus),
        "stored_value_bonus": _money(member, bonus),
        "has_bonus": bonus > 0,
    }


def points_history(member: Member, page_number) -> dict:
    """The member's points ledger, newest first (paged), and the lots expiring within EXPIRING_WITHIN."""
    entries = PointsEntry.objects.filter(member=member).select_related("store").order_by("-id")
    page: Page = Paginator(entries, PAGE_SIZE).get_page(page_number)
    soon = timezone.now() + EXPIRING_WITHIN
    expiring = list(PointsLot.objects.filter(member=member, remaining__gt=0, expires_at__isnull=False,
                                             expires_at__lte=soon).order_by("expires_at", "id"))
    points, _principal, _bonus = selectors.balances(member)
    return {"page": page, "expiring": expiring, "expiring_total": sum(lot.remaining for lot in expiring),
            "points": points}


def stored_value_history(member: Member, page_number) -> dict:
    entries = StoredValueEntry.objects.filter(member=member).select_related("store").order_by("-id")
    page: Page = Paginator(entries, PAGE_SIZE).get_page(page_number)
    rows = [{"entry": e, "amount": _money(member, e.amount), "principal": _money(member, e.principal),
             "bonus": _money(member, e.bonus), "is_credit": e.amount > 0} for e in page]
    _points, principal, bonus = selectors.balances(member)
    return {"page": page, "rows": rows, "balance": _money(member, principal + bonus),
            "bonus": _money(member, bonus)}


def coupons(member: Member) -> dict:
    rows = member_coupons(member)
    return {"coupons": rows or [], "coupons_available": rows is not None}


def orders(member: Member) -> dict:
    """The member's orders from the context that owns them (sales, through `hooks.register_member_orders`); until
    it provides them, the paid orders members' own ledgers know: growth and points earned per order reference."""
    rows = member_orders(member)
    if rows is not None:
        return {"orders": rows, "from_ledger": False}
    earned = {e.source_id: e for e in PointsEntry.objects.filter(member=member, kind=PointsKind.EARN,
                                                                  source_type="order").select_related("store")}
    growth = {g.source_id: g for g in GrowthEntry.objects.filter(member=member, kind=GrowthKind.ORDER,
                                                                 source_type="order")}
    refs = sorted(set(earned) | set(growth), key=lambda ref: (
        growth[ref].occurred_at if ref in growth else earned[ref].created_at), reverse=True)[:ORDER_ROWS]
    rows = []
    for ref in refs:
        earn, paid = earned.get(ref), growth.get(ref)
        amount = paid.amount_fen if paid else earn.detail.get("paid_fen", 0)
        rows.append({"number": ref, "placed_at": paid.occurred_at if paid else earn.created_at,
                     "store": earn.store.name if earn and earn.store_id else "", "total": _money(member, amount),
                     "points": earn.points if earn else 0})
    return {"orders": rows, "from_ledger": True}

