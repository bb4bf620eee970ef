"""Supplier master data, supplier prices per SKU (one preferred), purchase orders priced from them; over the
services and the API."""
import pytest

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.inventory.models import PurchaseOrderLine, Supplier, SupplierPrice
from yundian.inventory.services import (purchase_order_create, supplier_create, supplier_price_remove,
                                        supplier_price_set, supplier_update)
from yundian.org.tests.utils import assert_error, call, client_for

from .factories import make_stock

pytestmark = pytest.mark.django_db
BASE = "/api/v1/inventory"


@pytest.fixture
def stock(chain):
    return make_stock(chain)


def prices() -> list:
    return sorted(SupplierPrice.objects.values_list("supplier__code", "sku__code", "unit_cost", "lead_time_days",
                                                    "is_preferred"))


def test_a_supplier_keeps_contact_terms_and_prices_and_one_preferred_supplier_per_sku(stock):
    admin, tee = stock.chain.admin, stock.cat.tee_s
    acme = supplier_create(actor=admin, code="ACME", name="Acme Textiles", contact_name="王经理",
                           phone="+86 21-5555 0101", email="sales@acme.example", payment_terms="monthly",
                           lead_time_days=5)
    bolt = supplier_create(actor=admin, code="BOLT", name="Bolt Garments")
    supplier_price_set(actor=admin, supplier_id=acme.id, sku_id=tee.id, unit_cost=3200, is_preferred=True)
    supplier_price_set(actor=admin, supplier_id=bolt.id, sku_id=tee.id, unit_cost=2950, lead_time_days=9)
    assert prices() == [("ACME", tee.code, 3200, 5, True), ("BOLT", tee.code, 2950, 9, False)]
    supplier_price_set(actor=admin, supplier_id=bolt.id, sku_id=tee.id, unit_cost=2900, is_preferred=True)
    assert prices() == [("ACME", tee.code, 3200, 5, False), ("BOLT", tee.code, 2900, 3, True)]
    change = AuditEntry.objects.filter(action="supplier_price.set").order_by("-id").first()
    assert (change.before["unit_cost"], change.after["unit_cost"]) == (2950, 2900)
    supplier_update(actor=admin, supplier_id=acme.id, changes={"payment_terms": "net_60", "is_active": False})
    acme.refresh_from_db()
    assert (acme.payment_terms, acme.is_active, acme.contact_name) == ("net_60", False, "王经理")
    supplier_price_remove(actor=admin, supplier_id=acme.id, sku_id=tee.id)
    assert prices() == [("BOLT", tee.code, 2900, 3, True)]


@pytest.mark.parametrize("fields, code", [
    ({"code": "ACME"}, "supplier_code_taken"),
    ({"code": "bad code!"}, "invalid_code"),
    ({"email": "not-an-email"}, "invalid_email"),
    ({"phone": "call me"}, "invalid_phone"),
    ({"payment_terms": "never"}, "invalid_payment_terms"),
    ({"lead_time_days": 400}, "invalid_number"),
    ({"name": ""}, "required"),
])
def test_bad_supplier_data_is_refused_and_changes_nothing(stock, fields, code):
    admin = stock.chain.admin
    supplier_create(actor=admin, code="ACME", name="Acme Textiles")
    before = list(Supplier.objects.values_list("code", "name"))
    with pytest.raises((ValidationFailed, Conflict)) as err:
        supplier_create(actor=admin, **{"code": "NEW", "name": "New", **fields})
    assert err.value.code == code
    assert list(Supplier.objects.values_list("code", "name")) == before


def test_only_headquarters_keeps_suppliers_and_prices(stock):
    chain, tee = stock.chain, stock.cat.tee_s
    acme = supplier_create(actor=chain.admin, code="ACME", name="Acme Textiles")
    for staff in (chain.manager_a, chain.east_manager):
        with pytest.raises(Forbidden):
            supplier_create(actor=staff, code="MINE", name="Mine")
        with pytest.raises(Forbidden):
            supplier_price_set(actor=staff, supplier_id=acme.id, sku_id=tee.id, unit_cost=1)
    with pytest.raises(NotFound):
        supplier_price_remove(actor=chain.admin, supplier_id=acme.id, sku_id=tee.id)
    assert list(Supplier.objects.values_list("code", flat=True)) == ["ACME"] and prices() == []


def test_a_purchase_order_line_takes_its_unit_cost_from_the_suppliers_price(stock):
    chain, tee, mug = stock.chain, stock.cat.tee_s, stock.cat.mug_sku
    acme = supplier_create(actor=chain.admin, code="ACME", name="Acme Textiles", lead_time_days=4)
    supplier_price_set(actor=chain.admin, supplier_id=acme.id, sku_id=tee.id, unit_cost=3200)
    supplier_price_set(actor=chain.admin, supplier_id=acme.id, sku_id=mug.id, unit_cost=850)
    order = purchase_order_create(actor=chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=acme.id,
                                  lines=[(tee.id, 10), {"sku_id": mug.id, "quantity": 4, "unit_cost": 800}])
    # the typed cost wins over the price list; an untyped one comes from it
    assert sorted(PurchaseOrderLine.objects.filter(order=order).values_list("sku_id", "unit_cost")) == sorted(
        [(tee.id, 3200), (mug.id, 800)])


def test_ordering_a_sku_the_supplier_has_no_price_for_is_422_and_creates_nothing(stock):
    chain, tee, mug = stock.chain, stock.cat.tee_s, stock.cat.mug_sku
    acme = supplier_create(actor=chain.admin, code="ACME", name="Acme Textiles")
    supplier_price_set(actor=chain.admin, supplier_id=acme.id, sku_id=tee.id, unit_cost=3200)
    with pytest.raises(ValidationFailed) as err:
        purchase_order_create(actor=chain.manager_a, warehouse_id=stock.wh_a.id, supplier_id=acme.id,
                              lines=[(tee.id, 10), (mug.id, 1)])
    assert (err.value.code, err.value.details) == ("no_supplier_price", {"sku_ids": [mug.id]})
    assert PurchaseOrderLine.objects.count() == 0


def test_suppliers_and_prices_over_the_api(stock):
    chain, tee = stock.chain, stock.cat.tee_s
    hq, manager = client_for(chain.admin), client_for(chain.manager_a)
    created = call(hq, "POST", f"{BASE}/suppliers", {"code": "ACME", "name": "Acme Textiles",
                                                       "payment_terms": "on_delivery", "lead_time_days": 6})
    assert created.status_code == 201
    supplier_id = created.json()["id"]
    assert_error(call(manager, "POST", f"{BASE}/suppliers", {"code": "X", "name": "X"}), 403, "suppliers_kept_by_hq")
    assert_error(call(hq, "POST", f"{BASE}/suppliers", {"code": "ACME", "name": "Again"}), 409, "supplier_code_taken")
    put = call(hq, "PUT", f"{BASE}/suppliers/{supplier_id}/prices/{tee.id}", {"unit_cost": 3100, "is_preferred": True})
    assert put.json() == {"supplier_id": supplier_id, "sku_id": tee.id, "sku_code": tee.code, "unit_cost": 3100,
                          "lead_time_days": 6, "is_preferred": True}
    assert_error(call(hq, "PUT", f"{BASE}/suppliers/{supplier_id}/prices/{tee.id}", {"unit_cost": -1}), 422,
                 "invalid_number")
    listed = manager.get(f"{BASE}/suppliers/{supplier_id}/prices").json()
    assert [(p["sku_code"], p["unit_cost"]) for p in listed["items"]] == [(tee.code, 3100)]
    patched = call(hq, "PATCH", f"{BASE}/suppliers/{supplier_id}", {"phone": "021-5555 0101"})
    assert (patched.status_code, patched.json()["phone"]) == (200, "021-5555 0101")
    assert manager.get(f"{BASE}/suppliers?q=acme").json()["count"] == 1
    order = call(manager, "POST", f"{BASE}/purchase-orders", {"warehouse_id": stock.wh_a.id, "supplier_id": supplier_id,
                                                               "lines": [{"sku_id": tee.id, "quantity": 5}]})
    assert order.json()["lines"][0]["unit_cost"] == 3100
    assert call(hq, "DELETE", f"{BASE}/suppliers/{supplier_id}/prices/{tee.id}").status_code == 204
    assert_error(call(hq, "DELETE", f"{BASE}/suppliers/{supplier_id}/prices/{tee.id}"), 404, "supplier_price_not_found")
    assert_error(hq.get(f"{BASE}/suppliers/999999"), 404, "supplier_not_found")
