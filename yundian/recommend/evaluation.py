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
  product is the summed similarity to what they interacted with).
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


@dataclass
class Split:
    train: learn.TrainingTables
    targets: dict[int, set[int]]     # member -> products bought in the test weeks
    stores: dict[int, int]           # member -> the store they bought most at before the cut
    cutoff: pd.Timestamp
    catalogue: int                   # products in the catalogue (for coverage)


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
                 cutoff=cutoff, catalogue=int(catalogue))


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
             neighbours: int = 50) -> dict[int, list[int]]:
    """The item-kNN baseline: cosine similarity of product columns of the member × product matrix."""
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
        order = np.lexsort((products, -score))
        out[member] = [int(products[i]) for i in order[:k] if score[i] > 0]
    return out


def evaluate(split: Split, *, k: int = K, model: learn.RecommendModel | None = None,
             strategies: tuple[str, ...] = ("blend", "als", "copurchase", "sequence")) -> list[EvaluationRow]:
    """One row per model (each strategy of the fitted model) and baseline on the split's test members."""
    model = model or learn.fit(split.train)
    inter = split.train.interactions
    histories = {int(m): dict(zip(g["product_id"].astype(int), g["weight"].astype(float)))
                 for m, g in inter[inter["member_id"].isin(list(split.targets))].groupby("member_id")}
    owned = {int(m): set(map(int, g)) for m, g in split.train.baskets.groupby("member_id")["product_id"]
             if int(m) in split.targets}
    rows = []

    def row(name: str, recommended: dict[int, list[int]]) -> None:
        recall, precision, ndcg, coverage = ranking_metrics(recommended, split.targets, k=k, catalogue=split.catalogue)
        rows.append(EvaluationRow(name, len(split.targets), recall, precision, ndcg, coverage))

    row("popularity", {m: model.popular_for(store_id=split.stores.get(m))[:k] for m in split.targets})
    row("item_knn", item_knn(inter, histories, k=k))
    for strategy in strategies:
        row(strategy, model.predict(histories, k=k, strategy=strategy, stores=split.stores, owned=owned))
    return rows
