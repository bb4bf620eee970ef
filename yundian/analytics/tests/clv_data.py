"""Customers simulated from known BG/NBD and Gamma-Gamma parameters, for the CLV tests and bench/clv.py.

BG/NBD (Fader, Hardie & Lee 2005): each customer buys at a Poisson rate lambda ~ Gamma(r, rate alpha) while alive;
after each repeat purchase they drop out with probability p ~ Beta(a, b). Gamma-Gamma: each purchase's spend is
Gamma(p, rate nu) with nu ~ Gamma(q, rate v) per customer. Time in days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Truth:
    r: float = 0.25
    alpha: float = 10.0  # a purchase every ~40 days on average while alive (rates vary a lot between customers)
    a: float = 0.8
    b: float = 2.5
    p: float = 6.0
    q: float = 4.0
    v: float = 12.0  # mean spend per purchase p * v / (q - 1) = 24 (units of the amounts)

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("r", "alpha", "a", "b", "p", "q", "v")}


def simulate_summary(n: int, truth: Truth = Truth(), *, horizon: int = 364, seed: int = 0) -> pd.DataFrame:
    """An RFM summary (member_id, frequency, recency, T, monetary) of `n` customers whose first purchase falls in
    the first half of a `horizon`-day window, with whole-day recency and T as the warehouse has them.

    Given N Poisson purchases in (0, T] and dropout after the J-th repeat purchase (J geometric), the customer
    makes x = min(J, N) repeat purchases; the x-th of N uniform order statistics on (0, T] is T * Beta(x, N-x+1)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(truth.r, 1 / truth.alpha, n)
    dropout = rng.beta(truth.a, truth.b, n)
    age = np.round(rng.uniform(horizon / 2, horizon, n))
    purchases = rng.poisson(rate * age)
    frequency = np.minimum(rng.geometric(dropout), purchases)
    bought = frequency > 0
    recency = np.zeros(n)
    recency[bought] = age[bought] * rng.beta(frequency[bought], purchases[bought] - frequency[bought] + 1)
    nu = rng.gamma(truth.q, 1 / truth.v, n)
    monetary = np.zeros(n)
    monetary[bought] = rng.gamma(truth.p * frequency[bought], 1 / nu[bought]) / frequency[bought]
    return pd.DataFrame({"member_id": np.arange(1, n + 1), "frequency": frequency.astype("int64"),
                         "recency": np.minimum(np.round(recency), age), "T": age, "monetary": monetary})


def simulate_transactions(n: int, truth: Truth = Truth(), *, start: date = date(2025, 1, 1), days: int = 364,
                          seed: int = 0, scale: float = 100.0) -> list[tuple[int, date, float]]:
    """Purchases (customer, day, amount) of `n` customers, one by one: first purchase in the first half of the
    window, then exponential gaps while alive, dropping out after each repeat purchase with their p. Amounts are
    Gamma-Gamma spends times `scale` (100: fen of a spend in yuan), rounded to whole units."""
    rng = np.random.default_rng(seed)
    out = []
    for customer in range(1, n + 1):
        rate = rng.gamma(truth.r, 1 / truth.alpha)
        dropout = rng.beta(truth.a, truth.b)
        nu = rng.gamma(truth.q, 1 / truth.v)
        t = float(rng.integers(0, days // 2))
        bought = 0
        while t < days:
            out.append((customer, start + timedelta(days=int(t)), max(1.0, round(rng.gamma(truth.p, 1 / nu) * scale))))
            bought += 1
            if bought > 1 and rng.random() < dropout:  # drops out after a repeat purchase
                break
            t += rng.exponential(1 / rate) if rate > 0 else days
    return out
