"""An independent check of a shift plan against the legal rules, written apart from the solver (it reads only
the shifts, the people and the rules), so a solver bug cannot hide behind its own constraints. Used by the tests
over every solution, and by the manager's shift edits (an edit that breaks a rule is refused)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from .rules import Person, PlannedShift, Rules, break_for, day_limit, week_limit


@dataclass(frozen=True)
class Violation:
    code: str
    person: int
    day: date | None
    detail: str = ""


def plan_check(shifts: list[PlannedShift], people: dict[int, Person], rules: Rules,
               previous: list[PlannedShift] | None = None) -> list[Violation]:
    """Every rule each person's shifts break (empty when the plan is legal). `previous`: shifts already worked
    before the plan's first day, for the rest-between-shifts and days-in-a-row checks."""
    out: list[Violation] = []
    by_person: dict[int, list[PlannedShift]] = defaultdict(list)
    for s in shifts:
        by_person[s.person].append(s)
    earlier: dict[int, list[PlannedShift]] = defaultdict(list)
    for s in previous or []:
        earlier[s.person].append(s)
    for pid, own in by_person.items():
        person = people.get(pid)
        if person is None:
            out.append(Violation("unknown_person", pid, None))
            continue
        days = [s.day for s in own]
        for d in {d for d in days if days.count(d) > 1}:
            out.append(Violation("two_shifts_a_day", pid, d))
        for s in own:
            length = s.end - s.start
            if not (0 <= s.start < s.end <= 24):
                out.append(Violation("bad_hours", pid, s.day, f"{s.start}-{s.end}"))
                continue
            if length < rules.min_shift_hours:
                out.append(Violation("shift_too_short", pid, s.day, str(length)))
            expected_break = length > rules.break_after_hours
            if expected_break and (s.break_hour is None or not s.start < s.break_hour < s.end - 1):
                out.append(Violation("missing_break", pid, s.day))
            if not expected_break and s.break_hour is not None:
                out.append(Violation("needless_break", pid, s.day))
            if s.paid_hours > day_limit(person, rules):
                out.append(Violation("day_hours", pid, s.day, str(s.paid_hours)))
            span = person.availability.get(s.day.weekday())
            if span is None or s.day in person.days_off or s.start < span[0] or s.end > span[1]:
                out.append(Violation("unavailable", pid, s.day, f"{s.start}-{s.end}"))
            if s.store not in person.stores():
                out.append(Violation("store_not_allowed", pid, s.day, str(s.store)))
        # weeks run Monday to Sunday
        week_hours: dict[date, int] = defaultdict(int)
        week_days: dict[date, set[date]] = defaultdict(set)
        for s in own:
            monday = s.day - timedelta(days=s.day.weekday())
            week_hours[monday] += s.paid_hours
            week_days[monday].add(s.day)
        for monday, hours in week_hours.items():
            if hours > week_limit(person, rules):
                out.append(Violation("week_hours", pid, monday, str(hours)))
            if len(week_days[monday]) > rules.max_days_week:
                out.append(Violation("no_day_off", pid, monday, str(len(week_days[monday]))))
        ordered = sorted(own + earlier.get(pid, []), key=lambda s: (s.day, s.start))
        for a, b in zip(ordered, ordered[1:]):
            rest = (b.day - a.day).days * 24 + b.start - a.end
            if rest < rules.min_rest_hours:
                out.append(Violation("rest_between_shifts", pid, b.day, str(rest)))
    return out


def breaks_as_rules_say(shifts: list[PlannedShift], rules: Rules) -> bool:
    return all(s.break_hour == break_for(s.start, s.end, rules) for s in shifts)
