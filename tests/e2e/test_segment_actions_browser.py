"""A segment from building to acting, in a real browser (zh-Hans): HQ builds a segment on the builder page and
watches the live count change, saves it, issues a coupon campaign to it and makes a guide call list from its
actions section (1440 px), then sees the coupon on a member's 360° page; the member's guide works the call list on
a 375 px phone (masked phone, tap to call, how it went)."""
import re

import pytest
from playwright.sync_api import expect

from yundian.analytics.sync import sync_run
from yundian.guides.models import CallListEntry
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign, make_catalogue

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_build_a_segment_watch_its_count_save_it_issue_a_coupon_and_call_its_members(live_server, browser,
                                                                                         warehouse):
    chain = make_chain()
    make_catalogue(chain)
    women = [register(chain, gender="f", name=name, phone=phone)
             for name, phone in (("王芳", "13900001111"), ("李娜", "13900002222"))]
    register(chain, gender="m", name="张伟")
    member_services.guide_bind(actor=chain.guide_a, member_id=women[0].pk, guide_id=chain.guide_a.pk)
    offer = campaign(chain, code="WOMEN")
    sync_run()
    url = live_server.url

    hq = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = hq.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, url, chain.admin)
    page.goto(f"{url}/cdp/segments/new/")
    live = page.locator("[data-testid=live-count]")
    expect(live).to_have_text("–")  # the builder opens with one empty condition: nothing to count yet
    row = page.locator("[data-row]").first
    row.locator("select[data-param=kind]").select_option("gender")
    row.locator("input[type=checkbox][value=f]").check()
    expect(live).to_have_text("2")
    row.locator("input[type=checkbox][value=m]").check()
    expect(live).to_have_text("3")  # the count follows the conditions while editing
    row.locator("input[type=checkbox][value=m]").uncheck()
    expect(live).to_have_text("2")
    page.fill("[data-testid=segment-name]", "女性会员")
    page.screenshot(path=str(artifacts_dir() / "segment-builder-1440-zh.png"), full_page=True)
    page.click("[data-testid=segment-save]")
    page.wait_for_url(re.compile(r".*/cdp/segments/\d+/$"))
    expect(page.locator("[data-testid=segment-size]")).to_have_text("2")

    actions = page.locator("#segment-actions")
    expect(actions).to_contain_text("对该人群采取行动")
    actions.locator("select[name=campaign_id]").select_option(str(offer.pk))
    actions.locator("[data-action=issue-coupons]").click()
    expect(page.locator("#segment-actions [data-issued]")).to_contain_text("已发放 2 张券")
    page.locator("#segment-actions [data-action=call-list]").click()
    expect(page.locator("#segment-actions")).to_contain_text("回访清单 女性会员：新增 2 位会员")
    assert _fits(page)
    page.screenshot(path=str(artifacts_dir() / "segment-actions-1440-zh.png"), full_page=True)
    # clicking again reaches nobody twice
    page.locator("#segment-actions select[name=campaign_id]").select_option(str(offer.pk))
    page.locator("#segment-actions [data-action=issue-coupons]").click()
    expect(page.locator("#segment-actions [data-issued]")).to_contain_text("2 位会员已有")
    assert sorted(Coupon.objects.filter(campaign=offer).values_list("member_id", flat=True)) == \
        sorted(m.pk for m in women)

    page.goto(f"{url}/members/{women[1].pk}/")
    coupons = page.locator("#coupons")
    expect(coupons).to_contain_text(offer.promotion.name)
    expect(coupons.locator("tr[data-status=available]")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir() / "segment-coupon-member-360-1440-zh.png"), full_page=True)
    hq.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, url, chain.guide_a)
    page.goto(f"{url}/guides/calls/")
    call = page.locator(".call").first
    expect(call).to_contain_text("王芳")
    expect(call.locator(".phone")).to_have_text("139****1111")
    assert call.locator("a.call-dial").get_attribute("href").endswith("/dial/")
    assert _fits(page)
    page.screenshot(path=str(artifacts_dir() / "guide-call-list-375-zh.png"), full_page=True)
    call.locator("input[value=reached]").check()
    call.locator("input[name=note]").fill("周末来店")
    call.locator("button[type=submit]").click()
    expect(page.locator(".call").first).to_contain_text("已接通")
    entry = CallListEntry.objects.get(member=women[0])
    assert (entry.outcome, entry.note, entry.called_by_id) == ("reached", "周末来店", chain.guide_a.pk)
    phone.close()
