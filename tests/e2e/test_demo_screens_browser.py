"""The demo chain as people see it, at HQ (1440 px), tablet (1024 px) and phone (375 px) widths, in Chinese and
English: the console home and the to-do inbox (HQ admin), the storefront home and a deal page. The header keeps the
store's whole name on a phone, deal cards do not overlap, nothing scrolls sideways, product pictures load.
Screenshots go to the test artefacts (the best are copied to docs/screenshots)."""
import mimetypes
from pathlib import Path

import pytest
from django.conf import settings

from yundian.demo.generators import DEFAULT_PASSWORD, run_seed
from yundian.promotions.models import FlashSale
from yundian.stores.models import StoreProfile

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"hq": (1440, 900), "tablet": (1024, 768), "phone": (375, 667)}
LOCALES = {"zh-hans": "zh-CN", "en": "en-US"}


@pytest.fixture
def demo(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path  # the seed's product pictures; served to the browser by serve_media below
    ctx = run_seed(scale=1, seed=1, code="demo", password=DEFAULT_PASSWORD)
    yield ctx


def serve_media(context, root: Path) -> None:
    """The test server does not serve uploads (DEBUG is off); answer /media/ from the seed's folder."""
    def handle(route):
        path = root / route.request.url.split("/media/", 1)[1].split("?")[0]
        if path.is_file():
            route.fulfill(status=200, body=path.read_bytes(),
                          content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        else:
            route.fulfill(status=404, body=b"")
    context.route("**/media/**", handle)


def open_page(browser, name: str, language: str):
    width, height = WIDTHS[name]
    context = browser.new_context(locale=LOCALES[language], viewport={"width": width, "height": height},
                                  is_mobile=name == "phone", has_touch=name == "phone")
    serve_media(context, Path(settings.MEDIA_ROOT))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_storefront_home_and_deals_on_every_width(live_server, browser, demo, language):
    profile = StoreProfile.objects.filter(node__enterprise=demo.enterprise).order_by("id").first()
    sale = FlashSale.objects.filter(enterprise=demo.enterprise).first()
    for name in WIDTHS:
        context, page = open_page(browser, name, language)
        page.goto(f"{live_server.url}/s/{profile.slug}/")
        store_name = page.locator(".sf-store-name")
        assert store_name.inner_text() == profile.node.name
        # the whole name shows: nothing cut off (it may wrap to a second line on a phone)
        assert store_name.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight + 1")
        cards = page.locator("#sf-deals .sf-deal")
        assert cards.count() >= 2
        first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert not boxes_overlap(first, second), (name, first, second)
        images = page.locator("#sf-products img.sf-card-img")
        assert images.count() > 0
        images.first.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=images.first.element_handle())
        assert no_sideways_scroll(page), name
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir() / f"storefront-home-{name}-{language}.png"))

        page.goto(f"{live_server.url}/s/{profile.slug}/deals/flash/{sale.id}/")
        assert page.locator("#sd-flash h1").inner_text() == sale.name
        page.wait_for_function("img => img.complete && img.naturalWidth === 480",
                               arg=page.locator("#sd-flash img.sd-img").element_handle())
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(artifacts_dir() / f"storefront-deal-{name}-{language}.png"))
        context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_demo_console_home_and_inbox_on_every_width(live_server, browser, demo, language):
    for name in WIDTHS:
        context, page = open_page(browser, name, language)
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "demo-admin")
        page.fill("input[name=password]", DEFAULT_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        groups = page.locator("nav.nav details.nav-group > summary")
        tops = {round(groups.nth(i).bounding_box()["y"]) for i in range(groups.count())}
        assert len(tops) == 1, (name, tops)
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(artifacts_dir() / f"demo-console-home-{name}-{language}.png"))
        page.goto(f"{live_server.url}/inbox/")
        total = int(page.locator("h1 .badge").get_attribute("data-total"))
        badge = page.locator(".inbox-link .count")
        assert (badge.inner_text() if total else "0") == str(total)
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(artifacts_dir() / f"demo-inbox-{name}-{language}.png"), full_page=True)
        page.goto(f"{live_server.url}/catalog/")
        thumbs = page.locator("img.thumb")
        assert thumbs.count() > 0
        page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=thumbs.first.element_handle())
        page.screenshot(path=str(artifacts_dir() / f"demo-catalogue-{name}-{language}.png"))
        context.close()
