"""The legal rule set a shift plan keeps, with China's defaults, and the people a plan is made of. Pure.

China's defaults (each enterprise or region may tighten or loosen them with a `LaborRules` row):
- 8 hours a day and 40 a week for full-time staff: Labour Law art. 36 with the State Council's 1995 rule on
  working hours (5 days x 8 h); overtime is not planned (art. 41 caps it and it needs consent).
- at least one day off a week: Labour Law art. 38 (`max_days_week` = 6).
- part-time staff (非全日制用工) at most 4 hours a day and 24 a week: Labour Contract Law art. 68.
- rest between shifts and meal breaks are not set by national law: the defaults are the house rules most
  chains write into their handbooks, 11 hours between shifts and an unpaid hour's break inside any shift
  longer than 6 hours (the break is the shift's middle hour; it is neither paid nor counted as cover).
- a shift lasts at least 3 hours (a shorter one is not worth the trip).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Rules:
    max_hours_day: int = 8
    max_hours_week: int = 40
    max_days_week: int = 6
    part_time_hours_day: int = 4
    part_time_hours_week: int = 24
    min_rest_hours: int = 11
    break_after_hours: int = 6
    min_shift_hours: int = 3
    shortage_penalty_fen: int = 20000  # what an hour of missing cover costs the plan (lost sales, queues)


CHINA_DEFAULTS = Rules()


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    home: int  # store node id
    rate: int  # fen an hour
    skills: frozenset[str] = frozenset({"cashier", "floor"})
    part_time: bool = False
    availability: dict[int, tuple[int, int]] = field(default_factory=dict)  # weekday -> (from hour, to hour)
    travel: dict[int, int] = field(default_factory=dict)  # other stores they may work at -> travel cost a shift (fen)
    days_off: frozenset[date] = frozenset()  # time off: no shift on these days

    def stores(self) -> dict[int, int]:
        return {self.home: 0, **{s: c for s, c in self.travel.items() if s != self.home}}


@dataclass(frozen=True)
class PlannedShift:
    person: int
    store: int
    day: date
    start: int  # hour of the day, inclusive
    end: int  # hour, exclusive
    break_hour: int | None = None

    @property
    def paid_hours(self) -> int:
        return self.end - self.start - (1 if self.break_hour is not None else 0)

    def hours(self) -> list[int]:
        """The hours this shift covers (its break left out)."""
        return [h for h in range(self.start, self.end) if h != self.break_hour]


def break_for(start: int, end: int, rules: Rules) -> int | None:
    """The break hour of a shift from `start` to `end` (its middle hour), or None when it is short enough."""
    length = end - start
    return start + length // 2 if length > rules.break_after_hours else None


def day_limit(person: Person, rules: Rules) -> int:
    return rules.part_time_hours_day if person.part_time else rules.max_hours_day


def week_limit(person: Person, rules: Rules) -> int:
    return rules.part_time_hours_week if person.part_time else rules.max_hours_week
