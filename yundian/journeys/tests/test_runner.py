"""Stepping enrolments: each kind of step, versions, pause/stop, and exactly-once under replays."""
from datetime import timedelta

import pytest

from yundian.cdp.models import MemberTag, TagChange
from yundian.core import when
from yundian.journeys import runner, services
from yundian.journeys.models import Enrolment, EnrolmentStatus, StepRun
from yundian.members.models import PointsBalance, PointsEntry
from yundian.members.tests.factories import register
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign

from .factories import api_entry, edge, line, make_tag, node


@pytest.fixture(autouse=True)
def clock():
    when.travel_reset()
    yield when
    when.travel_reset()


def live(chain, graph, name="j"):
    journey = services.journey_create(actor=chain.admin, name=name, graph=graph)
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    return journey


def enrol(journey, *members, key="t"):
    return runner.enrol(journey=journey, candidates=[(m.pk, f"{key}{m.pk}", {}) for m in members])


def points(member) -> int:
    return PointsBalance.objects.get(member=member).points


def test_points_coupon_and_tag_steps_act_once_each_and_the_enrolment_ends(chain):
    tag = make_tag(chain)
    coupons = campaign(chain, code_mode="unique")
    journey = live(chain, line(api_entry(), node("p", "points", points=30), node("c", "coupon", campaign_id=coupons.pk),
                               node("t", "tag", tag_id=tag.pk, action="add")))
    ann, bob = register(chain), register(chain)
    assert enrol(journey, ann, bob) == 2

    steps = runner.step_all()

    assert steps == 10  # entry, points, coupon, tag, end for each
    assert (points(ann), points(bob)) == (30, 30)
    assert Coupon.objects.filter(campaign=coupons, member__in=[ann, bob]).count() == 2
    assert set(MemberTag.objects.filter(tag=tag).values_list("member_id", flat=True)) == {ann.pk, bob.pk}
    assert TagChange.objects.filter(tag=tag, reason="journey j").count() == 2
    assert list(Enrolment.objects.values_list("status", "node").distinct()) == [(EnrolmentStatus.DONE, "end")]
    assert runner.step_all() == 0


def test_a_member_enrols_once_under_never_and_again_after_n_days(chain):
    once = live(chain, line(api_entry(), node("p", "points", points=1)), name="once")
    again = live(chain, line(node("entry", "entry", trigger="api", reentry="after_days", reentry_days=7),
                             node("p", "points", points=1)), name="again")
    ann = register(chain)
    assert (enrol(once, ann, key="a"), enrol(once, ann, key="b")) == (1, 0)
    assert (enrol(again, ann, key="a"), enrol(again, ann, key="b")) == (1, 0)
    when.travel(timedelta(days=8))
    assert (enrol(once, ann, key="c"), enrol(again, ann, key="c"), enrol(again, ann, key="c")) == (0, 1, 0)


def test_a_wait_holds_the_member_until_the_clock_passes_it(chain):
    journey = live(chain, line(api_entry(), node("w", "wait", mode="duration", amount=2, unit="hours"),
                               node("p", "points", points=5)))
    ann = register(chain)
    enrol(journey, ann)
    assert runner.step_all() == 1  # the entry; now waiting
    assert Enrolment.objects.get().node == "w"
    when.travel(timedelta(minutes=119))
    assert runner.step_all() == 0
    when.travel(timedelta(minutes=2))
    assert runner.step_all() == 3
    assert points(ann) == 5


def test_a_wait_until_a_time_of_day_ends_at_the_next_such_local_time():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 7, 10, 30, tzinfo=shanghai)
    assert runner.wait_until({"mode": "time_of_day", "time": "09:00"}, now) == datetime(2026, 12, 8, 9, 0,
                                                                                        tzinfo=shanghai)
    assert runner.wait_until({"mode": "time_of_day", "time": "11:00"}, now) == datetime(2026, 12, 7, 11, 0,
                                                                                        tzinfo=shanghai)
    from datetime import date

    assert runner.wait_until({"mode": "date_property", "property": "birthday", "offset_days": -3, "time": "10:00"},
                             now, date(1990, 12, 9)) == datetime(2027, 12, 6, 10, 0, tzinfo=shanghai)
    assert runner.wait_until({"mode": "date_property", "property": "birthday", "offset_days": 0, "time": "10:00"},
                             now, date(1990, 12, 25)) == datetime(2026, 12, 25, 10, 0, tzinfo=shanghai)


def test_a_branch_on_an_order_placed_during_the_wait(chain):
    from yundian.sales.models import Order

    g = {"nodes": [api_entry(), node("w", "wait", mode="duration", amount=1, unit="days"),
                   node("b", "branch", test="order"), node("p", "points", points=7), node("end", "end")],
         "edges": [edge("entry", "w"), edge("w", "b"), edge("b", "end", "yes"), edge("b", "p", "no"),
                   edge("p", "end")]}
    journey = live(chain, g)
    buyer, idle = register(chain), register(chain)
    enrol(journey, buyer, idle)
    runner.step_all()
    when.travel(timedelta(hours=3))
    Order.objects.create(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, channel="pos", mode="take_now",
                         status="completed", total=990, paid_total=990, subtotal=990, member=buyer,
                         placed_at=when.now(), paid_at=when.now())
    when.travel(timedelta(days=1))
    runner.step_all()
    assert (points(buyer), points(idle)) == (0, 7)
    ports = dict(StepRun.objects.filter(node="b").values_list("enrolment__member_id", "port"))
    assert ports == {buyer.pk: "yes", idle.pk: "no"}


def test_a_split_is_stable_per_member_and_keeps_the_holdout_share():
    config = {"weights": [50, 50], "holdout": 20}
    ports = [runner.split_port(config, 7, "s", m) for m in range(20_000)]
    assert ports == [runner.split_port(config, 7, "s", m) for m in range(20_000)]
    share = {p: ports.count(p) / len(ports) for p in ("a", "b", "holdout")}
    assert abs(share["holdout"] - 0.20) < 0.015 and abs(share["a"] - 0.40) < 0.015 and abs(share["b"] - 0.40) < 0.015


def test_members_in_finish_on_their_version_after_a_new_one_is_published(chain):
    journey = live(chain, line(api_entry(), node("w", "wait", mode="duration", amount=1, unit="hours"),
                               node("p", "points", points=10)))
    early, late = register(chain), register(chain)
    enrol(journey, early)
    runner.step_all()
    services.journey_draft_save(actor=chain.admin, journey_id=journey.pk,
                                graph=line(api_entry(), node("w", "wait", mode="duration", amount=1, unit="hours"),
                                           node("p", "points", points=99)))
    services.journey_publish(actor=chain.admin, journey_id=journey.pk)
    journey.refresh_from_db()
    enrol(journey, late)
    runner.step_all()
    when.travel(timedelta(hours=2))
    runner.step_all()
    assert (points(early), points(late)) == (10, 99)
    assert dict(Enrolment.objects.values_list("member_id", "version__number")) == {early.pk: 1, late.pk: 2}


def test_pause_holds_enrolments_and_stop_ends_them(chain):
    journey = live(chain, line(api_entry(), node("p", "points", points=3)))
    ann, bob = register(chain), register(chain)
    enrol(journey, ann)
    services.journey_pause(actor=chain.admin, journey_id=journey.pk)
    assert runner.step_all() == 0
    services.journey_resume(actor=chain.admin, journey_id=journey.pk)
    enrol(journey, bob)
    services.journey_stop(actor=chain.admin, journey_id=journey.pk)
    assert runner.step_all() == 0
    assert (points(ann), points(bob)) == (0, 0)
    assert set(Enrolment.objects.values_list("status", flat=True)) == {EnrolmentStatus.EXITED}


def test_a_step_that_crashed_after_acting_runs_again_without_a_second_coupon_or_points(chain):
    coupons = campaign(chain, code_mode="unique")
    journey = live(chain, line(api_entry(), node("c", "coupon", campaign_id=coupons.pk),
                               node("p", "points", points=50)))
    ann = register(chain)
    enrol(journey, ann)
    assert runner.step_all() == 4  # entry, coupon, points and end chain in one batch

    class Crash(Exception):
        pass

    def die_after_acting(phase, rows):
        if phase == "acted" and rows[0].node == "p":
            raise Crash

    bob = register(chain)
    enrol(journey, bob)
    with pytest.raises(Crash):
        runner.step_due(on_hop=die_after_acting)
    assert points(bob) == 50  # acted, but the step was never marked done
    assert StepRun.objects.get(enrolment__member=bob, node="p").status == "running"

    when.travel(runner.LEASE + timedelta(seconds=1))  # the dead worker's lease runs out
    assert runner.step_all() == 2  # points again (a replay), then the end
    assert points(bob) == 50
    assert PointsEntry.objects.filter(member=bob).count() == 1
    assert Coupon.objects.filter(member=bob).count() == 1
    replay = StepRun.objects.get(enrolment__member=bob, node="p")
    assert (replay.status, replay.attempts) == ("done", 2)
    assert Enrolment.objects.get(member=bob).status == EnrolmentStatus.DONE


def test_a_leased_enrolment_is_not_stepped_by_a_second_worker(chain):
    journey = live(chain, line(api_entry(), node("p", "points", points=4)))
    ann = register(chain)
    enrol(journey, ann)
    seen = []

    def second_worker(phase, rows):
        if phase == "claimed" and not seen:
            seen.append(runner.step_due())  # another worker while the first holds the lease

    runner.step_due(on_hop=second_worker)
    assert seen == [0]
    assert points(ann) == 4
    assert StepRun.objects.filter(enrolment__member=ann).count() == 3


def test_a_guide_task_goes_to_the_bound_guide_once(chain):
    from yundian.guides.models import GuideTask
    from yundian.members.services import guide_bind

    journey = live(chain, line(api_entry(), node("g", "guide_task", title="回访", note="问问尺码", due_days=2)))
    ann = register(chain)
    guide_bind(actor=chain.manager_a, member_id=ann.pk, guide_id=chain.guide_a.pk)
    enrol(journey, ann)
    runner.step_all()
    task = GuideTask.objects.get()
    assert (task.title, task.member_id, task.guide_id) == ("回访", ann.pk, chain.guide_a.pk)
    step = StepRun.objects.get(node="g")
    assert step.detail == {"task_id": task.pk}


def test_a_webhook_is_posted_once_with_its_key_and_recorded(chain, monkeypatch):
    import requests

    from yundian.journeys.models import WebhookCall

    posted = []

    class Answer:
        status_code = 202

    def fake_post(self, url, json=None, timeout=None, headers=None):
        posted.append((url, json["member"], headers["Idempotency-Key"], timeout))
        return Answer()

    monkeypatch.setattr(requests.Session, "post", fake_post)
    journey = live(chain, line(api_entry(), node("h", "webhook", url="https://crm.example/hook", timeout=3)))
    ann = register(chain)
    enrol(journey, ann)
    runner.step_all()
    enrolment = Enrolment.objects.get()
    key = f"jy{journey.pk}:{enrolment.pk}:1"
    assert posted == [("https://crm.example/hook", ann.pk, key, 3)]
    assert list(WebhookCall.objects.values_list("key", "status_code")) == [(key, 202)]
