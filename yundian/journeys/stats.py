"""Uplift against a holdout: the difference of two conversion rates with a confidence interval.

The interval is Newcombe's hybrid score interval (Newcombe 1998, method 10: from the two Wilson score intervals),
through statsmodels' `confint_proportions_2indep(method="newcomb")`; it stays inside [-1, 1] and behaves at
small counts and rates near 0 or 1, where the Wald interval does not. Tested against Newcombe's published figures.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Uplift:
    treated: int
    treated_converted: int
    control: int
    control_converted: int
    treated_rate: float | None
    control_rate: float | None
    difference: float | None  # treated_rate - control_rate (absolute, in rate units)
    low: float | None
    high: float | None
    relative: float | None  # difference / control_rate
    confidence: float

    @property
    def significant(self) -> bool:
        return self.low is not None and (self.low > 0 or self.high < 0)


def uplift(*, treated: int, treated_converted: int, control: int, control_converted: int,
           confidence: float = 0.95) -> Uplift:
    """Conversion uplift of the treated group over the control (holdout), with its confidence interval; rates
    and interval are None where a group is empty."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    t_rate = treated_converted / treated if treated else None
    c_rate = control_converted / control if control else None
    if t_rate is None or c_rate is None:
        return Uplift(treated, treated_converted, control, control_converted, t_rate, c_rate, None, None, None, None,
                      confidence)
    low, high = confint_proportions_2indep(treated_converted, treated, control_converted, control,
                                           method="newcomb", compare="diff", alpha=1 - confidence)
    difference = t_rate - c_rate
    relative = difference / c_rate if c_rate else None
    return Uplift(treated, treated_converted, control, control_converted, t_rate, c_rate, difference, float(low),
                  float(high), relative, confidence)
