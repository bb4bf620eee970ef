"""Problems for the diagnosis to find in the demo history (besides history.py's declining store, stock-out store and
returns store), each in the last two weeks only, so `yundian diagnose --explain` has something believable to say:

- a guide's slump: at one store (not the till's demo store) the guide who sold most in the 4 weeks before closes no
  sale at all (their customers leave without buying): diagnosis names the guide and their follow-up task;
- phantom stock: at another store the best-selling SKU stops selling while the books still show it on the shelf
  (it went missing): the stock watch asks that store for a blind cycle count of it;
- a conversion drop: at a third store as many people as ever come through the door but only about half as many
  walk-in customers buy (a new competitor next door, or a floor left unstaffed): the door counter keeps counting
  them (history_events reads `conversion_store` / `conversion_keep`), so its sales and conversion fall out of
  their forecast band and the diagnosis names conversion as the driver for the store manager.
"""
from __future__ import annotations

import random

SLUMP_DAYS = 14
SLUMP_KEEP = 0.0
CONVERSION_KEEP = 0.5


def plant(plans: list, days: list, stores: list, problems: dict, rng: random.Random) -> list:
    """The history's order plans with the two problems planted; their stores and names go into `problems`."""
    taken = {problems.get(k) for k in ("declining_store", "stockout_store", "returns_store")}
    candidates = [s for s in stores[1:] if s.id not in taken and len(s.sellers) >= 2]
    if len(candidates) < 2 or len(days) < 8 * 7:
        return plans
    slump_store, phantom_store = candidates[0], candidates[-1]
    # the third may be the returns store (its returns are high all year, so they raise no finding of their own)
    others = [s for s in stores[1:] if s not in (slump_store, phantom_store)
              and s.id not in {problems.get("declining_store"), problems.get("stockout_store")}]
    conversion_store = others[0] if others else None
    first = len(days) - SLUMP_DAYS
    by_guide: dict[int, int] = {}
    for plan in plans:
        if plan.store is slump_store and plan.seller is not None and first - 28 <= plan.day < first:
            by_guide[plan.seller.id] = by_guide.get(plan.seller.id, 0) + 1
    guide = max(slump_store.sellers, key=lambda s: (by_guide.get(s.id, 0), -s.id))
    sold: dict[int, int] = {}
    for plan in plans:
        if plan.store is phantom_store and first - 28 <= plan.day < first:
            for line in plan.lines:
                if not line.sku.weighed:
                    sold[line.sku.id] = sold.get(line.sku.id, 0) + line.quantity
    if not sold:
        return plans
    phantom_sku = max(sold, key=lambda s: (sold[s], -s))
    problems.update({"slump_store": slump_store.id, "slump_guide": guide.id, "phantom_store": phantom_store.id,
                     "phantom_sku": phantom_sku})
    if conversion_store is not None:
        problems.update({"conversion_store": conversion_store.id, "conversion_keep": CONVERSION_KEEP,
                         "conversion_first_day": first})
    kept = []
    for plan in plans:
        if plan.day >= first:
            if plan.store is slump_store and plan.seller is guide and rng.random() > SLUMP_KEEP:
                continue
            if plan.store is phantom_store and any(line.sku.id == phantom_sku for line in plan.lines):
                continue
            if plan.store is conversion_store and plan.channel == "pos" and rng.random() > CONVERSION_KEEP:
                continue  # came in, looked, left without buying
        kept.append(plan)
    return kept
