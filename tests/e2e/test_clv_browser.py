"""The CLV page in a real browser at HQ, on a 1440 px screen in English and a 375 px phone in Chinese: after a refit on
the warehouse the four charts (CLV by band, members by band, cohort CLV, P(alive) by repeat purchases) are drawn,
the top members' phones are masked, nothing scrolls sideways. Screenshots go to the test artefacts (README shows
them from docs/screenshots)."""
import os
from pathlib import Path

import pytest
from django.conf import settings

from yundian.analytics.clv_services import clv_refit
from yundian.analytics.models import MemberClv
from yundian.analytics.tests.test_clv_refit import END, _write
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ECHARTS = Path(settings.BASE_DIR) / "yundian" / "core" / "static" / "vendor" / "echarts" / "echarts.min.js"
CHARTS = ("clv-band-chart", "clv-band-members", "clv-cohort-chart", "clv-alive-chart")


def test_the_clv_page_draws_its_charts_on_desktop_and_phone(live_server, browser, warehouse):
    if not ECHARTS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ECHARTS} is missing: scripts/_env.sh installs it (npm ci)")
        pytest.skip("ECharts is not installed (scripts/_env.sh: npm ci)")
    chain = make_chain()
    members = [register(chain, store=chain.store_a if i % 3 else chain.store_b, name=f"会员{i:02d}") for i in range(36)]
    _write(chain, members)
    assert clv_refit(enterprise_id=chain.hq.enterprise_id, observation_end=END).status == "fitted"
    top = MemberClv.objects.order_by("-clv_12m", "member_id").select_related("member").first()
    phone = top.member.identities.get(kind="phone").value
    for width, language in ((1440, "en"), (375, "zh-hans")):
        context = browser.new_context(locale="en-US" if language == "en" else "zh-CN",
                                      viewport={"width": width, "height": 900 if width > 600 else 667},
                                      is_mobile=width < 600, has_touch=width < 600)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", chain.admin.user.username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        if language == "en":
            with page.expect_navigation():
                page.select_option("#language-select", "en")
        page.goto(f"{live_server.url}/analytics/clv/")
        for testid in CHARTS:
            figure = page.locator(f"figure[data-testid={testid}]")
            figure.and_(page.locator("[data-chart-state=drawn]")).wait_for()
            assert figure.locator("canvas").count() >= 1, testid
        heading = "Customer lifetime value" if language == "en" else "会员终身价值"
        assert page.locator("h1").inner_text() == heading
        top_row = page.locator(f"[data-testid=clv-top] tr[data-member='{top.member_id}']")
        assert phone not in top_row.inner_text() and f"{phone[:3]}****{phone[-4:]}" in top_row.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        page.screenshot(path=str(artifacts_dir() / f"clv-{width}-{language}.png"), full_page=True)
        assert errors == []
        context.close()
