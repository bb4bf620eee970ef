"""The staffing week in a real browser: a store manager at 1024 px (Chinese) plans the week, reads the heat strip of
need against plan, adds a shift by picking a person by name and is refused an illegal one; the same page on a
375 px phone; a guide on the phone sees the shift and signs in. Screenshots: staffing-week-1024, staffing-week-375,
staffing-me-375 (the README shows them from docs/screenshots)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.staffing.models import Shift, SignInEntry
from yundian.staffing.services import week_of
from yundian.staffing.tests.factories import extra_guides, staff_store

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser, live_server, staff, width):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900 if width > 600 else 740},
                                  is_mobile=width < 600, has_touch=width < 600)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(120_000)  # planning the week runs the forecast and the solver in the request
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page


def test_a_manager_plans_and_edits_the_week_and_a_guide_signs_in_on_the_phone(live_server, browser, warehouse):
    chain = make_chain()
    helpers = extra_guides(chain, chain.store_a, 2)
    staff_store(chain, chain.store_a, [chain.manager_a, chain.guide_a, *helpers])
    today = timezone.localdate()
    monday = week_of(today)
    errors = []
    context, page = _sign_in(browser, live_server, chain.manager_a, 1024)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/staffing/")
    assert page.locator("h1").inner_text().startswith("排班")
    with page.expect_navigation():
        page.click("form.plan-form button")
    # every open hour is met (the heat strip is green where the store is open), the plan beside the fixed schedule
    cells = page.locator(".heat-cell[data-need]:not(.closed)")
    assert cells.count() == 7 * 12 and page.locator(".heat-cell.short").count() == 0
    assert page.locator("[data-figure=short]").inner_text() == "0"
    assert "固定班" in page.locator("table.plan-compare").inner_text()
    # add a shift on the last day for a helper, picked by name
    last_day = page.locator(f"#day-{(monday + timedelta(days=6)).isoformat()}")
    planned_before = Shift.objects.filter(day=monday + timedelta(days=6)).count()
    last_day.locator("details.shift-add summary").click()
    taken = set(Shift.objects.filter(day=monday + timedelta(days=6))
                .values_list("staff_id", flat=True))
    week_hours = {p.pk: sum(s.paid_hours for s in Shift.objects.filter(staff=p, day__gte=monday))
                  for p in [chain.manager_a, chain.guide_a, helpers[0]]}  # full-timers (helpers[1] is part-time)
    free = min((p for p in [chain.manager_a, chain.guide_a, helpers[0]] if p.pk not in taken),
               key=lambda p: week_hours[p.pk])
    form = last_day.locator("details.shift-add form")
    form.locator("select[name=staff]").select_option(label=free.display_name)
    form.locator("select[name=start_hour]").select_option("12")
    form.locator("select[name=end_hour]").select_option("16")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    added = page.locator(f"li.shift:has-text('{free.display_name}')", has=page.locator(".badge"))
    added.first.wait_for()
    assert Shift.objects.filter(day=monday + timedelta(days=6)).count() == planned_before + 1
    page.screenshot(path=str(artifacts_dir() / "staffing-week-1024.png"), full_page=False)
    # an illegal one (13 hours) is refused with the rule, nothing added
    last_day = page.locator(f"#day-{(monday + timedelta(days=6)).isoformat()}")
    last_day.locator("details.shift-add summary").click()
    form = last_day.locator("details.shift-add form")
    form.locator("select[name=staff]").select_option(label=free.display_name)  # a second shift, 13 hours
    form.locator("select[name=start_hour]").select_option("8")
    form.locator("select[name=end_hour]").select_option("21")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "违反用工规则" in page.locator("p.error").inner_text()
    assert Shift.objects.filter(day=monday + timedelta(days=6)).count() == planned_before + 1
    context.close()
    # the same week on the manager's phone: no sideways scroll
    context, page = _sign_in(browser, live_server, chain.manager_a, 375)
    page.goto(f"{live_server.url}/staffing/{chain.store_a.pk}/{monday.isoformat()}/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "staffing-week-375.png"), full_page=False)
    context.close()
    # a guide with a shift today sees it and signs in
    if not Shift.objects.filter(staff=chain.guide_a, day=today).exists():
        Shift.objects.create(store=chain.store_a, staff=chain.guide_a, day=today, start_hour=9, end_hour=13)
    context, page = _sign_in(browser, live_server, chain.guide_a, 375)
    page.goto(f"{live_server.url}/staffing/me/")
    assert page.locator(".my-shift.today").count() == 1
    with page.expect_navigation():
        page.click("button.sign-button")
    assert "已签到" in page.locator(".sign").inner_text()
    assert SignInEntry.objects.filter(staff=chain.guide_a, kind="in").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "staffing-me-375.png"), full_page=True)
    context.close()
    assert errors == []
