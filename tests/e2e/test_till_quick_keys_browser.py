"""Every quick key is reachable on a 1024x768 till tablet: keys come in tabs by top-level category and in pages that
fit the grid without scrolling, with the checkout button in view throughout."""
import pytest
from playwright.sync_api import expect

from yundian.catalog import services as catalog_services
from yundian.catalog.models import Sku

from .conftest import artifacts_dir
from .test_till_browser import in_view, open_till, setup, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_quick_key_is_reachable_by_category_tab_and_page_on_a_tablet(live_server, browser):
    chain, stock = setup()
    drinks = catalog_services.category_create(actor=chain.admin, name="饮料", code="DRINK")
    catalog_services.product_create(
        actor=chain.admin, code="WATER", name="矿泉水", category_id=drinks.id,
        skus=[{"code": f"WATER-{n:02d}", "name": f"{n * 50} ml", "base_price": 200 + n} for n in range(1, 41)])
    every = set(Sku.objects.filter(enterprise_id=chain.admin.enterprise_id).values_list("pk", flat=True))
    water = set(Sku.objects.filter(product__code="WATER").values_list("pk", flat=True))
    assert (len(every), len(water)) == (44, 40)

    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, live_server, chain.guide_a)
        open_till(page, live_server, chain.store_a)
        tabs = page.locator("#quick-tabs .pos-tab")
        expect(tabs.first).to_have_text("全部商品")
        assert sorted(tabs.all_inner_texts()[1:]) == sorted(["服装", "家居", "饮料"])
        expect(tabs.first).to_have_attribute("aria-selected", "true")

        def walk() -> list[int]:
            """Every key on every page of the open tab, paging forward; each page fits without scrolling."""
            seen = []
            while True:
                keys = page.locator("#quick-keys .pos-key")
                seen += [int(k) for k in keys.evaluate_all("els => els.map(e => e.dataset.skuId)")]
                assert page.evaluate("(b => b.scrollHeight <= b.clientHeight + 1)(document.getElementById('quick-keys'))")
                assert in_view(page, "#checkout")
                if page.locator("#keys-pager").is_hidden() or page.locator("#keys-next").is_disabled():
                    return seen
                before = page.locator("#keys-page").inner_text()
                page.click("#keys-next")
                expect(page.locator("#keys-page")).not_to_have_text(before)

        expect(page.locator("#keys-pager")).to_be_visible()
        expect(page.locator("#keys-page")).to_have_text(__import__("re").compile(r"^1 / [2-9]$"))
        page.screenshot(path=str(artifacts_dir() / "till-tablet-quick-keys.png"))
        everything = walk()
        assert len(everything) == len(set(everything)) and set(everything) == every
        page.click("#keys-prev")  # and back

        page.locator("#quick-tabs .pos-tab", has_text="饮料").click()
        expect(page.locator("#keys-page")).to_have_text(__import__("re").compile(r"^1 / "))
        assert set(walk()) == water
        page.locator("#quick-tabs .pos-tab", has_text="家居").click()
        expect(page.locator("#keys-pager")).to_be_hidden()  # two keys: one page
        assert set(walk()) == {stock.cat.mug_sku.pk, stock.cat.apples_sku.pk}
        page.locator(f"#quick-keys .pos-key[data-sku-id='{stock.cat.mug_sku.pk}']").click()
        expect(page.locator("#total")).to_have_text("¥25.00")
    finally:
        context.close()
