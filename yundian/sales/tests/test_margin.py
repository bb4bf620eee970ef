"""Gross margin: revenue net of returns minus the cost of goods sold at moving-average cost, per store, category
and SKU over a period; on the stock reports page with CSV export. Expected figures computed by hand."""
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from yundian.inventory.services import (purchase_order_approve, purchase_order_create, purchase_order_submit,
                                        receipt_create, supplier_create)
from yundian.inventory.tests.factories import make_stock
from yundian.org.tests.utils import client_for
from yundian.sales import margin, services
from yundian.sales.tests.factories import next_ref, sell

pytestmark = pytest.mark.django_db


def receive(stock, warehouse, lines):
    """One supplier order of (sku, quantity, unit cost) lines, approved and received in full."""
    admin = stock.chain.admin
    supplier = supplier_create(actor=admin, code=f"S-{warehouse.code}", name=f"Supplier {warehouse.code}")
    order = purchase_order_create(actor=admin, warehouse_id=warehouse.id, supplier_id=supplier.id,
                                  lines=[{"sku_id": s.id, "quantity": q, "unit_cost": c} for s, q, c in lines])
    purchase_order_submit(actor=admin, order_id=order.id)
    purchase_order_approve(actor=admin, order_id=order.id)
    receipt_create(actor=admin, warehouse_id=warehouse.id, order_id=order.id, lines=[(s.id, q) for s, q, _c in lines])


@pytest.fixture
def trading(chain):
    """Store A sells 3 tees (¥99) and 2 mugs (¥25) bought at ¥40 and ¥15 and takes 1 tee back; store B sells
    1 tee bought at ¥44."""
    stock = make_stock(chain)
    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    receive(stock, stock.wh_a, [(tee, 10, 4000), (mug, 10, 1500)])
    receive(stock, stock.wh_b, [(tee, 5, 4400)])
    order = sell(chain.guide_a, chain.store_a, [(tee, 3), (mug, 2)])
    sell(chain.guide_b, chain.store_b, [(tee, 1)])
    line = order.lines.get(sku=tee)
    services.return_create(actor=chain.guide_a, order_id=order.id, client_ref=next_ref("ret"),
                           lines=[{"order_line_id": line.id, "quantity": 1}])
    return stock


def cells(rows) -> list:
    return [[c.amount if hasattr(c, "amount") else c for c in row] for row in rows]


def today():
    return timezone.localdate()


def test_gross_margin_by_store_nets_returns_at_the_cost_they_left_with(chain, trading):
    columns, rows = margin.margin_by_store(actor=chain.admin, date_from=today(), date_to=today())
    assert len(columns) == 8
    assert cells(rows) == [
        # sales 3 x 9900 + 2 x 2500; 1 tee back; cost 3 x 4000 + 2 x 1500 - 4000 back
        [chain.store_a.code, chain.store_a.name, 34700, 9900, 24800, 11000, 13800, "55.6%"],
        [chain.store_b.code, chain.store_b.name, 9900, 0, 9900, 4400, 5500, "55.6%"],
        [gettext("Total"), "", 44600, 9900, 34700, 15400, 19300, "55.6%"],
    ]


def test_gross_margin_by_category_and_sku(chain, trading):
    _columns, rows = margin.margin_by_category(actor=chain.admin, date_from=today(), date_to=today())
    assert cells(rows) == [
        ["APP-TEE", "T恤", 39600, 9900, 29700, 12400, 17300, "58.2%"],
        ["HOME", "家居", 5000, 0, 5000, 3000, 2000, "40.0%"],
        [gettext("Total"), "", 44600, 9900, 34700, 15400, 19300, "55.6%"],
    ]
    _columns, rows = margin.margin_by_sku(actor=chain.admin, date_from=today(), date_to=today())
    assert [r[:2] for r in rows] == [["TEE-001-S", "纯棉T恤 S"], ["MUG-01", "马克杯"], [gettext("Total"), ""]]
    assert cells(rows)[0][2:] == [39600, 9900, 29700, 12400, 17300, "58.2%"]


def test_a_store_manager_sees_only_their_store_and_another_period_is_empty(chain, trading):
    _columns, rows = margin.margin_by_store(actor=chain.manager_b, date_from=today(), date_to=today())
    assert cells(rows) == [[chain.store_b.code, chain.store_b.name, 9900, 0, 9900, 4400, 5500, "55.6%"],
                           [gettext("Total"), "", 9900, 0, 9900, 4400, 5500, "55.6%"]]
    yesterday = today() - timedelta(days=1)
    assert margin.margin_by_store(actor=chain.admin, date_from=yesterday, date_to=yesterday)[1] == []


def test_the_margin_report_page_takes_a_period_and_exports_csv(chain, trading):
    client = client_for(chain.admin)
    day = today().isoformat()
    page = client.get(f"/inventory/reports/gross-margin-by-store/?from={day}&to={day}")
    html = page.content.decode()
    assert page.status_code == 200 and "¥248.00" in html and "¥138.00" in html
    csv = client.get(f"/inventory/reports/gross-margin-by-store/?format=csv&from={day}&to={day}")
    assert csv["Content-Disposition"].endswith(f'-{today():%Y%m%d}-{today():%Y%m%d}.csv"')
    text = csv.content.decode("utf-8-sig").splitlines()
    assert text[-1] == gettext("Total") + ",,446.00,99.00,347.00,154.00,193.00,55.6%"
    bad = client.get(f"/inventory/reports/gross-margin-by-store/?from={day}&to=2020-01-01")
    assert bad.status_code == 422 and 'data-code="invalid_period"' in bad.content.decode()
    assert client.get("/inventory/reports/gross-margin-by-store/?from=soon").status_code == 422
