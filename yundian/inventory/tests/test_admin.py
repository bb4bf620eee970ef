"""The back office shows stock documents and supplier prices read-only: each line's fields, its cost in yuan, and
no way to change them (a supplier's price is set on the console, audited)."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from yundian.inventory.models import PurchaseOrder, SupplierPrice
from yundian.inventory.services import purchase_order_create, supplier_create, supplier_price_set

from .factories import make_stock

pytestmark = pytest.mark.django_db


def _back_office() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("back-office", "bo@example.com", "x-Pass-123"))
    return client


def test_a_purchase_orders_lines_show_read_only_with_their_cost_in_yuan(chain):
    stock = make_stock(chain)
    supplier = supplier_create(actor=chain.admin, code="SUP-1", name="Acme Textiles")
    order = purchase_order_create(actor=chain.admin, warehouse_id=stock.wh_a.id, supplier_id=supplier.id,
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 4, "unit_cost": 1250}])
    client = _back_office()
    page = client.get(f"/admin/inventory/purchaseorder/{order.id}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "TEE-001-S" in html and "¥12.50" in html
    assert 'name="lines-0-quantity"' not in html  # shown, not an input
    before = list(PurchaseOrder.objects.values_list("status", "supplier_id"))
    assert client.post(f"/admin/inventory/purchaseorder/{order.id}/change/", {"status": "closed"}).status_code == 403
    assert list(PurchaseOrder.objects.values_list("status", "supplier_id")) == before


def test_a_suppliers_prices_show_in_yuan_and_the_admin_cannot_change_them(chain):
    stock = make_stock(chain)
    supplier = supplier_create(actor=chain.admin, code="SUP-1", name="Acme Textiles")
    supplier_price_set(actor=chain.admin, supplier_id=supplier.id, sku_id=stock.cat.tee_s.id, unit_cost=820,
                       is_preferred=True)
    client = _back_office()
    html = client.get(f"/admin/inventory/supplier/{supplier.id}/change/").content.decode()
    assert "¥8.20" in html and 'name="prices-0-unit_cost"' not in html
    before = list(SupplierPrice.objects.values_list("sku_id", "unit_cost", "is_preferred"))
    saved = client.post(f"/admin/inventory/supplier/{supplier.id}/change/", {
        "code": "SUP-1", "name": "Acme Textiles", "payment_terms": "net_30", "lead_time_days": "3",
        "is_active": "on", "enterprise": str(chain.admin.enterprise_id),
        "prices-TOTAL_FORMS": "1", "prices-INITIAL_FORMS": "0", "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000", "prices-0-sku": str(stock.cat.tee_m.id), "prices-0-unit_cost": "1",
        "prices-0-lead_time_days": "1"})
    assert saved.status_code == 302  # the supplier's own fields saved; the price rows were not a form
    assert list(SupplierPrice.objects.values_list("sku_id", "unit_cost", "is_preferred")) == before
