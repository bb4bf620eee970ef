"""A live session (直播) on a 375 px phone (zh-Hans): a viewer opens the host's link, sees the live prices, signs in
with the one-time code (joining the host's store), buys at the live price through the storefront cart; once paid
and synced, the session's report shows the viewer and the order. The console's list, form, session and report
pages at 1440 and 1024 px. Screenshots: live-*.png."""
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yundian.analytics.sync import sync_run
from yundian.cdp.models import EventInbox
from yundian.members import senders
from yundian.members.models import Member
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions import services as promotions
from yundian.promotions.models import ShareLink
from yundian.promotions.services import ItemIn
from yundian.sales import services as sales
from yundian.sales.models import Order
from yundian.sales.tests.factories import plan, stocked

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


def test_a_viewer_opens_the_session_link_signs_in_and_buys_and_the_report_shows_the_order(
        live_server, browser, warehouse):
    chain = make_chain()
    stock = stocked(chain, units=20)
    profile = open_storefront(chain, stock.cat)
    plan(chain, "0.05")
    now = timezone.now()
    session = promotions.live_session_create(
        actor=chain.manager_a, store_id=chain.store_a.id, title="夏日好物直播", host_id=chain.guide_a.id,
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1),
        items=[ItemIn(sku_id=stock.cat.tee_s.id, live_price=5900),
               ItemIn(sku_id=stock.cat.mug_sku.id, flash_price=990, cap=20, limit=1)])
    upcoming = promotions.live_session_create(
        actor=chain.admin, store_id=chain.store_a.id, title="新品首发直播", host_id=chain.guide_a.id,
        starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4),
        items=[ItemIn(sku_id=stock.cat.tee_m.id, live_price=6900)])
    link = ShareLink.objects.get(source=f"live:{session.pk}")
    senders.outbox.clear()
    url = live_server.url

    # the viewer's phone
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/p/r/{link.code}/")
    page.wait_for_url(f"{url}/s/{profile.slug}/deals/live/{session.pk}/")
    item = page.locator(f"#sd-live-items li[data-sku-id='{stock.cat.tee_s.id}']")
    expect(item.locator(".sd-live-price")).to_have_text("¥59.00")
    expect(page.locator(".sd-live-badge")).to_contain_text("直播中")
    assert _fits(page)
    page.screenshot(path=str(artifacts_dir() / "live-session-375-zh.png"), full_page=True)
    page.click("#sd-sign-in")
    page.fill("#ma-phone-form input[name=phone]", "13900002222")
    page.click("#ma-phone-form button[type=submit]")
    expect(page.locator("#ma-sent")).to_be_visible()
    page.fill("#ma-code-form input[name=code]", senders.last_code("13900002222"))
    page.click("#ma-code-form button[type=submit]")
    page.wait_for_url(f"{url}/s/{profile.slug}/deals/live/{session.pk}/")
    expect(page.locator("#sd-sign-in")).to_have_count(0)
    item.locator("button[data-buy]").click()
    page.wait_for_url(f"{url}/s/{profile.slug}/cart/")
    expect(page.locator("#sc-total")).to_have_text("¥59.00")
    page.click("#sc-place")
    page.locator("#sf-placed").wait_for()
    # the countdown of the session to come
    page.goto(f"{url}/s/{profile.slug}/deals/live/{upcoming.pk}/")
    expect(page.locator("#sd-countdown [data-countdown]")).to_have_text(re.compile(r"0?2:5\d:\d\d"))
    page.screenshot(path=str(artifacts_dir() / "live-session-scheduled-375-zh.png"), full_page=True)
    phone.close()  # the tracker hands its queue over on leaving

    member = Member.objects.get(identities__value__endswith="13900002222")
    assert member.home_id == chain.store_a.id
    order = Order.objects.get(member=member)
    assert (order.share_code, order.total) == (link.code, 5900)
    assert [l.guide_id for l in order.lines.all()] == [chain.guide_a.id]
    sales.payment_add(actor=chain.manager_a, order_id=order.pk, payment={"method": "cash", "client_ref": "counter"})
    marker = f"/deals/live/{session.pk}/"
    for _ in range(40):  # the tracker's beacon arrives on its own schedule
        if EventInbox.objects.filter(kind="page_view", properties__contains=marker).exists():
            break
        time.sleep(0.25)
    sync_run()

    # HQ: the list, the session, the form and the report
    for width, height in ((1440, 900), (1024, 768)):
        hq = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
        console = hq.new_page()
        console.set_default_timeout(30_000)
        _sign_in(console, url, chain.admin)
        console.goto(f"{url}/promotions/live/")
        expect(console.locator(f"#live-sessions tr[data-state='live']")).to_contain_text("夏日好物直播")
        console.screenshot(path=str(artifacts_dir() / f"live-list-{width}-zh.png"), full_page=True)
        console.goto(f"{url}/promotions/live/{session.pk}/")
        expect(console.locator("#live-state")).to_have_text("直播中")
        console.screenshot(path=str(artifacts_dir() / f"live-detail-{width}-zh.png"), full_page=True)
        console.goto(f"{url}/promotions/live/{upcoming.pk}/edit/")
        console.screenshot(path=str(artifacts_dir() / f"live-form-{width}-zh.png"), full_page=True)
        console.goto(f"{url}/analytics/live/{session.pk}/")
        expect(console.locator("[data-kpi=orders]")).to_have_text("1")
        expect(console.locator("[data-kpi=gmv]")).to_have_text("¥59.00")
        expect(console.locator("[data-kpi=viewers]")).to_have_text("1")
        expect(console.locator("#live-top-table")).to_contain_text(stock.cat.tee.name)
        console.wait_for_timeout(800)  # the charts draw
        assert _fits(console)
        console.screenshot(path=str(artifacts_dir() / f"live-report-{width}-zh.png"), full_page=True)
        hq.close()
    # the report on a phone, in English
    en = browser.new_context(locale="en-US", viewport={"width": 375, "height": 812}, is_mobile=True)
    report = en.new_page()
    report.set_default_timeout(30_000)
    _sign_in(report, url, chain.manager_a)
    report.goto(f"{url}/analytics/live/{session.pk}/")
    expect(report.locator("[data-kpi=orders]")).to_have_text("1")
    report.wait_for_timeout(800)
    report.screenshot(path=str(artifacts_dir() / "live-report-375-en.png"), full_page=True)
    en.close()
