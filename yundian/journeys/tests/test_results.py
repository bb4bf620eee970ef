"""Results: node counts and the uplift arithmetic over a fixture of enrolments and orders."""
from datetime import timedelta

import pytest

from yundian.core import when
from yundian.journeys import runner, services
from yundian.journeys.models import Enrolment
from yundian.journeys.results import journey_results, node_counts, results_compute
from yundian.members.tests.factories import register
from yundian.sales.models import Order

from .factories import api_entry, edge, line, node


@pytest.fixture(autouse=True)
def clock():
    when.travel_reset()
    yield
    when.travel_reset()


def test_node_counts_follow_members_through_a_wait(chain):
    journey = services.journey_create(actor=chain.admin, name="j", graph=line(
        api_entry(), node("w", "wait", mode="duration", amount=1, unit="days"), node("p", "points", points=1)))
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    members = [register(chain) for _ in range(3)]
    runner.enrol(journey=journey, candidates=[(m.pk, "t", {}) for m in members])
    runner.step_all()
    assert node_counts(journey) == {"entry": {"entered": 3, "passed": 3, "waiting": 0, "exited": 0},
                                    "w": {"entered": 3, "passed": 0, "waiting": 3, "exited": 0}}
    when.travel(timedelta(days=1, minutes=1))
    runner.step_all()
    counts = node_counts(journey)
    assert (counts["w"], counts["p"], counts["end"]) == ({"entered": 3, "passed": 3, "waiting": 0, "exited": 0},
                                                         {"entered": 3, "passed": 3, "waiting": 0, "exited": 0},
                                                         {"entered": 3, "passed": 0, "waiting": 0, "exited": 3})


def test_uplift_counts_orders_within_the_goal_window_for_treated_and_holdout(chain):
    g = {"nodes": [api_entry(), node("s", "split", weights=[1, 1], holdout=50), node("end", "end")],
         "edges": [edge("entry", "s"), edge("s", "end", "a"), edge("s", "end", "b"), edge("s", "end", "holdout")]}
    journey = services.journey_create(actor=chain.admin, name="j", graph=g, goal={"kind": "order", "days": 7})
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    members = [register(chain) for _ in range(40)]
    runner.enrol(journey=journey, candidates=[(m.pk, "t", {}) for m in members])
    runner.step_all()
    arms = dict(Enrolment.objects.values_list("member_id", "arm"))
    treated = [m for m in members if arms[m.pk] != "holdout"]
    control = [m for m in members if arms[m.pk] == "holdout"]
    now = when.now()

    def buy(member, days, fen=1000):
        Order.objects.create(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, channel="pos",
                             mode="take_now", status="completed", total=fen, paid_total=fen, subtotal=fen,
                             member=member, placed_at=now + timedelta(days=days), paid_at=now)

    for m in treated[:6]:
        buy(m, 2)
    buy(treated[6], 8)  # after the window: not a conversion
    buy(treated[0], 3, 500)  # a second order of a converted member: revenue, not a second conversion
    for m in control[:2]:
        buy(m, 1)
    r = results_compute(journey)
    assert (r.uplift.treated, r.uplift.treated_converted) == (len(treated), 6)
    assert (r.uplift.control, r.uplift.control_converted) == (len(control), 2)
    assert r.uplift.difference == pytest.approx(6 / len(treated) - 2 / len(control))
    assert r.revenue == 6 * 1000 + 500
    assert (r.enrolled, r.done, r.coupon_cost) == (40, 40, 0)
    shown = journey_results(actor=chain.admin, journey_id=journey.pk)
    assert (shown["entered"], shown["converted"], shown["uplift"]["holdout_members"]) == (40, 8, len(control))
    assert [(a["arm"], a["converted"]) for a in shown["uplift"]["arms"]][-1] == ("holdout", 2)
