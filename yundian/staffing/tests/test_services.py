"""Planning a week, a manager's shift edits, sign-ins and who may do each."""
from datetime import date, timedelta

import pytest

from yundian.core.errors import NotFound, ValidationFailed, Forbidden
from yundian.core.models import AuditEntry
from yundian.staffing import selectors, services
from yundian.staffing.checker import plan_check
from yundian.staffing.inputs import people_of, rules_of
from yundian.staffing.models import NeedHour, Shift, ShiftPlan, SignInEntry
from yundian.staffing.rules import PlannedShift

from .factories import extra_guides, staff_store

MONDAY = date(2026, 12, 14)
DAYS = [MONDAY + timedelta(days=i) for i in range(7)]


@pytest.fixture
def store_a(chain, warehouse):
    people = [chain.manager_a, chain.guide_a, *extra_guides(chain, chain.store_a, 2)]
    staff_store(chain, chain.store_a, people)
    return people


def _legal(shifts, store):
    people = {p.id: p for p in people_of([store])}
    planned = [PlannedShift(s.staff_id, s.store_id, s.day, s.start_hour, s.end_hour, s.break_hour) for s in shifts]
    return plan_check(planned, people, rules_of(store.enterprise_id))


def test_plan_week_writes_a_legal_plan_that_covers_the_minimum_need(chain, store_a):
    # given store A open 10-20 with no sales history (the need is the minimum cover and the tasks)
    # when its manager plans the week
    plan = services.plan_week(actor=chain.manager_a, node=chain.store_a, week_start=MONDAY + timedelta(days=2),
                              time_limit=5)
    # then the plan is for the week's Monday, every hour 9-20 is covered and no rule is broken
    shifts = list(Shift.objects.filter(store=chain.store_a))
    assert plan.week_start == MONDAY and plan.hours_short == 0
    assert NeedHour.objects.filter(plan=plan).count() == 7 * 12
    assert plan.hours_needed == 7 * 12
    assert _legal(shifts, chain.store_a) == []
    assert {s.day for s in shifts} == set(DAYS)
    assert plan.cost == sum(s.paid_hours * s.staff.staffing_terms.hourly_rate for s in shifts)
    assert AuditEntry.objects.filter(action="staffing.plan", target_id=str(plan.pk)).count() == 1
    # and planning again replaces the shifts instead of adding to them
    services.plan_week(actor=chain.manager_a, node=chain.store_a, week_start=MONDAY, time_limit=5)
    assert ShiftPlan.objects.count() == 1
    assert Shift.objects.filter(store=chain.store_a).count() == len(shifts)


def test_plan_week_outside_the_actors_scope_is_not_found_and_writes_nothing(chain, store_a):
    with pytest.raises(NotFound):
        services.plan_week(actor=chain.manager_b, node=chain.store_a, week_start=MONDAY, time_limit=1)
    with pytest.raises(Forbidden):
        services.plan_week(actor=chain.guide_a, node=chain.store_a, week_start=MONDAY, time_limit=1)
    assert ShiftPlan.objects.count() == 0 and Shift.objects.count() == 0


def test_a_shift_edit_that_breaks_a_labour_rule_is_refused_and_changes_nothing(chain, store_a):
    # given a 9-hour closing shift for the guide on Monday
    shift = services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                                day=MONDAY, start_hour=13, end_hour=22)
    assert (shift.break_hour, shift.is_manual, shift.paid_hours) == (17, True, 8)
    # when the manager stretches it to 11 hours, or adds a Tuesday shift at 8:00 (10 h rest)
    with pytest.raises(ValidationFailed) as too_long:
        services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                            day=MONDAY, start_hour=11, end_hour=22, shift_id=shift.pk)
    with pytest.raises(ValidationFailed) as no_rest:
        services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                            day=MONDAY + timedelta(days=1), start_hour=8, end_hour=12)
    # then each is refused with the rule it breaks, and the shift is as it was
    assert too_long.value.code == "breaks_labor_rule" and too_long.value.details["rules"] == ["day_hours"]
    assert no_rest.value.details["rules"] == ["rest_between_shifts"]
    assert list(Shift.objects.values_list("day", "start_hour", "end_hour")) == [(MONDAY, 13, 22)]
    # and a person of another store cannot be put on store A's rota
    with pytest.raises(ValidationFailed) as stranger:
        services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_b.pk,
                            day=MONDAY, start_hour=10, end_hour=14)
    assert stranger.value.code == "not_store_staff"
    with pytest.raises(NotFound):
        services.shift_save(actor=chain.manager_b, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                            day=MONDAY, start_hour=10, end_hour=14)
    assert Shift.objects.count() == 1


def test_a_managers_shift_survives_a_replan(chain, store_a):
    manual = services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                                 day=MONDAY, start_hour=12, end_hour=16)
    services.plan_week(actor=chain.manager_a, node=chain.store_a, week_start=MONDAY, time_limit=5)
    assert Shift.objects.get(pk=manual.pk).start_hour == 12
    assert Shift.objects.filter(staff=chain.guide_a, day=MONDAY).count() == 1


def test_a_replan_after_edits_keeps_each_persons_week_legal_counting_the_edited_shifts(chain, store_a):
    # given the guide's Monday to Thursday set by hand: four 9-hour shifts (8 paid each, 32 h)
    for day in DAYS[:4]:
        services.shift_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk, day=day,
                            start_hour=10, end_hour=19)
    # when the week is planned again
    services.plan_week(actor=chain.manager_a, node=chain.store_a, week_start=MONDAY, time_limit=5)
    # then the edited shifts stay, the guide gets at most 8 more hours and one more day, and every person's
    # week, edited and planned shifts together, passes the checker
    mine = list(Shift.objects.filter(staff=chain.guide_a))
    assert sum(s.paid_hours for s in mine if s.is_manual) == 32
    assert sum(s.paid_hours for s in mine) <= 40 and len(mine) <= 6
    assert _legal(Shift.objects.all(), chain.store_a) == []


def test_sign_in_is_recorded_once_per_client_reference_and_feeds_actual_hours(chain, store_a):
    from django.utils import timezone
    from datetime import datetime

    at = timezone.make_aware(datetime(2026, 12, 14, 9, 55))
    first = services.sign_record(actor=chain.guide_a, kind="in", client_ref="tap-1", at=at)
    again = services.sign_record(actor=chain.guide_a, kind="in", client_ref="tap-1", at=at + timedelta(minutes=1))
    services.sign_record(actor=chain.guide_a, kind="out", client_ref="tap-2", at=at + timedelta(hours=4, minutes=5))
    assert first.pk == again.pk and SignInEntry.objects.count() == 2
    presence = selectors.actual_presence(store=chain.store_a, days=DAYS)
    assert presence == {(MONDAY, 9): 1, (MONDAY, 10): 1, (MONDAY, 11): 1, (MONDAY, 12): 1, (MONDAY, 13): 1}
    assert selectors.hours_worked(staff=chain.guide_a, days=DAYS) == 4.08
    with pytest.raises(ValidationFailed):
        services.sign_record(actor=chain.guide_a, kind="sideways", client_ref="tap-3")
    assert SignInEntry.objects.count() == 2


def test_week_view_is_scoped_to_the_actors_stores(chain, store_a):
    services.plan_week(actor=chain.manager_a, node=chain.store_a, week_start=MONDAY, time_limit=5)
    view = selectors.week_view(actor=chain.east_manager, store_id=chain.store_a.pk, week_start=MONDAY)
    assert view.totals["need"] == 84 and view.totals["short"] == 0 and view.may_edit
    assert selectors.week_view(actor=chain.auditor, store_id=chain.store_a.pk, week_start=MONDAY).may_edit is False
    for outsider in (chain.manager_b, chain.west_manager):
        with pytest.raises(NotFound):
            selectors.week_view(actor=outsider, store_id=chain.store_a.pk, week_start=MONDAY)
    with pytest.raises(Forbidden):
        selectors.week_view(actor=chain.guide_a, store_id=chain.store_a.pk, week_start=MONDAY)
