"""HQ assigns a category buyer in a real browser (Chinese, 1024 px): the category and the person picked by name; the
page on a 375 px phone without sideways scroll. Screenshots: category-buyers-1024, category-buyers-375."""
import pytest

from yundian.analytics.diagnosis_services import buyer_of
from yundian.catalog.tests.factories import make_catalogue
from yundian.org.tests.factories import make_chain

from .conftest import artifacts_dir
from .test_staffing_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pick(form, field: str, query: str, wanted_id: int):
    box = form.locator(f"[data-picker][data-name={field}]")
    box.locator(".picker-q").fill(query)
    option = box.locator(f".picker-list [role=option][data-id='{wanted_id}']")
    option.wait_for()
    option.click()


def test_hq_assigns_a_category_buyer_by_name(live_server, browser):
    chain = make_chain()
    catalogue = make_catalogue(chain)
    errors = []
    context, page = _sign_in(browser, live_server, chain.admin, 1024)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/analytics/findings/buyers/")
    assert page.locator("h1").inner_text() == "品类采购"
    form = page.locator("form.buyer-form")
    _pick(form, "category", "服装", catalogue.apparel.pk)
    _pick(form, "buyer", "east", chain.east_manager.pk)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert buyer_of(catalogue.tees.pk) == chain.east_manager
    assert "上级品类" in page.locator(f"tr[data-category='{catalogue.tees.pk}']").inner_text()
    page.screenshot(path=str(artifacts_dir() / "category-buyers-1024.png"), full_page=False)
    context.close()
    context, page = _sign_in(browser, live_server, chain.admin, 375)
    page.goto(f"{live_server.url}/analytics/findings/buyers/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "category-buyers-375.png"), full_page=True)
    context.close()
    assert errors == []
