"""To-do step: a few documents waiting for someone, so each demo login's inbox (待办) has something to act on.
Created through the services by the demo store manager and a neighbouring store's manager. Needs the org,
catalog and stock steps; runs last.

Shape at any scale (fixed):

    todo_purchase_orders   1   the demo store orders two SKUs from HQ's central warehouse (awaits HQ or the region)
    todo_transfers         1   another store asks the demo store for units of a SKU (awaits the demo store manager)
    todo_adjustments       1   the demo store writes off damaged goods worth more than the approval threshold
                               (awaits the dealer, the region or HQ)
"""
import math

from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

LABELS = {"todo_purchase_orders": _("purchase orders awaiting approval"),
          "todo_transfers": _("transfers awaiting approval"),
          "todo_adjustments": _("adjustments awaiting approval")}


def counts_for(scale: int) -> dict[str, int]:
    return {"todo_purchase_orders": 1, "todo_transfers": 1, "todo_adjustments": 1}


def run(ctx: SeedContext) -> None:
    from yundian.inventory.models import StockBalance
    from yundian.inventory.services import (adjustment_create, purchase_order_create, purchase_order_submit,
                                            transfer_request)
    from yundian.inventory.services.counting import approval_threshold
    from yundian.org.models import RoleAssignment, Staff
    from yundian.org.roles import Role

    rng = ctx.rng
    manager = Staff.objects.select_related("home").get(enterprise=ctx.enterprise, user__username=f"{ctx.code}-manager")
    store_warehouses = {w.node_id: w for w in ctx.created["warehouses"] if w.kind == "store"}
    warehouse = store_warehouses[manager.home_id]
    neighbour = (RoleAssignment.objects.filter(role=Role.STORE_MANAGER, staff__enterprise=ctx.enterprise,
                                               node_id__in=list(store_warehouses))
                 .exclude(node_id=manager.home_id).select_related("staff").order_by("id").first())
    stocked = list(StockBalance.objects.filter(warehouse=warehouse, on_hand__gt=0, sku__is_weighed=False)
                   .select_related("sku").order_by("sku_id"))
    picks = rng.sample(stocked, 3)

    order = purchase_order_create(actor=manager, warehouse_id=warehouse.id,
                                  source_warehouse_id=ctx.created["central_warehouse"].id,
                                  lines=[{"sku_id": b.sku_id, "quantity": rng.choice((12, 24, 36))} for b in picks[:2]],
                                  note=str(_("Weekend restock")))
    purchase_order_submit(actor=manager, order_id=order.id)
    transfers = 0
    if neighbour is not None:
        transfer_request(actor=neighbour.staff, from_warehouse_id=warehouse.id,
                         to_warehouse_id=store_warehouses[neighbour.node_id].id,
                         lines=[(picks[2].sku_id, min(picks[2].on_hand, 4))], note=str(_("A customer is waiting")))
        transfers = 1
    # damaged goods worth just over the threshold: a write-off if the shelf holds enough, else a found-stock gain
    priciest = max(stocked, key=lambda b: (b.sku.base_price, b.sku_id))
    units = math.floor(approval_threshold() / priciest.sku.base_price) + 1
    damaged = units <= priciest.on_hand
    adjustment_create(actor=manager, warehouse_id=warehouse.id, reason="damaged" if damaged else "found",
                      lines=[(priciest.sku_id, -units if damaged else units)],
                      note=str(_("Water damage in the stock room")) if damaged else "")
    ctx.counts.update({"todo_purchase_orders": 1, "todo_transfers": transfers, "todo_adjustments": 1})


step = Step(name="todo", shape=counts_for, run=run, labels=LABELS)
