"""The shift plan: OR-Tools CP-SAT chooses, for every person and day, at most one shift (which store, start,
length) so that every store-hour's need is met at the least cost, within the legal rules (rules.py).

    minimise   sum(paid hours x hourly rate + travel to a store other than home) + penalty x hours short
    subject to one shift a person a day, inside their availability, at their home store or a store of the
               region they may travel to; day and week hour limits (part-time ones for part-timers); a day off
               a week; rest between consecutive days' shifts; an unpaid break in the middle of long shifts;
               per store-hour: staff >= need - short, cashiers >= cashier need - short, stock skill before opening

Needs that cannot be met (too few people, nobody available) come out as hours short, never as an error. The
fixed schedule (`fixed_schedule`) is passed as `hint`: a plan found within the time limit that costs more is
replaced by it, so the plan never costs more than the fixed schedule on the same need. A region
is first solved store by store, then as a whole from there (see `solve`).
Pure: people, needs and rules in, `PlannedShift` rows and a `Summary` out.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from .need import Need, NeedMap
from .rules import Person, PlannedShift, Rules, break_for, day_limit, week_limit


@dataclass
class Summary:
    wages: int = 0  # fen
    travel: int = 0  # fen
    hours_planned: int = 0
    hours_needed: int = 0
    hours_short: int = 0  # staff-hours of need not covered
    hours_over: int = 0  # staff-hours planned above the need
    skill_short: int = 0  # cashier / stock hours not covered by someone with the skill

    @property
    def cost(self) -> int:
        return self.wages + self.travel

    def objective(self, rules: Rules) -> int:
        return self.cost + rules.shortage_penalty_fen * (self.hours_short + self.skill_short)


@dataclass
class PlanResult:
    shifts: list[PlannedShift]
    summary: Summary
    status: str  # optimal / feasible / fixed (the fixed schedule was better) / empty
    seconds: float
    variables: int = 0
    stats: dict = field(default_factory=dict)


def evaluate(shifts: list[PlannedShift], need: NeedMap, people: dict[int, Person]) -> Summary:
    """Cost, hours short and over of `shifts` against `need` (the same sums the solver minimises)."""
    s = Summary()
    staff: dict[tuple, int] = defaultdict(int)
    cashiers: dict[tuple, int] = defaultdict(int)
    stockers: dict[tuple, int] = defaultdict(int)
    for shift in shifts:
        # a kept shift of someone without staffing terms covers its hours at no known rate
        person = people.get(shift.person) or Person(shift.person, "", shift.store, 0, frozenset())
        s.wages += shift.paid_hours * person.rate
        s.travel += person.stores().get(shift.store, 0)
        s.hours_planned += shift.paid_hours
        for h in shift.hours():
            key = (shift.store, shift.day, h)
            staff[key] += 1
            cashiers[key] += "cashier" in person.skills
            stockers[key] += "stock" in person.skills
    for key, n in need.items():
        s.hours_needed += n.total
        s.hours_short += max(0, n.total - staff.get(key, 0))
        s.skill_short += max(0, n.cashier - cashiers.get(key, 0)) + max(0, n.stock - stockers.get(key, 0))
    for key, have in staff.items():
        s.hours_over += max(0, have - need.get(key, Need(0)).total)
    return s


def _candidates(person: Person, day: date, need_hours: dict[int, set[int]], rules: Rules):
    """(store, start, end, break) shifts worth considering: inside availability and the store's needed hours."""
    span = person.availability.get(day.weekday())
    if not span or day in person.days_off:
        return
    limit = day_limit(person, rules)
    # shift lengths in paid hours: every length for short days, else half and full days and one between
    lengths = set(range(rules.min_shift_hours, limit + 1)) if limit <= 4 else {
        max(rules.min_shift_hours, limit // 2), limit - 2, limit}
    for store in sorted(person.stores()):
        hours = need_hours.get(store)
        if not hours:
            continue
        low, high = max(span[0], min(hours)), min(span[1], max(hours) + 1)
        for start in range(low, high):
            for end in range(start + rules.min_shift_hours, high + 1):
                brk = break_for(start, end, rules)
                paid = end - start - (brk is not None)
                if paid > limit:
                    break
                if paid not in lengths:
                    continue
                if start not in hours or end - 1 not in hours:
                    continue  # a shift starts and ends in hours somebody is needed
                yield store, start, end, brk


def solve(people: list[Person], need: NeedMap, days: list[date], rules: Rules, *, time_limit: float = 10.0,
          workers: int = 2, previous_end: dict[int, tuple[date, int]] | None = None,
          hint: list[PlannedShift] | None = None, seed: int = 1,
          kept: list[PlannedShift] | None = None) -> PlanResult:
    """The cheapest legal plan for `need` over `days` (see the module's docstring).

    `kept` are shifts that stay whatever the plan (a manager's edits): the person gets no other shift those days,
    and their hours and days count towards the week's limits and the rest between shifts (`need` should already
    have their cover taken off).

    A region of several stores is solved in two halves of the time: first each store alone with its own people
    (a store's week is small enough for CP-SAT to prove optimal in about a second; people never cross stores
    there, so the union is legal), then the whole region warm-started from that union, where sharing people can
    only improve it (a whole region solved cold within seconds often found nothing better than the fixed rota on
    a busy machine). The best of the union, the region's answer and the fixed schedule (`hint`) is returned."""
    started = time.perf_counter()
    stores = sorted({k[0] for k in need})
    if len(stores) < 2:
        result = _solve_one(people, need, days, rules, time_limit=time_limit, workers=workers,
                            previous_end=previous_end, seed=seed, kept=kept)
    else:
        union: list[PlannedShift] = []
        share = max(2.0, time_limit * 0.6 / len(stores))  # a store alone needs a couple of seconds on a busy machine
        for store in stores:
            own = [Person(p.id, p.name, p.home, p.rate, p.skills, p.part_time, p.availability, {}, p.days_off)
                   for p in people if p.home == store]
            part = _solve_one(own, {k: v for k, v in need.items() if k[0] == store}, days, rules, time_limit=share,
                              workers=1, previous_end=previous_end, seed=seed, kept=kept)
            union += part.shifts
        remaining = max(1.0, time_limit - (time.perf_counter() - started))
        result = _solve_one(people, need, days, rules, time_limit=remaining, workers=workers,
                            previous_end=previous_end, seed=seed, warm=union, kept=kept)
        by_id = {p.id: p for p in people}
        joined = evaluate(union, need, by_id)
        if result.status == "empty" or joined.objective(rules) < result.summary.objective(rules):
            result = PlanResult(sorted(union, key=lambda s: (s.day, s.store, s.start, s.person)), joined,
                                "by store", 0.0, result.variables, {"objective": joined.objective(rules)})
    if hint:
        by_id = {p.id: p for p in people}
        fixed = evaluate(hint, need, by_id)
        if result.status == "empty" or fixed.objective(rules) < result.summary.objective(rules):
            result = PlanResult(list(hint), fixed, "fixed", 0.0, result.variables,
                                {"objective": fixed.objective(rules)})
    result.seconds = time.perf_counter() - started
    return result


def _solve_one(people: list[Person], need: NeedMap, days: list[date], rules: Rules, *, time_limit: float,
               workers: int, previous_end: dict[int, tuple[date, int]] | None, seed: int,
               warm: list[PlannedShift] | None = None, kept: list[PlannedShift] | None = None) -> PlanResult:
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    by_id = {p.id: p for p in people}
    kept_on: dict[int, dict[date, PlannedShift]] = defaultdict(dict)
    for k in kept or []:
        if k.day in days:
            kept_on[k.person][k.day] = k
    model = cp_model.CpModel()
    needed_hours: dict[date, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for (store, day, hour), n in need.items():
        if n.total > 0:
            needed_hours[day][store].add(hour)
    choice: dict[tuple, cp_model.IntVar] = {}
    covers: dict[tuple, list] = defaultdict(list)
    cashier_covers: dict[tuple, list] = defaultdict(list)
    stock_covers: dict[tuple, list] = defaultdict(list)
    cost_terms = []
    per_day: dict[tuple[int, date], list] = defaultdict(list)
    for person in people:
        for day in days:
            if day in kept_on.get(person.id, {}):
                continue  # the kept shift is that day's one shift
            for store, start, end, brk in _candidates(person, day, needed_hours.get(day, {}), rules):
                var = model.new_bool_var(f"x{person.id}_{day:%m%d}_{store}_{start}_{end}")
                key = (person.id, day, store, start, end)
                choice[key] = var
                per_day[(person.id, day)].append((var, start, end, end - start - (brk is not None)))
                paid = end - start - (brk is not None)
                cost_terms.append(var * (paid * person.rate + person.stores()[store]))
                for h in range(start, end):
                    if h == brk:
                        continue
                    covers[(store, day, h)].append(var)
                    if "cashier" in person.skills:
                        cashier_covers[(store, day, h)].append(var)
                    if "stock" in person.skills:
                        stock_covers[(store, day, h)].append(var)
    worked: dict[tuple[int, date], object] = {}
    for person in people:
        fixed_days = kept_on.get(person.id, {})
        week_hours = []
        for day in days:
            options = per_day.get((person.id, day), [])
            if not options:
                continue
            model.add_at_most_one(v for v, *_ in options)
            worked[(person.id, day)] = sum(v for v, *_ in options)
            week_hours.extend(v * p for v, _s, _e, p in options)
        kept_hours = sum(k.paid_hours for k in fixed_days.values())
        if week_hours:
            model.add(sum(week_hours) <= max(0, week_limit(person, rules) - kept_hours))
        worked_days = [worked[(person.id, d)] for d in days if (person.id, d) in worked]
        if len(worked_days) + len(fixed_days) > rules.max_days_week:
            model.add(sum(worked_days) <= max(0, rules.max_days_week - len(fixed_days)))
        # rest between a kept shift and a planned one on the day before or after it
        for k in fixed_days.values():
            for v, start, end, _p in per_day.get((person.id, k.day - timedelta(days=1)), []):
                if k.start + 24 - end < rules.min_rest_hours:
                    model.add(v == 0)
            for v, start, end, _p in per_day.get((person.id, k.day + timedelta(days=1)), []):
                if start + 24 - k.end < rules.min_rest_hours:
                    model.add(v == 0)
        # rest between shifts on consecutive days, as cliques (strong in the LP): for every end hour e of day d,
        # a shift ending at e or later today and one starting before e + rest - 24 tomorrow exclude each other
        chain = sorted(d for d in days if (person.id, d) in worked)
        for a, b in zip(chain, chain[1:]):
            if (b - a).days != 1:
                continue
            today, tomorrow = per_day[(person.id, a)], per_day[(person.id, b)]
            for e in sorted({end for _v, _s, end, _p in today}):
                early = [v for v, start, _e, _p in tomorrow if start < e + rules.min_rest_hours - 24]
                if early:
                    model.add(sum(v for v, _s, end, _p in today if end >= e) + sum(early) <= 1)
        last = (previous_end or {}).get(person.id)
        if last and chain and (chain[0] - last[0]).days == 1:
            for v, start, _e, _p in per_day[(person.id, chain[0])]:
                if start + 24 - last[1] < rules.min_rest_hours:
                    model.add(v == 0)
    shortage = []
    for key, n in need.items():
        for required, pool in ((n.total, covers), (n.cashier, cashier_covers), (n.stock, stock_covers)):
            if required <= 0:
                continue
            short = model.new_int_var(0, required, "")
            model.add(sum(pool.get(key, [])) + short >= required)
            shortage.append(short)
    model.minimize(sum(cost_terms) + rules.shortage_penalty_fen * sum(shortage))
    if warm:
        chosen = {(s.person, s.day, s.store, s.start, s.end) for s in warm}
        for key, var in choice.items():
            model.add_hint(var, key in chosen)
    solver = cp_model.CpSolver()
    # the limit is solver work (CP-SAT's deterministic time, about a second of one core each), so a busy machine
    # gets the same plan later rather than a worse plan; the wall clock is capped at four times the limit
    solver.parameters.max_deterministic_time = time_limit
    solver.parameters.max_time_in_seconds = 4 * time_limit
    # a store's week: one worker with the full LP relaxation and cuts proves it optimal in about a second (two
    # workers did not, here); a region's week: the LP slows the search, the workers' portfolio finds better plans
    small = len(choice) < 3000
    solver.parameters.num_workers = 1 if small else workers
    solver.parameters.linearization_level = 2 if small else 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    shifts: list[PlannedShift] = []
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for (pid, day, store, start, end), var in choice.items():
            if solver.value(var):
                shifts.append(PlannedShift(pid, store, day, start, end, break_for(start, end, rules)))
        label = "optimal" if status == cp_model.OPTIMAL else "feasible"
    else:
        label = "empty"
    shifts.sort(key=lambda s: (s.day, s.store, s.start, s.person))
    summary = evaluate(shifts, need, by_id)
    return PlanResult(shifts=shifts, summary=summary, status=label, seconds=time.perf_counter() - started,
                      variables=len(choice), stats={"objective": summary.objective(rules),
                                                    "bound": solver.best_objective_bound if shifts else None})


def fixed_schedule(people: list[Person], open_hours: dict[int, dict[int, tuple[int, int]]], days: list[date],
                   rules: Rules) -> list[PlannedShift]:
    """The rota a store keeps without a plan: its full-time staff on an early or a late shift of a full day
    (early people always early, late always late, so the rest between shifts holds), five days a week with two
    days off in a row staggered by person, at their home store, skipping days they are not available."""
    shifts: list[PlannedShift] = []
    by_store: dict[int, list[Person]] = defaultdict(list)
    for p in people:
        if not p.part_time:
            by_store[p.home].append(p)
    for store, staff in sorted(by_store.items()):
        for index, person in enumerate(sorted(staff, key=lambda p: p.id)):
            off = {(2 * index) % 7, (2 * index + 1) % 7}
            for day in days:
                span = open_hours.get(store, {}).get(day.weekday())
                if not span or day.weekday() in off:
                    continue
                length = rules.max_hours_day + (1 if rules.max_hours_day + 1 > rules.break_after_hours else 0)
                first, end = max(0, span[0] - 1), min(24, span[1] + 1)
                start = first if index % 2 == 0 else max(first, end - length)
                stop = min(end, start + length)
                available = person.availability.get(day.weekday())
                if not available or day in person.days_off or start < available[0] or stop > available[1]:
                    continue
                if stop - start < rules.min_shift_hours:
                    continue
                shifts.append(PlannedShift(person.id, store, day, start, stop, break_for(start, stop, rules)))
    return shifts
