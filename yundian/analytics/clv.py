"""Customer lifetime value: BG/NBD for how often a member buys and whether they are still a customer, Gamma-Gamma for
how much they spend a visit, from the `lifetimes` package (pinned; see README "CLV" for why this package).

The model, behind the house interface (`fit(tables) -> model`, `model.predict(...)`):

    summary = rfm_summary(transactions, observation_end=day)      # Ibis: member_id, frequency, recency, T, monetary
    model = fit(summary.to_pandas())                               # ClvModel: params, diagnostics
    predictions = model.predict(summary_frame)                     # expected_90d, p_alive, clv_12m per member
    bands = clv_bands(predictions)                                 # {member_id: "top" | "high" | "medium" | "low"}

Transactions are any table with `member_id`, `day` (a date) and `amount` (fen for the warehouse; any currency unit
for a file): `order_transactions` makes them from the warehouse's fact_order, the `yundian clv fit` command from a
CSV file. Time is counted in days; purchases on one day are one transaction (the convention of the BG/NBD paper):
frequency = purchase days - 1 (repeat purchases), recency = last - first purchase day, T = observation end - first
purchase day, monetary = mean spend of the repeat purchase days (0 without repeats).

CLV for 12 months is what lifetimes' `customer_lifetime_value` computes: the Gamma-Gamma expected spend per purchase
times the BG/NBD expected purchases in each of the next 12 months (30 days each), discounted at `MONTHLY_DISCOUNT` a
month (a test checks the two agree). Bands rank members by that CLV: the top
10 % are "top", the next 20 % "high", the next 30 % "medium", the rest "low" (ties by member id).
"""
from __future__ import annotations

import contextlib
import io
import math
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
from ibis import _

from django.utils.translation import gettext_lazy

from yundian.core.errors import ValidationFailed

HORIZON_DAYS = 90
CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
BANDS = (("top", 0.10), ("high", 0.30), ("medium", 0.60), ("low", 1.0))  # band, cumulative share of members by CLV
RETRY_PENALIZERS = (0.001, 0.01, 0.1)
FREQUENCY_BUCKETS = 7  # the holdout table: 0 .. 6 repeat purchases, then "7+"


class ClvFitFailed(ValidationFailed):
    code = "clv_fit_failed"
    default_message = gettext_lazy("The CLV model could not be fitted to these purchases.")


def order_transactions(orders: ibis.Table, members: ibis.Table, *, enterprise_id: int) -> ibis.Table:
    """The enterprise's member sales as transactions (member_id, day, amount in fen), each attributed to the
    canonical member (merges followed, erased members left out), net of refunds; fully refunded orders drop out."""
    from yundian.cdp.computed import member_sales

    sales = member_sales(orders, members, enterprise_id)
    return sales.select(member_id=_.member_id, day=_.local_date, amount=_.net_total)


def rfm_summary(transactions: ibis.Table, *, observation_end: date, since: date | None = None) -> ibis.Table:
    """Per member who bought in [since, observation_end]: frequency (repeat purchase days), recency and T (days),
    monetary (mean spend of the repeat days, float), first_day. Non-positive amounts are not purchases."""
    bought = transactions.filter((transactions.day <= observation_end) & (transactions.amount > 0))
    if since is not None:
        bought = bought.filter(bought.day >= since)
    daily = bought.group_by(["member_id", "day"]).aggregate(amount=_.amount.sum().cast("float64"))
    daily = daily.mutate(first_day=_.day.min().over(group_by="member_id"))
    per_member = daily.group_by("member_id").aggregate(
        first_day=_.first_day.min(), last_day=_.day.max(), days=_.day.count(),
        repeat_amount=ibis.ifelse(_.day > _.first_day, _.amount, 0.0).sum())
    end = ibis.literal(observation_end)
    m = per_member
    return m.select(
        "member_id",
        frequency=(m.days - 1).cast("int64"),
        recency=m.last_day.delta(m.first_day, unit="day").cast("float64"),
        T=end.delta(m.first_day, unit="day").cast("float64"),
        monetary=ibis.ifelse(m.days > 1, m.repeat_amount / (m.days - 1), 0.0),
        first_day=m.first_day,
    ).order_by("member_id")


def purchase_days(transactions: ibis.Table, *, after: date, until: date) -> ibis.Table:
    """Per member: purchase days in (after, until] — the holdout period's actual purchases."""
    bought = transactions.filter((transactions.day > after) & (transactions.day <= until) & (transactions.amount > 0))
    return bought.group_by("member_id").aggregate(actual=_.day.nunique())


@dataclass
class ClvModel:
    """A fitted BG/NBD + Gamma-Gamma pair: `params` (r, alpha, a, b; p, q, v), `diagnostics`, `predict()`."""

    purchases: object  # lifetimes.BetaGeoFitter
    spend: object  # lifetimes.GammaGammaFitter
    params: dict[str, float]
    diagnostics: dict = field(default_factory=dict)

    def expected_purchases(self, days: float, summary: pd.DataFrame) -> np.ndarray:
        """Expected purchase days in the next `days` days per row of an RFM summary (the package's BG/NBD)."""
        return np.asarray(self.purchases.conditional_expected_number_of_purchases_up_to_time(
            days, summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()), float)

    def predict(self, summary: pd.DataFrame, *, horizon_days: int = HORIZON_DAYS, months: int = CLV_MONTHS,
                discount: float = MONTHLY_DISCOUNT) -> pd.DataFrame:
        """Per row of an RFM summary: expected purchases in `horizon_days`, P(alive), the Gamma-Gamma expected spend
        per purchase and the CLV over `months` (in the amounts' unit: fen for the warehouse).

        The CLV is lifetimes' `customer_lifetime_value` rearranged: spend x sum over 30-day months m of (E[purchases
        by 30m] - E[purchases by 30(m-1)]) / (1 + discount)^m. The purchase terms depend on (frequency, recency, T)
        only, so they are computed once per distinct pattern and spread back (a million members share ~200,000)."""
        codes, uniques = pd.MultiIndex.from_frame(summary[["frequency", "recency", "T"]]).factorize()
        patterns = uniques.to_frame(index=False, name=["frequency", "recency", "T"])
        frequency, recency, age = (patterns[c].to_numpy() for c in ("frequency", "recency", "T"))
        horizon = self.expected_purchases(horizon_days, patterns)
        alive = np.asarray(self.purchases.conditional_probability_alive(frequency, recency, age), float)
        discounted = np.zeros(len(patterns))
        before = np.zeros(len(patterns))
        for month in range(1, months + 1):
            upto = self.expected_purchases(30 * month, patterns)
            discounted += (upto - before) / (1 + discount) ** month
            before = upto
        spend = np.asarray(self.spend.conditional_expected_average_profit(
            summary["frequency"].to_numpy(), summary["monetary"].to_numpy()), float)
        return pd.DataFrame({
            "member_id": summary["member_id"].to_numpy(), "expected_90d": horizon[codes], "p_alive": alive[codes],
            "expected_spend": spend, "clv": spend * discounted[codes]})


def _quiet(call):
    """Run a lifetimes fit: it prints the optimiser's state to stdout when it fails to converge, and scipy warns
    about an option lifetimes passes; the caller reports failures as ClvFitFailed instead."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def fit(summary: pd.DataFrame, *, penalizer: float = 0.0) -> ClvModel:
    """Fit BG/NBD to (frequency, recency, T) and Gamma-Gamma to the repeat buyers' (frequency, monetary).

    Identical (frequency, recency, T) rows are fitted once with their count as weight (a year of daily data has
    far fewer distinct rows than members). Raises ClvFitFailed with a translated reason when the data cannot
    carry the model."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import ConvergenceError

    members = len(summary)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary"] > 0)]
    if members < 10:
        raise ClvFitFailed(gettext_lazy("At least 10 customers are needed to fit the model; there are %(n)d.")
                           % {"n": members}, code="too_few_customers", details={"customers": members})
    if len(repeat) < 2:
        raise ClvFitFailed(gettext_lazy("Nobody bought twice: the model needs repeat purchases to learn from."),
                           code="no_repeat_purchases", details={"customers": members})
    if (summary["T"] <= 0).all():
        raise ClvFitFailed(gettext_lazy("Every purchase falls on the observation end: there is no time to learn from."),
                           code="no_observation_time")
    started = time.process_time()
    patterns = summary.groupby(["frequency", "recency", "T"], sort=False).size().reset_index(name="weight")
    # BFGS from lifetimes' start point can stop short on small or lumpy data; the package's advice is a small L2
    # penalty on the log-parameters, so the fit is retried with one before it is given up (reported in diagnostics)
    purchases = spend = None
    used = penalizer
    for used in (penalizer, *(p for p in RETRY_PENALIZERS if p > penalizer)):
        try:
            purchases = BetaGeoFitter(penalizer_coef=used)
            _quiet(lambda: purchases.fit(patterns["frequency"], patterns["recency"], patterns["T"],
                                         weights=patterns["weight"]))
            break
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            purchases, reason = None, str(exc)
    if purchases is None:
        raise ClvFitFailed(gettext_lazy("The purchase model (BG/NBD) did not converge on these data."),
                           code="purchase_model_diverged", details={"reason": reason[:200]})
    for spend_penalizer in (penalizer, *(p for p in RETRY_PENALIZERS if p > penalizer)):
        try:
            spend = GammaGammaFitter(penalizer_coef=spend_penalizer)
            _quiet(lambda: spend.fit(repeat["frequency"], repeat["monetary"], q_constraint=True))
            break
        except (ConvergenceError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            spend, reason = None, str(exc)
    if spend is None:
        raise ClvFitFailed(gettext_lazy("The spend model (Gamma-Gamma) did not converge on these data."),
                           code="spend_model_diverged", details={"reason": reason[:200]})
    params = {name: float(value) for name, value in purchases.params_.items()}
    params.update({name: float(value) for name, value in spend.params_.items()})
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise ClvFitFailed(gettext_lazy("The fitted parameters are not usable (not finite or not positive)."),
                           code="parameters_unusable", details={"params": {k: str(v) for k, v in params.items()}})
    weights = patterns["weight"].sum()
    correlation = (float(np.corrcoef(repeat["frequency"], repeat["monetary"])[0, 1])
                   if len(repeat) > 2 and repeat["monetary"].std() > 0 and repeat["frequency"].std() > 0 else None)
    diagnostics = {
        "customers": members,
        "repeat_customers": int(len(repeat)),
        "patterns": int(len(patterns)),
        # lifetimes keeps the mean negative log-likelihood per row, the BG/NBD one in its internally rescaled time:
        # the totals here are the package's likelihoods at the fitted parameters with time in days
        "purchase_log_likelihood": -float(weights) * float(purchases._negative_log_likelihood(
            np.log([params["r"], params["alpha"], params["a"], params["b"]]), patterns["frequency"].to_numpy(),
            patterns["recency"].to_numpy(), patterns["T"].to_numpy(), patterns["weight"].to_numpy(), 0.0)),
        "spend_log_likelihood": -float(spend._negative_log_likelihood_) * float(len(repeat)),
        "standard_errors": {**{k: _finite(v) for k, v in purchases.standard_errors_.items()},
                            **{k: _finite(v) for k, v in spend.standard_errors_.items()}},
        "frequency_spend_correlation": correlation,
        "fit_cpu_seconds": round(time.process_time() - started, 3),
        "penalizer": {"purchases": used, "spend": spend_penalizer},
        "mean_frequency": float(summary["frequency"].mean()),
    }
    return ClvModel(purchases=purchases, spend=spend, params=params, diagnostics=diagnostics)


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def clv_bands(predictions: pd.DataFrame) -> dict:
    """{member_id: band} by 12-month CLV: top 10 %, next 20 % high, next 30 % medium, the rest low (see BANDS);
    equal CLV ranks by member id, so a refit of the same data gives the same bands."""
    ordered = predictions.sort_values(["clv", "member_id"], ascending=[False, True], kind="stable")
    count = len(ordered)
    members = ordered["member_id"].tolist()
    out = {}
    position = 0
    for band, share in BANDS:
        until = count if share >= 1 else math.ceil(share * count)
        for member_id in members[position:until]:
            out[member_id] = band
        position = max(position, until)
    return out


@dataclass
class HoldoutRow:
    bucket: str
    customers: int
    actual: float
    predicted: float


def holdout_table(transactions: ibis.Table, *, calibration_end: date, observation_end: date,
                  backend=None) -> tuple[ClvModel, list[HoldoutRow]]:
    """Fit on the purchases up to `calibration_end` and compare, per calibration frequency bucket (0 .. 6, 7+), the
    mean predicted purchase days in (calibration_end, observation_end] with the mean actual ones."""
    calibration = rfm_summary(transactions, observation_end=calibration_end)
    actual = purchase_days(transactions, after=calibration_end, until=observation_end)
    joined = calibration.left_join(actual, calibration.member_id == actual.member_id).select(
        calibration, actual=_.actual.fill_null(0))
    frame = (backend.execute(joined) if backend is not None else joined.to_pandas())
    model = fit(frame)
    frame = frame.assign(predicted=model.expected_purchases((observation_end - calibration_end).days, frame))
    bucket = frame["frequency"].clip(upper=FREQUENCY_BUCKETS)
    rows = []
    for value in range(FREQUENCY_BUCKETS + 1):
        part = frame[bucket == value]
        if part.empty:
            continue
        label = f"{value}+" if value == FREQUENCY_BUCKETS else str(value)
        rows.append(HoldoutRow(label, len(part), float(part["actual"].mean()), float(part["predicted"].mean())))
    rows.append(HoldoutRow("all", len(frame), float(frame["actual"].mean()), float(frame["predicted"].mean())))
    return model, rows


def default_holdout_start(first: date, end: date, holdout_days: int) -> date | None:
    """The calibration end for a holdout of `holdout_days` when the data span at least twice that, else None."""
    if (end - first).days < 2 * holdout_days:
        return None
    return end - timedelta(days=holdout_days)
