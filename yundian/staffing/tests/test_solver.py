"""The shift plan (CP-SAT) against the independent checker, the fixed schedule and needs it cannot meet."""
from datetime import date, timedelta

import pytest

from yundian.staffing.checker import plan_check
from yundian.staffing.need import Need, Standard, hour_need, need_from_forecast
from yundian.staffing.forecast import ForecastHour
from yundian.staffing.rules import CHINA_DEFAULTS, Person, PlannedShift, Rules
from yundian.staffing.solver import evaluate, fixed_schedule, solve

pytestmark = pytest.mark.once

MONDAY = date(2026, 12, 7)
DAYS = [MONDAY + timedelta(days=i) for i in range(7)]
ALL_WEEK = {w: (7, 24) for w in range(7)}


def _person(pid, home, rate=2500, skills=("cashier", "floor", "stock"), part_time=False, availability=None,
            travel=None):
    return Person(pid, f"p{pid}", home, rate, frozenset(skills), part_time, availability or ALL_WEEK, travel or {})


def _need(stores, hours=(10, 20), peak=2, days=DAYS):
    """Need 1 in every open hour, `peak` at 12-13 and 18; opening (stock) and closing hours around."""
    oh = {s: {w: hours for w in range(7)} for s in stores}
    rows = [ForecastHour(s, d, h, 6.0 * (peak if h in (12, 18) else 1), 0) for s in stores for d in days
            for h in range(*hours)]
    return need_from_forecast(rows, {s: Standard(customers_per_staff_hour=6) for s in stores}, oh), oh


def test_need_follows_the_standard_min_cover_and_the_opening_and_closing_tasks():
    # given a store open 10-20 with 6 customers per staff hour
    need, _oh = _need([1])
    # then a quiet hour needs the minimum cover, a peak two, opening a stock hand, closing one person
    assert need[(1, MONDAY, 11)] == Need(1, 1, 0)
    assert need[(1, MONDAY, 12)] == Need(2, 1, 0)
    assert need[(1, MONDAY, 9)] == Need(1, 0, 1)
    assert need[(1, MONDAY, 20)] == Need(1, 0, 0)
    assert (1, MONDAY, 8) not in need and (1, MONDAY, 21) not in need
    assert hour_need(13.0, Standard(customers_per_staff_hour=6, min_cover=1)).total == 3


def test_plan_meets_every_hour_when_staff_suffice_and_breaks_no_rule():
    # given one store open 10-20 (need 1-2 a hour, 11 hours a day with tasks) and five full-timers
    need, oh = _need([1])
    people = [_person(i, 1, rate=2500 + 10 * i) for i in range(1, 6)]
    # when planning
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=8, workers=1)
    # then no hour is short, no skill is missing and the independent checker finds nothing
    assert result.summary.hours_short == 0
    assert result.summary.skill_short == 0
    assert plan_check(result.shifts, {p.id: p for p in people}, CHINA_DEFAULTS) == []
    assert result.summary.hours_planned == sum(s.paid_hours for s in result.shifts)


def test_plan_costs_no_more_than_the_fixed_schedule_on_the_same_need():
    # given two stores of a region, each with three full-timers (one shared) and a part-timer
    need, oh = _need([1, 2])
    people = [_person(1, 1, travel={2: 1000}), _person(2, 1), _person(3, 1, skills=("cashier", "floor")),
              _person(4, 1, rate=2000, part_time=True),
              _person(5, 2, travel={1: 1000}), _person(6, 2), _person(7, 2, skills=("floor", "stock")),
              _person(8, 2, rate=2000, part_time=True)]
    by_id = {p.id: p for p in people}
    fixed = fixed_schedule(people, oh, DAYS, CHINA_DEFAULTS)
    assert plan_check(fixed, by_id, CHINA_DEFAULTS) == []
    # when planning with the fixed schedule as the baseline
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=8, workers=2, hint=fixed)  # a region: the limit is hit, the answer must still hold
    theirs = evaluate(fixed, need, by_id)
    ours = result.summary
    # then the plan is legal, costs (wages + shortage) no more, and is short no more hours
    assert plan_check(result.shifts, by_id, CHINA_DEFAULTS) == []
    assert ours.objective(CHINA_DEFAULTS) <= theirs.objective(CHINA_DEFAULTS)
    assert ours.hours_short <= theirs.hours_short
    assert ours.hours_over < theirs.hours_over


def test_a_need_nobody_can_meet_is_reported_as_hours_short_not_an_error():
    # given a store needing 3 people at every hour and one person who is free only on Monday
    need = {(1, MONDAY, h): Need(3, 1) for h in range(10, 16)}
    need[(1, DAYS[2], 11)] = Need(1, 1)
    people = [_person(1, 1, availability={0: (10, 16)})]
    # when planning
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=3, workers=1)
    # then the one person works Monday 10-16 (a break after 6 h is not needed) and the rest is short
    assert [(s.day, s.start, s.end) for s in result.shifts] == [(MONDAY, 10, 16)]
    assert result.summary.hours_short == 6 * 2 + 1
    assert result.summary.skill_short == 1
    assert plan_check(result.shifts, {1: people[0]}, CHINA_DEFAULTS) == []


def test_plan_keeps_rest_between_shifts_after_a_late_shift_last_week():
    # given one person who closed at 23:00 on Sunday and a need from 7:00 Monday
    need = {(1, MONDAY, h): Need(1) for h in range(7, 14)}
    people = [_person(1, 1)]
    # when planning with last week's end given
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=3, workers=1,
                   previous_end={1: (MONDAY - timedelta(days=1), 23)})
    # then Monday starts at 10:00 (11 hours' rest), the three hours before are short
    assert [(s.start, s.end) for s in result.shifts] == [(10, 14)]
    assert result.summary.hours_short == 3
    previous = [PlannedShift(1, 1, MONDAY - timedelta(days=1), 15, 23, 19)]
    assert plan_check(result.shifts, {1: people[0]}, CHINA_DEFAULTS, previous=previous) == []


def test_part_timers_keep_part_time_limits_and_rates_choose_the_cheaper_person():
    # given a 4-hour need every day and a dear full-timer beside a cheap part-timer
    need = {(1, d, h): Need(1, 1) for d in DAYS for h in range(12, 16)}
    people = [_person(1, 1, rate=4000), _person(2, 1, rate=2000, part_time=True)]
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=3, workers=1)
    # then the part-timer takes six days of four hours (24 h a week, a day off) and the full-timer the seventh
    hours = {pid: sum(s.paid_hours for s in result.shifts if s.person == pid) for pid in (1, 2)}
    assert hours == {1: 4, 2: 24}
    assert result.summary.hours_short == 0
    assert plan_check(result.shifts, {p.id: p for p in people}, CHINA_DEFAULTS) == []


def test_checker_names_each_broken_rule():
    # given shifts that break one rule each
    p = {1: _person(1, 1), 2: _person(2, 1, part_time=True, availability={0: (8, 20), 1: (8, 20)})}
    shifts = [PlannedShift(1, 1, MONDAY, 8, 18, None),  # 10 h, no break
              PlannedShift(1, 1, DAYS[1], 4, 8, None),  # rest 10 h; not available before 7
              PlannedShift(2, 1, MONDAY, 8, 13, None),  # part-timer over 4 h
              PlannedShift(2, 9, DAYS[1], 8, 11, None)]  # a store they may not work at
    codes = sorted(v.code for v in plan_check(shifts, p, CHINA_DEFAULTS))
    assert codes == sorted(["missing_break", "day_hours", "rest_between_shifts", "unavailable", "day_hours",
                            "store_not_allowed"])
    week = [PlannedShift(1, 1, d, 9, 15, None) for d in DAYS]  # 7 days x 6 h = 42 h
    assert sorted({v.code for v in plan_check(week, p, CHINA_DEFAULTS)}) == ["no_day_off", "week_hours"]
    assert plan_check(week[:6], p, Rules(max_hours_week=36)) == []


def test_a_replan_counts_kept_shifts_towards_the_week_and_day_limits_and_the_rest():
    # given a need of one person 10-20 every day, one full-timer, and a manager's kept shifts: Monday to Wednesday
    # 9 h with a break (8 paid each, 24 h) and Thursday closing at 23:00
    need = {(1, d, h): Need(1) for d in DAYS for h in range(10, 20)}
    people = [_person(1, 1)]
    kept = [PlannedShift(1, 1, d, 10, 19, 14) for d in DAYS[:3]] + [PlannedShift(1, 1, DAYS[3], 14, 23, 18)]
    # when re-planning the week around them
    result = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=3, workers=1, kept=kept)
    # then nothing is planned on a kept day, the new hours fit in what the kept 32 h leave of 40, the days in the
    # 6 a week, Friday starts 11 hours after Thursday's 23:00, and the whole week passes the checker
    assert not {s.day for s in result.shifts} & set(DAYS[:4])
    assert sum(s.paid_hours for s in result.shifts) <= 40 - 32
    assert len(result.shifts) <= 6 - 4
    assert all(s.start >= 10 for s in result.shifts if s.day == DAYS[4])
    assert result.shifts and plan_check(kept + result.shifts, {1: people[0]}, CHINA_DEFAULTS) == []
    # and without the kept shifts the same solver would have planned more than that
    free = solve(people, need, DAYS, CHINA_DEFAULTS, time_limit=3, workers=1)
    assert sum(s.paid_hours for s in free.shifts) > 8
