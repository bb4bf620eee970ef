"""The recommendation models behind the house interface: `fit(tables) -> RecommendModel`, `model.predict(...)`.

    tables = TrainingTables(baskets=..., interactions=..., products=...)   # pandas frames (warehouse_inputs)
    model = fit(tables)                                                  # all four models, one object
    model.predict(histories, k=10)                                       # {member: [product, ...]} (evaluation)
    model.for_member(history, k=10)                                      # [Suggestion] with the reason (serving)
    model.goes_with([product], k=6)                                      # [Suggestion] (product page, cart)

The four models, each kept as neighbour lists or factors over the product index:

- **Co-purchase** (frequently bought together): for products a, b bought in n_a, n_b of N baskets and together in
  n_ab, lift = n_ab · N / (n_a · n_b) — how much more often they go together than by chance; raw counts would only
  repeat the best sellers. Pairs seen together fewer than MIN_PAIR_BASKETS times are noise and left out.
- **Collaborative filtering**: implicit-feedback ALS (`implicit`, pinned) on member × product weights (purchases,
  cart adds, views: warehouse_inputs.KIND_WEIGHTS), confidence 1 + ALPHA · weight. Serving keeps only the item
  factors: a member's factor is solved from their history at request time (implicit's `recalculate_user`), so a
  member who bought for the first time a minute ago is served too.
- **Popularity** per store and category over the last POPULAR_DAYS days: the fallback (no consent, no history) and
  the baseline.
- **Life-stage sequences** (what members buy next): for a member's purchases in time order, each product b first
  bought within SEQUENCE_DAYS after a (a ≠ b, on a later day) counts a → b; next(a) ranks b by that count over the
  buyers of a (a conditional probability), with at least MIN_SEQUENCE members: stage-1 formula → stage 2.

The served "for you" list is a **blend**: buy again (the member's own non-durable products, by how much they bought
them), ALS, co-purchase and sequences from their history, their own categories (each category's share of their
history times the store's best sellers in it: the product they have not tried yet in the aisle they always visit)
and the store's best sellers, each scaled to 0..1 and weighed; the weights are chosen on validation splits when the
model is trained (evaluation.tune_blend, kept in `params["blend"]`), BLEND before that, and so are ALS's
factors, regularization and alpha (evaluation.tune_als, kept in `params`; FACTORS, REGULARIZATION, ALPHA before).

Durable goods (a pram, a coat) are not recommended again to a member who has one: a product whose category's buyers
hardly ever buy the same product again on another day (repeat share < DURABLE_REPEAT_SHARE over ≥ DURABLE_MIN_BUYERS
buyers) is durable; `durable_categories` holds them.

Every suggestion carries its reason: the product of the member's history it comes from ("because you bought …"),
or none for popular items.
"""
from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
import scipy.sparse as sp

MIN_PAIR_BASKETS = 2
MIN_SEQUENCE = 2
SEQUENCE_DAYS = 180
NEIGHBOURS = 20
FACTORS = 32
ITERATIONS = 15
REGULARIZATION = 0.05
ALPHA = 10.0
POPULAR_DAYS = 90
DURABLE_REPEAT_SHARE = 0.03
DURABLE_MIN_BUYERS = 20
# how the blended "for you" score weighs each model's (each first scaled to 0..1 over the candidates)
# (the default; training chooses them on a validation split: evaluation.tune_blend)
BLEND = {"again": 2.0, "als": 1.0, "copurchase": 0.3, "sequence": 0.3, "popular": 0.0, "category": 0.0}
STRATEGIES = ("blend", "als", "copurchase", "sequence", "popular")
MODELS = ("popular", "again", "als", "copurchase", "sequence", "category")


class NotEnoughData(Exception):
    """Too few purchases to learn anything (fewer than MIN_BASKETS baskets or MIN_PRODUCTS products)."""

    def __init__(self, code: str, details: dict) -> None:
        super().__init__(code)
        self.code, self.details = code, details


MIN_BASKETS = 10
MIN_PRODUCTS = 2


@dataclass
class TrainingTables:
    """What fit() takes (pandas frames as warehouse_inputs gives them):
    baskets: order_id, member_id, store_id, product_id, category_id, placed_at (one row per product of an order);
    interactions: member_id, product_id, weight; products: product_id, category_id, price (optional)."""

    baskets: pd.DataFrame
    interactions: pd.DataFrame
    products: pd.DataFrame | None = None


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    score: float
    model: str                      # als | copurchase | sequence | popular
    because_product_id: int | None  # the product of the member's history (or the page's) it comes from


@dataclass
class RecommendModel:
    product_ids: np.ndarray                  # index -> product id
    category_of: np.ndarray                  # index -> category id
    pair_index: np.ndarray                   # [n, NEIGHBOURS] co-purchase neighbours (-1: none)
    pair_score: np.ndarray                   # their lift
    next_index: np.ndarray                   # [n, NEIGHBOURS] life-stage successors (-1: none)
    next_score: np.ndarray                   # P(b next | a)
    item_factors: np.ndarray                 # [n, FACTORS] ALS
    popular: dict[str, list[int]]            # "store:<id>", "store:<id>:cat:<id>", "cat:<id>", "all" -> indexes
    durable_categories: set[int] = field(default_factory=set)
    params: dict = field(default_factory=dict)
    _position: dict[int, int] = field(default_factory=dict, repr=False)
    _als: object = field(default=None, repr=False)
    _unit: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._position = {int(p): i for i, p in enumerate(self.product_ids.tolist())}

    # --- serving ------------------------------------------------------------------------------------------------

    def position(self, product_id: int) -> int | None:
        return self._position.get(int(product_id))

    def is_durable(self, product_id: int) -> bool:
        i = self.position(product_id)
        return i is not None and int(self.category_of[i]) in self.durable_categories

    def goes_with(self, product_ids: list[int], *, k: int = 6, exclude: set[int] = frozenset()) -> list[Suggestion]:
        """Products bought with these (co-purchase lift), best first; each with the product it goes with."""
        best: dict[int, Suggestion] = {}
        for product_id in product_ids:
            i = self.position(product_id)
            if i is None:
                continue
            for j, score in zip(self.pair_index[i].tolist(), self.pair_score[i].tolist()):
                if j < 0:
                    break
                other = int(self.product_ids[j])
                if other in exclude or other in product_ids:
                    continue
                if other not in best or best[other].score < score:
                    best[other] = Suggestion(other, float(score), "copurchase", int(product_id))
        return sorted(best.values(), key=lambda s: (-s.score, s.product_id))[:k]

    @property
    def blend(self) -> dict[str, float]:
        """How the blended "for you" score weighs each model: chosen on a validation split when the model was trained
        (evaluation.tune_blend, kept in params), else BLEND."""
        return dict(self.params.get("blend") or BLEND)

    def scores(self, history: dict[int, float], strategy: str = "blend", *, store_id: int | None = None,
               weights: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores of every product for a member with this history ({product: weight}); with, per product, the
        index of the history product it comes from (-1: none) and the model that gave it (an index into MODELS)."""
        return self.combine(self.parts(history, strategy, store_id=store_id), weights)

    def parts(self, history: dict[int, float], strategy: str = "blend", *,
              store_id: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each model's scores of every product for this history (scaled to 0..1), with the history product each
        comes from: the pieces `combine` weighs (kept apart so weights can be tried without scoring again)."""
        known = [(self.position(p), w) for p, w in history.items()]
        known = [(i, w) for i, w in known if i is not None and w > 0]
        parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if not known:
            return parts
        if strategy == "blend":
            parts["again"] = self._again_scores(known)
            parts["popular"] = self._popular_scores(store_id)
            parts["category"] = self._category_scores(known, store_id)
        if strategy in ("blend", "als"):
            parts["als"] = self._als_scores(known)
        if strategy in ("blend", "copurchase"):
            parts["copurchase"] = self._neighbour_scores(known, self.pair_index, self.pair_score)
        if strategy in ("blend", "sequence"):
            parts["sequence"] = self._neighbour_scores(known, self.next_index, self.next_score)
        for name, (values, origin) in list(parts.items()):
            top = values.max()
            parts[name] = (values / top if top > 0 else values, origin)
        return parts

    def combine(self, parts: dict[str, tuple[np.ndarray, np.ndarray]],
                weights: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weighted sum of the parts (weights: self.blend; a part alone counts fully), with each product's
        reason and model: those of the part that gave it the most."""
        n = len(self.product_ids)
        total = np.zeros(n, dtype=np.float64)
        because = np.full(n, -1, dtype=np.int64)
        source = np.zeros(n, dtype=np.int8)  # an index into MODELS
        weights = weights if weights is not None else self.blend
        best_part = np.zeros(n)
        for name, (values, origin) in parts.items():
            weight = weights.get(name, 0.0) if len(parts) > 1 else 1.0
            if weight <= 0:
                continue
            scaled = weight * values
            total += scaled
            better = scaled > best_part
            best_part = np.where(better, scaled, best_part)
            because = np.where(better, origin, because)
            source[better] = MODELS.index(name)
        return total, because, source

    def _popular_scores(self, store_id: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The store's best sellers (else the chain's), by rank: 1 for the first, falling linearly."""
        n = len(self.product_ids)
        values, origin = np.zeros(n), np.full(n, -1, dtype=np.int64)
        ranked = self.popular.get(f"store:{store_id}") or self.popular.get("all") or []
        if ranked:
            values[np.asarray(ranked, dtype=np.int64)] = 1.0 - np.arange(len(ranked)) / len(ranked)
        return values, origin

    def _category_scores(self, known, store_id: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The member's own categories: each category's share of their history times the rank of the store's best
        sellers in it (1 for the first, falling linearly; else the chain's), from their most-bought product there."""
        n = len(self.product_ids)
        values, origin = np.zeros(n), np.full(n, -1, dtype=np.int64)
        share: dict[int, float] = {}
        top: dict[int, tuple[float, int]] = {}
        for i, weight in known:
            category = int(self.category_of[i])
            share[category] = share.get(category, 0.0) + weight
            if category not in top or weight > top[category][0]:
                top[category] = (weight, i)
        total = sum(share.values())
        for category, weight in share.items():
            ranked = (self.popular.get(f"store:{store_id}:cat:{category}") or self.popular.get(f"cat:{category}")
                      or [])
            if ranked:
                index = np.asarray(ranked, dtype=np.int64)
                values[index] = weight / total * (1.0 - np.arange(len(ranked)) / len(ranked))
                origin[index] = top[category][1]
        return values, origin

    def _again_scores(self, known) -> tuple[np.ndarray, np.ndarray]:
        """Buy again: the member's own products that are not durable, by how much they bought them."""
        n = len(self.product_ids)
        values, origin = np.zeros(n), np.full(n, -1, dtype=np.int64)
        for i, weight in known:
            if int(self.category_of[i]) not in self.durable_categories:
                values[i], origin[i] = weight, i
        return values, origin

    def _neighbour_scores(self, known, index, score) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.product_ids)
        values, origin, best = np.zeros(n), np.full(n, -1, dtype=np.int64), np.zeros(n)
        for i, weight in known:
            row, s = index[i], score[i]
            valid = row >= 0
            targets, contrib = row[valid], s[valid] * min(weight, 8.0) ** 0.5
            np.add.at(values, targets, contrib)
            better = contrib > best[targets]
            best[targets[better]] = contrib[better]
            origin[targets[better]] = i
        return values, origin

    def refit_als(self, interactions: pd.DataFrame, **params) -> None:
        """ALS again on `interactions` with other hyper-parameters (factors, regularization, alpha), the other models
        kept: what evaluation.tune_als tries on one fitted model per validation window."""
        position = {int(p): i for i, p in enumerate(self.product_ids.tolist())}
        self.item_factors = als_factors(interactions, len(self.product_ids), position, **params)
        self.params.update(params)
        self._als = None  # served from the new factors

    def _als_model(self):
        if self._als is None:
            from implicit.cpu.als import AlternatingLeastSquares

            with warnings.catch_warnings():  # its BLAS-threads advice is for fitting; serving solves one small system
                warnings.simplefilter("ignore", RuntimeWarning)
                als = AlternatingLeastSquares(factors=self.item_factors.shape[1], regularization=self.params.get(
                    "regularization", REGULARIZATION), alpha=self.params.get("alpha", ALPHA), num_threads=1,
                    random_state=0)
            als.item_factors = self.item_factors
            self._als = als
            norms = np.linalg.norm(self.item_factors, axis=1)
            self._unit = self.item_factors / np.where(norms > 0, norms, 1.0)[:, None]
        return self._als

    def _als_scores(self, known) -> tuple[np.ndarray, np.ndarray]:
        als = self._als_model()
        n = len(self.product_ids)
        cols = np.array([i for i, _ in known], dtype=np.int32)
        data = np.array([w for _, w in known], dtype=np.float32)
        row = sp.csr_matrix((data, cols, np.array([0, len(cols)])), shape=(1, n))
        user = als.recalculate_user(0, row)
        values = np.clip(self.item_factors @ user, 0, None).astype(np.float64)
        # the reason: the history product most like the candidate (cosine of the item factors)
        similarity = self._unit @ self._unit[cols].T  # [n, history]
        origin = cols[similarity.argmax(axis=1)].astype(np.int64)
        return values, origin

    def popular_for(self, *, store_id: int | None = None, category_id: int | None = None) -> list[int]:
        """Best sellers of the store (and category), else of the chain: product ids, best first."""
        keys = []
        if store_id is not None and category_id is not None:
            keys.append(f"store:{store_id}:cat:{category_id}")
        if category_id is not None:
            keys.append(f"cat:{category_id}")
        if store_id is not None:
            keys.append(f"store:{store_id}")
        keys.append("all")
        for key in keys:
            if self.popular.get(key):
                return [int(self.product_ids[i]) for i in self.popular[key]]
        return []

    def for_member(self, history: dict[int, float], *, k: int = 10, strategy: str = "blend",
                   store_id: int | None = None, exclude: set[int] = frozenset(),
                   owned: set[int] = frozenset(), weights: dict[str, float] | None = None,
                   parts: dict | None = None) -> list[Suggestion]:
        """The member's top k: their history's candidates by `strategy`, durable products they own left out, then
        the store's best sellers to fill up (no reason). `weights` overrides the blend's; `parts` are the history's
        already scored (self.parts: trying weights without scoring again)."""
        out: list[Suggestion] = []
        taken = set(exclude)
        taken.update(p for p in owned if self.is_durable(p))
        if parts is None and strategy != "popular" and history:
            parts = self.parts(history, strategy, store_id=store_id)
        if parts:
            total, because, source = self.combine(parts, weights)
            scored = np.flatnonzero(total > 0)
            enough = k + len(taken) + 1
            if len(scored) > enough:  # only the best few need sorting
                scored = scored[np.argpartition(-total[scored], enough)[:enough]]
            for i in scored[np.lexsort((scored, -total[scored]))].tolist():
                if len(out) >= k:
                    break
                product = int(self.product_ids[i])
                if product in taken:
                    continue
                origin = int(because[i])
                out.append(Suggestion(product, float(total[i]), MODELS[source[i]],
                                      int(self.product_ids[origin]) if origin >= 0 else None))
                taken.add(product)
        for product in self.popular_for(store_id=store_id):
            if len(out) >= k:
                break
            if product not in taken:
                out.append(Suggestion(product, 0.0, "popular", None))
                taken.add(product)
        return out

    def predict(self, histories: dict[int, dict[int, float]], *, k: int = 10, strategy: str = "blend",
                stores: dict[int, int] | None = None, owned: dict[int, set[int]] | None = None) -> dict[int, list[int]]:
        """Each member's top-k product ids (the offline evaluation's call)."""
        stores, owned = stores or {}, owned or {}
        return {member: [s.product_id for s in self.for_member(history, k=k, strategy=strategy,
                                                                store_id=stores.get(member),
                                                                owned=owned.get(member, set()))]
                for member, history in histories.items()}

    # --- storage ------------------------------------------------------------------------------------------------

    def dumps(self) -> bytes:
        """The model as compressed bytes (numpy's npz; no pickle), for the version row."""
        keys = sorted(self.popular)
        lengths = np.array([len(self.popular[k]) for k in keys], dtype=np.int64)
        flat = np.concatenate([np.asarray(self.popular[k], dtype=np.int32) for k in keys]) if keys else np.zeros(0, np.int32)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, product_ids=self.product_ids, category_of=self.category_of, pair_index=self.pair_index,
            pair_score=self.pair_score, next_index=self.next_index, next_score=self.next_score,
            item_factors=self.item_factors, popular_keys=np.array(keys, dtype=str), popular_lengths=lengths,
            popular_flat=flat, durable=np.array(sorted(self.durable_categories), dtype=np.int64),
            params=np.array([json.dumps(self.params, sort_keys=True)], dtype=str))
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> RecommendModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            keys = data["popular_keys"].tolist()
            splits = np.cumsum(data["popular_lengths"])[:-1] if len(keys) else []
            parts = np.split(data["popular_flat"], splits) if keys else []
            params = json.loads(str(data["params"][0]))
            return cls(product_ids=data["product_ids"], category_of=data["category_of"],
                       pair_index=data["pair_index"], pair_score=data["pair_score"], next_index=data["next_index"],
                       next_score=data["next_score"], item_factors=data["item_factors"],
                       popular={k: p.tolist() for k, p in zip(keys, parts)},
                       durable_categories=set(data["durable"].tolist()), params=params)


# --- fitting --------------------------------------------------------------------------------------------------

def _top_k(matrix: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k largest entries: (column indexes padded with -1, their values), best first (ties by column)."""
    n = matrix.shape[0]
    index = np.full((n, k), -1, dtype=np.int32)
    score = np.zeros((n, k), dtype=np.float32)
    for row in range(n):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if start == end:
            continue
        cols, vals = matrix.indices[start:end], matrix.data[start:end]
        order = np.lexsort((cols, -vals))[:k]
        index[row, :len(order)] = cols[order]
        score[row, :len(order)] = vals[order]
    return index, score


def copurchase_lift(baskets: pd.DataFrame, n_products: int, position: dict[int, int],
                    min_pair: int = MIN_PAIR_BASKETS) -> sp.csr_matrix:
    """Lift of every pair of products seen together in at least `min_pair` baskets (rows and columns are product
    positions; the diagonal is empty)."""
    orders = pd.factorize(baskets["order_id"])[0]
    cols = baskets["product_id"].map(position).to_numpy()
    basket_matrix = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (orders, cols)),
                                  shape=(orders.max() + 1 if len(orders) else 0, n_products))
    basket_matrix.data[:] = 1.0  # a product twice in one order counts once
    n_baskets = basket_matrix.shape[0]
    together = (basket_matrix.T @ basket_matrix).tocoo()
    counts = np.asarray(basket_matrix.sum(axis=0)).ravel()
    keep = (together.row != together.col) & (together.data >= min_pair)
    rows, columns, n_ab = together.row[keep], together.col[keep], together.data[keep]
    lift = n_ab * n_baskets / (counts[rows] * counts[columns])
    return sp.csr_matrix((lift.astype(np.float32), (rows, columns)), shape=(n_products, n_products))


def sequences(baskets: pd.DataFrame, n_products: int, position: dict[int, int], days: int = SEQUENCE_DAYS,
              min_members: int = MIN_SEQUENCE) -> sp.csr_matrix:
    """P(b | a): of the members who bought a, the share who first bought b on a later day within `days` of their
    first a (pairs with fewer than `min_members` such members left out)."""
    firsts = (baskets.assign(day=pd.to_datetime(baskets["placed_at"]).dt.normalize())
              .groupby(["member_id", "product_id"], as_index=False)["day"].min())
    pairs = firsts.merge(firsts, on="member_id", suffixes=("_a", "_b"))
    pairs = pairs[(pairs["product_id_a"] != pairs["product_id_b"]) & (pairs["day_b"] > pairs["day_a"])
                  & (pairs["day_b"] - pairs["day_a"] <= timedelta(days=days))]
    counted = pairs.groupby(["product_id_a", "product_id_b"]).size().reset_index(name="members")
    counted = counted[counted["members"] >= min_members]
    buyers = firsts.groupby("product_id").size()
    share = counted["members"] / counted["product_id_a"].map(buyers)
    rows = counted["product_id_a"].map(position).to_numpy()
    cols = counted["product_id_b"].map(position).to_numpy()
    return sp.csr_matrix((share.to_numpy(dtype=np.float32), (rows, cols)), shape=(n_products, n_products))


def popularity(baskets: pd.DataFrame, position: dict[int, int], *, k: int = 50,
               days: int = POPULAR_DAYS) -> dict[str, list[int]]:
    """Best sellers (baskets containing the product) over the last `days` days of the data: per store, per store
    and category, per category and for the chain; product positions, best first (ties by position)."""
    if baskets.empty:
        return {}
    placed = pd.to_datetime(baskets["placed_at"])
    recent = baskets[placed >= placed.max() - timedelta(days=days)].assign(
        pos=lambda f: f["product_id"].map(position))

    counts = recent.groupby(["store_id", "category_id", "pos"]).size().reset_index(name="n")

    def ranked(frame: pd.DataFrame, by: list[str], limit: int) -> dict[tuple, list[int]]:
        totals = frame.groupby([*by, "pos"], as_index=False)["n"].sum()
        totals = totals.sort_values([*by, "n", "pos"], ascending=[True] * len(by) + [False, True])
        top = totals.groupby(by, sort=False).head(limit)
        return {key if isinstance(key, tuple) else (key,): group["pos"].astype(int).tolist()
                for key, group in top.groupby(by, sort=False)}

    out = {"all": ranked(counts.assign(_all=0), ["_all"], k)[(0,)]}
    for (store,), positions in ranked(counts, ["store_id"], k).items():
        out[f"store:{int(store)}"] = positions
    for (store, category), positions in ranked(counts, ["store_id", "category_id"], 10).items():
        out[f"store:{int(store)}:cat:{int(category)}"] = positions
    for (category,), positions in ranked(counts, ["category_id"], k).items():
        out[f"cat:{int(category)}"] = positions
    return out


def durable_categories(baskets: pd.DataFrame, *, share: float = DURABLE_REPEAT_SHARE,
                       min_buyers: int = DURABLE_MIN_BUYERS) -> set[int]:
    """Categories whose buyers hardly ever buy the same product again on another day."""
    days = baskets.assign(day=pd.to_datetime(baskets["placed_at"]).dt.normalize())
    per = days.groupby(["category_id", "member_id", "product_id"])["day"].nunique().reset_index(name="days")
    stats = per.groupby("category_id").agg(buyers=("member_id", "nunique"), pairs=("days", "size"),
                                           repeats=("days", lambda d: int((d > 1).sum())))
    durable = stats[(stats["buyers"] >= min_buyers) & (stats["repeats"] / stats["pairs"] < share)]
    return {int(c) for c in durable.index}


def als_factors(interactions: pd.DataFrame, n_products: int, position: dict[int, int], *, factors: int = FACTORS,
                iterations: int = ITERATIONS, regularization: float = REGULARIZATION, alpha: float = ALPHA,
                seed: int = 0) -> np.ndarray:
    """Item factors of implicit's ALS on member × product confidences (1 + alpha · weight)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    members = pd.factorize(interactions["member_id"])[0]
    cols = interactions["product_id"].map(position).to_numpy()
    matrix = sp.csr_matrix((interactions["weight"].to_numpy(dtype=np.float32), (members, cols)),
                           shape=(members.max() + 1 if len(members) else 0, n_products))
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its BLAS-threads advice: threadpool_limits does it
        model = AlternatingLeastSquares(factors=factors, iterations=iterations, regularization=regularization,
                                        alpha=alpha, random_state=seed, num_threads=0)
        model.fit(matrix, show_progress=False)
    return np.ascontiguousarray(model.item_factors, dtype=np.float32)


def als_params(params: dict) -> dict:
    """ALS's hyper-parameters for fit() from a dict holding some of them (a model's params, tune_als's choice):
    factors, regularization and alpha, learn's defaults for the ones missing."""
    return {"factors": int(params.get("factors", FACTORS)),
            "regularization": float(params.get("regularization", REGULARIZATION)),
            "alpha": float(params.get("alpha", ALPHA))}


def fit(tables: TrainingTables, *, factors: int = FACTORS, iterations: int = ITERATIONS,
        regularization: float = REGULARIZATION, alpha: float = ALPHA, seed: int = 0, progress=None) -> RecommendModel:
    """All four models on these baskets and interactions. Raises NotEnoughData when there is nothing to learn."""
    baskets, interactions = tables.baskets, tables.interactions
    n_baskets = baskets["order_id"].nunique() if len(baskets) else 0
    catalogue = tables.products if tables.products is not None else pd.DataFrame(columns=["product_id", "category_id"])
    known = pd.concat([baskets[["product_id", "category_id"]], interactions[["product_id"]].assign(category_id=None),
                       catalogue[["product_id", "category_id"]]])
    categories = known.dropna(subset=["category_id"]).drop_duplicates("product_id").set_index("product_id")["category_id"]
    product_ids = np.array(sorted(set(known["product_id"].dropna().astype(int))), dtype=np.int64)
    if n_baskets < MIN_BASKETS or len(product_ids) < MIN_PRODUCTS:
        raise NotEnoughData("not_enough_purchases", {"baskets": int(n_baskets), "products": len(product_ids)})
    position = {int(p): i for i, p in enumerate(product_ids.tolist())}
    category_of = np.array([int(categories.get(p, -1)) for p in product_ids.tolist()], dtype=np.int64)
    step = progress or (lambda name: None)
    step("copurchase")
    pair_index, pair_score = _top_k(copurchase_lift(baskets, len(product_ids), position), NEIGHBOURS)
    step("sequence")
    next_index, next_score = _top_k(sequences(baskets, len(product_ids), position), NEIGHBOURS)
    step("als")
    item_factors = als_factors(interactions, len(product_ids), position, factors=factors, iterations=iterations,
                               regularization=regularization, alpha=alpha, seed=seed)
    step("popular")
    return RecommendModel(
        product_ids=product_ids, category_of=category_of, pair_index=pair_index, pair_score=pair_score,
        next_index=next_index, next_score=next_score, item_factors=item_factors,
        popular=popularity(baskets, position), durable_categories=durable_categories(baskets),
        params={"factors": float(factors), "iterations": float(iterations), "regularization": regularization,
                "alpha": alpha})
