"""The demand model behind `seed --history`: pure functions of dates, hours and random streams (no database).

- `day_factor(day)`       weekly x yearly seasonality: weekends busier; the weeks before Chinese New Year peak,
                          the holiday itself and the weeks after are quiet; 618 and 双11 ramp up to their day;
                          National Day week and 双12 lift a little.
- `minute_of_day(...)`    a time inside opening hours, with a lunch and an evening peak (community stores: a
                          morning peak too, when the fresh counter sells).
- `member_purchase_days`  the BG/NBD story for one member: a purchase rate (gamma across members) in seasonal
                          time, and after every purchase a chance (beta across members) of never coming back.
- `AFFINITY`              what sells together in the demo catalogue (tops with trousers, pans with cleaning
                          things, vegetables with meat...), `CATEGORY_SEASON` when each category sells.
"""
import bisect
import math
import random
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WEEKDAY = [0.86, 0.84, 0.88, 0.92, 1.08, 1.38, 1.30]  # Monday .. Sunday
# Spring Festival (day one of the lunar year)
CHINESE_NEW_YEAR = {2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
                    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
                    2029: date(2029, 2, 13), 2030: date(2030, 2, 3)}

# relative orders per local hour (POS); a store sells only inside its opening hours
HOURS_STANDARD = {7: 0.2, 8: 0.3, 9: 0.45, 10: 0.6, 11: 0.95, 12: 1.5, 13: 1.3, 14: 0.85, 15: 0.8, 16: 0.9,
                  17: 1.1, 18: 1.45, 19: 1.65, 20: 1.35, 21: 0.75, 22: 0.3}
HOURS_COMMUNITY = {7: 0.9, 8: 1.3, 9: 1.2, 10: 0.9, 11: 1.0, 12: 0.9, 13: 0.6, 14: 0.5, 15: 0.55, 16: 0.8,
                   17: 1.35, 18: 1.5, 19: 1.0, 20: 0.6, 21: 0.3}
# storefront orders come at any time people are awake, most in the evening on the sofa
HOURS_ONLINE = {0: 0.25, 1: 0.1, 7: 0.2, 8: 0.35, 9: 0.5, 10: 0.6, 11: 0.7, 12: 0.95, 13: 0.8, 14: 0.6, 15: 0.6,
                16: 0.65, 17: 0.7, 18: 0.8, 19: 1.0, 20: 1.35, 21: 1.6, 22: 1.45, 23: 0.8}

# sub-category code -> [(companion sub-category, probability it joins the basket)]
AFFINITY = {
    "APP-TOP": [("APP-BTM", 0.42), ("SHO-CAS", 0.06)],
    "APP-BTM": [("APP-TOP", 0.45), ("SHO-CAS", 0.08)],
    "APP-OUT": [("APP-TOP", 0.22), ("APP-BTM", 0.12)],
    "SHO-RUN": [("APP-TOP", 0.18), ("APP-BTM", 0.12)],
    "SHO-CAS": [("APP-BTM", 0.15)],
    "HOM-KIT": [("HOM-CLN", 0.38), ("HOM-STO", 0.12)],
    "HOM-BED": [("HOM-STO", 0.30), ("HOM-CLN", 0.08)],
    "HOM-STO": [("HOM-BED", 0.10)],
    "HOM-CLN": [("HOM-KIT", 0.10)],
    "FRS-FRU": [("FRS-VEG", 0.35)],
    "FRS-VEG": [("FRS-MEA", 0.42), ("FRS-FRU", 0.15)],
    "FRS-MEA": [("FRS-VEG", 0.55), ("FRS-SEA", 0.10)],
    "FRS-SEA": [("FRS-VEG", 0.35)],
}
# product habits (yundian.recommend learns them): how often a companion is the anchor product's usual partner, and
# how often a member buys their own usual product of a category instead of drawing one by popularity
COMPANION_HABIT = 0.6
MEMBER_HABIT = 0.8
# a member's own taste for each sub-category: a multiplier of the store's mix drawn once per member from a gamma of
# mean 1 and this shape, kept for the whole history (the Dirichlet model of repeat buying, Goodhardt, Ehrenberg and
# Chatfield 1984: each shopper's shares stay steady over time and differ widely between shoppers). At 0.35 a member's
# three usual sub-categories start about three baskets in four (the store's mix alone: one in three); with one
# favourite six times as likely, as before, it was one in two, and the rest of their visits followed the store's mix
CATEGORY_TASTE_SHAPE = 0.35
# a member's price position: where in a sub-category's price range (0 the cheapest product, 1 the dearest) the products
# they pick sit, drawn once per member (beta(2, 2)) and kept across departments (who buys the dear trainers buys the
# dear coat and the prawns, not the pork); a product's chance is its popularity times a normal curve of this width
# around the member's position (what the CDP's price band tag reads back)
PRICE_POSITION = (2.0, 2.0)
PRICE_FIT_WIDTH = 0.3
# relative share of anchor purchases per sub-category (unknown codes: 1)
CATEGORY_WEIGHT = {"APP-TOP": 1.6, "APP-BTM": 1.2, "APP-OUT": 0.8, "SHO-RUN": 0.8, "SHO-CAS": 0.7, "HOM-KIT": 1.0,
                   "HOM-BED": 0.6, "HOM-STO": 0.7, "HOM-CLN": 1.3, "FRS-FRU": 1.5, "FRS-VEG": 1.7, "FRS-MEA": 1.1,
                   "FRS-SEA": 0.6}
# month (1..12) multipliers per sub-category: coats in winter, tees and fruit in summer, trainers for 618
CATEGORY_SEASON = {
    "APP-OUT": [2.2, 1.8, 1.0, 0.6, 0.4, 0.3, 0.3, 0.35, 0.7, 1.3, 2.0, 2.4],
    "APP-TOP": [0.7, 0.7, 0.9, 1.1, 1.3, 1.5, 1.5, 1.4, 1.1, 0.9, 0.8, 0.7],
    "SHO-RUN": [0.7, 0.7, 1.0, 1.2, 1.3, 1.6, 1.2, 1.0, 1.0, 1.0, 1.1, 0.8],
    "HOM-BED": [1.4, 1.2, 0.9, 0.8, 0.8, 1.0, 1.1, 1.0, 0.9, 1.0, 1.3, 1.5],
    "FRS-FRU": [0.9, 1.1, 0.8, 0.9, 1.0, 1.3, 1.5, 1.4, 1.2, 1.0, 0.8, 0.9],
    "FRS-MEA": [1.4, 1.3, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.0, 1.2],
}
SIZE_WEIGHTS = {"S": 0.18, "M": 0.34, "L": 0.32, "XL": 0.16}


def new_year_of(day: date) -> date | None:
    """The Spring Festival nearest to `day` (this year's or next year's)."""
    candidates = [CHINESE_NEW_YEAR.get(day.year), CHINESE_NEW_YEAR.get(day.year + 1)]
    candidates = [c for c in candidates if c is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda c: abs((c - day).days))


def yearly_factor(day: date) -> float:
    """Festival and shopping-day effects on a day's traffic (1.0 = an ordinary day)."""
    f = 1.0
    cny = new_year_of(day)
    if cny is not None:
        delta = (day - cny).days
        if -21 <= delta <= -2:  # shopping for the holiday: rising to the eve
            f *= 1.0 + 0.9 * (21 + delta) / 19
        elif -1 <= delta <= 6:  # the holiday: families at home
            f *= 0.45
        elif 7 <= delta <= 27:  # after the holiday: money spent, people away
            f *= 0.78
    if day.month == 6 and day.day <= 18:  # 618
        f *= 1.0 + 1.0 * ((day.day - 1) / 17) ** 2
    elif day.month == 11 and day.day <= 11:  # 双11
        f *= 1.0 + 1.6 * ((day.day - 1) / 10) ** 2
    elif day.month == 11 and day.day == 12:
        f *= 1.2
    elif day.month == 12 and day.day == 12:  # 双12
        f *= 1.5
    elif day.month == 10 and day.day <= 7:  # National Day week
        f *= 1.3
    return f


def day_factor(day: date) -> float:
    return WEEKDAY[day.weekday()] * yearly_factor(day)


def parse_hours(opening_hours: dict, weekday: int, default: tuple[int, int] = (600, 1320)) -> tuple[int, int]:
    """(open, close) in minutes of the day from a StoreProfile.opening_hours dict ({"mon": [["10:00", "22:00"]]})."""
    keys = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    spans = (opening_hours or {}).get(keys[weekday]) or []
    try:
        start, end = spans[0]
        h1, m1 = (int(x) for x in start.split(":"))
        h2, m2 = (int(x) for x in end.split(":"))
    except (ValueError, TypeError, IndexError):
        return default
    return h1 * 60 + m1, h2 * 60 + m2


_SPANS: dict[tuple, tuple[list, list]] = {}


def _spans(opening: tuple[int, int], weights: dict[int, float]) -> tuple[list, list]:
    """(minute spans of each open hour, cumulative weights), cached per opening and weight table."""
    key = (opening, id(weights))
    if key not in _SPANS:
        start, end = opening
        spans, cum, total = [], [], 0.0
        for hour, weight in weights.items():
            low, high = max(start, hour * 60), min(end, hour * 60 + 60)
            if high > low:
                total += weight * (high - low) / 60
                spans.append((low, high))
                cum.append(total)
        _SPANS[key] = (spans, cum)
    return _SPANS[key]


def minute_of_day(rng: random.Random, opening: tuple[int, int], weights: dict[int, float]) -> int:
    """A minute in [open, close) drawn by the hourly weights (only hours the store is open)."""
    spans, cum = _spans(opening, weights)
    if not spans:
        start, end = opening
        return start + rng.randrange(max(1, end - start))
    low, high = spans[bisect.bisect_right(cum, rng.random() * cum[-1])] if cum[-1] > 0 else spans[0]
    return low + int(rng.random() * (high - low))


class SeasonalClock:
    """Cumulative seasonal intensity over the history's days, so a member's purchases (a Poisson process at
    their own rate, in seasonal time) fall on busy days more often. Day i covers [cum[i], cum[i+1])."""

    def __init__(self, days: list[date]):
        self.days = days
        self.cum = [0.0]
        for day in days:
            self.cum.append(self.cum[-1] + day_factor(day))
        self.mean = self.cum[-1] / max(1, len(days))

    def day_at(self, t: float) -> int:
        """Index of the day holding seasonal time t (clamped)."""
        return min(len(self.days) - 1, max(0, bisect.bisect_right(self.cum, t) - 1))

    def time_of(self, index: int) -> float:
        return self.cum[index]


def member_purchase_days(rng: random.Random, clock: SeasonalClock, *, start_index: int, rate_per_day: float,
                         dropout: float, first_on_start: bool) -> list[int]:
    """Day indices of one member's purchases from `start_index` on: exponential gaps in seasonal time at
    `rate_per_day` (per average day), and after each purchase a `dropout` chance of never buying again."""
    out = []
    t = clock.time_of(start_index)
    end = clock.cum[-1]
    if first_on_start:
        out.append(start_index)
        t += rng.random() * clock.mean * 0.5
        if rng.random() < dropout:
            return out
    scale = clock.mean
    while True:
        t += rng.expovariate(rate_per_day) * scale
        if t >= end:
            return out
        out.append(clock.day_at(t))
        if rng.random() < dropout:
            return out


def lift(baskets: list[set], a, b) -> float:
    """Lift of a -> b over baskets of items: P(a and b) / (P(a) P(b)); 0 when either never occurs."""
    n = len(baskets)
    na = sum(1 for x in baskets if a in x)
    nb = sum(1 for x in baskets if b in x)
    nab = sum(1 for x in baskets if a in x and b in x)
    if not n or not na or not nb:
        return 0.0
    return (nab / n) / ((na / n) * (nb / n))


def round_half_up(value: Decimal) -> int:
    """A Decimal amount of fen to whole fen, halves away from zero (as the ledgers round prices and commission)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# returns: the share of lines brought back per top category, how much more the problem store takes back, and why
RETURN_RATE = {"APP": 0.045, "SHO": 0.045, "HOM": 0.02, "FRS": 0.003, "BAB": 0.01}
RETURNS_STORE_FACTOR = 5.0
RETURN_REASONS = ["尺码不合适", "颜色与图片不符", "质量问题", "不喜欢", "买重了"]
COST_SHARE = {"APP": 0.42, "SHO": 0.5, "HOM": 0.55, "FRS": 0.68, "BAB": 0.62}  # purchase cost / list price without a supplier price
