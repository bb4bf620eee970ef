"""HQ opens a store from a template in the console; the new store's storefront renders on a phone with its own
theme and its products with prices (screenshot kept as a test artefact)."""
import pytest

from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.stores.models import StoreProfile
from yundian.stores.tests.factories import make_shop

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hq_opens_a_store_from_a_template_and_its_storefront_renders_on_a_phone(live_server, page, phone_page):
    chain = make_chain()
    shop = make_shop(chain)  # template "标准店": blue theme, apparel + the mug, HQ online prices

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", chain.admin.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav.nav details[data-group=settings] > summary")
    page.click("nav.nav a[href='/stores/']")
    page.wait_for_url(f"{live_server.url}/stores/")
    page.click("a[href='/stores/open/']")
    form = page.locator("#store-open-form")
    form.locator("select[name=template_id]").select_option(str(shop.template.id))
    form.locator("select[name=parent_id]").select_option(str(chain.west.id))
    form.locator("input[name=name]").fill("成都太古里店")
    form.locator("input[name=code]").fill("CD-TGL")
    form.locator("input[name=city]").fill("成都")
    form.locator("input[name=address]").fill("中纱帽街 8 号")
    form.locator("input[name=latitude]").fill("30.652800")
    form.locator("input[name=longitude]").fill("104.083000")
    form.locator("button[type=submit]").click()

    page.locator("#opening-done").wait_for()
    rows = page.locator("#accounts tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").nth(0).inner_text() == "acme-cd-tgl-manager"
    assert len(rows.nth(0).locator("code").inner_text()) == 16
    href = page.locator("#storefront-link").get_attribute("href")
    assert href == "/s/CD-TGL/"
    profile = StoreProfile.objects.select_related("node").get(slug="CD-TGL")
    assert (profile.node.parent_id, profile.template_id) == (chain.west.id, shop.template.id)

    phone_page.goto(f"{live_server.url}{href}")
    header = phone_page.locator(".sf-header")
    assert header.locator(".sf-store-name").inner_text() == "成都太古里店"
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(22, 119, 255)"  # #1677FF
    assert phone_page.locator("#sf-notice").inner_text() == "新店开业，全场九折"
    banner = phone_page.locator("img.sf-banner")
    assert banner.evaluate("img => img.complete && img.naturalWidth > 0")
    cards = phone_page.locator("#sf-products .sf-card")
    # each card with its own price (the order follows the category path, whose ids differ between runs)
    names = cards.locator(".sf-card-name").all_inner_texts()
    prices = [p.split(" ")[0] for p in cards.locator(".sf-price").all_inner_texts()]
    assert dict(zip(names, prices)) == {"纯棉T恤": "¥89.00", "马克杯": "¥19.90"} and len(names) == 2
    price_colour = cards.first.locator(".sf-price").evaluate("e => getComputedStyle(e).color")
    assert price_colour == "rgb(22, 119, 255)"
    # mobile first: two columns, nothing wider than the phone
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    boxes = [cards.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"] and boxes[0]["x"] < boxes[1]["x"]
    phone_page.screenshot(path=str(artifacts_dir() / "storefront-phone.png"), full_page=True)

    cards.filter(has_text="纯棉T恤").click()
    phone_page.wait_for_url(f"{live_server.url}/s/CD-TGL/p/{shop.catalogue.tee.id}/")
    assert phone_page.locator("#sf-price").inner_text() == "¥89.00 – ¥99.00"
    phone_page.screenshot(path=str(artifacts_dir() / "storefront-phone-product.png"), full_page=True)
