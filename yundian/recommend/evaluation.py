"""Offline evaluation: a time-based hold-out (train on the past, test on the last weeks), the ranking metrics at k
and two baselines to beat.

    split = holdout_split(tables, test_days=28)          # train tables, and what each member bought after the cut
    rows = evaluate(split, k=10)                         # one EvaluationRow per model and baseline

Who is tested: members who bought in the test weeks and had bought or browsed before the cut (the models can only
rank for someone they know). The target is the set of products a member bought in the test weeks; each model ranks
k products for them from the training data alone (durable products they already own left out, as serving does).

- recall@k = |hits| / |target|, precision@k = |hits| / k, NDCG@k = DCG / ideal DCG with binary gains (log2 discount),
  each averaged over the tested members; coverage = distinct products recommended / products in the catalogue.
- Baselines: *popularity* (the member's store's best sellers of the last 90 days of training, the model's own
  fallback) and *item-kNN* (cosine similarity of products over member × product weights; a member's score for a
  product is the summed similarity to what they interacted with). Every model and baseline gets the same candidates
  and the same filter (durable products the member owns left out); the target keeps what a member buys again
  (formula, detergent: recommending a consumable someone buys regularly is a fair hit).
- The blend's weights are never chosen on the test weeks: `tune_blend` fits on the training data minus its own last
  weeks and picks the weights that rank best on those (a validation split; VALIDATION_WINDOWS of them rolling back,
  pooled, as one window's few hundred members chose very different weights from the next), then the blend is judged
  on the test. ALS's factors, regularization and alpha are chosen the same way (`tune_als`: ALS alone on the same
  windows) before the models are fitted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import learn

TEST_DAYS = 28
K = 10
VALIDATION_MEMBERS = 3000  # members a blend's weights are tried on (an even sample of the validation splits')
VALIDATION_WINDOWS = 3  # validation splits rolling back from the cut, test_days each (one is too noisy to tune on)
# ALS's hyper-parameters tune_als tries, in this order, one at a time (alpha: the confidence of a purchase weighing
# KIND_WEIGHTS["purchase"] = 4 is 1 + 4 alpha)
ALS_GRID = {"alpha": (0.1, 0.5, 2.0, 10.0), "factors": (8, 16, 32), "regularization": (0.05, 0.5, 5.0, 50.0)}
# the weights tune_blend tries for each part of the blend (only ratios matter: 1/16 to 16 and off)
BLEND_GRID = {name: (0.0, 0.25, 0.5, 1.0, 2.0, 4.0) for name in ("again", "als", "copurchase", "sequence", "popular",
                                                                          "category")}


@dataclass
class Split:
    train: learn.TrainingTables
    targets: dict[int, set[int]]     # member -> products bought in the test weeks
    stores: dict[int, int]           # member -> the store they bought most at before the cut
    cutoff: pd.Timestamp
    catalogue: int                   # products in the catalogue (for coverage)
    interactions_at: pd.DataFrame | None = None  # timed behaviour before the cut (for a validation split in it)


@dataclass(frozen=True)
class EvaluationRow:
    model: str
    members: int
    recall: float
    precision: float
    ndcg: float
    coverage: float


def holdout_split(tables: learn.TrainingTables, *, test_days: int = TEST_DAYS,
                  interactions_at: pd.DataFrame | None = None) -> Split:
    """Train on everything before the last `test_days` days of baskets, test on what members bought after.
    `interactions_at` (member_id, product_id, weight, occurred_at) lets behaviour before the cut count too."""
    placed = pd.to_datetime(tables.baskets["placed_at"])
    cutoff = placed.max().normalize() - timedelta(days=test_days - 1)
    before = tables.baskets[placed < cutoff]
    after = tables.baskets[placed >= cutoff]
    if interactions_at is not None:
        seen = interactions_at[pd.to_datetime(interactions_at["occurred_at"]) < cutoff]
        bought = before.assign(weight=learn_weight())[["member_id", "product_id", "weight"]]
        inter = pd.concat([bought, seen[["member_id", "product_id", "weight"]]])
    else:
        inter = before.assign(weight=learn_weight())[["member_id", "product_id", "weight"]]
    inter = inter.groupby(["member_id", "product_id"], as_index=False)["weight"].sum()
    known = set(inter["member_id"].tolist())
    targets = {int(m): set(map(int, g)) for m, g in after.groupby("member_id")["product_id"] if int(m) in known}
    stores = before.groupby(["member_id", "store_id"]).size().reset_index(name="n").sort_values(
        ["member_id", "n", "store_id"], ascending=[True, False, True]).drop_duplicates("member_id")
    catalogue = tables.products["product_id"].nunique() if tables.products is not None else (
        tables.baskets["product_id"].nunique())
    return Split(train=learn.TrainingTables(baskets=before, interactions=inter, products=tables.products),
                 targets=targets, stores=dict(zip(stores["member_id"].astype(int), stores["store_id"].astype(int))),
                 cutoff=cutoff, catalogue=int(catalogue),
                 interactions_at=seen if interactions_at is not None else None)


def learn_weight() -> float:
    from .warehouse_inputs import KIND_WEIGHTS

    return KIND_WEIGHTS["purchase"]


def ranking_metrics(recommended: dict[int, list[int]], targets: dict[int, set[int]], *, k: int = K,
                    catalogue: int) -> tuple[float, float, float, float]:
    """(recall@k, precision@k, NDCG@k, coverage) averaged over the members of `targets`."""
    recall = precision = ndcg = 0.0
    shown: set[int] = set()
    for member, wanted in targets.items():
        ranked = recommended.get(member, [])[:k]
        shown.update(ranked)
        hits = [1.0 if product in wanted else 0.0 for product in ranked]
        recall += sum(hits) / len(wanted)
        precision += sum(hits) / k
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(wanted), k)))
        ndcg += dcg / ideal
    n = max(len(targets), 1)
    return recall / n, precision / n, ndcg / n, len(shown) / max(catalogue, 1)


def item_knn(interactions: pd.DataFrame, histories: dict[int, dict[int, float]], *, k: int = K,
             neighbours: int = 50, exclude: dict[int, set[int]] | None = None) -> dict[int, list[int]]:
    """The item-kNN baseline: cosine similarity of product columns of the member × product matrix (each member's
    `exclude` left out)."""
    exclude = exclude or {}
    products = np.array(sorted(interactions["product_id"].unique()))
    position = {int(p): i for i, p in enumerate(products.tolist())}
    members = pd.factorize(interactions["member_id"])[0]
    matrix = sp.csr_matrix((interactions["weight"].to_numpy(dtype=np.float64),
                            (members, interactions["product_id"].map(position).to_numpy())),
                           shape=(members.max() + 1, len(products)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    normalised = matrix @ sp.diags(1.0 / norms)
    similarity = (normalised.T @ normalised).tocsr()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    out = {}
    for member, history in histories.items():
        score = np.zeros(len(products))
        for product, weight in history.items():
            i = position.get(product)
            if i is not None:
                row = similarity.getrow(i)
                score[row.indices] += row.data * weight
        left_out = exclude.get(member, set())
        order = np.lexsort((products, -score))
        out[member] = [int(products[i]) for i in order if score[i] > 0 and int(products[i]) not in left_out][:k]
    return out


def _histories(split: Split) -> tuple[dict[int, dict[int, float]], dict[int, set[int]]]:
    """Each tested member's history before the cut ({product: weight}) and the products they bought before it."""
    inter = split.train.interactions
    histories = {int(m): dict(zip(g["product_id"].astype(int), g["weight"].astype(float)))
                 for m, g in inter[inter["member_id"].isin(list(split.targets))].groupby("member_id")}
    owned = {int(m): set(map(int, g)) for m, g in split.train.baskets.groupby("member_id")["product_id"]
             if int(m) in split.targets}
    return histories, owned


def _validation(train: learn.TrainingTables, *, test_days: int, interactions_at: pd.DataFrame | None,
                max_members: int, windows: int, als: dict | None = None) -> list[tuple[Split, learn.RecommendModel]]:
    """The validation splits of `train`: its last `test_days` held out, then the `test_days` before them and so on
    (`windows` in all, rolling back; each fitted on everything before its own cut, ALS with the hyper-parameters
    `als`), each with at most max_members / windows of its members (an even sample, the same every time). Windows
    with too little data before them are left out."""
    out = []
    for _window in range(windows):
        try:
            split = holdout_split(train, test_days=test_days, interactions_at=interactions_at)
            if not split.targets:
                break
            model = learn.fit(split.train, **learn.als_params(als or {}))
        except learn.NotEnoughData:
            break
        members = sorted(split.targets)
        share = max(1, max_members // windows)
        if len(members) > share:
            members = members[:: -(-len(members) // share)]
        train, interactions_at = split.train, split.interactions_at
        split.targets = {m: split.targets[m] for m in members}
        out.append((split, model))
    return out


def _pooled(recalls: list[tuple[float, int]]) -> float:
    """Recall over the members of every window: the windows' recalls weighed by their members."""
    members = sum(n for _r, n in recalls)
    return sum(r * n for r, n in recalls) / members if members else 0.0


def tune_als(train: learn.TrainingTables, *, test_days: int = TEST_DAYS, k: int = K,
             interactions_at: pd.DataFrame | None = None, grid: dict[str, tuple[float, ...]] | None = None,
             max_members: int = VALIDATION_MEMBERS, windows: int = VALIDATION_WINDOWS) -> dict[str, float]:
    """ALS's hyper-parameters (factors, regularization, alpha) that rank best (recall@k of ALS alone over the
    validation windows, as tune_blend's), never on a test period after `train`: from learn's defaults, each
    parameter of `grid` in turn, a change kept only when strictly better. Too little data: the defaults."""
    params = learn.als_params({})
    validation = _validation(train, test_days=test_days, interactions_at=interactions_at, max_members=max_members,
                             windows=windows)
    if not validation:
        return params
    prepared = [(split, model, *_histories(split)) for split, model in validation]

    def recall(candidate: dict[str, float]) -> float:
        recalls = []
        for split, model, histories, owned in prepared:
            if learn.als_params(model.params) != candidate:  # the window's fit already has the defaults
                model.refit_als(split.train.interactions, **candidate)
            ranked = model.predict(histories, k=k, strategy="als", stores=split.stores, owned=owned)
            recalls.append((ranking_metrics(ranked, split.targets, k=k, catalogue=split.catalogue)[0],
                            len(split.targets)))
        return _pooled(recalls)

    best = recall(params)
    for name, values in (grid or ALS_GRID).items():
        for value in values:
            if value == params[name]:
                continue
            candidate = {**params, name: value}
            score = recall(candidate)
            if score > best + 1e-12:
                best, params = score, candidate
    return params


def tune_blend(train: learn.TrainingTables, *, test_days: int = TEST_DAYS, k: int = K,
               interactions_at: pd.DataFrame | None = None, grid: dict[str, tuple[float, ...]] | None = None,
               max_members: int = VALIDATION_MEMBERS, windows: int = VALIDATION_WINDOWS,
               als: dict | None = None) -> dict[str, float]:
    """The blend's weights that rank best (recall@k) on validation windows of `train`: its last `test_days`, and
    the `test_days` before them, up to `windows` (each fitted on all before it, ALS with the hyper-parameters `als`,
    default learn's), judged on what members bought in them (never on a test period after `train`), pooled over
    the windows' members. Coordinate ascent from learn.BLEND over `grid`, two rounds, a change kept only when it is
    strictly better; each member's model scores are computed once. Too little data for a validation split:
    learn.BLEND."""
    grid = grid or BLEND_GRID
    weights = dict(learn.BLEND)
    validation = _validation(train, test_days=test_days, interactions_at=interactions_at, max_members=max_members,
                             windows=windows, als=als)
    if not validation:
        return weights
    prepared = []
    for split, model in validation:
        histories, owned = _histories(split)
        parts = {m: model.parts(histories.get(m, {}), "blend", store_id=split.stores.get(m)) for m in split.targets}
        prepared.append((split, model, owned, parts))

    def recall(candidate: dict[str, float]) -> float:
        recalls = []
        for split, model, owned, parts in prepared:
            ranked = {m: [s.product_id for s in model.for_member({}, k=k, store_id=split.stores.get(m),
                                                                 owned=owned.get(m, set()), weights=candidate,
                                                                 parts=parts[m])] for m in split.targets}
            recalls.append((ranking_metrics(ranked, split.targets, k=k, catalogue=split.catalogue)[0],
                            len(split.targets)))
        return _pooled(recalls)

    best = recall(weights)
    for _round in range(2):
        changed = False
        for name, values in grid.items():
            for value in values:
                if value == weights.get(name):
                    continue
                candidate = {**weights, name: value}
                if not any(candidate.values()):
                    continue
                score = recall(candidate)
                if score > best + 1e-12:
                    best, weights, changed = score, candidate, True
        if not changed:
            break
    return weights


def evaluate(split: Split, *, k: int = K, model: learn.RecommendModel | None = None,
             strategies: tuple[str, ...] = ("blend", "als", "copurchase", "sequence"),
             validation_days: int = TEST_DAYS) -> list[EvaluationRow]:
    """One row per model (each strategy of the fitted model) and baseline on the split's test members. Every model
    gets the same candidates: durable products the member owns are left out of the baselines' lists too. Without a
    model, ALS's hyper-parameters are chosen on a validation split inside the training weeks (tune_als) and the
    models fitted on them; the blend's weights are chosen on that validation split too (tune_blend, with the
    model's ALS settings), unless the model already carries some."""
    if model is None:
        als = tune_als(split.train, k=k, test_days=validation_days, interactions_at=split.interactions_at)
        model = learn.fit(split.train, **learn.als_params(als))
    if "blend" in strategies and "blend" not in model.params:
        model.params["blend"] = tune_blend(split.train, k=k, test_days=validation_days,
                                           interactions_at=split.interactions_at, als=model.params)
    histories, owned = _histories(split)
    durable = {m: {p for p in products if model.is_durable(p)} for m, products in owned.items()}
    rows = []

    def row(name: str, recommended: dict[int, list[int]]) -> None:
        recall, precision, ndcg, coverage = ranking_metrics(recommended, split.targets, k=k, catalogue=split.catalogue)
        rows.append(EvaluationRow(name, len(split.targets), recall, precision, ndcg, coverage))

    row("popularity", {m: [s.product_id for s in model.for_member({}, k=k, strategy="popular",
                                                                  store_id=split.stores.get(m),
                                                                  owned=owned.get(m, set()))]
                       for m in split.targets})
    row("item_knn", item_knn(split.train.interactions, histories, k=k, exclude=durable))
    for strategy in strategies:
        row(strategy, model.predict(histories, k=k, strategy=strategy, stores=split.stores, owned=owned))
    return rows
