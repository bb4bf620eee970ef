"""Forecasting daily series with prediction intervals: one small interface the diagnosis (and anyone else) calls.

`window_forecast(history, horizon)` fits an additive ETS model with a weekly season (statsmodels' state-space
`ETSModel`, error A, trend N, season A, period 7) to a daily series and returns the forecast of the next `horizon`
days, day by day, with the prediction interval of each day and of the window's mean (simulated: a window's days
share the level's error, so its interval is wider than the average of the days' intervals would suggest).

`screen(histories, actuals)` is the cheap first pass over many series at once (numpy): a seasonal-naive forecast
(each weekday's mean over the last weeks) and the spread of past windows' means, for a z-score of the window, so the ETS fit is spent only on the series that may be off.

Why statsmodels and not statsforecast: every statsforecast 2.x requires pandas < 3 (the CLV work pins pandas 3.1.1),
and 1.7.8, the last that installs beside pandas 3, brings numba + llvmlite and fitted 200 series (AutoETS) in ~50 s
here including its JIT compile; statsmodels 0.15.0 (maintained, already in the environment for staffing's hourly
forecast) fits one ETS(A,N,A) on 16 weeks in ~0.05 s and gives intervals.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEASON = 7
MIN_HISTORY = 4 * SEASON  # fewer days: the seasonal-naive band stands in
SIMULATIONS = 400


@dataclass
class Forecast:
    """A forecast of `horizon` days: per-day mean and interval, and the window mean's interval."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    window_mean: float
    window_lower: float
    window_upper: float
    method: str


def _naive(history: np.ndarray, horizon: int, level: float) -> Forecast:
    """Each weekday's mean over the history; the window mean's spread from past windows of the same length."""
    n = len(history)
    weeks = min(8, n // SEASON)
    if weeks:
        weekday = history[n - weeks * SEASON:].reshape(weeks, SEASON).mean(axis=0)
        days = weekday[np.arange(horizon) % SEASON]  # day n + i falls on the weekday of slot i mod 7
    else:
        days = np.full(horizon, history.mean() if n else 0.0)
    spread = _window_spread(history, horizon)
    z = _z(level)
    mean = float(days.mean())
    day_spread = float(np.std(history[-SEASON * 8:])) if n > 1 else 0.0
    return Forecast(days, days - z * day_spread, days + z * day_spread, mean, mean - z * spread, mean + z * spread,
                    "seasonal naive")


def _window_spread(history: np.ndarray, horizon: int) -> float:
    """The standard deviation of the mean of `horizon` consecutive days, from the history's own windows."""
    n = len(history)
    if n < horizon * 2:
        return float(np.std(history)) / max(1.0, np.sqrt(horizon))
    means = np.convolve(history, np.ones(horizon) / horizon, mode="valid")
    return float(np.std(means))


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def window_forecast(history, horizon: int, *, level: float = 0.99, seed: int = 0) -> Forecast:
    """Forecast the `horizon` days after a daily `history` (oldest first) with ETS(A,N,A), weekly season.

    Returns per-day means and `level` intervals, and the interval of the window's mean from simulated paths.
    A history that is too short, constant or that the optimiser cannot fit gets the seasonal-naive band."""
    values = np.asarray(history, dtype=float)
    if len(values) < MIN_HISTORY or np.allclose(values, values[0]):
        return _naive(values, horizon, level)
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    index = pd.date_range("2000-01-03", periods=len(values), freq="D")
    series = pd.Series(values, index=index)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ETSModel(series, error="add", trend=None, seasonal="add", seasonal_periods=SEASON).fit(
                disp=False, maxiter=200)
            frame = result.get_prediction(start=len(values), end=len(values) + horizon - 1).summary_frame(
                alpha=1 - level)
            paths = result.simulate(nsimulations=horizon, repetitions=SIMULATIONS, anchor="end",
                                    rng=np.random.default_rng(seed))
    except (ValueError, np.linalg.LinAlgError):
        return _naive(values, horizon, level)
    means = np.asarray(paths, dtype=float).reshape(horizon, -1).mean(axis=0)
    tail = (1 - level) / 2
    mean = frame["mean"].to_numpy()
    if not np.all(np.isfinite(mean)):
        return _naive(values, horizon, level)
    return Forecast(mean, frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy(), float(mean.mean()),
                    float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)), "ETS(A,N,A)")


def screen(histories: np.ndarray, actuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Many series at once (rows): the seasonal-naive forecast of the window mean and the spread of past windows'
    means (a z-score of the actual window mean is (actual - forecast) / spread). `histories` is (series, days) with days a multiple of 7, `actuals` (series, horizon)."""
    series, days = histories.shape
    horizon = actuals.shape[1]
    weeks = min(8, days // SEASON)
    recent = histories[:, days - weeks * SEASON:].reshape(series, weeks, SEASON)
    weekday_mean = recent.mean(axis=1)  # (series, 7), weekday j = day index (days - weeks*7 + j) mod 7
    offsets = (np.arange(horizon)) % SEASON
    expected = weekday_mean[:, offsets].mean(axis=1)
    kernel = np.ones(horizon) / horizon
    window_means = np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="valid"), 1, histories)
    spread = window_means.std(axis=1)
    spread = np.where(spread > 0, spread, np.maximum(np.abs(expected) * 0.05, 1e-9))
    return expected, spread
