"""Each entry trigger enrols the members it should, once, reading its source incrementally."""
from datetime import date, datetime, timedelta
from itertools import count

import pytest
from django.db import transaction
from django.utils import timezone

from yundian.cdp.models import EventInbox, Segment, SegmentMember, Tag, TagChange, TagGroup
from yundian.core import when
from yundian.core.outbox import outbox_emit
from yundian.journeys import services, triggers
from yundian.journeys.models import Enrolment, TriggerState
from yundian.members.models import PointsLot, TierChange
from yundian.members.tests.factories import earn, register
from yundian.sales.models import Order

from .factories import line, node

_keys = count(1)


@pytest.fixture(autouse=True)
def clock():
    when.travel_reset()
    yield
    when.travel_reset()


def live(chain, trigger, **config):
    graph = line(node("entry", "entry", trigger=trigger, reentry="never", **config), node("p", "points", points=1))
    journey = services.journey_create(actor=chain.admin, name=f"{trigger}", graph=graph)
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    return journey


def enrolled(journey) -> set[int]:
    return set(Enrolment.objects.filter(journey=journey).values_list("member_id", flat=True))


def order(chain, member, *, status="paid", at=None):
    at = at or when.now()
    with transaction.atomic():
        o = Order.objects.create(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, channel="pos",
                                 mode="take_now", status=status, total=990, paid_total=990, subtotal=990,
                                 member=member, placed_at=at, paid_at=at)
        outbox_emit(enterprise_id=chain.hq.enterprise_id, topic="order.changed", key=o.pk)
    return o


def event(chain, member, kind, *, sku_id=None, at=None):
    at = at or when.now()
    return EventInbox.objects.create(enterprise_id=chain.hq.enterprise_id, event_key=f"e{next(_keys)}", kind=kind,
                                     occurred_at=at, received_at=at, member_id=member.pk, channel="storefront",
                                     sku_id=sku_id)


def test_first_purchase_enrols_a_buyer_on_their_first_paid_order_only(chain):
    regular, newcomer, browser = register(chain), register(chain), register(chain)
    order(chain, regular)
    journey = live(chain, "first_purchase")
    order(chain, regular)
    order(chain, newcomer)
    order(chain, browser, status="open")
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {newcomer.pk}
    assert triggers.scan(journey.pk) == 0
    assert TriggerState.objects.get(pk=journey.pk).watermark["id"] > 0


def test_cart_abandoned_enrols_after_n_hours_without_an_order(chain):
    journey = live(chain, "cart_abandoned", hours=4)
    left, bought = register(chain), register(chain)
    event(chain, left, "add_to_cart", sku_id=1)
    event(chain, bought, "add_to_cart", sku_id=1)
    when.travel(timedelta(hours=1))
    order(chain, bought)
    assert triggers.scan(journey.pk) == 0  # not 4 hours yet
    when.travel(timedelta(hours=3, minutes=1))
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {left.pk}
    assert Enrolment.objects.get(journey=journey).context["sku_id"] == 1


def test_browse_abandoned_enrols_a_viewer_who_added_nothing_to_a_cart_nor_bought_within_n_hours(chain):
    from yundian.catalog.tests.factories import make_catalogue

    journey = live(chain, "browse_abandoned", hours=24)
    tee = make_catalogue(chain).tee_s
    idle, carted, bought, fresh = register(chain), register(chain), register(chain), register(chain)
    for member in (idle, carted, bought):
        event(chain, member, "product_view", sku_id=tee.pk)
    when.travel(timedelta(hours=2))
    event(chain, carted, "add_to_cart", sku_id=tee.pk)
    order(chain, bought)
    when.travel(timedelta(hours=21))
    event(chain, fresh, "product_view", sku_id=tee.pk)
    assert triggers.scan(journey.pk) == 0  # not 24 hours yet
    when.travel(timedelta(hours=1, minutes=1))
    # then: only the idle viewer, with the product they looked at; the fresh viewer waits their own 24 hours
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {idle.pk}
    context = Enrolment.objects.get(journey=journey).context
    assert (context["sku_id"], context["product_id"]) == (tee.pk, tee.product_id)
    assert triggers.scan(journey.pk) == 0
    when.travel(timedelta(hours=24))
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {idle.pk, fresh.pk}


def test_product_viewed_n_times_without_buying(chain):
    journey = live(chain, "product_viewed", times=3, days=2)
    keen, casual = register(chain), register(chain)
    for _ in range(3):
        event(chain, keen, "product_view", sku_id=7)
    event(chain, casual, "product_view", sku_id=7)
    event(chain, casual, "product_view", sku_id=8)
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {keen.pk}


def test_birthday_enrols_members_whose_birthday_is_days_away(chain):
    today = timezone.localdate(when.now())
    soon = register(chain, birthday=date(1990, *(today + timedelta(days=3)).timetuple()[1:3]))
    later = register(chain, birthday=date(1990, *(today + timedelta(days=5)).timetuple()[1:3]))
    journey = live(chain, "birthday", days_before=3)
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {soon.pk}
    assert triggers.scan(journey.pk) == 0  # today is done
    when.travel(timedelta(days=2))
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {soon.pk, later.pk}


def test_points_expiring_within_n_days(chain):
    near, far = register(chain), register(chain)
    earn(chain, near, 10_000, "o-near")
    earn(chain, far, 10_000, "o-far")
    PointsLot.objects.filter(member=near).update(expires_at=when.now() + timedelta(days=5))
    PointsLot.objects.filter(member=far).update(expires_at=when.now() + timedelta(days=40))
    journey = live(chain, "points_expiring", days=7)
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {near.pk}
    when.travel(timedelta(days=34))
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {near.pk, far.pk}


def test_tier_up_but_not_down(chain):
    up, down = register(chain), register(chain)
    journey = live(chain, "tier_changed", direction="up")
    TierChange.objects.create(member=up, reason="upgrade", growth=100)
    TierChange.objects.create(member=down, reason="downgrade", growth=0)
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {up.pk}


def test_lifecycle_stage_changed_to_the_chosen_stage(chain):
    group = TagGroup.objects.create(enterprise_id=chain.hq.enterprise_id, node=chain.hq, code="life", name="生命周期",
                                    computed_key="lifecycle")
    dormant, active = (Tag.objects.create(enterprise_id=chain.hq.enterprise_id, group=group, node=chain.hq,
                                          code=f"lc-{v}", name=v, kind="computed", computed_key="lifecycle", value=v)
                       for v in ("dormant", "active"))
    sleeper, busy, woke = register(chain), register(chain), register(chain)
    journey = live(chain, "lifecycle_changed", stage="dormant")
    now = when.now()
    for member, tag, gained in ((sleeper, dormant, True), (busy, active, True), (woke, dormant, False)):
        TagChange.objects.create(enterprise_id=chain.hq.enterprise_id, member=member, tag=tag, gained=gained,
                                 source="computed", at=now)
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {sleeper.pk}


def _segment(chain):
    return Segment.objects.create(enterprise_id=chain.hq.enterprise_id, node=chain.hq, name="S",
                                  definition={"group": "and", "conditions": []}, created_by=chain.admin)


def test_joined_a_segment_enrols_the_members_added_after_publishing(chain):
    segment = _segment(chain)
    before, after = register(chain), register(chain)
    SegmentMember.objects.create(segment=segment, member=before, added_at=when.now())
    journey = live(chain, "segment_joined", segment_id=segment.pk)
    SegmentMember.objects.create(segment=segment, member=after, added_at=when.now())
    assert triggers.scan(journey.pk) == 1
    assert enrolled(journey) == {after.pk}


def test_a_daily_schedule_over_a_segment_enrols_it_at_its_time_and_again_next_day(chain):
    segment = _segment(chain)
    ann, bob = register(chain), register(chain)
    SegmentMember.objects.create(segment=segment, member=ann, added_at=when.now())
    at = timezone.localtime(when.now() + timedelta(hours=1)).replace(tzinfo=None, second=0, microsecond=0)
    graph = line(node("entry", "entry", trigger="schedule", segment_id=segment.pk, at=at.isoformat(), repeat="daily",
                      reentry="after_days", reentry_days=1), node("p", "points", points=1))
    journey = services.journey_create(actor=chain.admin, name="sched", graph=graph)
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    assert triggers.scan(journey.pk) == 0
    when.travel(timedelta(hours=1, minutes=1))
    assert triggers.scan(journey.pk) == 1
    assert triggers.scan(journey.pk) == 0
    SegmentMember.objects.create(segment=segment, member=bob, added_at=when.now())
    when.travel(timedelta(days=1))
    assert triggers.scan(journey.pk) == 2
    assert Enrolment.objects.filter(journey=journey).count() == 3


def test_the_api_enrols_a_member_once_and_refuses_another_journeys_trigger(chain):
    from yundian.core.errors import Conflict

    ann = register(chain)
    api = services.journey_create(actor=chain.admin, name="api",
                                  graph=line(node("entry", "entry", trigger="api"), node("p", "points", points=1)))
    services.journey_publish(actor=chain.admin, journey_id=api.pk)
    first, created = services.journey_enrol_api(actor=chain.admin, journey_id=api.pk, member_id=ann.pk, key="k1")
    again, created_again = services.journey_enrol_api(actor=chain.admin, journey_id=api.pk, member_id=ann.pk,
                                                      key="k2")
    assert (created, created_again, again.pk) == (True, False, first.pk)
    other = live(chain, "first_purchase")
    with pytest.raises(Conflict):
        services.journey_enrol_api(actor=chain.admin, journey_id=other.pk, member_id=ann.pk, key="k3")
    assert Enrolment.objects.count() == 1
