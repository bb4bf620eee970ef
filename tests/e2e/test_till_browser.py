"""The till as a retail product, in a real browser at a 1024x768 tablet and a 375 px phone: a sale with the
checkout button in view, stock on each line, quick keys, park and recall; a return with an exchange by receipt
lookup; a shift opened with a float and closed blind, with its Z report. Screenshots go to the test artifacts."""
import pytest
from playwright.sync_api import expect

from yundian.catalog.tests.factories import EAN_TEE_M, EAN_TEE_S, UPC_MUG
from yundian.inventory.tests.factories import level, make_stock, put
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales import services
from yundian.sales.models import Order, OrderReturn, Payment, Refund, TillShift

from .conftest import CHROMIUM, artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 375, "height": 667}}


@pytest.fixture(params=list(VIEWPORTS))
def device(request, browser):
    name = request.param
    extra = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True} if name == "phone" else {}
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORTS[name], **extra)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield name, page
    context.close()


def sign_in(page, live_server, staff) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def scan(page, code: str) -> None:
    page.locator("#scan").press_sequentially(code)
    page.locator("#scan").press("Enter")


def setup():
    chain = make_chain()
    stock = make_stock(chain)
    for sku, units in ((stock.cat.tee_s, 10), (stock.cat.tee_m, 10), (stock.cat.mug_sku, 2)):
        put(stock, stock.wh_a, sku, units)
    return chain, stock


def open_till(page, live_server, store) -> None:
    page.goto(f"{live_server.url}/pos/{store.id}/")
    page.locator("#pos[data-ready='1']").wait_for()


def in_view(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_a_sale_fits_the_screen_shows_stock_and_parks_and_recalls(live_server, device):
    name, page = device
    chain, stock = setup()
    sign_in(page, live_server, chain.guide_a)
    open_till(page, live_server, chain.store_a)
    # words: the cash box says 实收, the price list shows a time, not a hash; money in ¥
    expect(page.locator("#tenders .tender-given")).to_have_attribute("placeholder", "实收")
    expect(page.locator("#snapshot-version")).to_have_text(__import__("re").compile(r"^\d\d:\d\d$"))
    expect(page.locator("#quick-keys .pos-key")).to_have_count(4)

    scan(page, EAN_TEE_S)
    expect(page.locator("#cart-lines tr.cart-line")).to_have_count(1)  # the scan is looked up on the server first
    page.locator(f"#quick-keys .pos-key[data-sku-id='{stock.cat.mug_sku.id}']").click()
    page.locator(f"#quick-keys .pos-key[data-sku-id='{stock.cat.mug_sku.id}']").click()
    page.locator(f"#quick-keys .pos-key[data-sku-id='{stock.cat.mug_sku.id}']").click()
    expect(page.locator("#total")).to_have_text("¥174.00")
    mug = page.locator(f"#cart-lines tr[data-sku-id='{stock.cat.mug_sku.id}']")
    expect(mug.locator(".stock")).to_have_text("库存不足：仅剩 2")
    expect(page.locator(f"#cart-lines tr[data-sku-id='{stock.cat.tee_s.id}'] .stock")).to_have_text("库存 10")
    page.locator("#tenders .tender-given").fill("200")
    page.click("#checkout")
    # refused naming the line and the stock left; nothing booked
    expect(page.locator("#checkout-error")).to_contain_text("第 2 行")
    expect(page.locator("#checkout-error")).to_contain_text("可售 2")
    assert Order.objects.count() == 0
    page.screenshot(path=str(artifacts_dir() / f"till-{name}-short.png"))
    mug.locator(".qty-minus").click()
    expect(page.locator("#total")).to_have_text("¥149.00")

    # park it, ring up another customer, recall the first
    page.click("#park-sale")
    expect(page.locator("#park-count")).to_have_text("1")
    expect(page.locator("#cart-lines tr")).to_have_count(0)
    scan(page, EAN_TEE_M)
    expect(page.locator("#total")).to_have_text("¥99.00")
    page.locator("#tenders .tender-method").select_option("card")
    page.click("#checkout")
    page.locator("#receipt-panel[data-state='booked']").wait_for()
    page.click("#next-sale")
    page.click("#park-toggle")
    page.locator("#park-list .park-recall").click()
    expect(page.locator("#park-count")).to_have_text("0")
    expect(page.locator("#total")).to_have_text("¥149.00")

    page.locator("#tenders .tender-given").fill("200")
    expect(page.locator("#change")).to_have_text("找零 ¥51.00")
    # the whole sale fits: the checkout button is on screen without scrolling (tablet), kept in view (phone)
    assert in_view(page, "#checkout"), page.locator("#checkout").bounding_box()
    if name == "tablet":
        assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1") or \
            page.evaluate("window.scrollY") == 0
    page.screenshot(path=str(artifacts_dir() / f"till-{name}-sale.png"))
    page.click("#checkout")
    receipt = page.locator("#receipt-panel[data-state='booked']")
    receipt.wait_for()
    expect(page.locator("#receipt-body")).to_contain_text("找零: ¥51.00")
    order = Order.objects.get(pk=int(receipt.get_attribute("data-order-id")))
    assert (order.total, order.status) == (14900, "completed")
    assert list(Payment.objects.filter(order=order).values_list("method", "amount", "tendered", "change")) == [
        ("cash", 14900, 20000, 5100)]
    assert level(stock.wh_a, stock.cat.mug_sku) == (0, 0)


def test_a_return_with_an_exchange_by_receipt(live_server, device):
    name, page = device
    chain, stock = setup()
    sold = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="sale-1",
                                 lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 2}],
                                 payments=[{"method": "cash", "client_ref": "c", "tendered": 20000}]).order
    sign_in(page, live_server, chain.guide_a)
    open_till(page, live_server, chain.store_a)
    page.click("#return-toggle")
    page.fill("#return-query", sold.number)
    page.locator("#return-query").press("Enter")
    line = page.locator("#return-lines tr.return-line").first
    line.locator(".ret-plus").click()
    expect(page.locator("#return-refund")).to_have_text("¥99.00")
    page.fill("#return-reason", "尺码不合适")
    page.screenshot(path=str(artifacts_dir() / f"till-{name}-return.png"))
    page.click("#return-exchange")
    expect(page.locator("#exchange-banner")).to_be_visible()
    scan(page, UPC_MUG)
    expect(page.locator("#total")).to_have_text("¥25.00")
    expect(page.locator("#exchange-refund")).to_have_text("−¥99.00")
    expect(page.locator("#exchange-diff-label")).to_have_text("退还顾客")
    expect(page.locator("#exchange-diff")).to_have_text("¥74.00")
    expect(page.locator("#checkout")).to_have_text("完成换货")
    assert in_view(page, "#checkout")
    page.screenshot(path=str(artifacts_dir() / f"till-{name}-exchange.png"))
    page.click("#checkout")
    done = page.locator("#receipt-panel[data-state='returned']")
    done.wait_for()
    expect(page.locator("#receipt-body .pos-diff")).to_contain_text("退还顾客 ¥74.00")
    page.screenshot(path=str(artifacts_dir() / f"till-{name}-exchange-done.png"))
    doc = OrderReturn.objects.get()
    assert (doc.order_id, doc.refund_total, doc.reason) == (sold.id, 9900, "尺码不合适")
    assert list(Refund.objects.values_list("amount", "payment__method")) == [(9900, "cash")]
    new = Order.objects.get(pk=doc.exchange_order_id)
    assert (new.total, new.paid_total, new.status) == (2500, 2500, "completed")
    assert (level(stock.wh_a, stock.cat.tee_s), level(stock.wh_a, stock.cat.mug_sku)) == ((9, 0), (1, 0))
    assert Order.objects.get(pk=sold.pk).status == "partially_returned"


def test_a_shift_opens_with_a_float_and_closes_blind_with_a_z_report(live_server, device):
    name, page = device
    chain, stock = setup()
    sign_in(page, live_server, chain.guide_a)
    open_till(page, live_server, chain.store_a)
    expect(page.locator("#shift-link")).to_have_attribute("data-state", "none")
    page.click("#shift-link")
    page.fill("input[name=n_10000]", "1")
    page.fill("input[name=n_1000]", "5")
    expect(page.locator("#shift-open [data-count-total]")).to_have_text("¥150.00")
    page.screenshot(path=str(artifacts_dir() / f"shift-{name}-open.png"))
    page.click("#shift-open button[type=submit]")
    page.locator("#shift-x").wait_for()
    page.click("text=返回收银台")
    page.locator("#pos[data-ready='1']").wait_for()
    expect(page.locator("#shift-link")).to_have_attribute("data-state", "open")
    scan(page, UPC_MUG)
    expect(page.locator("#total")).to_have_text("¥25.00")
    page.locator("#tenders .tender-given").fill("50")
    page.click("#checkout")
    page.locator("#receipt-panel[data-state='booked']").wait_for()
    page.click("#shift-link")
    page.locator("#shift-x").wait_for()
    assert page.locator("[data-figure=expected]").count() == 0  # blind
    page.select_option("#cash-move select[name=action]", "cash_out")
    page.fill("#cash-move input[name=amount]", "100")
    page.fill("#cash-move input[name=reason]", "存银行")
    page.click("#cash-move button[type=submit]")
    expect(page.locator("#cash-moves")).to_contain_text("存银行")
    # the drawer should hold 150 + 25 - 100 = 75.00; the clerk counts 50 + 20 + 4 x 1 = 74.00
    close = page.locator("#shift-close")
    close.locator("input[name=n_5000]").fill("1")
    close.locator("input[name=n_2000]").fill("1")
    close.locator("input[name=n_100]").fill("4")
    expect(close.locator("[data-count-total]")).to_have_text("¥74.00")
    page.screenshot(path=str(artifacts_dir() / f"shift-{name}-close.png"), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#close-shift")
    page.locator("#shift-report[data-status='closed']").wait_for()
    expect(page.locator("[data-figure=expected]")).to_have_text("¥75.00")
    expect(page.locator("[data-figure=counted]")).to_have_text("¥74.00")
    expect(page.locator("[data-figure=over-short]")).to_have_text("-¥1.00")
    page.screenshot(path=str(artifacts_dir() / f"shift-{name}-z-report.png"), full_page=True)
    shift = TillShift.objects.get()
    assert (shift.status, shift.expected_cash, shift.counted_cash, shift.over_short) == ("closed", 7500, 7400, -100)
    assert shift.report["cash"] == {"float": 15000, "sales": 2500, "refunds": 0, "cash_in": 0, "cash_in_count": 0,
                                    "cash_out": 10000, "cash_out_count": 1, "expected": 7500}
