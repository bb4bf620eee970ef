"""Parents on a life-stage schedule: the 母婴 department's buyers in `seed --history` (what the recommendations'
life-stage sequences and co-purchase models learn).

A share of the members (PARENT_SHARE) have a baby whose age advances through the history (some are born during
it). Every two to four weeks (a cadence of their own, a few days either way) they come for the consumables the
baby's age calls for: the formula stage (1段 to six months, 2段 to a year, 3段 after) in the brand they chose, and
the nappy size (S, M, L, then XL pull-ups). They move to the next stage or size at the age it is for, so a stage-1
buyer's later baskets hold stage 2 and size M. Complements come in the following basket: a bottle after the first
formula, hand wipes after nappies (sometimes with them), a sippy cup after the first stage-2 or stage-3 formula, a
pram (one of three price points) for a young baby; durable goods are bought once. After each trip there is a small
chance the parent stops buying here. Formula ends at three years, nappies a little before.

Pure: draws from the stream it is given; `parent_trips` returns each day's (member, lines) for history._plan,
which places them as orders with their own stream, so the rest of the history is drawn as without parents.
"""
import random

PARENT_SHARE = 0.13
CADENCE_DAYS = (14, 28)  # a parent's usual days between trips (uniform across parents), each trip +- 3 days
FIRST_AGE = (-150, 600)  # the baby's age in days on the history's first day (negative: born during the history)
FORMULA_STAGES = [(183, "1"), (365, "2"), (1095, "3")]  # (age in days it lasts until, stage)
NAPPY_SIZES = [(92, "S"), (214, "M"), (400, "L"), (1000, "XL")]
BRAND_B = 0.45  # share of parents on the organic (dearer) formula brand
PRAMS = (("pram-1", 0.35), ("pram-2", 0.45), ("pram-3", 0.20))
LAPSE = 0.012  # chance after a trip of never buying baby goods here again
NEXT_TRIP = {"bottle": 0.7, "wipes": 0.55, "cup": 0.6, "pram": 0.55}  # complements in the following basket
WIPES_WITH_NAPPIES = 0.3
WASH = 0.1
DURABLE = {"bottle", "cup", "pram-1", "pram-2", "pram-3"}


def _for_age(table: list[tuple[int, str]], age: int) -> str | None:
    return next((value for until, value in table if age < until), None)


def _quantity(rng: random.Random, key: str) -> int:
    if key.startswith("formula"):
        return rng.choices((1, 2, 3), weights=(50, 38, 12))[0]
    if key.startswith("nappy"):
        return rng.choices((1, 2), weights=(60, 40))[0]
    if key == "wipes":
        return rng.choices((1, 2), weights=(75, 25))[0]
    return 1


def parent_trips(rng: random.Random, days: list, members: list, baby: dict[str, list], *,
                 make_line) -> list[list[tuple]]:
    """Per day index, the (member, lines) of the parents' baby-goods trips that day; `baby` maps a life-stage
    key (catalog.BABY) to its SkuInfos, `make_line(sku=…, quantity=…)` makes a basket line (history.Line)."""
    out: list[list[tuple]] = [[] for _d in days]
    for member in members:
        if rng.random() >= PARENT_SHARE:
            continue
        age0 = rng.randint(*FIRST_AGE)
        brand = "b" if rng.random() < BRAND_B else "a"
        cadence = rng.uniform(*CADENCE_DAYS)
        pram = rng.choices([p for p, _w in PRAMS], weights=[w for _p, w in PRAMS])[0]
        day = max(0, -age0) + rng.randrange(int(cadence))
        owned: set[str] = set()
        pending: list[str] = []
        stages_seen: set[str] = set()
        while day < len(days):
            age = day + age0
            stage, size = _for_age(FORMULA_STAGES, age), _for_age(NAPPY_SIZES, age)
            if stage is None:
                break
            keys = [f"formula-{stage}-{brand}"]
            if size is not None:
                keys.append(f"nappy-{size}")
                if rng.random() < WIPES_WITH_NAPPIES:
                    keys.append("wipes")
            keys += pending
            if rng.random() < WASH:
                keys.append("wash")
            pending = []
            if "bottle" not in owned and age < 365 and rng.random() < NEXT_TRIP["bottle"]:
                pending.append("bottle")
            if size is not None and "wipes" not in keys and rng.random() < NEXT_TRIP["wipes"]:
                pending.append("wipes")
            if stage != "1" and stage not in stages_seen and "cup" not in owned and rng.random() < NEXT_TRIP["cup"]:
                pending.append("cup")
            if age < 240 and pram not in owned and rng.random() < NEXT_TRIP["pram"]:
                pending.append(pram)
            stages_seen.add(stage)
            lines = []
            for key in dict.fromkeys(k for k in keys if k in baby and k not in owned):
                lines.append(make_line(sku=rng.choice(baby[key]), quantity=_quantity(rng, key)))
                if key in DURABLE:
                    owned.add(key)
            out[day].append((member, lines))
            if rng.random() < LAPSE:
                break
            day += max(7, round(cadence + rng.uniform(-3, 3)))
    return out
