"""A small calendar of the days that move Chinese retail traffic, for the hourly forecast's features.

`day_kinds(day)` names what a day is: a public holiday (元旦, the Spring Festival week, 清明, 劳动节, 端午, 中秋,
国庆), the run-up to the Spring Festival and the quiet weeks after it, or an online shopping festival (618, 双11,
双12) that also lifts shop traffic. Lunar dates are listed per year (2023-2030); a year missing from the table
simply has no lunar features. Pure functions, no database.
"""
from datetime import date, timedelta

SPRING_FESTIVAL = {2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
                   2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
                   2029: date(2029, 2, 13), 2030: date(2030, 2, 3)}
DRAGON_BOAT = {2023: date(2023, 6, 22), 2024: date(2024, 6, 10), 2025: date(2025, 5, 31), 2026: date(2026, 6, 19),
               2027: date(2027, 6, 9), 2028: date(2028, 5, 28), 2029: date(2029, 6, 16), 2030: date(2030, 6, 5)}
MID_AUTUMN = {2023: date(2023, 9, 29), 2024: date(2024, 9, 17), 2025: date(2025, 10, 6), 2026: date(2026, 9, 25),
              2027: date(2027, 9, 15), 2028: date(2028, 10, 3), 2029: date(2029, 9, 22), 2030: date(2030, 9, 12)}

# every kind a day can have, in the order the forecast's design matrix lists them
KINDS = ("new_year", "spring_run_up", "spring_festival", "spring_after", "qingming", "labour_day", "dragon_boat",
         "mid_autumn", "national_day", "shopping_618", "shopping_1111", "shopping_1212")


def _spring_kind(day: date) -> str | None:
    for year in (day.year, day.year + 1):
        first = SPRING_FESTIVAL.get(year)
        if first is None:
            continue
        delta = (day - first).days
        if -21 <= delta <= -2:
            return "spring_run_up"
        if -1 <= delta <= 6:
            return "spring_festival"
        if 7 <= delta <= 27:
            return "spring_after"
    return None


def day_kinds(day: date) -> set[str]:
    """The calendar kinds of one day (empty for an ordinary day)."""
    kinds: set[str] = set()
    spring = _spring_kind(day)
    if spring:
        kinds.add(spring)
    month, dom = day.month, day.day
    if month == 1 and dom == 1:
        kinds.add("new_year")
    if month == 4 and dom in (4, 5, 6):
        kinds.add("qingming")
    if month == 5 and dom <= 5:
        kinds.add("labour_day")
    if month == 10 and dom <= 7:
        kinds.add("national_day")
    if month == 6 and dom <= 18:
        kinds.add("shopping_618")
    if month == 11 and dom <= 11:
        kinds.add("shopping_1111")
    if month == 12 and dom == 12:
        kinds.add("shopping_1212")
    for table, kind in ((DRAGON_BOAT, "dragon_boat"), (MID_AUTUMN, "mid_autumn")):
        first = table.get(day.year)
        if first is not None and 0 <= (day - first).days <= 2:
            kinds.add(kind)
    return kinds


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]
