"""What brings members into a journey: one incremental scanner per trigger kind, each reading its source above
its own watermark (never a full scan of the members), plus the API's enrol.

    first_purchase     the OLTP outbox (core.outbox, "order.changed") by id: a paid order that is the member's first
    cart_abandoned     the event inbox by id: an add_to_cart N hours old with no paid order since
    product_viewed     the event inbox by id: the member's N-th view of a product within D days, not bought since
    browse_abandoned   the event inbox by id: a product_view N hours old with no cart add and no paid order since
    birthday           once per local day: members whose birthday is `days_before` days away
    points_expiring    points lots by expiry time: lots that expire within N days, the window moving on
    tier_changed       members' tier history (TierChange) by id: an upgrade / downgrade
    lifecycle_changed  cdp's tag history (TagChange) by id: the lifecycle tag gained is the chosen stage
    segment_joined     cdp's segment lists (SegmentMember) by id: a member added to the segment
    schedule           at its time (once, daily or weekly): every member of the segment
    api                POST /api/v1/journeys/{id}/enrol with the client's key

A scan locks the journey's TriggerState row, enrols in bulk (`runner.enrol`, unique keys) and moves the watermark
in the same transaction: a scan killed half-way enrols again from the old watermark, and the keys make that a
no-op. A new or changed trigger starts from the source's present end (its history is not replayed), except
points_expiring, which looks at the lots expiring within its window from the start.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from yundian.core import when
from yundian.core.locking import lock_one

from . import graph as graphs
from .models import Journey, JourneyStatus, TriggerState
from .runner import enrol

LIMIT = 10_000
PAID = ("paid", "fulfilled", "completed", "partially_returned", "returned")


def _max_id(queryset) -> int:
    return queryset.aggregate(m=Max("id"))["m"] or 0


def initial_watermark(journey: Journey, config: dict, now: datetime) -> dict:
    """Where a newly published trigger starts reading."""
    from yundian.cdp.models import EventInbox, SegmentMember, TagChange
    from yundian.core.models import OutboxEvent
    from yundian.members.models import TierChange

    trigger = config["trigger"]
    if trigger == "first_purchase":
        return {"id": _max_id(OutboxEvent.objects.all())}
    if trigger in ("cart_abandoned", "product_viewed", "browse_abandoned"):
        return {"id": _max_id(EventInbox.objects.all())}
    if trigger == "tier_changed":
        return {"id": _max_id(TierChange.objects.all())}
    if trigger == "lifecycle_changed":
        return {"id": _max_id(TagChange.objects.all())}
    if trigger == "segment_joined":
        return {"id": _max_id(SegmentMember.objects.filter(segment_id=config["segment_id"]))}
    if trigger == "birthday":
        return {"day": (timezone.localdate(now) - timedelta(days=1)).isoformat()}
    if trigger == "points_expiring":
        return {"until": now.isoformat()}
    if trigger == "schedule":
        at = datetime.fromisoformat(config["at"])
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        return {"next": at.isoformat()}
    return {}


# --- the scanners: (journey, config, watermark, now) -> (candidates, new watermark) ---------------------------

def _first_purchase(journey, config, wm, now):
    from yundian.core.models import OutboxEvent
    from yundian.sales.models import Order

    rows = list(OutboxEvent.objects.filter(id__gt=wm.get("id", 0), topic="order.changed")
                .order_by("id").values_list("id", "enterprise_id", "key")[:LIMIT])
    if not rows:
        return [], wm
    order_ids = {int(k) for _i, e, k in rows if e == journey.enterprise_id and k.isdigit()}
    orders = list(Order.objects.filter(pk__in=order_ids, status__in=PAID, member_id__isnull=False)
                  .values_list("id", "member_id", "placed_at"))
    first = dict(Order.objects.filter(member_id__in={m for _o, m, _p in orders}, status__in=PAID)
                 .values("member_id").annotate(first=Min("id")).values_list("member_id", "first"))
    out = [(m, f"order:{o}", {"order_id": o, "at": p.isoformat()}) for o, m, p in orders if first.get(m) == o]
    return out, {"id": rows[-1][0]}


def _inbox(journey, wm, kind, **extra):
    from yundian.cdp.models import EventInbox

    return list(EventInbox.objects.filter(enterprise_id=journey.enterprise_id, id__gt=wm.get("id", 0), kind=kind,
                                          **extra)
                .order_by("id").values_list("id", "member_id", "sku_id", "occurred_at")[:LIMIT])


def _cart_abandoned(journey, config, wm, now):
    from yundian.sales.models import Order

    rows = _inbox(journey, wm, "add_to_cart", received_at__lte=now - timedelta(hours=config["hours"]))
    if not rows:
        return [], wm
    last: dict[int, tuple] = {}
    for event_id, member_id, sku_id, at in rows:
        if member_id is not None:
            last[member_id] = (event_id, sku_id, at)
    bought: dict[int, datetime] = dict(
        Order.objects.filter(member_id__in=list(last), status__in=PAID,
                             placed_at__gte=min((a for _e, _s, a in last.values()), default=now))
        .values("member_id").annotate(last=Max("placed_at")).values_list("member_id", "last"))
    out = [(m, f"cart:{e}", {"sku_id": s, "at": a.isoformat()}) for m, (e, s, a) in last.items()
           if not (m in bought and bought[m] >= a)]
    return out, {"id": rows[-1][0]}


def _browse_abandoned(journey, config, wm, now):
    """A member's last product view among the rows read, once it is N hours old, unless they added anything to a
    cart or placed a paid order since that view (those are the cart-abandonment journey's, or done). The context
    names the SKU and its product, for the message's suggestions."""
    from yundian.catalog.models import Sku
    from yundian.cdp.models import EventInbox
    from yundian.sales.models import Order

    rows = _inbox(journey, wm, "product_view", received_at__lte=now - timedelta(hours=config["hours"]))
    if not rows:
        return [], wm
    last: dict[int, tuple] = {}
    for event_id, member_id, sku_id, at in rows:
        if member_id is not None and sku_id is not None:
            last[member_id] = (event_id, sku_id, at)
    earliest = min((a for _e, _s, a in last.values()), default=now)
    acted: dict[int, datetime] = {}
    for member_id, at in (EventInbox.objects.filter(enterprise_id=journey.enterprise_id, kind="add_to_cart",
                                                    member_id__in=list(last), occurred_at__gte=earliest)
                          .values("member_id").annotate(last=Max("occurred_at")).values_list("member_id", "last")):
        acted[member_id] = at
    for member_id, at in (Order.objects.filter(member_id__in=list(last), status__in=PAID, placed_at__gte=earliest)
                          .values("member_id").annotate(last=Max("placed_at")).values_list("member_id", "last")):
        acted[member_id] = max(at, acted.get(member_id, at))
    product_of = dict(Sku.objects.filter(pk__in={s for _e, s, _a in last.values()}).values_list("pk", "product_id"))
    out = [(m, f"browse:{e}", {"sku_id": s, "product_id": product_of.get(s), "at": a.isoformat()})
           for m, (e, s, a) in last.items() if not (m in acted and acted[m] >= a) and s in product_of]
    return out, {"id": rows[-1][0]}


def _product_viewed(journey, config, wm, now):
    from yundian.cdp.models import EventInbox
    from yundian.sales.models import OrderLine

    rows = _inbox(journey, wm, "product_view")
    if not rows:
        return [], wm
    since = now - timedelta(days=config["days"])
    pairs = {(m, s) for _e, m, s, _a in rows if m is not None and s is not None}
    members, skus = {m for m, _s in pairs}, {s for _m, s in pairs}
    counts = (EventInbox.objects.filter(enterprise_id=journey.enterprise_id, kind="product_view",
                                        member_id__in=members, sku_id__in=skus, occurred_at__gte=since)
              .values("member_id", "sku_id").annotate(n=Count("id"), first=Min("occurred_at")))
    hot = {(c["member_id"], c["sku_id"]): c["first"] for c in counts
           if (c["member_id"], c["sku_id"]) in pairs and c["n"] >= config["times"]}
    bought = set(OrderLine.objects.filter(order__member_id__in={m for m, _s in hot}, sku_id__in={s for _m, s in hot},
                                          order__placed_at__gte=since, order__status__in=PAID)
                 .values_list("order__member_id", "sku_id", "order__placed_at"))
    bought_after = {(m, s) for m, s, at in bought if (m, s) in hot and at >= hot[(m, s)]}
    day = timezone.localdate(now).isoformat()
    out = [(m, f"view:{s}:{day}", {"sku_id": s, "at": now.isoformat()}) for (m, s) in hot
           if (m, s) not in bought_after]
    return out, {"id": rows[-1][0]}


def _birthday(journey, config, wm, now):
    from yundian.members.models import Member, MemberStatus

    today = timezone.localdate(now)
    done = date.fromisoformat(wm["day"]) if wm.get("day") else today - timedelta(days=1)
    out = []
    day = max(done + timedelta(days=1), today - timedelta(days=3))  # a scheduler down for days catches up 3
    while day <= today:
        target = day + timedelta(days=config.get("days_before", 0))
        ids = (Member.objects.filter(enterprise_id=journey.enterprise_id, status=MemberStatus.ACTIVE,
                                     birthday__month=target.month, birthday__day=target.day)
               .values_list("pk", flat=True))
        out.extend((m, f"birthday:{target.isoformat()}", {"birthday": target.isoformat()}) for m in ids)
        day += timedelta(days=1)
    return out, {"day": today.isoformat()}


def _points_expiring(journey, config, wm, now):
    from yundian.members.models import PointsLot

    start = datetime.fromisoformat(wm["until"]) if wm.get("until") else now
    horizon = now + timedelta(days=config["days"])
    if horizon <= start:
        return [], wm
    lots = (PointsLot.objects.filter(remaining__gt=0, expires_at__gt=start, expires_at__lte=horizon,
                                     member__enterprise_id=journey.enterprise_id)
            .values("member_id").annotate(first=Min("expires_at"), points=Count("id")))
    out = [(r["member_id"], f"expiring:{timezone.localdate(r['first']).isoformat()}",
            {"expires_at": r["first"].isoformat()}) for r in lots]
    return out, {"until": horizon.isoformat()}


def _tier_changed(journey, config, wm, now):
    from yundian.members.models import TierChange

    reasons = {"up": ["upgrade"], "down": ["downgrade"]}.get(config.get("direction", "any"), ["upgrade", "downgrade"])
    rows = list(TierChange.objects.filter(id__gt=wm.get("id", 0)).order_by("id")
                .values_list("id", "member_id", "member__enterprise_id", "reason", "to_tier_id")[:LIMIT])
    if not rows:
        return [], wm
    out = [(m, f"tier:{i}", {"tier_id": t, "direction": r}) for i, m, e, r, t in rows
           if e == journey.enterprise_id and r in reasons]
    return out, {"id": rows[-1][0]}


def _lifecycle_changed(journey, config, wm, now):
    from yundian.cdp.models import TagChange

    rows = list(TagChange.objects.filter(id__gt=wm.get("id", 0)).order_by("id")
                .values_list("id", "member_id", "enterprise_id", "gained", "tag__computed_key", "tag__value")[:LIMIT])
    if not rows:
        return [], wm
    out = [(m, f"stage:{i}", {"stage": v}) for i, m, e, g, k, v in rows
           if e == journey.enterprise_id and g and k == "lifecycle" and v == config["stage"]]
    return out, {"id": rows[-1][0]}


def _segment_joined(journey, config, wm, now):
    from yundian.cdp.models import SegmentMember

    rows = list(SegmentMember.objects.filter(segment_id=config["segment_id"], id__gt=wm.get("id", 0))
                .order_by("id").values_list("id", "member_id")[:LIMIT])
    if not rows:
        return [], wm
    return [(m, f"seg:{i}", {"segment_id": config["segment_id"]}) for i, m in rows], {"id": rows[-1][0]}


def _schedule(journey, config, wm, now):
    from yundian.cdp.models import SegmentMember

    if not wm.get("next"):
        return [], wm
    at = datetime.fromisoformat(wm["next"])
    if at > now:
        return [], wm
    step = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}.get(config.get("repeat", "once"))
    members = SegmentMember.objects.filter(segment_id=config["segment_id"]).values_list("member_id", flat=True)
    run = at.isoformat()
    out = [(m, f"run:{run}", {"run": run}) for m in members.iterator(chunk_size=10_000)]
    following = None
    if step is not None:
        following = at + step
        while following <= now:
            following += step
    return out, {"next": following.isoformat() if following else None}


SCANNERS = {"first_purchase": _first_purchase, "cart_abandoned": _cart_abandoned, "product_viewed": _product_viewed,
            "browse_abandoned": _browse_abandoned,
            "birthday": _birthday, "points_expiring": _points_expiring, "tier_changed": _tier_changed,
            "lifecycle_changed": _lifecycle_changed, "segment_joined": _segment_joined, "schedule": _schedule}


def scan(journey_id: int, *, now: datetime | None = None) -> int:
    """One pass of a live journey's trigger over its source; returns the members enrolled."""
    now = now or when.now()
    with transaction.atomic():
        journey = (Journey.objects.select_related("node", "live_version")
                   .filter(pk=journey_id, status=JourneyStatus.LIVE).first())
        if journey is None or journey.trigger not in SCANNERS:
            return 0
        state = lock_one(TriggerState.objects.filter(journey_id=journey_id))
        config = graphs.entry_of(journey.live_version.graph)["config"]
        if state is None:
            state = TriggerState.objects.create(journey=journey, watermark=initial_watermark(journey, config, now))
        candidates, watermark = SCANNERS[journey.trigger](journey, config, state.watermark, now)
        added = enrol(journey=journey, candidates=candidates, now=now)
        TriggerState.objects.filter(pk=journey_id).update(watermark=watermark, scanned_at=now)
    return added


def scan_all(*, now: datetime | None = None) -> int:
    """Every live journey's trigger, each until its source is read to the end (rounds of LIMIT rows)."""
    added = 0
    ids = Journey.objects.filter(status=JourneyStatus.LIVE, trigger__in=list(SCANNERS)).values_list("pk", flat=True)
    for journey_id in list(ids):
        for _round in range(20):
            before = TriggerState.objects.filter(pk=journey_id).values_list("watermark", flat=True).first()
            added += scan(journey_id, now=now)
            after = TriggerState.objects.filter(pk=journey_id).values_list("watermark", flat=True).first()
            if after == before or "id" not in (after or {}):
                break
    return added
