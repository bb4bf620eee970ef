"""From a forecast to the staff a store needs each hour, by the service standards the store sets.

    open hour       staff = max(minimum cover, ceil(customers / customers per staff hour)); of them at least
                    `cashiers` who can run the till
    before opening  `opening_staff` people with the stock skill for `opening_hours` hour(s) (receiving, facing)
    after closing   `closing_staff` people (any skill) for `closing_hours` hour(s) (cash-up, cleaning)

Pure: `Standard` mirrors the store's `ServiceStandard` row; the need is a dict keyed (store, day, hour).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

SKILLS = ("cashier", "floor", "stock")


@dataclass(frozen=True)
class Standard:
    customers_per_staff_hour: float = 6.0
    min_cover: int = 1
    cashiers: int = 1
    opening_staff: int = 1
    opening_hours: int = 1
    closing_staff: int = 1
    closing_hours: int = 1


@dataclass(frozen=True)
class Need:
    total: int
    cashier: int = 0
    stock: int = 0


NeedMap = dict[tuple[int, date, int], Need]


def hour_need(customers: float, standard: Standard) -> Need:
    staff = max(standard.min_cover, math.ceil(round(customers / standard.customers_per_staff_hour, 6)))
    return Need(total=staff, cashier=min(staff, standard.cashiers))


def need_from_forecast(rows: Iterable, standards: dict[int, Standard],
                       open_hours: dict[int, dict[int, tuple[int, int]]]) -> NeedMap:
    """rows: objects with store_id, day, hour, customers (forecast.ForecastHour or actuals). Opening and closing
    tasks are added around each open day's hours."""
    need: NeedMap = {}
    open_days: set[tuple[int, date]] = set()
    for row in rows:
        standard = standards.get(row.store_id, Standard())
        need[(row.store_id, row.day, row.hour)] = hour_need(row.customers, standard)
        open_days.add((row.store_id, row.day))
    for store_id, day in open_days:
        standard = standards.get(store_id, Standard())
        span = open_hours.get(store_id, {}).get(day.weekday())
        if not span:
            continue
        first, end = span
        for h in range(max(0, first - standard.opening_hours), first):
            if standard.opening_staff:
                need[(store_id, day, h)] = Need(total=standard.opening_staff, stock=standard.opening_staff)
        for h in range(end, min(24, end + standard.closing_hours)):
            if standard.closing_staff:
                need[(store_id, day, h)] = Need(total=standard.closing_staff)
    return need


def open_hours_from_profile(opening_hours: dict | None, default: tuple[str, str] = ("09:00", "22:00")) \
        -> dict[int, tuple[int, int]]:
    """weekday -> (first open hour, end hour) from a StoreProfile.opening_hours dict; an hour counts as open if
    the store is open for any part of it ("07:00"-"21:30" -> 7..21). A day without hours is closed."""
    keys = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out: dict[int, tuple[int, int]] = {}
    for weekday, key in enumerate(keys):
        spans = (opening_hours or {}).get(key) if opening_hours else [list(default)]
        if not spans:
            continue
        try:
            first = min(_minutes(s[0]) for s in spans)
            last = max(_minutes(s[1]) for s in spans)
        except (ValueError, TypeError, IndexError):
            continue
        if last <= first:
            continue
        out[weekday] = (first // 60, min(24, math.ceil(last / 60)))
    return out


def _minutes(text: str) -> int:
    h, m = (int(x) for x in str(text).split(":"))
    return h * 60 + m
