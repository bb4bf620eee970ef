"""The guide workbench end to end on two 375 px phones (zh-Hans): a guide opens today's task — share a product
card HQ set for the chain — and shares it with one tap from the task; a member opens the link on their phone, signs
in on the storefront and pays for the product with stored value; back on the guide's phone the task is done (the
system saw the open), the commission of the sale is there and the guide has moved up to first place in sales.
Screenshots: guide-task-375-zh, guide-task-shared-375-zh, member-cart-from-share-375-zh, guide-today-done-375-zh,
guide-commission-375-zh, guide-ranking-375-zh."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from yundian.guides import guide_tasks, materials
from yundian.guides.models import CommissionEntry, GuideTask, TaskTarget
from yundian.members import senders
from yundian.members import services as members
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.org import services as org_services
from yundian.org.roles import Role
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.models import Order
from yundian.sales.tests.factories import plan, sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _shot(page, name):
    assert _fits(page), f"{name} scrolls sideways"
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)


def test_a_guide_shares_todays_material_task_and_the_members_purchase_updates_task_commission_and_ranking(
        live_server, browser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    chain = make_chain()
    stock = stocked(chain, units=20)
    profile = open_storefront(chain, stock.cat)
    plan(chain, "0.05")
    peer = org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-li",
                                     display_name="李娜", password=PASSWORD, role=Role.GUIDE)
    sell(peer, chain.store_a, [(stock.cat.mug_sku, 2)])  # the peer leads the store's sales with ¥50.00
    card = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="product_card",
                                     title="夏季新款 T 恤", body="纯棉透气，会员专享价。", product_id=stock.cat.tee.pk)
    now = timezone.now()
    task_plan = guide_tasks.task_plan_create(actor=chain.admin, node_id=chain.hq.id, kind="share",
                                             title="转发夏季新款", target=1, material_id=card.pk,
                                             starts_at=now - timedelta(hours=1), due_at=now + timedelta(days=2))
    store_part = guide_tasks.task_target_split(
        actor=chain.admin, target_id=TaskTarget.objects.get(plan=task_plan).pk,
        parts=[{"node_id": chain.store_a.pk, "target": 1}])[0]
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=store_part.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 1}])
    task = GuideTask.objects.get(plan=task_plan, guide=chain.guide_a)
    shopper = register(chain, phone="13900002222", name="王芳")
    members.stored_value_topup(actor=chain.manager_a, member_id=shopper.pk, amount_fen=20000,
                               store_id=chain.store_a.id, payment_ref="e2e-topup")
    url = live_server.url

    # the guide's phone: today's task, opened, shared with one tap (no share sheet headless: the link is copied)
    guide_phone = browser.new_context(**PHONE, permissions=["clipboard-read", "clipboard-write"])
    guide = guide_phone.new_page()
    guide.set_default_timeout(30_000)
    _sign_in(guide, url, chain.guide_a)
    guide.goto(f"{url}/guides/me/ranking/")
    expect(guide.locator("[data-testid=ranking] li.me")).to_contain_text("guide-a")
    expect(guide.locator("[data-testid=ranking] li").first).to_contain_text("李娜")
    guide.goto(f"{url}/guides/me/")
    today = guide.locator("[data-testid=open-tasks] li", has_text="转发夏季新款")
    expect(today).to_contain_text("0 / 1")
    today.locator("a").click()
    guide.wait_for_url(f"{url}/guides/me/tasks/{task.pk}/")
    expect(guide.locator("[data-testid=task-material]")).to_contain_text("夏季新款 T 恤")
    _shot(guide, "guide-task-375-zh")
    guide.locator("[data-testid=share-material]").click()
    status = guide.locator("[data-testid=task-material] .wb-status")
    expect(status).to_contain_text("/p/r/")
    link = status.locator("code").inner_text().strip()
    assert guide.evaluate("navigator.clipboard.readText()") == link
    expect(guide.locator("[data-testid=task-material] a[data-poster]")).to_be_visible()
    _shot(guide, "guide-task-shared-375-zh")

    # the member's phone: the link opens the product; into the cart, signed in by SMS code, paid with stored value
    member_phone = browser.new_context(**PHONE)
    member = member_phone.new_page()
    member.set_default_timeout(30_000)
    senders.outbox.clear()
    member.goto(link)
    member.wait_for_url(f"{url}/s/{profile.slug}/p/{stock.cat.tee.pk}/")
    member.locator(f".sf-cart-add:has(input[value='{stock.cat.tee_s.pk}']) button").click()
    member.wait_for_url(f"{url}/s/{profile.slug}/cart/")
    member.click("#sc-sign-in")
    member.fill("#ma-phone-form input[name=phone]", "13900002222")
    member.click("#ma-phone-form button[type=submit]")
    expect(member.locator("#ma-sent")).to_be_visible()
    member.fill("#ma-code-form input[name=code]", senders.last_code("13900002222"))
    member.click("#ma-code-form button[type=submit]")
    member.wait_for_url(f"{url}/s/{profile.slug}/cart/")
    expect(member.locator("#sc-total")).to_have_text("¥99.00")
    member.check("#sc-checkout input[name=pay][value=stored_value]")
    _shot(member, "member-cart-from-share-375-zh")
    member.click("#sc-place")
    member.locator("#sf-placed").wait_for()
    member_phone.close()
    order = Order.objects.get(member=shopper)
    assert (order.status, order.paid_total, [line.guide_id for line in order.lines.all()]) == (
        "paid", 9900, [chain.guide_a.pk])
    assert sum(CommissionEntry.objects.filter(guide=chain.guide_a).values_list("amount", flat=True)) == 495

    # back on the guide's phone: the task done by the system, the commission, first place in sales
    guide.goto(f"{url}/guides/me/")
    done = guide.locator("li.done", has_text="转发夏季新款")
    expect(done).to_contain_text("系统")
    expect(guide.locator("[data-testid=open-tasks]")).not_to_contain_text("转发夏季新款")
    _shot(guide, "guide-today-done-375-zh")
    guide.goto(f"{url}/guides/me/tasks/{task.pk}/")
    expect(guide.locator("[data-testid=task-progress]")).to_contain_text("1 / 1")
    guide.goto(f"{url}/guides/me/money/")
    expect(guide.locator("[data-testid=today-commission]")).to_have_text("¥4.95")
    _shot(guide, "guide-commission-375-zh")
    guide.goto(f"{url}/guides/me/ranking/")
    expect(guide.locator("[data-testid=ranking] li").first).to_contain_text("guide-a")
    expect(guide.locator("[data-testid=ranking] li.me")).to_contain_text("¥99.00")
    _shot(guide, "guide-ranking-375-zh")
    guide_phone.close()
