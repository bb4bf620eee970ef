"""Webhooks in a real browser: HQ creates a subscription by picking events by their translated names (1440 px), an
order reaches the local receiver and the delivery log shows it delivered beside a dead letter with its retry button
(1024 px); screenshots of the pages in Chinese and English at 1440, 1024 and 375 px go to the test artefacts."""
import pytest

from yundian.integrations.models import WebhookDelivery, WebhookSubscription
from yundian.integrations.tests.receiver import Receiver
from yundian.integrations.webhooks_delivery import deliver_due
from yundian.integrations.webhooks_events import dispatch
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.tests.factories import sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base, user):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_hq_creates_a_subscription_and_sees_its_delivery(live_server, browser, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    chain = make_chain()
    stock = stocked(chain)
    errors = []
    shots = artifacts_dir()
    with Receiver() as receiver, Receiver(default=500) as broken:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        _sign_in(page, live_server.url, chain.admin.user)
        page.goto(f"{live_server.url}/integrations/webhooks/new/")
        page.fill("input[name=name]", "金蝶 ERP")
        page.fill("input[name=url]", receiver.url)
        page.get_by_label("订单已支付").check()
        page.get_by_label("库存变动").check()
        page.screenshot(path=str(shots / "webhooks-new-1440-zh.png"), full_page=True)
        page.get_by_role("button", name="创建订阅").click()
        page.wait_for_url(f"{live_server.url}/integrations/webhooks/*/")
        sub = WebhookSubscription.objects.get(name="金蝶 ERP")
        assert sub.events == ["order.paid", "stock.changed"]
        receiver.secret = sub.secret
        page.locator("summary").filter(has_text="显示密钥").click()
        assert page.locator("[data-testid=secret]").inner_text() == sub.secret
        WebhookSubscription.objects.create(enterprise_id=chain.admin.enterprise_id, name="WMS", url=broken.url,
                                           events=["order.paid"], secret="whsec_x")
        sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
        dispatch()
        deliver_due()
        assert {c["type"] for c in receiver.calls} == {"order.paid", "stock.changed"}
        assert all(c["verified"] for c in receiver.calls)
        page.reload()
        page.screenshot(path=str(shots / "webhooks-edit-1440-zh.png"), full_page=True)
        page.set_viewport_size({"width": 1024, "height": 800})
        page.goto(f"{live_server.url}/integrations/webhooks/deliveries/")
        assert page.locator("tr[data-status=succeeded]").count() == 2
        dead = page.locator("tr[data-status=dead]")
        assert dead.count() == 1 and dead.get_by_role("button", name="重试").is_visible()
        page.screenshot(path=str(shots / "webhooks-deliveries-1024-zh.png"), full_page=True)
        dead.get_by_role("button", name="重试").click()
        page.wait_for_load_state()
        assert WebhookDelivery.objects.get(subscription__name="WMS").status == "pending"
        page.goto(f"{live_server.url}/integrations/webhooks/")
        page.screenshot(path=str(shots / "webhooks-list-1024-zh.png"), full_page=True)
        delivery = WebhookDelivery.objects.filter(subscription=sub).first()
        page.goto(f"{live_server.url}/integrations/webhooks/deliveries/{delivery.pk}/")
        page.screenshot(path=str(shots / "webhooks-delivery-1024-zh.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 800})
        page.goto(f"{live_server.url}/integrations/webhooks/{sub.pk}/")
        page.screenshot(path=str(shots / "webhooks-edit-375-zh.png"), full_page=True)
        context.close()

        en = browser.new_context(locale="en-GB", viewport={"width": 1440, "height": 900})
        page = en.new_page()
        page.set_default_timeout(30_000)
        _sign_in(page, live_server.url, chain.admin.user)
        page.goto(f"{live_server.url}/integrations/webhooks/{sub.pk}/")
        page.screenshot(path=str(shots / "webhooks-edit-1440-en.png"), full_page=True)
        page.goto(f"{live_server.url}/integrations/webhooks/deliveries/")
        page.screenshot(path=str(shots / "webhooks-deliveries-1440-en.png"), full_page=True)
        en.close()
    assert errors == []
