"""A small chain with goods, stock and a trained model whose answers are known.

Goods (catalog test factories): tee (apparel, sizes S/M), mug, apples (weighed, no stock anywhere) and a pan that only
the central warehouse holds (the storefront may ship it, store A's shelf has none). The model learns from synthetic
baskets at store A: 30 × tee + mug, 20 × tee + apples, 15 × tee + pan, 20 × mug alone, so for a tee
lift(pan) = 15·85/(65·15) = 1.31 > lift(mug) = 30·85/(65·50) = 0.78; every tee buyer buys once (tees are durable),
mug buyers come back for another mug (not durable).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from yundian.catalog import services as catalog_services
from yundian.catalog.models import Sku
from yundian.inventory.tests.factories import put
from yundian.recommend import learn
from yundian.recommend.services import recommend_train
from yundian.sales.tests.factories import stocked


@dataclass
class World:
    chain: object
    stock: object
    tee: object
    mug: object
    apples: object
    pan: object
    pan_sku: object


def make_world() -> World:
    from yundian.org.tests.factories import make_chain

    chain = make_chain()
    stock = stocked(chain)
    cat = stock.cat
    pan = catalog_services.product_create(actor=chain.admin, code="PAN-1", name="不粘炒锅", category_id=cat.household.id,
                                          skus=[{"code": "PAN-1", "base_price": 15900}])
    pan_sku = Sku.objects.get(code="PAN-1")
    put(stock, stock.central, pan_sku, 5)
    return World(chain, stock, cat.tee, cat.mug, cat.apples, pan, pan_sku)


def world_tables(world: World, *, start: datetime = datetime(2026, 9, 1, 10)) -> learn.TrainingTables:
    tee, mug, apples, pan = world.tee, world.mug, world.apples, world.pan
    groups = [([tee, mug], 30), ([tee, apples], 20), ([tee, pan], 15), ([mug], 20)]
    rows, order = [], 0
    for products, count in groups:
        for i in range(count):
            order += 1
            member = 5000 + order if tee in products else 9000 + i % 5  # mug-only buyers come back
            day = order % 60 if tee in products else 30 + i * 3 // 2  # and keep coming in the last weeks
            for product in products:
                rows.append({"order_id": order, "member_id": member, "store_id": world.chain.store_a.pk,
                             "product_id": product.pk, "category_id": product.category_id,
                             "placed_at": start + timedelta(days=day, hours=i % 8)})
    baskets = pd.DataFrame(rows)
    interactions = baskets.assign(weight=4.0).groupby(["member_id", "product_id"], as_index=False)["weight"].sum()
    return learn.TrainingTables(baskets=baskets, interactions=interactions)


def train_world(world: World):
    return recommend_train(enterprise_id=world.chain.admin.enterprise_id, tables=world_tables(world), timed=None)
