"""Suppliers step: the chain's suppliers and what each charges for the catalogue's SKUs.

Shape at scale s (K = the catalogue's SKUs; 0 without a catalogue step):

    suppliers            6       textiles, shoes, home goods, fresh produce, daily goods, a general wholesaler
    supplier_prices      K + ceil(K / 3)    every SKU from its preferred supplier (by category), every third
                                             SKU also from the wholesaler or the daily-goods supplier (by turns)
                                             at 3-8 % more

A SKU's purchase cost is its list price times a share drawn per SKU (40-65 %), rounded to 10 fen. The stock
step receives opening stock at these costs and the history prices its replenishment from them, so stock
valuation and gross margin have real figures. Draws come from this step's own random stream.
"""
import math

from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

SUPPLIERS = [
    # code, name, contact, phone, payment terms, lead time (days), category code prefixes it supplies
    ("SUP-TEX", "杭州锦绣纺织品有限公司", "陈经理", "0571-8802 3316", "monthly", 5, ("APP",)),
    ("SUP-SHO", "泉州步步高鞋业供应链", "林主管", "0595-2236 7710", "net_30", 7, ("SHO",)),
    ("SUP-HOM", "宁波家和家居用品有限公司", "王经理", "0574-8766 1290", "net_30", 4, ("HOM",)),
    ("SUP-FRS", "山东鲜丰农产品合作社", "刘站长", "0535-6612 0087", "on_delivery", 1, ("FRS",)),
    ("SUP-DLY", "上海日日新日化贸易", "赵经理", "021-5488 3021", "net_60", 3, ()),
    ("SUP-GEN", "义乌万通综合批发", "周老板", "0579-8551 6620", "prepaid", 6, ()),
]
GENERAL, DAILY = "SUP-GEN", "SUP-DLY"
LABELS = {"suppliers": _("suppliers"), "supplier_prices": _("supplier prices")}


def _catalogue_skus(scale: int) -> int:
    from . import STEPS

    if not any(step.name == "catalog" for step in STEPS()):
        return 0
    from .catalog import counts_for as catalog_counts

    return catalog_counts(scale)["skus"]


def counts_for(scale: int) -> dict[str, int]:
    skus = _catalogue_skus(scale)
    return {"suppliers": len(SUPPLIERS), "supplier_prices": skus + math.ceil(skus / 3)}


def run(ctx: SeedContext) -> None:
    from yundian.catalog.models import Sku
    from yundian.inventory.models import Supplier, SupplierPrice

    rng, enterprise = ctx.rng, ctx.enterprise
    suppliers = Supplier.objects.bulk_create([
        Supplier(enterprise=enterprise, code=code, name=name, contact_name=contact, phone=phone,
                 payment_terms=terms, lead_time_days=lead) for code, name, contact, phone, terms, lead, _p in SUPPLIERS])
    by_code = {s.code: s for s in suppliers}
    ids = [s.pk for s in ctx.created.get("skus") or []]
    rows = Sku.objects.filter(pk__in=ids).order_by("id").values_list("id", "base_price", "product__category__code")
    prices, costs = [], {}
    for index, (sku_id, price, category) in enumerate(rows):
        cost = max(10, round(price * rng.uniform(0.40, 0.65) / 10) * 10)
        costs[sku_id] = cost
        code = next((c for c, *_r, prefixes in SUPPLIERS if any((category or "").startswith(p) for p in prefixes)),
                    DAILY if index % 2 else GENERAL)
        preferred = by_code[code]
        prices.append(SupplierPrice(enterprise=enterprise, supplier=preferred, sku_id=sku_id, unit_cost=cost,
                                    lead_time_days=preferred.lead_time_days, is_preferred=True))
        if index % 3 == 0:  # every third SKU also from a second supplier, the wholesaler and daily goods by turns
            second = by_code[GENERAL if (index // 3) % 2 == 0 else DAILY]
            if second.code == code:
                second = by_code[DAILY if code == GENERAL else GENERAL]
            prices.append(SupplierPrice(enterprise=enterprise, supplier=second, sku_id=sku_id,
                                        unit_cost=round(cost * rng.uniform(1.03, 1.08)),
                                        lead_time_days=second.lead_time_days))
    SupplierPrice.objects.bulk_create(prices, batch_size=2000)
    ctx.created.update({"suppliers": suppliers, "purchase_costs": costs})
    ctx.counts.update({"suppliers": len(suppliers), "supplier_prices": len(prices)})


step = Step(name="suppliers", shape=counts_for, run=run, labels=LABELS)
