"""`yundian staffing backtest`: the plan against a fixed schedule on weeks the chain already lived.

For each of the last `weeks` complete weeks in the warehouse: fit the hourly forecast on the year before the
week, turn it into a need with the stores' standards, solve each region's plan on that forecast need, and
build the fixed schedule; then score both against the need the real customers of that week called for (the same
standards applied to what the tills recorded): staff-hours under and over, store-hours left short, wage cost.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from yundian.org.models import Enterprise, OrgNode
from yundian.org.roles import NodeKind

from . import inputs
from .forecast import ForecastHour, fit, training_frame
from .need import NeedMap, need_from_forecast
from .solver import evaluate, fixed_schedule, solve
from .traffic import store_hour_history

HISTORY_DAYS = 364


@dataclass
class StoreScore:
    store: str
    needed: int = 0
    plan_hours: int = 0
    plan_short: int = 0
    plan_over: int = 0
    plan_cost: int = 0
    fixed_hours: int = 0
    fixed_short: int = 0
    fixed_over: int = 0
    fixed_cost: int = 0
    forecast_error: float = 0.0  # mean absolute error of customers per open hour


@dataclass
class Backtest:
    weeks: list[date]
    stores: list[StoreScore] = field(default_factory=list)
    solve_seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    def total(self) -> StoreScore:
        t = StoreScore("")
        for s in self.stores:
            for name in ("needed", "plan_hours", "plan_short", "plan_over", "plan_cost", "fixed_hours", "fixed_short",
                         "fixed_over", "fixed_cost"):
                setattr(t, name, getattr(t, name) + getattr(s, name))
        return t


def last_full_week(enterprise_id: int) -> date | None:
    from yundian.core.warehouse import warehouse_read

    with warehouse_read() as wh:
        o = wh.table("fact_order")
        last = wh.execute(o.filter(o.enterprise_id == enterprise_id).local_date.max())
    if last is None or str(last) == "NaT":
        return None
    import pandas as pd

    last = pd.Timestamp(last).date()
    sunday = last - timedelta(days=(last.weekday() + 1) % 7)
    return sunday - timedelta(days=6)


def run(*, enterprise: Enterprise, weeks: int = 2, time_limit: float = 10.0,
        progress: Callable[[str, int, int], None] | None = None) -> Backtest:
    stores = list(OrgNode.objects.filter(enterprise=enterprise, kind=NodeKind.STORE, is_active=True).order_by("path"))
    last = last_full_week(enterprise.pk)
    if last is None or not stores:
        return Backtest(weeks=[])
    mondays = [last - timedelta(days=7 * i) for i in reversed(range(weeks))]
    open_hours = inputs.open_hours_of(stores)
    standards = inputs.standards_of(stores)
    people = inputs.people_of(stores)
    by_id = {p.id: p for p in people}
    rules = inputs.rules_of(enterprise.pk)
    regions: dict[int, list[OrgNode]] = defaultdict(list)
    for s in stores:
        regions[s.parent_id].append(s)
    history = store_hour_history(enterprise_id=enterprise.pk, store_ids=[s.pk for s in stores],
                                 since=mondays[0] - timedelta(days=HISTORY_DAYS), until=mondays[-1] + timedelta(days=6))
    scores = {s.pk: StoreScore(s.name) for s in stores}
    result = Backtest(weeks=mondays)
    errors: dict[int, list[float]] = defaultdict(list)
    steps, done = len(mondays) * (1 + len(regions)), 0
    for monday in mondays:
        days = [monday + timedelta(days=i) for i in range(7)]
        until = monday - timedelta(days=1)
        promos = inputs.promo_days_of(stores, until - timedelta(days=HISTORY_DAYS), days[-1])
        model = fit(history, since=until - timedelta(days=HISTORY_DAYS - 1), until=until, open_hours=open_hours,
                    promo_days=promos)
        done += 1
        if progress:
            progress("forecast", done, steps)
        forecast_rows: list[ForecastHour] = []
        actual_rows: list[ForecastHour] = []
        for s in stores:
            predicted = model.predict(s.pk, days, open_hours[s.pk], promos.get(s.pk, set()))
            forecast_rows += predicted
            real = training_frame(history, s.pk, days[0], days[-1], open_hours[s.pk])
            actual = {(r.local_date, int(r.local_hour)): float(r.customers) for r in real.itertuples()}
            actual_rows += [ForecastHour(s.pk, d, h, actual.get((d, h), 0.0), 0) for d in days
                            for h in _hours(open_hours[s.pk], d)]
            errors[s.pk] += [abs(p.customers - actual.get((p.day, p.hour), 0.0)) for p in predicted]
        forecast_need = need_from_forecast(forecast_rows, standards, open_hours)
        real_need = need_from_forecast(actual_rows, standards, open_hours)
        for region_stores in regions.values():
            ids = {s.pk for s in region_stores}
            crew = [p for p in people if p.home in ids]
            need = {k: v for k, v in forecast_need.items() if k[0] in ids}
            plan = solve(crew, need, days, rules, time_limit=time_limit,
                         hint=fixed_schedule(crew, open_hours, days, rules))
            fixed = fixed_schedule(crew, open_hours, days, rules)
            result.solve_seconds += plan.seconds
            result.statuses[plan.status] = result.statuses.get(plan.status, 0) + 1
            for store_id in ids:
                truth = {k: v for k, v in real_need.items() if k[0] == store_id}
                _score(scores[store_id], [s for s in plan.shifts if s.store == store_id], truth, by_id, "plan")
                _score(scores[store_id], [s for s in fixed if s.store == store_id], truth, by_id, "fixed")
            done += 1
            if progress:
                progress("plan", done, steps)
    for s in stores:
        scores[s.pk].forecast_error = round(sum(errors[s.pk]) / len(errors[s.pk]), 2) if errors[s.pk] else 0.0
    result.stores = [scores[s.pk] for s in stores]
    return result


def _hours(open_hours: dict, day: date) -> range:
    span = open_hours.get(day.weekday())
    return range(span[0], span[1]) if span else range(0)


def _score(score: StoreScore, shifts, truth: NeedMap, by_id, prefix: str) -> None:
    summary = evaluate(shifts, truth, by_id)
    if prefix == "plan":
        score.needed += summary.hours_needed
    setattr(score, f"{prefix}_hours", getattr(score, f"{prefix}_hours") + summary.hours_planned)
    setattr(score, f"{prefix}_short", getattr(score, f"{prefix}_short") + summary.hours_short)
    setattr(score, f"{prefix}_over", getattr(score, f"{prefix}_over") + summary.hours_over)
    setattr(score, f"{prefix}_cost", getattr(score, f"{prefix}_cost") + summary.cost)
