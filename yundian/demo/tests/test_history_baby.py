"""The history's parents (history_baby.parent_trips): a share of the members buy the formula stage and nappy size
for their baby's age on a two-to-four-week cadence, move up at the right age, buy complements in a later basket
and durable goods once; the same seed gives the same trips. Pure: no database."""
import random
from datetime import date, timedelta
from statistics import median
from types import SimpleNamespace

from yundian.demo.generators import catalog, history_baby
from yundian.demo.generators.history import MemberInfo, SkuInfo

DAYS = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]


def _world():
    members = [MemberInfo(id=i, home_id=1, guide_id=None, multiplier=1, principal=0, bonus=0, size="M", shoe="40",
                          online=0.2, channel="pos") for i in range(2000)]
    baby = {}
    for n, (key, name, _brand, cat, yuan, options) in enumerate(catalog.BABY):
        baby[key] = [SkuInfo(id=100 * n + v, code=f"B{n}-{v}", name=name, price=yuan * 100, category_id=n, cat=cat,
                             top="BAB", product_id=n, weighed=False, size="") for v in range(len(options))]
    key_of = {sku.id: key for key, skus in baby.items() for sku in skus}
    return members, baby, key_of


def _by_parent(trips, key_of):
    out = {}
    for index, day in enumerate(trips):
        for member, lines in day:
            out.setdefault(member.id, []).append((index, [key_of[line.sku.id] for line in lines]))
    return out


def test_parents_follow_their_babys_stages_on_a_cadence_and_buy_complements_later():
    members, baby, key_of = _world()
    parents = _by_parent(history_baby.parent_trips(random.Random(1), DAYS, members, baby, make_line=SimpleNamespace), key_of)

    assert 0.10 <= len(parents) / len(members) <= 0.16
    gaps, moved_up, bottle_after_formula, bottles = [], 0, 0, 0
    for trips in parents.values():
        days = [d for d, _keys in trips]
        gaps += [b - a for a, b in zip(days, days[1:])]
        stages = [k[-3] for _d, keys in trips for k in keys if k.startswith("formula")]
        sizes = ["SMLX".index(k.split("-")[1][0]) for _d, keys in trips for k in keys if k.startswith("nappy")]
        assert stages == sorted(stages) and sizes == sorted(sizes)  # never back to an earlier stage or size
        assert len({k[-1] for _d, keys in trips for k in keys if k.startswith("formula")}) == 1  # one brand
        moved_up += len(set(stages)) > 1
        owned = [k for _d, keys in trips for k in keys if k in history_baby.DURABLE]
        assert len(owned) == len(set(owned))  # a bottle, a cup, a pram: bought once
        for n, (_d, keys) in enumerate(trips):
            if "bottle" in keys:
                bottles += 1
                bottle_after_formula += n > 0 and "formula" in " ".join(trips[n - 1][1])
    assert min(gaps) >= 7 and 14 <= median(gaps) <= 28
    assert moved_up >= len(parents) // 3  # a year moves many babies to the next stage
    assert bottles > 0 and bottle_after_formula == bottles  # the bottle comes in the basket after the formula


def test_the_same_seed_gives_the_same_trips():
    members, baby, key_of = _world()

    def trips(seed):
        return _by_parent(history_baby.parent_trips(random.Random(seed), DAYS, members, baby, make_line=SimpleNamespace), key_of)

    assert trips(4) == trips(4)
    assert trips(4) != trips(5)
