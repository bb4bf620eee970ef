"""Stock step: warehouses, opening stock, replenishment rules and half a year of daily sales history.

Shape at scale s (S = 5 s + 1 stores from the org step; K = 24 stocked SKUs):

    warehouses              S + 2        one per store, a central and a virtual (online) warehouse at HQ
    stock_balances          (S + 1) K    every store and the central warehouse stock every SKU
    replenishment_rules     S K          one per store and SKU, ordering from the central warehouse
    sales_history_series    12 H         H = min(S, 8) stores get 182 days of daily sales of 12 SKUs each
    stock_demo_skus         24 or 0      SKUs this step creates itself when no catalogue step ran before it
                                         (else it stocks 24 non-weighed catalogue SKUs spread over the range)
    purchase_orders         6 or 0       a draft order to each supplier for the central warehouse, its lines
                                         priced from the supplier's prices (when the suppliers step priced SKUs)

Receipts come in at the SKU's purchase cost (the preferred supplier's price, from the suppliers step) and sales
leave at the moving-average cost, so every move and balance carries its value like the ledger services write.

Sales history (what `yundian replenishment-backtest` replays) is drawn per (store, SKU) from a demand model
with the patterns a chain sees: a base rate (log-normal: a few fast movers, many slow), one of four shapes
(seasonal swing, rising, fading, steady), a weekday pattern (weekends busier), one three-day promotion spike,
and Poisson noise. The history has no stock-outs: weekly receipts bring each shelf up to the next week's
demand plus a buffer, so every sale is a real demand observation. Every stock change is a StockMove and
every balance is their sum, so `yundian check-ledgers` holds on a fresh demo.
"""
import math
import random
from datetime import datetime, time, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step
from . import history_sql as sql
from .history_model import poisson

K_SKUS = 24
HISTORY_SKUS = 12
HISTORY_STORES = 8
HISTORY_DAYS = 182
WEEKDAY = [0.85, 0.85, 0.9, 0.95, 1.1, 1.35, 1.3]  # Monday .. Sunday
SHAPES = ["seasonal", "rising", "fading", "steady"]
BATCH = 2000

LABELS = {
    "warehouses": _("warehouses"),
    "stock_balances": _("stock balances"),
    "replenishment_rules": _("replenishment rules"),
    "sales_history_series": _("sales history series (store x SKU, 182 days)"),
    "stock_demo_skus": _("SKUs created by the stock step"),
    "purchase_orders": _("purchase orders priced from supplier prices"),
}


def _catalogue_step_runs() -> bool:
    from . import STEPS

    return any(step.name == "catalog" for step in STEPS())


def counts_for(scale: int) -> dict[str, int]:
    stores = 5 * scale + 1
    return {
        "warehouses": stores + 2,
        "stock_balances": (stores + 1) * K_SKUS,
        "replenishment_rules": stores * K_SKUS,
        "sales_history_series": HISTORY_SKUS * min(stores, HISTORY_STORES),
        "stock_demo_skus": 0 if _catalogue_step_runs() else K_SKUS,
        "purchase_orders": 6 if _catalogue_step_runs() else 0,
    }


def demand_series(rng: random.Random, days: int, start_weekday: int = 0) -> list[int]:
    """Daily units demanded for one SKU in one store (see the module docstring)."""
    base = rng.lognormvariate(1.0, 0.7)
    shape = rng.choice(SHAPES)
    phase = rng.uniform(0, 2 * math.pi)
    growth, decline = rng.uniform(0.5, 1.2), rng.uniform(0.3, 0.6)
    promo_day, promo = rng.randrange(days // 3, days - 14), rng.uniform(0.8, 2.0)
    out = []
    for day in range(days):
        x = day / days
        level = {"seasonal": 1 + 0.6 * math.sin(3 * math.pi * x + phase), "rising": 1 + growth * x,
                 "fading": 1 - decline * x, "steady": 1.0}[shape]
        lam = base * level * WEEKDAY[(start_weekday + day) % 7]
        if promo_day <= day < promo_day + 3:
            lam *= 1 + promo
        out.append(poisson(rng, lam))
    return out


def _demo_skus(ctx: SeedContext) -> list:
    from yundian.catalog.models import Category, Product, Sku

    enterprise = ctx.enterprise
    category = Category.objects.create(enterprise=enterprise, name="日用百货", code="STK-DAILY", path="", depth=0)
    Category.objects.filter(pk=category.pk).update(path=f"/{category.pk}/")
    names = ["矿泉水", "纸巾", "牙膏", "洗发水", "沐浴露", "洗衣液", "保鲜袋", "电池", "毛巾", "袜子", "T恤", "拖鞋",
             "雨伞", "水杯", "饼干", "方便面", "牛奶", "酸奶", "咖啡", "茶叶", "巧克力", "坚果", "果汁", "口香糖"]
    products = Product.objects.bulk_create([Product(enterprise=enterprise, category=category, code=f"STK-P{i:03d}",
                                                    name=name) for i, name in enumerate(names, start=1)])
    # prices from a stream of their own, so the sales history drawn next is the same with or without a catalogue
    prices = random.Random(f"{ctx.seed}:stock:prices")
    return Sku.objects.bulk_create([
        Sku(enterprise=enterprise, product=p, code=f"STK-{i:03d}", name=p.name, base_price=prices.randrange(300, 9900, 100))
        for i, p in enumerate(products, start=1)])


def _supplier_orders(ctx: SeedContext, central, skus: list) -> list:
    """A draft order to each supplier for the central warehouse: up to three of the SKUs it is preferred for (the
    stocked ones first), each line priced by the service from the supplier's price."""
    from yundian.inventory.models import SupplierPrice
    from yundian.inventory.services import purchase_order_create

    stocked = {s.pk for s in skus}
    orders = []
    for supplier in ctx.created.get("suppliers") or []:
        priced = sorted(SupplierPrice.objects.filter(supplier=supplier).values_list("sku_id", "is_preferred"),
                        key=lambda row: (row[0] not in stocked, not row[1], row[0]))[:3]
        if not priced:
            continue
        orders.append(purchase_order_create(
            actor=None, enterprise_id=ctx.enterprise.pk, warehouse_id=central.pk, supplier_id=supplier.pk,
            lines=[(sku_id, 60 + 20 * index) for index, (sku_id, _preferred) in enumerate(priced)],
            note=str(_("Monthly restock"))))
    return orders


def run(ctx: SeedContext) -> None:
    from yundian.inventory.models import (MoveKind, ReplenishmentRule, StockBalance, StockMove, Warehouse,
                                          WarehouseKind)
    from yundian.inventory.replenishment import Policy, minmax_from_history
    from yundian.inventory.services.ledger import share

    rng, enterprise, hq, stores = ctx.rng, ctx.enterprise, ctx.created["hq"], ctx.created["stores"]
    # K SKUs spread over the catalogue (not sold by weight); a catalogue of our own when there is none
    baby = {p.pk for p in (ctx.created.get("baby_products") or {}).values()}  # the 母婴 range: history-only
    skus = [s for s in ctx.created.get("skus") or [] if not s.is_weighed and s.product_id not in baby]
    created_skus = 0
    if len(skus) < K_SKUS:
        skus = _demo_skus(ctx)
        created_skus = len(skus)
    skus = skus[::len(skus) // K_SKUS][:K_SKUS]

    central = Warehouse(enterprise=enterprise, node=hq, kind=WarehouseKind.CENTRAL, code="CW-HQ", name="总仓")
    virtual = Warehouse(enterprise=enterprise, node=hq, kind=WarehouseKind.VIRTUAL, code="VW-HQ", name="线上云仓")
    store_whs = [Warehouse(enterprise=enterprise, node=store, kind=WarehouseKind.STORE, code=f"WH-{store.code}",
                           name=f"{store.name}仓") for store in stores]
    Warehouse.objects.bulk_create([central, virtual, *store_whs], batch_size=BATCH)

    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    first_day = today - timedelta(days=HISTORY_DAYS)

    def at(day, hour, minute=0):
        return timezone.make_aware(datetime.combine(day, time(hour, minute)), tz)

    moves: list = []
    on_hand: dict[tuple[int, int], int] = {}
    value: dict[tuple[int, int], int] = {}
    rules: list = []
    costs = ctx.created.get("purchase_costs") or {}

    adapt = connection.ops.adapt_datetimefield_value

    def move(sku, wh, kind, quantity, when, source_type, source_id):
        key = (sku.pk, wh.pk)
        held, units = value.get(key, 0), on_hand.get(key, 0)
        if quantity > 0:
            change = quantity * costs.get(sku.pk, 0)
        else:  # moving average; the last unit takes what is left
            change = -held if units + quantity <= 0 else -share(held, -quantity, units)
        moves.append((enterprise.pk, sku.pk, wh.pk, kind, quantity, 0, source_type, source_id, "", adapt(when), change))
        on_hand[key] = units + quantity
        value[key] = held + change

    opening = at(first_day - timedelta(days=1), 8)
    for sku in skus:
        move(sku, central, MoveKind.RECEIPT, rng.randrange(2000, 6000, 100), opening, "demo_opening", "central")

    history_stores = set(range(min(len(store_whs), HISTORY_STORES)))
    series = 0
    for index, wh in enumerate(store_whs):
        history_skus = set(rng.sample(range(len(skus)), HISTORY_SKUS)) if index in history_stores else set()
        for k, sku in enumerate(skus):
            policy = Policy()
            if k in history_skus:
                demand = demand_series(rng, HISTORY_DAYS, first_day.weekday())
                series += 1
                stock = 0
                for day_index, units in enumerate(demand):
                    day = first_day + timedelta(days=day_index)
                    if day_index % 7 == 0:  # weekly delivery: next week's demand plus a buffer, so no stock-outs
                        need = sum(demand[day_index:day_index + 7]) + 5 + sum(demand[day_index:day_index + 7]) // 3
                        if need > stock:
                            move(sku, wh, MoveKind.RECEIPT, need - stock, at(day, 8), "demo_history", "weekly")
                            stock = need
                    if units:
                        move(sku, wh, MoveKind.SALE_ISSUE, -units, at(day, 10 + rng.randrange(11), rng.randrange(60)),
                             "demo_history", f"{wh.code}-{day_index}")
                        stock -= units
                frozen = minmax_from_history(demand[-56:], policy)
                low, high = frozen.min_quantity, frozen.max_quantity
            else:
                quantity = rng.randrange(5, 60)
                move(sku, wh, MoveKind.RECEIPT, quantity, at(today - timedelta(days=30), 8), "demo_opening", wh.code)
                low, high = quantity // 3, quantity
            rules.append(ReplenishmentRule(enterprise=enterprise, warehouse=wh, sku=sku, source_warehouse=central,
                                           min_quantity=low, max_quantity=max(high, low)))
    # the history is ~180 rows per series: a plain executemany, as the ORM's per-object insert compile is the
    # slow part of seeding (same columns and values the ledger services write)
    sql.insert(StockMove, ["enterprise", "sku", "warehouse", "kind", "quantity", "reserved_delta", "source_type",
                           "source_id", "reason", "occurred_at", "value"], moves)
    StockBalance.objects.bulk_create([StockBalance(sku_id=s, warehouse_id=w, on_hand=q, value=value[(s, w)])
                                      for (s, w), q in sorted(on_hand.items())], batch_size=BATCH)
    ReplenishmentRule.objects.bulk_create(rules, batch_size=BATCH)
    orders = _supplier_orders(ctx, central, skus) if _catalogue_step_runs() else []

    ctx.created.update({"warehouses": [central, virtual, *store_whs], "central_warehouse": central})
    ctx.counts.update({"warehouses": 2 + len(store_whs), "stock_balances": len(on_hand),
                       "replenishment_rules": len(rules), "sales_history_series": series,
                       "stock_demo_skus": created_skus, "purchase_orders": len(orders)})


step = Step(name="stock", shape=counts_for, run=run, labels=LABELS)
