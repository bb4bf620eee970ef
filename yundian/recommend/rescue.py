"""Browse-abandon rescue: a member who looked at two or more products of a category in the last few days and bought
nothing of it is handed to their guide with a suggestion — a comparable product at a middle price that the nearest
store with stock can sell, optionally a coupon on the product they looked at last — once per member, category and
week (the Rescue row's unique key; a rerun or a second worker makes nothing twice).

The warehouse finds the abandoners (warehouse_inputs.browse_abandoners, pure Ibis); everything else is OLTP. The
suggestion reaches the guide (else the store manager) as a follow-up task through the guides context
(`guides.guide_tasks.guide_follow_up_create`, idempotent by its key).
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.catalog.models import Product, Sku
from yundian.core.warehouse import warehouse_read
from yundian.members.models import Member, MemberStatus
from yundian.org.models import OrgNode
from yundian.stores.models import StoreProfile
from yundian.stores.selectors import store_nearest

from . import warehouse_inputs as inputs
from .models import Rescue
from .selectors import available, personalisation_allowed, recommendations

WINDOW_DAYS = 3
NEAREST_STORES = 5


def _naive(moment: datetime) -> datetime:
    return timezone.make_naive(moment, timezone.UTC) if timezone.is_aware(moment) else moment


def abandoners(enterprise_id: int, *, now: datetime, days: int = WINDOW_DAYS) -> tuple[list[dict], dict]:
    """[(member_id, category_id, products)] and {(member, category): [viewed product ids, latest first]}."""
    since, until = _naive(now - timedelta(days=days)), _naive(now)
    with warehouse_read() as wh:
        tables = (wh.table("fact_event"), wh.table("identity_link"), wh.table("dim_member"))
        found = wh.execute(inputs.browse_abandoners(*tables, wh.table("fact_order_line"), enterprise_id=enterprise_id,
                                                    since=since, until=until))
        seen = wh.execute(inputs.viewed_products(*tables, enterprise_id=enterprise_id, since=since, until=until))
    viewed: dict[tuple[int, int], list[tuple]] = {}
    for member_id, product_id, category_id, last_seen in seen.itertuples(index=False):
        viewed.setdefault((int(member_id), int(category_id)), []).append((last_seen, int(product_id)))
    ordered = {key: [p for _t, p in sorted(rows, reverse=True)] for key, rows in viewed.items()}
    rows = [{"member_id": int(m), "category_id": int(c), "products": int(n)}
            for m, c, n in found[["member_id", "category_id", "products"]].itertuples(index=False)]
    return rows, ordered


def _prices(product_ids) -> dict[int, int]:
    return dict(Sku.objects.filter(product_id__in=product_ids, is_active=True).values("product_id")
                .annotate(p=Min("base_price")).values_list("product_id", "p"))


def _stores_for(member: Member) -> list[OrgNode]:
    """The member's home store, then the open stores nearest to it."""
    out = [member.home] if member.home_id else []
    profile = StoreProfile.objects.filter(node_id=member.home_id).first() if member.home_id else None
    if profile is not None and profile.latitude is not None:
        for near in store_nearest(enterprise_id=member.enterprise_id, latitude=profile.latitude,
                                  longitude=profile.longitude, limit=NEAREST_STORES):
            if near.node_id != member.home_id:
                out.append(near.node)
    return out


def suggestion_for(member: Member, category_id: int, viewed: list[int]) -> tuple[Product, OrgNode] | None:
    """A comparable product (same category, not one they looked at) at a middle price of what the store can sell,
    and the first store (home, then nearest) that has such a product in stock."""
    others = list(Product.objects.filter(enterprise_id=member.enterprise_id, category_id=category_id,
                                         is_active=True).exclude(pk__in=viewed).values_list("pk", flat=True))
    if not others:
        return None
    prices = _prices(others)
    for store in _stores_for(member):
        stocked = sorted(p for p in available(store, others) if p in prices)
        if not stocked:
            continue
        middle = statistics.median(prices[p] for p in stocked)
        best = min(stocked, key=lambda p: (abs(prices[p] - middle), prices[p], p))
        return Product.objects.get(pk=best), store
    return None


def rescue_run(*, enterprise_id: int, now: datetime | None = None, days: int = WINDOW_DAYS) -> list[Rescue]:
    """Make this week's rescues of the enterprise's browse-abandoners (members who may be personalised only)."""
    now = now or timezone.now()
    period = timezone.localdate(now) - timedelta(days=timezone.localdate(now).weekday())
    rows, viewed = abandoners(enterprise_id, now=now, days=days)
    done = set(Rescue.objects.filter(enterprise_id=enterprise_id, period=period).values_list("member_id", "category_id"))
    members = {m.pk: m for m in Member.objects.filter(pk__in=[r["member_id"] for r in rows], status=MemberStatus.ACTIVE)
               .select_related("home")}
    made = []
    for row in rows:
        key = (row["member_id"], row["category_id"])
        member = members.get(row["member_id"])
        if key in done or member is None or not personalisation_allowed(member):
            continue
        looked = viewed.get(key, [])
        found = suggestion_for(member, row["category_id"], looked)
        if found is None:
            continue
        product, store = found
        try:
            with transaction.atomic():
                rescue = Rescue.objects.create(
                    enterprise_id=enterprise_id, member=member, category_id=row["category_id"], period=period,
                    viewed=looked, product=product, coupon_product_id=looked[0] if looked else None, store=store,
                    guide_id=member.guide_id)
        except IntegrityError:  # another run made it first
            continue
        _deliver(rescue, now=now)
        made.append(rescue)
    return made


def rescue_note(rescue: Rescue) -> tuple[str, str]:
    """The follow-up's title and note, in the active language."""
    names = dict(Product.objects.filter(pk__in=[*rescue.viewed, rescue.product_id]).values_list("pk", "name"))
    looked = "、".join(names[p] for p in rescue.viewed if p in names)
    title = _("Looked at %(count)s products of %(category)s without buying") % {
        "count": len(rescue.viewed), "category": rescue.category.name}
    note = _("Looked at: %(looked)s. Suggest %(product)s (a middle price, in stock at %(store)s).") % {
        "looked": looked, "product": names.get(rescue.product_id, ""), "store": rescue.store.name}
    if rescue.coupon_product_id:
        note += " " + _("You may offer a coupon on %(product)s.") % {"product": names.get(rescue.coupon_product_id, "")}
    return title, note


def _deliver(rescue: Rescue, *, now: datetime) -> None:
    """A follow-up task for the member's guide through the guides context, once (keyed by the rescue)."""
    from yundian.guides.guide_tasks import guide_follow_up_create

    title, note = rescue_note(rescue)
    task = guide_follow_up_create(member=rescue.member, title=title[:120], note=note[:500],
                                  due_at=now + timedelta(days=2), key=f"recommend-rescue-{rescue.pk}")
    if task is not None:  # None: nobody can follow the member up (no guide, no store manager)
        Rescue.objects.filter(pk=rescue.pk).update(delivered_as="guide_task")


MESSAGE_SLOT = "message"  # no experiment runs on it: a journey's own split measures the message


def browse_suggestions(member: Member, product_id: int | None, *, k: int = 3) -> list[Product]:
    """Up to k products to suggest in a browse-abandon message about `product_id`, sellable at the member's home
    store: what goes with it (the serving model), else a comparable product at a middle price (as the rescue).
    A member who may not be personalised gets the store's best sellers, the product they viewed unused."""
    store = member.home if member.home_id else None
    if store is None:
        return []
    personal = personalisation_allowed(member)
    viewed = [product_id] if personal and product_id else []
    block = recommendations(store=store, slot=MESSAGE_SLOT, member=member if personal else None,
                            product_ids=viewed, k=k)
    chosen = [i.product_id for i in block.items]
    if len(chosen) < k and viewed:
        category_id = Product.objects.filter(pk=product_id).values_list("category_id", flat=True).first()
        found = suggestion_for(member, category_id, viewed + chosen) if category_id else None
        if found is not None and found[0].pk not in chosen:
            chosen.append(found[0].pk)
    products = Product.objects.in_bulk(chosen)
    return [products[p] for p in chosen if p in products]
