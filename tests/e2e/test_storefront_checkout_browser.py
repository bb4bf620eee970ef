"""A shopper on their phone: a product on the store's cloud storefront into the cart, a coupon, sign-in with the
one-time code (from the test outbox), a pickup order placed once — stock held in the store, the coupon used, the
order in "My orders"."""
import pytest
from playwright.sync_api import expect

from yundian.members import senders
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import make_chain
from yundian.promotions import services as promo
from yundian.promotions.models import Coupon
from yundian.sales.models import Order
from yundian.sales.tests.factories import assert_ledgers_clean, level, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shopper_orders_for_pickup_on_a_phone(live_server, phone_page):
    chain = make_chain()
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="WEB", name="满100减20",
                                            kind="threshold_amount", tiers=[{"min": 10000, "off": 2000}])
    code = promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code
    senders.outbox.clear()
    tee = stock.cat.tee_s
    page = phone_page

    page.goto(f"{live_server.url}/s/{profile.slug}/p/{tee.product_id}/")
    page.locator(f".sf-cart-add:has(input[value='{tee.pk}']) button").click()
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/cart/")
    page.locator(f"#sc-lines li[data-sku-id='{tee.pk}'] input[name=quantity]").fill("2")
    page.locator(f"#sc-lines li[data-sku-id='{tee.pk}'] button").click()
    expect(page.locator("#sc-total")).to_have_text("¥198.00")
    page.fill("#sc-coupon-form input[name=code]", code.lower())
    page.click("#sc-coupon-form button")
    expect(page.locator("#sc-total")).to_have_text("¥178.00")
    expect(page.locator(f"#sc-coupons li[data-code='{code}'].sc-ok")).to_have_count(1)

    page.click("#sc-sign-in")
    page.fill("#ma-phone-form input[name=phone]", "13900001111")
    page.click("#ma-phone-form button[type=submit]")
    expect(page.locator("#ma-sent")).to_be_visible()
    page.fill("#ma-code-form input[name=code]", senders.last_code("13900001111"))
    page.click("#ma-code-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/cart/")
    expect(page.locator("#sc-total")).to_have_text("¥178.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts_dir() / "storefront-cart-phone.png"), full_page=True)

    page.click("#sc-place")
    page.locator("#sf-placed").wait_for()
    page.wait_for_load_state("networkidle")  # the placed page's own requests done: a capture mid-load is refused
    page.screenshot(path=str(artifacts_dir() / "storefront-placed-phone.png"), full_page=True)
    order = Order.objects.get()
    assert page.locator("#sf-placed").get_attribute("data-order") == order.number
    assert (order.channel, order.mode, order.total, order.status) == ("storefront", "pickup", 17800, "open")
    assert level(stock.wh_a, tee) == (10, 2)
    assert Coupon.objects.get(code=code).status == "redeemed"
    page.goto(f"{live_server.url}/s/{profile.slug}/me/orders/")
    expect(page.locator(f"#ma-orders li[data-order='{order.number}']")).to_have_count(1)
    assert Order.objects.count() == 1
    assert_ledgers_clean()
