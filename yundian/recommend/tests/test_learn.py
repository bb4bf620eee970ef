"""The models on small fixtures with known answers (no database: marked once)."""
import math
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from yundian.recommend import evaluation, learn
from yundian.recommend.experiments import conversion_lift

pytestmark = pytest.mark.once
DAY0 = datetime(2026, 1, 1, 10)


def baskets_of(orders: list[tuple[int, list[int]]], *, category: dict[int, int] | None = None, store: int = 1,
               days: list[int] | None = None) -> pd.DataFrame:
    """One row per (order, product): order i of member m on day days[i] (default: day i)."""
    category = category or {}
    rows = []
    for i, (member, products) in enumerate(orders):
        day = days[i] if days else i
        for product in products:
            rows.append({"order_id": i + 1, "member_id": member, "store_id": store, "product_id": product,
                         "category_id": category.get(product, 100), "placed_at": DAY0 + timedelta(days=day)})
    return pd.DataFrame(rows)


def interactions_of(baskets: pd.DataFrame) -> pd.DataFrame:
    return (baskets.assign(weight=4.0).groupby(["member_id", "product_id"], as_index=False)["weight"].sum())


def test_copurchase_ranks_by_lift_not_by_count():
    # given 20 baskets: the best seller 1 is in every one; 2 and 3 go together 4 times, 2 with 1 five times
    orders = [(m, [1]) for m in range(10)] + [(10 + m, [1, 2, 3]) for m in range(4)] + [(20, [1, 2])] + \
             [(30 + m, [1, 4]) for m in range(5)]
    baskets = baskets_of(orders)
    position = {p: p - 1 for p in (1, 2, 3, 4)}
    # when
    lift = learn.copurchase_lift(baskets, 4, position).toarray()
    # then: lift(2, 3) = 4 * 20 / (5 * 4) = 4.0; lift(2, 1) = 5 * 20 / (5 * 20) = 1.0; 3 and 4 never together
    assert lift[1, 2] == pytest.approx(4.0)
    assert lift[2, 1] == pytest.approx(4.0)
    assert lift[1, 0] == pytest.approx(1.0)
    assert lift[2, 3] == 0.0
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    assert [s.product_id for s in model.goes_with([2], k=2)] == [3, 1]
    assert model.goes_with([2], k=1)[0].because_product_id == 2


def test_pairs_seen_together_once_are_left_out():
    baskets = baskets_of([(1, [1, 2])] + [(m, [1]) for m in range(2, 12)] + [(20, [2])])
    lift = learn.copurchase_lift(baskets, 2, {1: 0, 2: 1})
    assert lift.nnz == 0


def test_als_ranks_the_planted_complement_first():
    # given 60 members who buy formula (1) and nappies (2) together, 60 who buy tea (3) and cups (4), and a new
    # mother who only bought formula; 30 filler products bought at random
    rng = np.random.default_rng(7)
    orders = []
    for m in range(60):
        orders.append((m, [1, 2] + list(rng.choice(np.arange(10, 40), 2, replace=False))))
        orders.append((100 + m, [3, 4] + list(rng.choice(np.arange(10, 40), 2, replace=False))))
    baskets = baskets_of(orders)
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    # when
    top = model.for_member({1: 4.0}, k=3, strategy="als", exclude={1})
    # then
    assert top[0].product_id == 2
    assert top[0].model == "als"
    assert top[0].because_product_id == 1


def test_sequences_propose_the_next_stage():
    # given 10 mothers who buy stage-1 formula (1) and, two months later, stage 2 (2); nappies (3) bought any time
    orders, days = [], []
    for m in range(10):
        orders += [(m, [1, 3]), (m, [2])]
        days += [m, m + 60]
    baskets = baskets_of(orders, days=days)
    position = {1: 0, 2: 1, 3: 2}
    # when
    next_share = learn.sequences(baskets, 3, position).toarray()
    # then: every buyer of 1 bought 2 later (1.0); nobody bought 1 after 2
    assert next_share[0, 1] == pytest.approx(1.0)
    assert next_share[1, 0] == 0.0
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    assert model.for_member({1: 4.0, 3: 4.0}, k=1, strategy="sequence")[0].product_id == 2


def test_durable_goods_are_not_recommended_to_who_owns_one():
    # given 25 buyers of prams (category 7, each once) and 25 of wipes (category 8) who buy the same wipes again
    category = {1: 7, 2: 7, 3: 8}
    orders, days = [], []
    for m in range(25):
        orders += [(m, [1 if m % 2 else 2, 3]), (m, [3])]
        days += [m, m + 30]
    baskets = baskets_of(orders, category=category, days=days)
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    # then
    assert model.durable_categories == {7}
    assert model.is_durable(1) and not model.is_durable(3)
    shown = [s.product_id for s in model.for_member({1: 4.0, 3: 4.0}, k=3, owned={1, 3})]
    assert 1 not in shown
    assert 3 in shown  # wipes are bought again


def test_popularity_falls_back_from_store_and_category_to_the_chain():
    baskets = pd.concat([baskets_of([(1, [1]), (2, [1]), (3, [2])] * 2, store=5),
                         baskets_of([(4, [3]), (5, [3]), (6, [3]), (7, [2])] * 2, store=6).assign(
                             order_id=lambda f: f["order_id"] + 10)])
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    assert model.popular_for(store_id=5) == [1, 2]
    assert model.popular_for(store_id=6) == [3, 2]
    assert model.popular_for(store_id=99) == [3, 1, 2]
    assert model.for_member({}, k=2, store_id=5)[0] == learn.Suggestion(1, 0.0, "popular", None)


def test_the_category_part_proposes_the_best_seller_of_the_members_own_category():
    # given a member who always buys rice A (10, category 5); 20 others make rice B (11) the store's best rice and 30
    # more make tea (1, category 6) the store's best seller
    category = {10: 5, 11: 5, 1: 6}
    orders = [(0, [10])] * 3 + [(m, [11]) for m in range(1, 21)] + [(m, [1]) for m in range(30, 60)]
    baskets = baskets_of(orders, category=category)
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    only = {name: 0.0 for name in learn.BLEND}
    # when
    by_category = model.for_member({10: 12.0}, k=2, store_id=1, weights={**only, "category": 1.0})
    by_store = model.for_member({10: 12.0}, k=2, store_id=1, weights={**only, "popular": 1.0})
    # then: the aisle they visit, the best seller there first, from the rice they bought
    assert [s.product_id for s in by_category] == [11, 10]
    assert by_category[0].model == "category" and by_category[0].because_product_id == 10
    assert [s.product_id for s in by_store] == [1, 11]


def communities(members: int = 90) -> learn.TrainingTables:
    """Three communities of six products each (100.., 200.., 300..): each member buys three of their community's on
    three days in the first five weeks, and a fourth of them between days 60 and 84."""
    orders, days = [], []
    for m in range(members):
        products = [100 * (m % 3 + 1) + j for j in range(6)]
        for n in range(3):
            orders.append((m, [products[(m // 3 + n) % 6]]))
            days.append(m % 20 + 7 * n)
        orders.append((m, [products[(m // 3 + 3) % 6]]))
        days.append(60 + m % 25)
    baskets = baskets_of(orders, days=days)
    return learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets))


def test_als_settings_are_chosen_on_the_validation_weeks(monkeypatch):
    # given three communities of products that one ALS factor cannot tell apart (the default set to 1 for the test)
    tables = communities()
    split = evaluation.holdout_split(tables)
    histories, owned = evaluation._histories(split)

    def recall(factors: int) -> float:
        model = learn.fit(split.train, factors=factors)
        ranked = model.predict(histories, k=6, strategy="als", stores=split.stores, owned=owned)
        return evaluation.ranking_metrics(ranked, split.targets, k=6, catalogue=split.catalogue)[0]

    assert recall(1) < 0.5 and recall(8) == 1.0
    monkeypatch.setattr(learn, "FACTORS", 1)
    # when
    chosen = evaluation.tune_als(tables, k=6, grid={"factors": (1, 8), "alpha": (learn.ALPHA,)})
    # then: the setting that ranks the members' next community product on the validation weeks
    assert chosen == {"factors": 8, "regularization": learn.REGULARIZATION, "alpha": learn.ALPHA}
    assert learn.als_params({"factors": 8.0}) == chosen


def test_the_validation_windows_roll_back_from_the_cut_and_stop_without_data():
    # given a year of weekly baskets of 40 members
    orders = [(m, [1 + (m + week) % 5]) for week in range(52) for m in range(40)]
    days = [7 * week + m % 7 for week in range(52) for m in range(40)]
    baskets = baskets_of(orders, days=days)
    tables = learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets))
    # when
    windows = evaluation._validation(tables, test_days=28, interactions_at=None, max_members=20, windows=3)
    short = evaluation._validation(learn.TrainingTables(baskets=baskets[baskets["placed_at"] < DAY0 + timedelta(
        days=40)], interactions=interactions_of(baskets)), test_days=28, interactions_at=None, max_members=20,
                                   windows=3)
    # then: three cuts 28 days apart, each trained only before its own cut, a third of the members each
    last = pd.Timestamp(DAY0 + timedelta(days=7 * 51 + 6)).normalize()
    assert [split.cutoff for split, _model in windows] == [last - timedelta(days=27 + 28 * w) for w in range(3)]
    for split, _model in windows:
        assert pd.to_datetime(split.train.baskets["placed_at"]).max() < split.cutoff
        assert len(split.targets) == 6
    assert len(short) == 1


def test_a_model_survives_storage_unchanged():
    baskets = baskets_of([(m, [1, 2]) for m in range(8)] + [(m, [3]) for m in range(8)])
    model = learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    again = learn.RecommendModel.loads(model.dumps())
    assert again.goes_with([1]) == model.goes_with([1])
    assert again.for_member({1: 4.0}, k=3) == model.for_member({1: 4.0}, k=3)
    assert again.popular == model.popular and again.params == model.params


def test_too_few_orders_is_not_enough_data():
    baskets = baskets_of([(1, [1, 2]), (2, [2])])
    with pytest.raises(learn.NotEnoughData) as caught:
        learn.fit(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    assert caught.value.code == "not_enough_purchases"


def test_ranking_metrics_by_hand():
    # member 1 wants {1, 2} and gets [1, 9, 2]: recall 1, precision 2/3, DCG 1 + 1/log2(4) = 1.5, ideal 1 + 1/log2(3)
    # member 2 wants {5} and gets [6, 7, 8]: all zero; coverage = 6 distinct of 12
    recall, precision, ndcg, coverage = evaluation.ranking_metrics(
        {1: [1, 9, 2], 2: [6, 7, 8]}, {1: {1, 2}, 2: {5}}, k=3, catalogue=12)
    assert recall == pytest.approx(0.5)
    assert precision == pytest.approx((2 / 3) / 2)
    assert ndcg == pytest.approx((1.5 / (1 + 1 / math.log2(3))) / 2)
    assert coverage == pytest.approx(0.5)


def test_the_holdout_trains_on_the_past_and_tests_members_known_before():
    # orders on days 0..39; the last 28 days are the test; member 9 only appears in the test
    orders = [(i % 3, [1 + i % 4]) for i in range(39)] + [(9, [2])]
    split = evaluation.holdout_split(learn.TrainingTables(baskets=(b := baskets_of(orders)),
                                                          interactions=interactions_of(b)), test_days=28)
    assert pd.to_datetime(split.train.baskets["placed_at"]).max() < split.cutoff
    assert set(split.targets) == {0, 1, 2}
    assert split.targets[0] == {1 + i % 4 for i in range(39) if i % 3 == 0 and i >= 12}


def test_conversion_lift_by_hand():
    # control 1000 people, 100 bought (10 %); variant 1000, 120 bought (12 %): lift +20 %
    result = conversion_lift(1000, 100, 1000, 120)
    assert result.lift == pytest.approx(0.2)
    variance = 0.12 * 0.88 / (1000 * 0.01) + 0.12 ** 2 * 0.1 * 0.9 / (1000 * 0.1 ** 4)
    assert result.low == pytest.approx(0.2 - 1.959963984540054 * math.sqrt(variance))
    assert result.high == pytest.approx(0.2 + 1.959963984540054 * math.sqrt(variance))
    assert (round(result.low, 4), round(result.high, 4)) == (-0.1006, 0.5006)  # by hand: ±1.96 · √0.02352
    assert conversion_lift(0, 0, 10, 1).lift is None
    assert conversion_lift(10, 0, 10, 1).lift is None


def habit_then(switch_day: int, last_day: int) -> learn.TrainingTables:
    """30 members each buy their usual product (10 + m) every 7 days until `switch_day`, then the chain's best
    seller (1) every 7 days until `last_day`; 20 walk-in regulars make 1 the best seller all along."""
    orders, days = [], []
    for m in range(30):
        for day in range(m % 7, last_day + 1, 7):
            orders.append((m, [10 + m if day < switch_day else 1]))
            days.append(day)
    for m in range(100, 120):
        for day in range(m % 5, last_day + 1, 5):
            orders.append((m, [1]))
            days.append(day)
    baskets = baskets_of(orders, days=days)
    return learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets))


def test_the_blend_weights_follow_the_validation_weeks():
    # given members who bought their usual products and, in the last 28 days (the validation weeks), switched to
    # the best seller: top-1 by the default blend (buy again) is their usual product
    tables = habit_then(switch_day=28, last_day=55)
    # when
    weights = evaluation.tune_blend(tables, k=1)
    # then: the weights that rank best on the validation weeks put the best seller first
    split = evaluation.holdout_split(tables)
    model = learn.fit(split.train)
    history = {10: 16.0}
    assert model.for_member(history, k=1, store_id=1)[0].product_id == 10
    assert model.for_member(history, k=1, store_id=1, weights=weights)[0].product_id == 1
    assert weights["popular"] > 0


def test_the_blend_is_never_tuned_on_the_test_weeks():
    # given members who keep buying their usual products through the validation weeks and switch to the best seller
    # only in the test weeks (the last 28 days)
    tables = habit_then(switch_day=56, last_day=83)
    split = evaluation.holdout_split(tables)
    model = learn.fit(split.train)
    # when
    rows = {row.model: row for row in evaluation.evaluate(split, k=1, model=model)}
    # then: the blend, tuned on what the validation weeks showed, still proposes the usual product and misses the
    # switch that only the test weeks show (the popularity baseline, which ranks the best seller first, gets it)
    assert set(split.targets) == set(range(30)) | set(range(100, 120))
    assert model.params["blend"]["again"] > 0
    assert model.for_member({10: 16.0}, k=1, store_id=1)[0].product_id == 10
    assert rows["blend"].recall == pytest.approx(20 / 50)  # only the regulars of the best seller are hit
    assert rows["popularity"].recall == 1.0


def test_every_model_and_baseline_leaves_out_the_durable_goods_a_member_owns():
    # given a pram (1, category 7: nobody buys one twice), the store's best seller, bought by 25 members and 40
    # others; the 25 buy wipes (3) twice and, in the test weeks, again; a fifth of them bought a cot (2) too
    category = {1: 7, 2: 7, 3: 8}
    orders, days = [], []
    for m in range(25):
        orders += [(m, [1]), (m, [3]), (m, [3]), (m, [3])]
        days += [m, m + 1, m + 20, 70 + m % 10]
        if m % 5 == 0:
            orders.append((m, [2]))
            days.append(m + 2)
    for m in range(200, 240):
        orders.append((m, [1]))
        days.append(m - 200)
    baskets = baskets_of(orders, category=category, days=days)
    split = evaluation.holdout_split(learn.TrainingTables(baskets=baskets, interactions=interactions_of(baskets)))
    model = learn.fit(split.train)
    assert model.durable_categories == {7} and model.popular_for(store_id=1)[0] == 1
    # when
    rows = {row.model: row for row in evaluation.evaluate(split, k=1, model=model)}
    # then: at k = 1 the popularity baseline shows the next best seller (wipes), not the pram its members own
    assert set(split.targets) == set(range(25))
    assert rows["popularity"].recall == 1.0
    assert evaluation.item_knn(split.train.interactions, {0: {3: 4.0}}, k=2, exclude={0: {1}}) == {0: [2]}
