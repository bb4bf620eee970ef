"""The issue's browser test: HQ builds a cart-abandonment journey on the canvas by dragging (entry: cart abandoned
for 2 hours → issue a coupon → send a message → end), picks the campaign and the message template by name and
publishes it; a member signs in on the store's storefront on their phone and leaves a tee in the cart; the project
clock moves 3 hours on and the journey worker runs, then the outbox's; HQ sees the coupon on the member's 360° page
and the message in the outbox, the member reads it in their storefront inbox, and HQ sees each node's counts on the
canvas."""
import time
from datetime import timedelta

import pytest

from yundian.cdp.models import EventInbox
from yundian.core import when
from yundian.journeys.models import Journey
from yundian.members import senders
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.messaging.models import OutboundMessage
from yundian.messaging.sending import send_due
from yundian.messaging.services import template_create
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign
from yundian.sales.tests.factories import stocked

from .conftest import artifacts_dir
from .test_journey_canvas_browser import _graph, _node, _sign_in, _wire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for_cart_event(member_id: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if EventInbox.objects.filter(kind="add_to_cart", member_id=member_id).exists():
            return True
        time.sleep(0.2)
    return False


def _drop(page, kind, x, y):
    page.drag_and_drop(f"[data-palette-kind={kind}]", ".jc-drawflow", target_position={"x": x, "y": y})


def test_a_cart_left_on_the_storefront_brings_the_coupon_the_canvas_journey_promised(live_server, browser):
    chain = make_chain()
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    coupon_campaign = campaign(chain, code="CART10")
    member = register(chain, name="李梅", phone="13900001111")
    reminder = template_create(actor=chain.admin, name="购物车提醒", bodies=[
        {"channel": "inapp", "subject": "购物车里的商品还在", "body": "$member_name，你的购物车还在等你，优惠券已放进你的账户。"}])
    url = live_server.url

    # HQ builds the journey by dragging
    hq = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = hq.new_page()
    page.set_default_timeout(30_000)
    _sign_in(page, url, chain.admin)
    page.goto(f"{url}/journeys/")
    page.click("[data-testid=new-blank]")
    page.wait_for_selector("[data-journey-canvas][data-ready=true]")
    journey = Journey.objects.get()
    end = _node(page, "n2").locator(".jn-head").bounding_box()
    page.mouse.move(end["x"] + 20, end["y"] + 8)
    page.mouse.down()
    page.mouse.move(end["x"] + 560, end["y"] + 8, steps=6)
    page.mouse.up()
    _drop(page, "coupon", 430, 300)
    _node(page, "n3").wait_for()
    _drop(page, "message", 680, 300)
    _node(page, "n4").wait_for()
    _wire(page, "n1", "out", "n3")
    _wire(page, "n3", "out", "n4")
    _wire(page, "n4", "out", "n2")
    _node(page, "n1").locator(".jn-head").click()
    page.select_option("#jf-trigger", "cart_abandoned")
    page.fill("#jf-hours", "2")
    page.locator("#jf-hours").dispatch_event("change")
    _node(page, "n3").locator(".jn-head").click()
    page.locator("[data-panel-kind=coupon] .picker-q").fill("CART10")
    page.locator("[data-panel-kind=coupon] [role=option]").first.click()
    # the message step: the inbox channel, its template picked by name (the options name the channels it has)
    _node(page, "n4").locator(".jn-head").click()
    page.select_option("[data-panel-kind=message] #jf-channel", "inapp")
    page.locator("[data-panel-kind=message] .picker-q").fill("购物车")
    option = page.locator("[data-panel-kind=message] [role=option]").first
    assert "店铺消息" in option.inner_text()
    page.locator("[data-panel-kind=message]").screenshot(path=str(artifacts_dir() / "journey-message-picker-zh.png"))
    option.click()
    graph = _graph(page)
    assert [(n["id"], n["kind"], n["config"]) for n in graph["nodes"]] == [
        ("n1", "entry", {"trigger": "cart_abandoned", "hours": 2, "reentry": "never"}),
        ("n2", "end", {}),
        ("n3", "coupon", {"campaign_id": coupon_campaign.pk}),
        ("n4", "message", {"channel": "inapp", "template_id": reminder.pk, "recommend": False})]
    assert sorted((e["source"], e["port"], e["target"]) for e in graph["edges"]) == [
        ("n1", "out", "n3"), ("n3", "out", "n4"), ("n4", "out", "n2")]
    page.click("[data-action=publish]")
    page.locator("#jc-publish-dialog[open]").wait_for()
    page.screenshot(path=str(artifacts_dir() / "journey-publish-1440-zh.png"))
    page.click("[data-testid=publish-confirm]")
    page.wait_for_selector("[data-journey-canvas][data-readonly][data-ready=true]")
    journey.refresh_from_db()
    assert (journey.status, journey.trigger) == ("live", "cart_abandoned")

    # the member leaves a tee in the cart on their phone
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    shopper = phone.new_page()
    shopper.set_default_timeout(30_000)
    senders.outbox.clear()
    base = f"{url}/s/{profile.slug}"
    shopper.goto(f"{base}/me/")
    shopper.fill("#ma-phone-form input[name=phone]", "13900001111")
    shopper.click("#ma-phone-form button[type=submit]")
    shopper.locator("#ma-sent").wait_for()
    shopper.fill("#ma-code-form input[name=code]", senders.last_code("13900001111"))
    shopper.click("#ma-code-form button[type=submit]")
    shopper.wait_for_load_state()
    tee = stock.cat.tee_s
    shopper.goto(f"{base}/p/{tee.product_id}/")
    shopper.locator(f".sf-cart-add:has(input[value='{tee.pk}']) button").click()
    shopper.wait_for_url(f"{base}/cart/")
    shopper.goto(f"{base}/")  # leaving the cart page flushes the tracker's batch
    assert _wait_for_cart_event(member.pk)

    # three hours later the worker runs: the trigger enrols the member, the steps issue the coupon and queue the
    # message; the outbox's worker delivers it to the inbox
    from yundian.journeys.tasks import journeys_work

    try:
        when.travel(timedelta(hours=3))
        journeys_work(seconds=5)
    finally:
        when.travel_reset()
    issued = Coupon.objects.get(campaign=coupon_campaign, member=member)
    message = OutboundMessage.objects.get(member=member)
    assert (message.source, message.channel, message.template_id) == (f"jy{journey.pk}", "inapp", reminder.pk)
    send_due()
    message.refresh_from_db()
    assert message.status == "delivered"
    shopper.goto(f"{base}/me/messages/")
    assert "你的购物车还在等你" in shopper.locator(f".mi-item[data-message='{message.pk}']").inner_text()
    shopper.screenshot(path=str(artifacts_dir() / "journey-inbox-375-zh.png"))
    phone.close()
    page.goto(f"{url}/messaging/")
    assert page.locator(f"tr[data-message='{message.pk}']").get_attribute("data-status") == "delivered"

    page.goto(f"{url}/members/{member.pk}/")
    page.locator(f"#coupons tr[data-code='{issued.code}']").wait_for()
    page.locator("#coupons").screenshot(path=str(artifacts_dir() / "journey-member-coupon-1440-zh.png"))
    page.goto(f"{url}/journeys/{journey.pk}/")
    page.wait_for_selector("[data-journey-canvas][data-ready=true]")
    badges = {gid: _node(page, gid).locator("[data-count]").all_inner_texts() for gid in ("n1", "n3", "n4", "n2")}
    assert badges["n1"] == ["进入 1", "通过 1", "等待中 0", "退出 0"]
    assert badges["n3"] == ["进入 1", "通过 1", "等待中 0", "退出 0"]
    assert badges["n4"] == ["进入 1", "通过 1", "等待中 0", "退出 0"]
    assert badges["n2"] == ["进入 1", "通过 0", "等待中 0", "退出 1"]
    assert page.locator("[data-tile=entered] .dash-value").inner_text() == "1"
    page.screenshot(path=str(artifacts_dir() / "journey-results-1440-zh.png"))
    hq.close()
