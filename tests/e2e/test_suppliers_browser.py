"""Suppliers and purchase orders priced from them, in a real browser (zh-Hans) at 1440, 1024 and 375 px: HQ picks a
SKU by name on the supplier page and gives it a purchase cost and lead time; on a new purchase order, typing the
SKU under that supplier shows its price, lead time and the line's total as it is typed, and the order left with a
blank cost is booked at the supplier's price. Nothing scrolls sideways. Screenshots go to the test artefacts (the
README shows them from docs/screenshots)."""
import pytest
from playwright.sync_api import expect

from yundian.inventory.models import PurchaseOrder, SupplierPrice
from yundian.inventory.services import supplier_create
from yundian.inventory.tests.factories import make_stock
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {1440: 900, 1024: 768, 375: 667}


def test_hq_prices_a_sku_at_a_supplier_and_a_purchase_order_is_priced_from_it(live_server, browser):
    chain = make_chain()
    stock = make_stock(chain)
    tee = stock.cat.tee_s
    acme = supplier_create(actor=chain.admin, code="ACME", name="华纺纺织", contact_name="王经理",
                           phone="021-5555 0101", lead_time_days=5)
    shots = artifacts_dir()
    for width, height in WIDTHS.items():
        phone = width == 375
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height},
                                      is_mobile=phone, has_touch=phone)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", chain.admin.user.username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")

            page.goto(f"{live_server.url}/inventory/suppliers/{acme.id}/")
            if width == 1440:  # the price is added once, through the page: the SKU picked by its name
                form = page.locator("form.stack-form[action$='/prices/']")
                form.locator(".picker-q").fill("纯棉")
                option = form.locator(f".picker-list [role=option][data-id='{tee.id}']")
                option.wait_for()
                option.click()
                expect(form.locator(".chip .chip-label")).to_have_text("纯棉T恤 S")
                form.locator("input[name=unit_cost]").fill("32.50")
                form.locator("input[name=lead_time_days]").fill("6")
                with page.expect_navigation():
                    form.locator("button[type=submit]").click()
                assert list(SupplierPrice.objects.values_list("sku_id", "unit_cost", "lead_time_days")) == [
                    (tee.id, 3250, 6)]
            row = page.locator("table.table tbody tr", has_text=tee.code)
            expect(row).to_contain_text("¥32.50")
            expect(row).to_contain_text("纯棉T恤 S")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
            page.screenshot(path=str(shots / f"supplier-{width}-zh.png"), full_page=True)

            page.goto(f"{live_server.url}/inventory/purchase-orders/new/")
            page.select_option("select[name=warehouse]", str(stock.wh_a.id))
            page.select_option("#po-supplier", str(acme.id))
            line = page.locator("#lines tbody tr").first
            line.locator("input[name=line_sku]").fill(tee.code)
            line.locator("input[name=line_quantity]").fill("12")
            hint = line.locator("[data-testid=supplier-price]")
            expect(hint).to_contain_text("供应商报价 ¥32.50，6 天到货")
            expect(line.locator("[data-testid=line-total]")).to_have_text("¥390.00")
            expect(line.locator("input[name=line_cost]")).to_have_attribute("placeholder", "32.50")
            line.locator("input[name=line_quantity]").fill("20")  # the total follows the quantity
            expect(line.locator("[data-testid=line-total]")).to_have_text("¥650.00")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
            line.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"purchase-order-priced-{width}-zh.png"))
            if width == 1440:  # the cost left blank: ordered at the supplier's price
                with page.expect_navigation():
                    page.locator("#document-form button[type=submit]").click()
                order = PurchaseOrder.objects.get()
                assert list(order.lines.values_list("sku_id", "quantity", "unit_cost")) == [(tee.id, 20, 3250)]
                expect(page.locator(f"main tr[data-sku='{tee.code}']")).to_contain_text("¥32.50")
                page.screenshot(path=str(shots / "purchase-order-booked-1440-zh.png"))
        finally:
            context.close()
    assert PurchaseOrder.objects.count() == 1
