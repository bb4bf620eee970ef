"""The back office shows stock documents read-only: each line's fields, its cost in yuan, and no way to change."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from yundian.inventory.models import PurchaseOrder
from yundian.inventory.services import purchase_order_create, supplier_create

from .factories import make_stock

pytestmark = pytest.mark.django_db


def test_a_purchase_orders_lines_show_read_only_with_their_cost_in_yuan(chain):
    stock = make_stock(chain)
    supplier = supplier_create(actor=chain.admin, code="SUP-1", name="Acme Textiles")
    order = purchase_order_create(actor=chain.admin, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 4, "unit_cost": 1250}])
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("back-office", "bo@example.com", "x-Pass-123"))
    page = client.get(f"/admin/inventory/purchaseorder/{order.id}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "TEE-001-S" in html and "¥12.50" in html
    assert 'name="lines-0-quantity"' not in html  # shown, not an input
    before = list(PurchaseOrder.objects.values_list("status", "supplier_id"))
    assert client.post(f"/admin/inventory/purchaseorder/{order.id}/change/", {"status": "closed"}).status_code == 403
    assert list(PurchaseOrder.objects.values_list("status", "supplier_id")) == before
