"""Supplier pages: HQ adds and edits suppliers and their SKU prices (SKU from the picker, cost in yuan);
a store manager reads them and cannot change them; bad input is shown and changes nothing."""
import pytest
from django.contrib.messages import get_messages
from django.utils.translation import gettext

from yundian.inventory.models import Supplier, SupplierPrice
from yundian.inventory.services import supplier_create, supplier_price_set
from yundian.org.tests.factories import make_chain
from yundian.org.tests.utils import client_for

from .factories import make_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return make_stock(chain)


def flashes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot() -> tuple:
    return (sorted(Supplier.objects.values_list("code", "name", "phone", "payment_terms", "is_active")),
            sorted(SupplierPrice.objects.values_list("supplier__code", "sku_id", "unit_cost", "is_preferred")))


def test_hq_adds_a_supplier_and_prices_a_sku_picked_by_name(stock):
    client, tee = client_for(stock.chain.admin), stock.cat.tee_s
    response = client.post("/inventory/suppliers/new/", {
        "code": "ACME", "name": "Acme Textiles", "contact_name": "王经理", "phone": "021-5555 0101",
        "email": "sales@acme.example", "payment_terms": "monthly", "lead_time_days": "5"})
    supplier = Supplier.objects.get(code="ACME")
    assert response.status_code == 302 and response["Location"] == f"/inventory/suppliers/{supplier.id}/"
    picked = client.get(f"/pick/sku/?q={tee.name[:4]}")
    assert picked.status_code == 200 and tee.code in picked.content.decode()
    response = client.post(f"/inventory/suppliers/{supplier.id}/prices/",
                           {"sku_id": str(tee.id), "unit_cost": "32.50", "is_preferred": "on"})
    assert response.status_code == 302
    assert list(SupplierPrice.objects.values_list("sku_id", "unit_cost", "lead_time_days", "is_preferred")) == [
        (tee.id, 3250, 5, True)]
    page = client.get(f"/inventory/suppliers/{supplier.id}/").content.decode()
    assert "¥32.50" in page and tee.code in page and 'name="sku_id"' in page
    listing = client.get("/inventory/suppliers/?q=acme").content.decode()
    assert "Acme Textiles" in listing and "021-5555 0101" in listing


def test_hq_edits_a_supplier_and_a_bad_field_changes_nothing(stock):
    client = client_for(stock.chain.admin)
    supplier = supplier_create(actor=stock.chain.admin, code="ACME", name="Acme Textiles")
    url = f"/inventory/suppliers/{supplier.id}/"
    fields = {"name": "Acme Textiles Ltd", "contact_name": "", "phone": "021-1234", "email": "",
              "payment_terms": "net_60", "lead_time_days": "7"}
    assert client.post(url, fields).status_code == 302  # the active box left unticked: inactive
    assert snapshot()[0] == [("ACME", "Acme Textiles Ltd", "021-1234", "net_60", False)]
    before = snapshot()
    response = client.post(url, {**fields, "email": "nope", "is_active": "on"})
    assert response.status_code == 422 and 'data-code="invalid_email"' in response.content.decode()
    assert snapshot() == before
    response = client.post(f"{url}prices/", {"sku_id": str(stock.cat.tee_s.id), "unit_cost": "12.345"})
    assert response.status_code == 302 and len(flashes(response)) == 1
    assert snapshot() == before


def test_a_store_manager_reads_suppliers_but_cannot_change_them(stock):
    supplier = supplier_create(actor=stock.chain.admin, code="ACME", name="Acme Textiles")
    supplier_price_set(actor=stock.chain.admin, supplier_id=supplier.id, sku_id=stock.cat.tee_s.id, unit_cost=3000)
    client = client_for(stock.chain.manager_a)
    page = client.get(f"/inventory/suppliers/{supplier.id}/")
    assert page.status_code == 200 and "¥30.00" in page.content.decode()
    assert 'name="sku_id"' not in page.content.decode()
    before = snapshot()
    client.post("/inventory/suppliers/new/", {"code": "MINE", "name": "Mine", "payment_terms": "net_30",
                                              "lead_time_days": "1"})
    client.post(f"/inventory/suppliers/{supplier.id}/", {"name": "Renamed", "payment_terms": "net_30",
                                                         "lead_time_days": "1"})
    response = client.post(f"/inventory/suppliers/{supplier.id}/prices/{stock.cat.tee_s.id}/remove/")
    assert response.status_code == 302
    assert flashes(response) == [gettext("Suppliers are kept by headquarters.")] * 3  # one per refused post
    assert snapshot() == before


def test_another_enterprises_supplier_is_404(stock):
    other = make_chain("other")
    theirs = supplier_create(actor=other.admin, code="THEIRS", name="Theirs")
    client = client_for(stock.chain.admin)
    assert client.get(f"/inventory/suppliers/{theirs.id}/").status_code == 404
    assert client.post(f"/inventory/suppliers/{theirs.id}/prices/", {"sku_id": "1", "unit_cost": "1"}).status_code == 404


def test_a_purchase_order_line_shows_the_suppliers_price_and_lead_time_while_typed_and_is_priced_from_it(stock):
    from yundian.catalog.tests.factories import EAN_TEE_S
    from yundian.inventory.models import PurchaseOrder

    admin, tee, mug = stock.chain.admin, stock.cat.tee_s, stock.cat.mug_sku
    acme = supplier_create(actor=admin, code="ACME", name="Acme Textiles", lead_time_days=3)
    other = supplier_create(actor=admin, code="OTHER", name="Other Goods")
    supplier_price_set(actor=admin, supplier_id=acme.id, sku_id=tee.id, unit_cost=3250, lead_time_days=6)
    client = client_for(stock.chain.manager_a)
    form = client.get("/inventory/purchase-orders/new/").content.decode()
    # each line row asks for its cost cell as its SKU or quantity is typed, or the supplier changes
    assert 'id="po-supplier"' in form and 'hx-get="/inventory/purchase-orders/line-price/"' in form
    assert form.count('hx-include="closest tr, #po-supplier"') >= 3

    def cell(**query) -> str:
        response = client.get("/inventory/purchase-orders/line-price/", query)
        assert response.status_code == 200
        return response.content.decode()

    # by code or by barcode: the SKU's name, the price and the lead time, the placeholder and the line total
    for code in (tee.code, EAN_TEE_S):
        typed = cell(supplier=acme.id, line_sku=code, line_quantity="12", line_cost="")
        assert 'data-unit-cost="3250" data-lead-time="6"' in typed and "供应商报价 ¥32.50，6 天到货" in typed
        assert 'placeholder="32.50"' in typed and '<strong data-testid="line-total">¥390.00</strong>' in typed
        assert "纯棉T恤 S" in typed and "单价留空即按此价" in typed
    # a typed cost wins for the total; the supplier price is still shown beside it
    typed = cell(supplier=acme.id, line_sku=tee.code, line_quantity="2", line_cost="30")
    assert 'value="30"' in typed and "¥60.00" in typed and "¥32.50" in typed and "单价留空" not in typed
    # a supplier without a price for the SKU says so; an unknown code, no supplier or junk show no figure
    assert 'data-testid="no-supplier-price"' in cell(supplier=other.id, line_sku=tee.code, line_quantity="1")
    for query in ({"supplier": acme.id, "line_sku": "NOPE", "line_quantity": "1"},
                  {"line_sku": tee.code, "line_quantity": "1"},
                  {"supplier": "x", "line_sku": mug.code, "line_quantity": "1e9", "line_cost": "abc"},
                  {"supplier": str(10**30), "line_sku": "\x00", "line_quantity": "-1"}):
        shown = cell(**query)
        assert 'data-testid="supplier-price"' not in shown and 'data-testid="line-total"' not in shown
    # a clerk may not order: the console answers 404 as for any page outside their role (no price leaks)
    assert client_for(stock.chain.guide_a).get("/inventory/purchase-orders/line-price/",
                                                {"supplier": acme.id, "line_sku": tee.code}).status_code == 404
    assert PurchaseOrder.objects.count() == 0

    # the line left blank is ordered at the price shown
    created = client.post("/inventory/purchase-orders/new/", {
        "form_key": "po-1", "warehouse": str(stock.wh_a.id), "supplier": str(acme.id), "tolerance_percent": "5",
        "line_sku": [tee.code], "line_quantity": ["12"], "line_cost": [""]})
    assert created.status_code == 302
    order = PurchaseOrder.objects.get()
    assert list(order.lines.values_list("sku_id", "quantity", "unit_cost")) == [(tee.id, 12, 3250)]
