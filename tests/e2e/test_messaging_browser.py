"""The outbox in a real browser: HQ writes a template and sees the live preview follow the typing (1440 px), the
outbox draws its chart and masks phones, and a member reads the storefront inbox with its unread count on a 375 px
phone without sideways scrolling. Screenshots go to the test artefacts (README shows them from docs/screenshots)."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from yundian.members.account import SESSION_KEY
from yundian.messaging.models import MessageTemplate
from yundian.messaging.sending import send_due
from yundian.messaging.tests.factories import consenting_member, enqueue, make_template, reset_gateways, store_zone
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NOON = datetime(2030, 1, 7, 4, 0, tzinfo=ZoneInfo("UTC"))


def _sign_in(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_template_preview_outbox_and_storefront_inbox(live_server, browser):
    reset_gateways()
    chain = make_chain()
    profile = store_zone(chain, chain.store_a, "Asia/Shanghai")
    template = make_template(chain)
    member = consenting_member(chain, phone="13812345678")
    for i, channel in enumerate(("sms", "inapp", "inapp", "wechat", "email")):
        enqueue(member, template, f"journey:9:{i}", channel=channel, coupon_code=f"NY-{i}")
    others = [consenting_member(chain, name=f"会员{i}", email=None, openid=None, channels=()) for i in range(3)]
    for i, other in enumerate(others):
        enqueue(other, template, f"manual:{i}")
    send_due(now=NOON)
    errors = []
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, live_server.url, chain.admin.user)
    page.goto(f"{live_server.url}/messaging/templates/new/")
    page.fill("#template-name", "会员日")
    page.fill("#body-sms-zh-hans", "$member_name，会员日全场 9 折，$store_name 见")
    page.locator("#template-preview .msg-bubble-sms").filter(has_text="王小明，会员日全场 9 折").wait_for()
    assert "退订：" in page.locator("#template-preview").inner_text()
    page.screenshot(path=str(artifacts_dir() / "messaging-template-1440-zh.png"), full_page=False)
    page.click("#template-save")
    page.wait_for_url(f"{live_server.url}/messaging/templates/*/")
    assert MessageTemplate.objects.filter(name="会员日").count() == 1
    page.goto(f"{live_server.url}/messaging/")
    page.locator("figure[data-testid=outbox-chart]").wait_for()
    assert page.locator("tr[data-message]").count() == 8
    page.select_option("#outbox-status", "suppressed")
    page.wait_for_function("document.querySelectorAll('tr[data-message]').length === 3")
    page.select_option("#outbox-status", "")
    page.wait_for_function("document.querySelectorAll('tr[data-message]').length === 8")
    page.screenshot(path=str(artifacts_dir() / "messaging-outbox-1440-zh.png"), full_page=True)
    context.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True,
                                has_touch=True, device_scale_factor=2)
    inbox = phone.new_page()
    inbox.set_default_timeout(15_000)
    inbox.on("pageerror", lambda error: errors.append(str(error)))
    inbox.goto(f"{live_server.url}/s/{profile.slug}/")  # a session cookie for this site
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}
    session.save()
    phone.add_cookies([{"name": "sessionid", "value": session.session_key, "url": live_server.url}])
    inbox.goto(f"{live_server.url}/s/{profile.slug}/me/messages/")
    assert inbox.locator("#ma-inbox-unread").inner_text() == "2"
    assert inbox.locator(".mi-item").count() == 2
    assert inbox.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    inbox.screenshot(path=str(artifacts_dir() / "messaging-inbox-375-zh.png"), full_page=True)
    inbox.locator(".mi-item.mi-unread .mi-read").first.click()
    inbox.wait_for_function("document.querySelector('#ma-inbox-unread').textContent.trim() === '1'")
    assert errors == []
    phone.close()
