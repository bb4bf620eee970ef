"""Sales step: a commission plan and a store day of sales by several guides, rung up through the real services.

Shape at scale s (the first D = min(S, 3) stores of the org step, whatever the scale):

    commission_plans    1             an HQ plan: 3 % by default, 6 % on the busiest category, +2 % from 2,000 yuan
                                      of monthly sales
    orders              D x 40        today's sales of the store's manager and guides (mostly take-now, some
                                      pickup, delivery and ship-from-warehouse; a third with a member attached;
                                      cash, card, wallet and split tenders)
    returns             D x 2         partial returns against today's orders (stock, refund, points, commission back)

Everything goes through `order_create` / `return_create`, so stock, points and commission ledgers agree and
`yundian check-ledgers` holds. A store day is a demo of the till, not a volume generator: it does not grow with
the scale (order history at chain scale is bulk-loaded into the warehouse, not rung up one by one).
"""
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

STORES = 3
ORDERS_PER_STORE = 40
RETURNS_PER_STORE = 2
MODES = [("take_now", 30), ("pickup", 4), ("delivery", 3), ("ship_from_warehouse", 3)]
TENDERS = [("cash", 5), ("card", 3), ("wallet", 6), ("split", 2)]

LABELS = {
    "commission_plans": _("commission plans"),
    "orders": _("orders (a store day of sales)"),
    "returns": _("returns"),
}


def counts_for(scale: int) -> dict[str, int]:
    stores = min(5 * scale + 1, STORES)
    return {"commission_plans": 1, "orders": stores * ORDERS_PER_STORE, "returns": stores * RETURNS_PER_STORE}


def run(ctx: SeedContext) -> None:
    from django.db.models import Count, F, Sum

    from yundian.core.errors import DomainError
    from yundian.guides.services import commission_plan_create
    from yundian.inventory.models import StockBalance, Warehouse, WarehouseKind
    from yundian.members.models import Member, MemberStatus
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role
    from yundian.sales import services
    from yundian.sales.models import OrderLine

    rng, admin = ctx.rng, ctx.created["admin"]
    stores = list(ctx.created["stores"])[:STORES]
    counts = {"commission_plans": 0, "orders": 0, "returns": 0}
    if not stores:
        ctx.counts.update(counts)
        return
    store_whs = {w.node_id: w for w in Warehouse.objects.filter(node__in=stores, kind=WarehouseKind.STORE)}
    busiest = (StockBalance.objects.filter(warehouse__in=list(store_whs.values()), sku__product__category__isnull=False)
               .values("sku__product__category_id").annotate(n=Count("id")).order_by("-n").first())
    rules = [{"category_id": busiest["sku__product__category_id"], "rate": "0.06"}] if busiest else []
    commission_plan_create(actor=admin, node_id=ctx.created["hq"].pk, name=str(_("Standard commission")),
                           default_rate="0.03", rules=rules, tiers=[{"min_month_sales": 200_000, "bonus_rate": "0.02"}])
    counts["commission_plans"] = 1
    modes, mode_weights = zip(*MODES)
    tenders, tender_weights = zip(*TENDERS)
    for store in stores:
        wh = store_whs.get(store.pk)
        if wh is None:
            continue
        sellers = list(Staff.objects.filter(pk__in=RoleAssignment.objects.filter(
            node=store, role__in=[Role.GUIDE, Role.STORE_MANAGER]).values("staff_id")).order_by("id"))
        if not sellers:
            continue
        members = list(Member.objects.filter(home=store, status=MemberStatus.ACTIVE).order_by("id")[:30])
        # sell at most half of what is on the shelf of each SKU, so the day never runs a shelf empty
        shelf = {sku_id: (on_hand - reserved) // 2 for sku_id, on_hand, reserved in
                 StockBalance.objects.filter(warehouse=wh, on_hand__gt=F("reserved")).values_list(
                     "sku_id", "on_hand", "reserved").order_by("sku_id")}
        orders = []
        for n in range(ORDERS_PER_STORE):
            available = [s for s, q in shelf.items() if q > 0]
            if not available:
                break
            picked = rng.sample(available, k=min(len(available), rng.choice((1, 1, 2, 3))))
            lines = []
            for sku_id in picked:
                quantity = min(shelf[sku_id], rng.choice((1, 1, 1, 2, 3)))
                shelf[sku_id] -= quantity
                lines.append({"sku_id": sku_id, "quantity": quantity})
            mode = rng.choices(modes, weights=mode_weights)[0]
            tender = rng.choices(tenders, weights=tender_weights)[0]
            payments = ([{"method": "card", "client_ref": "card", "amount": 100}, {"method": "cash", "client_ref": "cash"}]
                        if tender == "split" else [{"method": tender, "client_ref": tender}])
            seller = rng.choice(sellers)
            member = rng.choice(members) if members and rng.random() < 0.35 else None
            args = dict(actor=seller, store_id=store.pk, client_ref=f"demo-{store.code}-{n:04d}", lines=lines,
                        member_id=member.pk if member else None, payments=payments)
            try:
                result = services.order_create(
                    **args, mode=mode, delivery={"address": "上海市黄浦区南京东路 1 号"} if mode == "delivery" else None)
            except DomainError:  # e.g. nothing in the pool above the store to ship from: sell it off the shelf
                result = services.order_create(**args)
            orders.append(result.order)
            counts["orders"] += 1
        taken_now = [o for o in orders if o.mode == "take_now" and o.status == "completed"]
        for order in rng.sample(taken_now, k=min(RETURNS_PER_STORE, len(taken_now))):
            line = OrderLine.objects.filter(order=order).order_by("line_no").first()
            services.return_create(actor=order.clerk, order_id=order.pk, client_ref=f"demo-return-{order.pk}",
                                   reason=str(_("Wrong size")), lines=[{"order_line_id": line.pk, "quantity": 1}])
            counts["returns"] += 1
    ctx.counts.update(counts)
    ctx.created["orders_today"] = OrderLine.objects.filter(order__store__in=stores).aggregate(n=Sum("quantity"))["n"]


step = Step(name="sales", shape=counts_for, run=run, labels=LABELS)
