"""Something waiting for each kind of approver, made through the services."""
import pytest

from yundian.core.errors import Forbidden
from yundian.inventory.services import (adjustment_create, purchase_order_create, purchase_order_submit,
                                        supplier_create, transfer_request)
from yundian.sales import services as sales
from yundian.sales.tests.factories import stocked


def make_waiting(chain) -> dict:
    """One of each: a supplier order from store A, a transfer store A -> B asked by B, an adjustment above the
    threshold at A, and a till price override at A waiting for a manager."""
    stock = stocked(chain)
    supplier = supplier_create(actor=chain.admin, code="SUP-1", name="Acme Textiles", lead_time_days=4)
    order = purchase_order_create(actor=chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 20, "unit_cost": 3000}])
    purchase_order_submit(actor=chain.manager_a, order_id=order.id)
    transfer = transfer_request(actor=chain.manager_b, from_warehouse_id=stock.wh_a.id,
                                to_warehouse_id=stock.wh_b.id, lines=[(stock.cat.tee_s.id, 2)])
    adjustment = adjustment_create(actor=chain.manager_a, warehouse_id=stock.wh_a.id, reason="lost",
                                   lines=[(stock.cat.tee_s.id, -8)])
    with pytest.raises(Forbidden) as refused:
        sales.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="till-1-1",
                           lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1, "unit_price": 5000}],
                           payments=[{"method": "cash", "client_ref": "c"}])
    assert refused.value.code == "approval_required" and adjustment.status == "pending"
    return {"stock": stock, "order": order, "transfer": transfer, "adjustment": adjustment,
            "approval_id": refused.value.details["approval_request_id"]}
