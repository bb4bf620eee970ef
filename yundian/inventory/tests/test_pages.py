"""Stock pages: every page renders for a store manager and for HQ, forms call the services, exports download,
out-of-scope documents are 404."""
import io

import pytest
from django.contrib import messages
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from yundian.inventory.models import Stocktake
from yundian.inventory.services import adjustment_create, stocktake_start
from yundian.org.tests.utils import client_for

from .factories import level, make_stock, put

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return make_stock(chain)


@pytest.mark.parametrize("who", ["manager_a", "admin", "auditor"])
def test_every_stock_page_renders(stock, who):
    put(stock, stock.wh_a, stock.cat.tee_s, 4)
    client = client_for(getattr(stock.chain, who))
    for url in ["/inventory/", f"/inventory/?warehouse={stock.wh_a.id}", "/inventory/balances/?q=TEE",
                f"/inventory/moves/?sku={stock.cat.tee_s.id}", "/inventory/transfers/", "/inventory/stocktakes/",
                "/inventory/adjustments/", f"/inventory/replenishment/?warehouse={stock.wh_a.id}",
                "/inventory/reports/on-hand-by-store/", "/inventory/reports/on-hand-by-category/",
                "/inventory/reports/slow-movers/", "/inventory/reports/turnover/", "/inventory/reports/low-stock/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"TEE-001-S" in client.get("/inventory/balances/").content


def test_a_store_manager_counts_by_scanning_and_posts(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 4)
    client = client_for(stock.chain.manager_a)
    response = client.post("/inventory/stocktakes/", {"warehouse": stock.wh_a.id, "kind": "full"})
    count = Stocktake.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inventory/stocktakes/{count.id}/"
    url = f"/inventory/stocktakes/{count.id}/"

    def send(data) -> list[tuple[int, str]]:
        page = client.post(url, data, follow=True)
        assert page.status_code == 200
        return [(m.level, str(m)) for m in page.context["messages"]]

    client.get(url)  # shows (and clears) the "started" message
    for _scan in range(3):
        assert [lvl for lvl, _m in send({"action": "scan", "barcode": "6901234567892"})] == [messages.SUCCESS]
    assert [lvl for lvl, _m in send({"action": "scan", "barcode": "123"})] == [messages.ERROR]
    assert count.lines.get(sku=stock.cat.tee_s).counted == 3
    send({"action": "submit"})
    send({"action": "post"})
    assert level(stock.wh_a, stock.cat.tee_s) == (3, 0)
    assert send({"action": "post"}) == [(messages.ERROR, str(_("This stocktake was already posted.")))]
    assert level(stock.wh_a, stock.cat.tee_s) == (3, 0)


def test_another_stores_stocktake_is_404(stock):
    count = stocktake_start(actor=stock.chain.manager_b, warehouse_id=stock.wh_b.id, kind="full")
    assert client_for(stock.chain.manager_a).get(f"/inventory/stocktakes/{count.id}/").status_code == 404


def test_pending_adjustment_is_approved_from_the_page_only_by_a_manager_above(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    pending = adjustment_create(actor=stock.chain.manager_a, warehouse_id=stock.wh_a.id, reason="lost",
                                lines=[(stock.cat.tee_s.id, -6)])
    assert client_for(stock.chain.manager_a).post(f"/inventory/adjustments/{pending.id}/approve/").status_code == 404
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
    response = client_for(stock.chain.dealer_staff).post(f"/inventory/adjustments/{pending.id}/approve/")
    assert response.status_code == 302
    assert level(stock.wh_a, stock.cat.tee_s) == (4, 0)


def test_reports_export_as_csv_and_excel(stock):
    put(stock, stock.wh_a, stock.cat.tee_s, 4)
    client = client_for(stock.chain.admin)
    csv = client.get("/inventory/reports/on-hand-by-store/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[1:] == ["WH-A,Store A,门店仓,4,0,396.00"]
    assert lines[0].endswith("货值（元）")
    xlsx = client.get("/inventory/reports/on-hand-by-store/?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header, row = list(sheet.rows)[:2]
    assert [c.value for c in row] == ["WH-A", "Store A", "门店仓", 4, 0, 396]
    assert header[-1].value == "货值（元）" and row[-1].number_format == "#,##0.00;-#,##0.00"
    assert client.get("/inventory/reports/nope/").status_code == 404
