"""The staffing set-up in a real browser (Chinese): a store manager at 1024 px changes a guide's hourly rate and the
hours they can work, is refused a rate with too many decimals (translated, nothing changed), and adds time off for
a person picked by name; the same page on a 375 px phone without sideways scroll. Screenshots:
staffing-setup-1024, staffing-setup-error-1024, staffing-setup-375."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.org.tests.factories import make_chain
from yundian.staffing.models import Availability, StaffTerms, TimeOff
from yundian.staffing.tests.factories import staff_store

from .conftest import artifacts_dir
from .test_staffing_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_a_guides_rate_hours_and_time_off(live_server, browser):
    chain = make_chain()
    staff_store(chain, chain.store_a, [chain.manager_a, chain.guide_a])
    errors = []
    context, page = _sign_in(browser, live_server, chain.manager_a, 1024)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/staffing/{chain.store_a.pk}/setup/")
    assert page.locator("h1").inner_text().startswith("排班设置")
    card = page.locator(f"#person-{chain.guide_a.pk}")
    card.locator("details.person-edit summary").click()
    form = card.locator("form.person-form")
    form.locator("input[name=hourly_rate]").fill("32.5")
    form.locator("select[name=day_6_from]").select_option("")
    form.locator("select[name=day_6_to]").select_option("")
    form.locator("select[name=day_0_from]").select_option("12")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "¥32.50" in page.locator(f"#person-{chain.guide_a.pk} .person-rate").inner_text()
    assert StaffTerms.objects.get(staff=chain.guide_a).hourly_rate == 3250
    assert sorted(Availability.objects.filter(staff=chain.guide_a).values_list("weekday", "start_hour")) == [
        (0, 12), (1, 8), (2, 8), (3, 8), (4, 8), (5, 8)]
    page.screenshot(path=str(artifacts_dir() / "staffing-setup-1024.png"), full_page=False)
    # a rate with three decimals: refused in Chinese, nothing changed
    card = page.locator(f"#person-{chain.guide_a.pk}")
    card.locator("details.person-edit summary").click()
    card.locator("input[name=hourly_rate]").fill("32.505")
    with page.expect_navigation():
        card.locator("button[type=submit]").click()
    assert "未做任何修改" in page.locator("p.error").inner_text()
    assert StaffTerms.objects.get(staff=chain.guide_a).hourly_rate == 3250
    page.screenshot(path=str(artifacts_dir() / "staffing-setup-error-1024.png"), full_page=False)
    # time off for the guide, picked by name
    start = timezone.localdate() + timedelta(days=10)
    form = page.locator("#time-off form.setup-grid")
    form.locator(".picker-q").fill(chain.guide_a.display_name[:2])
    option = form.locator(f".picker-list [role=option][data-id='{chain.guide_a.pk}']")
    option.wait_for()
    option.click()
    form.locator("input[name=first_day]").fill(start.isoformat())
    form.locator("input[name=last_day]").fill((start + timedelta(days=1)).isoformat())
    form.locator("input[name=note]").fill("考试")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "考试" in page.locator("#time-off").inner_text()
    assert TimeOff.objects.filter(staff=chain.guide_a, first_day=start).count() == 1
    context.close()
    # the phone
    context, page = _sign_in(browser, live_server, chain.manager_a, 375)
    page.goto(f"{live_server.url}/staffing/{chain.store_a.pk}/setup/")
    page.locator(f"#person-{chain.guide_a.pk} details.person-edit summary").click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "staffing-setup-375.png"), full_page=True)
    context.close()
    assert errors == []
