"""Diagnosis in a real browser: the findings inbox as HQ sees it (1440 px, English: every finding with its chart of
actual against the forecast band), as a store manager sees and resolves theirs (1024 px, Chinese) and as a guide
sees theirs on a phone (375 px); and the cycle count the diagnosis asked for, counted blind on a phone. Screenshots
go to the test artefacts (README shows them from docs/screenshots)."""
import os
from pathlib import Path

import pytest
from django.conf import settings

from yundian.analytics.models import Finding
from yundian.analytics.tests.diagnosis_history import write
from yundian.analytics.tests.test_diagnosis import DAY, _world
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ECHARTS = Path(settings.BASE_DIR) / "yundian" / "core" / "static" / "vendor" / "echarts" / "echarts.min.js"


def _open(browser, live_server, user, *, width: int, language: str):
    context = browser.new_context(locale="en-US" if language == "en" else "zh-CN",
                                  viewport={"width": width, "height": 900 if width > 600 else 667},
                                  is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    if language == "en":
        with page.expect_navigation():
            page.select_option("#language-select", "en")
    return context, page


def test_findings_inbox_per_role_with_charts_and_a_manager_resolving(live_server, browser, warehouse):
    if not ECHARTS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ECHARTS} is missing: scripts/_env.sh installs it (npm ci)")
        pytest.skip("ECharts is not installed (scripts/_env.sh: npm ci)")
    from yundian.analytics.diagnosis_services import diagnosis_run

    world = _world(make_chain())
    stores = list(world.shape.stores)
    world.shape.plant = [("conversion", stores[0]), ("guide", stores[3], world.guides[1].id)]
    write(world.shape, seed=3)
    created = diagnosis_run(enterprise_id=world.admin.enterprise_id, day=DAY, stock=False).created
    assert sorted(f.driver for f in created) == ["conversion", "guide"]

    # HQ at 1440 px, English: both findings, each with its chart drawn
    context, page = _open(browser, live_server, world.admin, width=1440, language="en")
    page.goto(f"{live_server.url}/analytics/findings/")
    cards = page.locator("[data-testid=finding]")
    assert cards.count() == 2
    for i in range(2):
        cards.nth(i).locator("figure[data-chart-state=drawn] canvas").first.wait_for()
    assert "fewer visitors bought" in page.locator("[data-driver=conversion]").inner_text()
    assert "¥" in page.locator("[data-driver=conversion]").inner_text()
    page.screenshot(path=str(artifacts_dir() / "findings-1440-en.png"), full_page=True)
    context.close()

    # the store manager at 1024 px, Chinese: their finding only, resolved with a note
    manager = world.managers[stores[0]]
    context, page = _open(browser, live_server, manager, width=1024, language="zh-hans")
    page.goto(f"{live_server.url}/analytics/findings/?mine=1")
    assert page.locator("[data-testid=finding]").count() == 1
    assert "进店顾客购买减少" in page.locator("[data-testid=finding]").inner_text()
    page.screenshot(path=str(artifacts_dir() / "findings-1024-zh.png"), full_page=True)
    page.locator("[data-testid=finding] h2 a").click()
    page.locator("figure[data-testid=finding-chart][data-chart-state=drawn]").wait_for()
    page.fill("textarea[name=resolution]", "周末下午增加两名店员")
    with page.expect_navigation():
        page.click("button[value=resolve]")
    assert Finding.objects.get(node_id=stores[0]).status == "resolved"
    context.close()

    # the guide on a 375 px phone: their own finding, nothing scrolls sideways
    context, page = _open(browser, live_server, world.guides[1], width=375, language="zh-hans")
    page.goto(f"{live_server.url}/analytics/findings/")
    assert page.locator("[data-testid=finding]").count() == 1
    assert page.locator("[data-driver=guide]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "findings-375-zh.png"), full_page=True)
    context.close()


def test_the_cycle_count_the_diagnosis_asked_for_is_counted_blind_on_a_phone(live_server, browser, warehouse):
    from yundian.analytics.diagnosis_services import stock_watch_run
    from yundian.inventory.models import Stocktake
    from yundian.inventory.services import receipt_create, warehouse_create

    world = _world(make_chain())
    stores = list(world.shape.stores)
    for i, store in enumerate(stores):
        world.shape.warehouses[store] = warehouse_create(actor=world.admin, node_id=store, kind="store",
                                                         code=f"bw{i}", name=f"W{i}").id
    store, sku = stores[4], world.skus[0][0]
    world.shape.plant = [("phantom", store, sku)]
    write(world.shape, seed=7)
    receipt_create(actor=world.admin, warehouse_id=world.shape.warehouses[store], lines=[(sku, 12)])  # the books
    stock_watch_run(enterprise_id=world.admin.enterprise_id, day=DAY)
    count = Stocktake.objects.get(origin="diagnosis")

    context, page = _open(browser, live_server, world.managers[store], width=375, language="zh-hans")
    page.goto(f"{live_server.url}/inventory/cycle-counts/")
    page.locator("[data-testid=cycle-counts] a").first.click()
    line = page.locator(f"[data-testid=count-line][data-sku='{sku}']")
    assert "本店不再售出" in line.inner_text()
    assert "系统" not in line.inner_text()  # the system's figure is hidden while counting
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "cycle-count-375-zh.png"), full_page=True)
    line.locator("input").fill("0")
    with page.expect_navigation():
        page.click("[data-testid=finish-count]")
    count.refresh_from_db()
    assert count.status == "review" and count.lines.get().counted == 0
    assert page.locator("[data-testid=variance]").inner_text() == "-12"  # shown once counting is over
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(artifacts_dir() / "cycle-count-1024-zh.png"), full_page=True)
    context.close()
