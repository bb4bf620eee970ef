"""The CLV model alone (no OLTP database): parameter recovery from simulated customers, the RFM summary against a
hand-computed fixture, the bands, and the predictions against the package's own CLV."""
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from yundian.analytics import clv

from .clv_data import Truth, simulate_summary

pytestmark = pytest.mark.once  # pure Ibis on DuckDB and the fitting package: nothing differs between the databases


def test_the_model_recovers_the_bg_nbd_and_gamma_gamma_parameters_of_simulated_customers_within_10_percent():
    # 100,000 customers: over seeds 0-7 the worst parameter was 4.5 % off (v); at 20,000 it reached 15 %
    truth = Truth()
    summary = simulate_summary(100_000, truth, seed=0)
    model = clv.fit(summary)
    for name, expected in truth.as_dict().items():
        assert model.params[name] == pytest.approx(expected, rel=0.10), name
    assert model.diagnostics["customers"] == 100_000
    assert model.diagnostics["repeat_customers"] == int(((summary.frequency > 0) & (summary.monetary > 0)).sum())
    assert model.diagnostics["patterns"] == len(summary.drop_duplicates(["frequency", "recency", "T"]))
    assert model.diagnostics["purchase_log_likelihood"] < 0 and model.diagnostics["spend_log_likelihood"] < 0

    # the CLV (computed once per (frequency, recency, T) pattern) is the package's customer_lifetime_value
    part = summary.iloc[:2000].reset_index(drop=True)
    ours = model.predict(part)
    theirs = model.spend.customer_lifetime_value(model.purchases, part["frequency"], part["recency"], part["T"],
                                                 part["monetary"], time=12, discount_rate=0.01, freq="D")
    assert np.allclose(ours["clv"].to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-9)
    alive = model.purchases.conditional_probability_alive(part["frequency"], part["recency"], part["T"])
    assert np.allclose(ours["p_alive"].to_numpy(), np.asarray(alive), rtol=1e-12)
    assert ours.loc[part["frequency"] == 0, "p_alive"].eq(1.0).all()  # BG/NBD: no repeat purchase, no dropout yet


def _orders() -> tuple[ibis.Table, ibis.Table]:
    rows = [  # order, enterprise, member, day, net, is_sale
        (1, 1, 1, date(2026, 1, 10), 10000, True),
        (2, 1, 1, date(2026, 1, 10), 5000, True),   # same day: one purchase of 15000
        (3, 1, 1, date(2026, 2, 1), 8000, True),
        (4, 1, 3, date(2026, 2, 1), 2000, True),    # member 3 was merged into 1: 1 spent 10000 that day
        (5, 1, 1, date(2026, 3, 1), 12000, True),
        (6, 1, 1, date(2026, 3, 15), 9000, False),  # cancelled: not a sale
        (7, 1, 1, date(2026, 3, 20), 0, True),      # fully refunded: net 0
        (8, 1, 2, date(2026, 3, 31), 3000, True),   # first purchase on the observation end
        (9, 1, 4, date(2026, 2, 2), 7000, True),    # erased member: left out
        (10, 1, 5, date(2026, 1, 5), 4000, True),
        (11, 1, 5, date(2026, 4, 2), 6000, True),   # after the observation end
        (12, 2, 6, date(2026, 1, 7), 5000, True),   # another enterprise
        (13, 1, None, date(2026, 1, 8), 5000, True),  # a guest
    ]
    orders = pd.DataFrame(rows, columns=["order_id", "enterprise_id", "member_id", "local_date", "net_total",
                                         "is_sale"]).astype({"member_id": "Int64"})
    orders["store_id"], orders["item_count"] = 9, 1
    members = pd.DataFrame({"member_id": [1, 2, 3, 4, 5, 6], "enterprise_id": [1, 1, 1, 1, 1, 2],
                            "canonical_member_id": [1, 2, 1, 4, 5, 6],
                            "is_erased": [False, False, False, True, False, False]})
    return ibis.memtable(orders), ibis.memtable(members)


def test_the_rfm_summary_counts_purchase_days_of_canonical_members_up_to_the_observation_end():
    orders, members = _orders()
    transactions = clv.order_transactions(orders, members, enterprise_id=1)
    summary = clv.rfm_summary(transactions, observation_end=date(2026, 3, 31)).to_pandas()
    assert summary[["member_id", "frequency", "recency", "T", "monetary"]].to_dict("records") == [
        # 01-10, 02-01, 03-01: two repeats, 50 days apart from the first, 80 days old; (10000 + 12000) / 2
        {"member_id": 1, "frequency": 2, "recency": 50.0, "T": 80.0, "monetary": 11000.0},
        {"member_id": 2, "frequency": 0, "recency": 0.0, "T": 0.0, "monetary": 0.0},
        {"member_id": 5, "frequency": 0, "recency": 0.0, "T": 85.0, "monetary": 0.0},
    ]
    assert [pd.Timestamp(d).date().isoformat() for d in summary["first_day"]] == ["2026-01-10", "2026-03-31", "2026-01-05"]

    window = clv.rfm_summary(transactions, observation_end=date(2026, 3, 31), since=date(2026, 2, 1)).to_pandas()
    assert window[["member_id", "frequency", "recency", "T", "monetary"]].to_dict("records") == [
        {"member_id": 1, "frequency": 1, "recency": 28.0, "T": 58.0, "monetary": 12000.0},
        {"member_id": 2, "frequency": 0, "recency": 0.0, "T": 0.0, "monetary": 0.0},
    ]
    holdout = clv.purchase_days(transactions, after=date(2026, 1, 31), until=date(2026, 4, 30)).to_pandas()
    assert sorted(map(tuple, holdout[["member_id", "actual"]].to_numpy().tolist())) == [(1, 2), (2, 1), (5, 1)]


def test_bands_take_the_top_tenth_then_a_fifth_then_three_tenths_by_clv_ties_by_member_id():
    predictions = pd.DataFrame({"member_id": [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
                                "clv": [5.0, 90.0, 40.0, 40.0, 0.0, 7.5, 60.0, 40.0, 1.0, 0.0]})
    assert clv.clv_bands(predictions) == {
        11: "top",                      # ceil(10 %) = 1
        16: "high", 12: "high",         # up to ceil(30 %) = 3; 12 before 13 and 17 at the same CLV
        13: "medium", 17: "medium", 15: "medium",  # up to ceil(60 %) = 6
        10: "low", 18: "low", 14: "low", 19: "low",
    }
    assert clv.clv_bands(predictions.iloc[:0]) == {}
    assert clv.clv_bands(predictions.iloc[:1]) == {10: "top"}


def test_data_that_cannot_carry_the_model_is_refused_with_a_code_not_a_traceback():
    few = simulate_summary(9)
    with pytest.raises(clv.ClvFitFailed) as raised:
        clv.fit(few)
    assert raised.value.code == "too_few_customers" and raised.value.details == {"customers": 9}
    once = simulate_summary(200).assign(frequency=0, recency=0.0, monetary=0.0)
    with pytest.raises(clv.ClvFitFailed) as raised:
        clv.fit(once)
    assert raised.value.code == "no_repeat_purchases"
