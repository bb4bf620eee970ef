"""The hourly forecast of a store's customers (till transactions) and sales, for the coming weeks.

One Poisson regression per store (statsmodels GLM, log link) on its own history of open hours:

    log E[customers] = hour of day + weekday + weekend x hour + month (season) + calendar kinds (holidays_cn)
                       + promotion running that day

Hours the store was open but sold nothing count as zeros; hours it was closed are left out, and the forecast is
made only for the hours the store will be open. Sales are the forecast customers times the store's average
ticket over the last eight weeks of the training window. statsforecast would have been the first choice but
moves the numpy/scipy pins (pyproject.toml); a regression also takes holidays and promotions as features.

`fit(history, ...) -> HourlyModel`, `model.predict(store_id, days, ...)`; pure (no database): the warehouse
read is `traffic.store_hour_history`, the OLTP side (opening hours, promotions) is passed in.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import version as package_version

import numpy as np
import pandas as pd

from .holidays_cn import KINDS, day_kinds

AOV_DAYS = 56
MIN_ROWS = 14 * 8  # two weeks of open hours: fewer than this and the store gets its own mean per hour


@dataclass(frozen=True)
class ForecastHour:
    store_id: int
    day: date
    hour: int
    customers: float
    sales: int  # fen


@dataclass
class StoreFit:
    hours: list[int]  # the hour levels seen in training (first one is the baseline)
    columns: np.ndarray  # which design columns were kept (bool mask)
    params: np.ndarray
    aov: int  # fen per customer
    rows: int
    mean: float


@dataclass
class HourlyModel:
    fits: dict[int, StoreFit] = field(default_factory=dict)
    package: str = ""
    metrics: dict = field(default_factory=dict)

    def predict(self, store_id: int, days: list[date], open_hours: dict[int, tuple[int, int]],
                promo_days: set[date] | frozenset = frozenset()) -> list[ForecastHour]:
        """The forecast for every open hour of `days` (open_hours: weekday -> (first hour, end hour))."""
        fit = self.fits.get(store_id)
        grid = [(d, h) for d in days for h in _open(open_hours, d)]
        if not grid or fit is None:
            return [ForecastHour(store_id, d, h, 0.0, 0) for d, h in grid]
        x = design([d for d, _ in grid], [h for _, h in grid], [d in promo_days for d, _ in grid], fit.hours)
        mu = np.exp(np.clip(x[:, fit.columns] @ fit.params, -20, 8))
        return [ForecastHour(store_id, d, h, round(float(m), 3), int(round(m * fit.aov))) for (d, h), m in zip(grid, mu)]


def _open(open_hours: dict[int, tuple[int, int]], day: date) -> range:
    span = open_hours.get(day.weekday())
    return range(span[0], span[1]) if span else range(0)


def design(days: list[date], hours: list[int], promo: list[bool], hour_levels: list[int]) -> np.ndarray:
    """The design matrix: intercept, hour, weekday, weekend x hour, month, calendar kinds, promotion."""
    n = len(days)
    index = {h: i for i, h in enumerate(hour_levels[1:])}
    nh = len(index)
    width = 1 + nh + 6 + nh + 11 + len(KINDS) + 1
    x = np.zeros((n, width))
    x[:, 0] = 1.0
    kind_at = {k: i for i, k in enumerate(KINDS)}
    kinds_cache: dict[date, set[str]] = {}
    for row, (d, h, p) in enumerate(zip(days, hours, promo)):
        col = 1
        if h in index:
            x[row, col + index[h]] = 1.0
        col += nh
        wd = d.weekday()
        if wd:
            x[row, col + wd - 1] = 1.0
        col += 6
        if wd >= 5 and h in index:
            x[row, col + index[h]] = 1.0
        col += nh
        if d.month > 1:
            x[row, col + d.month - 2] = 1.0
        col += 11
        kinds = kinds_cache.get(d)
        if kinds is None:
            kinds = kinds_cache[d] = day_kinds(d)
        for k in kinds:
            x[row, col + kind_at[k]] = 1.0
        col += len(KINDS)
        if p:
            x[row, col] = 1.0
    return x


def training_frame(history: pd.DataFrame, store_id: int, since: date, until: date,
                   open_hours: dict[int, tuple[int, int]]) -> pd.DataFrame:
    """Every open hour of [since, until] with its customers and sales (zeros where nothing sold)."""
    rows = [(d, h) for d in (since + timedelta(days=i) for i in range((until - since).days + 1))
            for h in _open(open_hours, d)]
    grid = pd.DataFrame(rows, columns=["local_date", "local_hour"])
    own = history[history["store_id"] == store_id][["local_date", "local_hour", "customers", "sales"]]
    if grid.empty:
        return grid.assign(customers=0, sales=0)
    grid["local_date"] = pd.to_datetime(grid["local_date"]).dt.date
    own = own.assign(local_date=pd.to_datetime(own["local_date"]).dt.date, local_hour=own["local_hour"].astype(int))
    merged = grid.merge(own, on=["local_date", "local_hour"], how="left").fillna({"customers": 0, "sales": 0})
    return merged


def fit(history: pd.DataFrame, *, since: date, until: date, open_hours: dict[int, dict[int, tuple[int, int]]],
        promo_days: dict[int, set[date]] | None = None) -> HourlyModel:
    """Fit one regression per store in `open_hours` on `history` (store_id, local_date, local_hour, customers,
    sales) between `since` and `until` inclusive."""
    # statsmodels.api imports most of statsmodels (seconds); the GLM module alone is enough
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from threadpoolctl import threadpool_limits

    promo_days = promo_days or {}
    model = HourlyModel(package=f"statsmodels {package_version('statsmodels')}")
    for store_id, hours in sorted(open_hours.items()):
        frame = training_frame(history, store_id, since, until, hours)
        if frame.empty:
            continue
        y = frame["customers"].to_numpy(dtype=float)
        days, hrs = list(frame["local_date"]), [int(h) for h in frame["local_hour"]]
        promos = promo_days.get(store_id, set())
        levels = sorted(set(hrs))
        x = design(days, hrs, [d in promos for d in days], levels)
        keep = x.any(axis=0)
        if len(y) < MIN_ROWS or y.sum() == 0:
            keep = np.zeros(x.shape[1], dtype=bool)
            keep[0] = True
        recent = frame[frame["local_date"] > until - timedelta(days=AOV_DAYS)]
        sold = recent["customers"].sum() or frame["customers"].sum()
        aov = int(round((recent["sales"].sum() if recent["customers"].sum() else frame["sales"].sum()) / sold)) \
            if sold else 0
        if y.sum() == 0:
            params = np.array([-20.0])  # nothing sold: a forecast of nothing
        else:
            # one BLAS thread: OpenBLAS's threads fighting for a busy machine made a 60-column fit take 20 s
            with warnings.catch_warnings(), threadpool_limits(1, "blas"):
                warnings.simplefilter("ignore")
                params = np.asarray(GLM(y, x[:, keep], family=Poisson()).fit(maxiter=50).params)
        model.fits[store_id] = StoreFit(hours=levels, columns=keep, params=params, aov=aov, rows=len(y),
                                        mean=float(y.mean()))
    model.metrics = {"stores": len(model.fits), "rows": sum(f.rows for f in model.fits.values()),
                     "since": since.isoformat(), "until": until.isoformat()}
    return model
