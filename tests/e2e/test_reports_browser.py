"""The GMV tree and a report in a real browser: HQ on a 1440 px screen (English) opens the tree from the navigation,
sees it drawn, drills down to a region and a store (guides below), opens sales by store and exports it; a store
manager on a 375 px phone (Chinese) sees their store's tree without the page scrolling sideways."""
import pytest
from django.utils import timezone

from yundian.analytics.sync import sync_run
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.tests.factories import sell, stocked

from .conftest import artifacts_dir

# once: the pages read the warehouse; test_report_pages covers the OLTP side (sync, schedules) on both databases
pytestmark = [pytest.mark.browser, pytest.mark.once, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _drawn(page, testid):
    page.wait_for_selector(f"[data-testid={testid}][data-chart-state=drawn], [data-testid={testid}]"
                           f"[data-chart-state=table]", timeout=10_000)
    return page.get_attribute(f"[data-testid={testid}]", "data-chart-state")


def test_hq_drills_the_gmv_tree_down_to_guides_and_a_store_manager_reads_theirs_on_a_phone(
        live_server, browser, warehouse):
    chain = make_chain()
    stock = stocked(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])  # ¥198.00 in store A (east)
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)])  # ¥99.00 in store B (west)
    sync_run()
    today = timezone.localdate().isoformat()

    hq = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = hq.new_page()
    _sign_in(page, live_server.url, chain.admin)
    page.click("nav.nav details[data-group=analytics] > summary")
    page.click("nav.nav a[href=\"/analytics/reports/\"]")
    page.wait_for_url(f"{live_server.url}/analytics/reports/")
    page.click("[data-testid=report-list] >> text=GMV tree")
    page.select_option("select[name=grain]", "day")
    page.fill("input[name=date]", today)
    page.click("[data-testid=gmv-filters] button[type=submit]")
    assert "¥297.00" in page.locator("[data-testid=gmv-tree]").inner_text()
    assert _drawn(page, "gmv-tree-chart") == "drawn"
    page.screenshot(path=str(artifacts_dir() / "gmv-tree-1440-en.png"), full_page=True)
    page.click("[data-testid=gmv-children] >> text=华东")
    assert "¥198.00" in page.locator("[data-testid=gmv-tree]").inner_text()
    page.click("[data-testid=gmv-children] >> text=D1")  # the dealer between the region and the store
    page.click("[data-testid=gmv-children] >> text=Store A")
    children = page.locator("[data-testid=gmv-children]").inner_text()
    assert "guide-a" in children and "¥198.00" in children and "guide-b" not in children
    page.goto(f"{live_server.url}/analytics/reports/sales-by-store/?from={today}&to={today}")
    assert _drawn(page, "report-chart") == "drawn"
    table = page.locator("[data-testid=report-table]").inner_text()
    assert table.index("Store A") < table.index("Store B")  # the ranking: ¥198.00 before ¥99.00
    page.screenshot(path=str(artifacts_dir() / "report-sales-by-store-1440-en.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Export Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
    hq.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True)
    page = phone.new_page()
    _sign_in(page, live_server.url, chain.manager_a)
    page.goto(f"{live_server.url}/analytics/reports/gmv/?grain=day&date={today}")
    tree = page.locator("[data-testid=gmv-tree]").inner_text()
    assert "¥198.00" in tree and "¥297.00" not in tree
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "gmv-tree-375-zh.png"), full_page=True)
    phone.close()
