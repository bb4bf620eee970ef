"""The warehouse status page in a real browser: HQ on a 1440 px screen (English) and a store manager on a 1024 px
tablet (Chinese) see how fresh the warehouse is and their own scope's sales; a sale made after the sync shows as a
change waiting, and the next sync takes it in."""
import pytest

from yundian.analytics.sync import sync_run
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.tests.factories import sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_hq_and_a_store_manager_read_the_warehouse_status_of_their_scope(live_server, browser, warehouse):
    chain = make_chain()
    stock = stocked(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])  # ¥198.00 in store A
    sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 1)])
    sync_run()

    hq = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = hq.new_page()
    _sign_in(page, live_server.url, chain.admin)
    page.click("nav.nav details[data-group=analytics] > summary")
    page.click("nav.nav >> text=Warehouse status")
    page.wait_for_url(f"{live_server.url}/analytics/warehouse/")
    assert page.locator("[data-testid=warehouse-freshness]").inner_text().count("Up to date") == 1
    assert page.locator("[data-testid=pending]").inner_text() == "0"
    page.screenshot(path=str(artifacts_dir() / "warehouse-status-1440-en.png"), full_page=True)

    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 1)])
    page.reload()
    assert page.locator("[data-testid=pending]").inner_text() == "1"
    sync_run()
    page.reload()
    assert page.locator("[data-testid=pending]").inner_text() == "0"
    hq.close()

    tablet = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    page = tablet.new_page()
    _sign_in(page, live_server.url, chain.manager_a)
    page.goto(f"{live_server.url}/analytics/warehouse/")
    summary = page.locator("[data-testid=scope-summary]").inner_text()
    assert "¥297.00" in summary  # store A only: 2 × ¥99.00 + ¥99.00, not store B's mug
    assert page.locator("text=立即同步").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "warehouse-status-1024-zh.png"), full_page=True)
    tablet.close()
