"""The hourly forecast recovers a planted pattern: an hour-of-day profile, a weekend lift, a holiday dip and a
promotion lift, from a year of Poisson counts."""
import math
import random
from datetime import date, timedelta

import pandas as pd
import pytest

from yundian.staffing.forecast import fit
from yundian.staffing.holidays_cn import day_kinds
from yundian.staffing.need import open_hours_from_profile

pytestmark = pytest.mark.once

PROFILE = {h: 2.0 + 6.0 * math.exp(-((h - 12) ** 2) / 2) + 8.0 * math.exp(-((h - 19) ** 2) / 2)
           for h in range(10, 22)}
WEEKEND, SPRING, PROMO = 1.5, 0.4, 1.8


def _rate(day: date, hour: int, promo: set[date]) -> float:
    rate = PROFILE[hour] * (WEEKEND if day.weekday() >= 5 else 1.0)
    if "spring_festival" in day_kinds(day):
        rate *= SPRING
    if day in promo:
        rate *= PROMO
    return rate


def _history(since: date, until: date, promo: set[date], seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    day = since
    while day <= until:
        for hour in range(10, 22):
            n = _poisson(rng, _rate(day, hour, promo))
            if n:
                rows.append((5, day, hour, n, n * 8800))
        day += timedelta(days=1)
    return pd.DataFrame(rows, columns=["store_id", "local_date", "local_hour", "customers", "sales"])


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_forecast_recovers_the_planted_hours_weekend_holiday_and_promotion():
    # given a year of a store open 10-22 with a lunch and an evening peak, busier weekends, a quiet Spring
    # Festival week and promotion weeks that lift traffic
    since, until = date(2025, 1, 6), date(2026, 1, 4)
    promo = {since + timedelta(days=d) for start in (40, 150, 250) for d in range(start, start + 10)}
    history = _history(since, until, promo)
    open_hours = {5: open_hours_from_profile({d: [["10:00", "22:00"]] for d in
                                              ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})}
    # when fitting and forecasting a later ordinary week, a promotion week and the next Spring Festival
    model = fit(history, since=since, until=until, open_hours=open_hours, promo_days={5: promo})
    week = [date(2026, 1, 5) + timedelta(days=i) for i in range(7)]
    plain = model.predict(5, week, open_hours[5])
    promoted = model.predict(5, week, open_hours[5], set(week))
    festival = model.predict(5, [date(2026, 2, 18)], open_hours[5])
    # then every hour is within 20 % of the planted rate, the week within 5 %, the effects within 12 %
    for row in plain:
        assert row.customers == pytest.approx(_rate(row.day, row.hour, set()), rel=0.2)
    assert sum(r.customers for r in plain) == pytest.approx(sum(_rate(r.day, r.hour, set()) for r in plain), rel=0.05)
    assert {r.hour for r in plain} == set(range(10, 22))
    lift = sum(r.customers for r in promoted) / sum(r.customers for r in plain)
    assert lift == pytest.approx(PROMO, rel=0.12)
    saturday = [r for r in plain if r.day == date(2026, 1, 10)]
    tuesday = [r for r in plain if r.day == date(2026, 1, 6)]
    assert sum(r.customers for r in saturday) / sum(r.customers for r in tuesday) == pytest.approx(WEEKEND, rel=0.12)
    wednesday = [r for r in plain if r.day == date(2026, 1, 7)]
    assert sum(r.customers for r in festival) / sum(r.customers for r in wednesday) == pytest.approx(SPRING, rel=0.2)
    # and sales are customers times the average ticket
    assert plain[0].sales == pytest.approx(plain[0].customers * 8800, abs=5)


def test_a_store_without_history_forecasts_nothing_and_a_closed_day_has_no_hours():
    open_hours = {1: {0: (10, 12)}}
    model = fit(pd.DataFrame(columns=["store_id", "local_date", "local_hour", "customers", "sales"]),
                since=date(2026, 1, 1), until=date(2026, 1, 31), open_hours=open_hours)
    rows = model.predict(1, [date(2026, 2, 2), date(2026, 2, 3)], open_hours[1])
    assert [(r.day, r.hour, r.customers) for r in rows] == [(date(2026, 2, 2), 10, 0.0), (date(2026, 2, 2), 11, 0.0)]
