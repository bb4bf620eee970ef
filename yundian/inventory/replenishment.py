"""Replenishment maths, pure functions shared by the live suggestions, the scheduled task and the backtest.

Velocity (periodic review, order up to S every review period R):
    d   = mean daily sales over the last `window_days` (a moving average; the default 14 days = two whole weeks,
          so the weekday pattern averages out while a trend or season is followed), s = their standard deviation
    S   = d x (L + R) + z x s x sqrt((L + R) + (L + R)^2 / n)
          L = lead time, z = safety factor (default 2.33 ~ 99%), n = days averaged; the second term under the
          root is the error of the moving average itself, which a plain z x s x sqrt(L + R) ignores
    order = max(0, S - inventory position)          position = on hand - reserved + on order
Min/max (the fallback when there are fewer than MIN_HISTORY_DAYS of sales, or a rule without history):
    order = max - position when position <= min, else nothing.

`simulate` replays a daily demand series through either policy (the backtest): stock arrives L days after it
is ordered, a day is a stock-out day when demand exceeds what is on the shelf, average stock is the mean of
end-of-day stock.
"""
import math
from dataclasses import dataclass
from decimal import Decimal

MIN_HISTORY_DAYS = 14


@dataclass(frozen=True)
class Policy:
    lead_time_days: int = 3
    review_period_days: int = 7
    safety_factor: Decimal = Decimal("2.33")
    window_days: int = 14
    min_quantity: int = 0
    max_quantity: int = 0


def demand_stats(history: list[int], window_days: int) -> tuple[float, float]:
    """(mean, sample standard deviation) of the last `window_days` days of sales."""
    window = history[-window_days:]
    n = len(window)
    mean = sum(window) / n
    var = sum((x - mean) ** 2 for x in window) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


def velocity_target(history: list[int], policy: Policy) -> int | None:
    """The order-up-to level S from sales velocity, or None with too little history."""
    if len(history) < MIN_HISTORY_DAYS:
        return None
    mean, sd = demand_stats(history, policy.window_days)
    cover = policy.lead_time_days + policy.review_period_days
    n = min(len(history), policy.window_days)
    # the safety stock covers the day-to-day noise over the cover period and the error of the moving average
    # itself (estimated from n days): var = cover x sd^2 + cover^2 x sd^2 / n
    return math.ceil(mean * cover + float(policy.safety_factor) * sd * math.sqrt(cover + cover * cover / n))


def minmax_order(position: int, policy: Policy) -> int:
    return policy.max_quantity - position if position <= policy.min_quantity else 0


def suggest(history: list[int], position: int, policy: Policy, *, method: str = "auto") -> tuple[str, int]:
    """(method used, units to order now). method: auto (velocity, min/max without history), velocity, minmax."""
    if method in ("auto", "velocity"):
        target = velocity_target(history, policy)
        if target is not None:
            return "velocity", max(0, target - position)
        if method == "velocity":
            return "velocity", 0
    return "minmax", max(0, minmax_order(position, policy))


def minmax_from_history(history: list[int], policy: Policy) -> Policy:
    """A fixed min/max set the textbook way from past sales, then frozen: min = the reorder point covering lead
    time + review period with the same safety factor, max = min + one review period of demand."""
    mean, sd = demand_stats(history, policy.window_days)
    cover = policy.lead_time_days + policy.review_period_days
    low = math.ceil(mean * cover + float(policy.safety_factor) * sd * math.sqrt(cover))
    high = low + math.ceil(mean * policy.review_period_days)
    return Policy(policy.lead_time_days, policy.review_period_days, policy.safety_factor, policy.window_days, low, high)


@dataclass
class SimResult:
    days: int = 0
    stockout_days: int = 0
    lost_units: int = 0
    sold_units: int = 0
    stock_sum: int = 0
    orders: int = 0

    @property
    def average_stock(self) -> float:
        return self.stock_sum / self.days if self.days else 0.0


def simulate(demand: list[int], *, start: int, policy: Policy, method: str, initial_stock: int) -> SimResult:
    """Replay days start..end of `demand`; the policy sees the sales of the days before each review."""
    on_hand = initial_stock
    arrivals: dict[int, int] = {}
    result = SimResult()
    for day in range(start, len(demand)):
        on_hand += arrivals.pop(day, 0)
        if (day - start) % policy.review_period_days == 0:
            on_order = sum(arrivals.values())
            _, quantity = suggest(demand[:day], on_hand + on_order, policy, method=method)
            if quantity > 0:
                arrivals[day + policy.lead_time_days] = arrivals.get(day + policy.lead_time_days, 0) + quantity
                result.orders += 1
        want = demand[day]
        sold = min(on_hand, want)
        on_hand -= sold
        result.days += 1
        result.sold_units += sold
        if sold < want:
            result.stockout_days += 1
            result.lost_units += want - sold
        result.stock_sum += on_hand
    return result
