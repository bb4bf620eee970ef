"""The console's grouped navigation and the to-do inbox at HQ (1440 px), tablet (1024 px) and phone (375 px) widths,
in Chinese and English: the navigation stays on one row, nothing scrolls sideways, the badge shows what waits,
every menu opens by keyboard. Screenshots go to the test artefacts."""
import pytest

from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.web.tests.factories import make_waiting

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"hq": (1440, 900), "tablet": (1024, 768), "phone": (375, 667)}


def sign_in(page, base: str, staff, language: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    if language != "zh-hans":
        with page.expect_navigation():
            page.select_option("#language-select", language)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_console_home_and_inbox_fit_every_width(live_server, browser, language):
    chain = make_chain()
    make_waiting(chain)
    for name, (width, height) in WIDTHS.items():
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height},
                                      is_mobile=name == "phone", has_touch=name == "phone")
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, live_server.url, chain.admin, language)
        badge = page.locator(".inbox-link .count")
        assert badge.inner_text() == "4"
        groups = page.locator("nav.nav details.nav-group > summary")
        assert groups.count() == 8
        tops = {round(box["y"]) for box in (groups.nth(i).bounding_box() for i in range(8))}
        assert len(tops) == 1, (name, tops)  # one row of groups at every width
        if width >= 1280:  # labels shown, and the whole bar is one row
            assert groups.first.locator(".nav-label").is_visible()
            assert page.locator("header.topbar").bounding_box()["height"] < 60
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(artifacts_dir() / f"console-home-{name}-{language}.png"))

        # keyboard: focus a group, open it with Enter, its first entry is reachable with Tab
        page.locator("details[data-group=stock] > summary").focus()
        page.keyboard.press("Enter")
        menu = page.locator("details[data-group=stock] .menu")
        assert menu.is_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/inventory/"
        menu_box = menu.bounding_box()
        assert menu_box["x"] >= 0 and menu_box["x"] + menu_box["width"] <= width
        page.screenshot(path=str(artifacts_dir() / f"console-menu-{name}-{language}.png"))
        page.keyboard.press("Escape")
        assert not menu.is_visible()

        page.click(".inbox-link")
        page.wait_for_url(f"{live_server.url}/inbox/")
        sections = page.locator(".inbox-section")
        assert sorted(sections.evaluate_all("els => els.map(e => e.dataset.kind)")) == [
            "purchase_orders", "stock_adjustments", "till_approvals", "transfers_approve"]
        assert no_sideways_scroll(page), name
        page.screenshot(path=str(artifacts_dir() / f"inbox-{name}-{language}.png"), full_page=True)
        context.close()
