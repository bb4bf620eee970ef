"""The home dashboard in a real browser: HQ and a store manager, on a 1440 px screen and a 375 px phone, in Chinese
and English. Three weeks of sales (rung up at the till, some booked later as offline sales) are synced; the figure
cards show the OLTP sums of the actor's scope, the charts are drawn (a canvas in each), switching to "this month"
redraws them, nothing scrolls sideways. Without the chart library the same page shows the charts' tables instead.
Screenshots go to the test artefacts (README shows them from docs/screenshots)."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from yundian.analytics.sync import sync_run
from yundian.core.money import Money
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales import services
from yundian.sales.models import Order
from yundian.sales.tests.factories import next_ref, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ECHARTS = Path(settings.BASE_DIR) / "yundian" / "core" / "static" / "vendor" / "echarts" / "echarts.min.js"


def _today_net(orders) -> int:
    today = timezone.localdate()
    sales = [o for o in orders.filter(paid_at__isnull=False).exclude(status="cancelled")
             if timezone.localdate(o.placed_at) == today]
    return sum(o.paid_total - o.refunded_total for o in sales)


def _history(chain):
    """Orders over the last 21 days in both stores (store B sells less), members on some; then a sync."""
    stock = stocked(chain, units=400)
    members = [register(chain), register(chain), register(chain, store=chain.store_b)]
    now = timezone.now()
    skus = [stock.cat.tee_s, stock.cat.tee_m, stock.cat.mug_sku]
    for day in range(21):
        for n in range(1 + (day * 7) % 4):
            store, clerk = (chain.store_a, chain.guide_a) if n % 3 != 2 else (chain.store_b, chain.guide_b)
            member = members[(day + n) % 3] if (day + n) % 2 == 0 else None
            if member is not None and member.home_id != store.id:
                member = None
            services.order_create(
                actor=clerk, store_id=store.id, client_ref=next_ref(), member_id=member.id if member else None,
                lines=[{"sku_id": skus[(day + n) % 3].id, "quantity": 1 + n}],
                payments=[{"method": "cash", "client_ref": "p"}],
                placed_at=None if day == 0 else now - timedelta(days=day, minutes=10 * n))
    sync_run()


def _open(browser, live_server, staff, *, width: int, language: str):
    context = browser.new_context(locale="zh-CN" if language == "zh-hans" else "en-US",
                                  viewport={"width": width, "height": 900 if width > 600 else 667},
                                  is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page, errors


def _drawn(page, testid: str) -> int:
    figure = page.locator(f"figure[data-testid={testid}]")
    figure.and_(page.locator("[data-chart-state=drawn]")).wait_for()
    return figure.locator("canvas").count()


def test_hq_and_store_dashboards_draw_their_charts_on_desktop_and_phone(live_server, browser, warehouse):
    if not ECHARTS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ECHARTS} is missing: scripts/_env.sh installs it (npm ci)")
        pytest.skip("ECharts is not installed (scripts/_env.sh: npm ci)")
    chain = make_chain()
    _history(chain)
    everything = Order.objects.filter(store__enterprise_id=chain.admin.enterprise_id)
    cases = [
        ("hq", chain.admin, everything, 1440, "en"), ("hq", chain.admin, everything, 375, "zh-hans"),
        ("store", chain.manager_a, everything.filter(store=chain.store_a), 1440, "zh-hans"),
        ("store", chain.manager_a, everything.filter(store=chain.store_a), 375, "en"),
    ]
    for who, staff, orders, width, language in cases:
        context, page, errors = _open(browser, live_server, staff, width=width, language=language)
        assert _drawn(page, "chart-trend") >= 1
        assert page.locator("[data-testid=figure-net_sales]").inner_text() == Money(_today_net(orders)).format()
        assert _drawn(page, "chart-top-products") >= 1
        assert (page.locator("figure[data-testid=chart-top-stores]").count() == 1) == (who == "hq")
        assert page.locator("figure[data-testid=chart-trend] details.chart-table").get_attribute("open") is None
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (who, width)
        page.screenshot(path=str(artifacts_dir() / f"dashboard-{who}-{width}-{language}.png"), full_page=True)

        page.click(".dash-periods a:nth-child(3)")  # this month: the fragment is swapped in and drawn again
        page.locator("[data-testid=dashboard][data-period=month]").wait_for()
        assert _drawn(page, "chart-trend") >= 1
        month = orders.filter(paid_at__isnull=False, placed_at__date__gte=timezone.localdate().replace(day=1))
        assert page.locator("[data-testid=figure-orders]").inner_text() == f"{month.exclude(status='cancelled').count():,}"
        if who == "hq":
            assert _drawn(page, "chart-top-stores") >= 1
        assert errors == []
        context.close()

    # no chart library (not installed, or it failed to load): the tables stay, the page works
    context, page, errors = _open(browser, live_server, chain.admin, width=1440, language="en")
    page.route("**/vendor/echarts/**", lambda route: route.fulfill(status=404, body=""))
    page.reload()
    page.locator("figure[data-testid=chart-trend][data-chart-state=table]").wait_for()
    page.wait_for_timeout(300)
    table = page.locator("figure[data-testid=chart-trend] table")
    assert table.is_visible() and page.locator("figure canvas").count() == 0
    assert page.locator("figure[data-testid=chart-trend]").get_attribute("data-chart-state") == "table"
    assert errors == []
    context.close()
