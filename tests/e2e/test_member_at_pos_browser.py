"""A clerk registers a member at the till, sells to them with another guide attached, and the member's 360°
page shows the new order, the points it earned and their exclusive guide."""
import pytest
from playwright.sync_api import expect

from yundian.catalog.tests.factories import EAN_TEE_S
from yundian.inventory.tests.factories import level, make_stock, put
from yundian.members.models import IdentityKind, Member, PointsBalance
from yundian.org import services as org_services
from yundian.org.roles import Role
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.models import Order, OrderLine

from .conftest import artifacts_dir
from .test_pos_browser import scan, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_registers_a_member_at_the_pos_and_their_360_page_shows_order_points_and_guide(live_server, page):
    chain = make_chain()
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    store = chain.store_a
    guide = org_services.staff_create(actor=chain.admin, home_id=store.id, username="acme-guide-a2",
                                      display_name="导购小李", password=PASSWORD, role=Role.GUIDE)
    sign_in(page, live_server, chain.guide_a)
    page.goto(f"{live_server.url}/pos/{store.id}/")
    page.locator("#pos[data-ready='1']").wait_for()

    # the selling guide is 导购小李, not the clerk at the till
    page.click("#more-options summary")  # guide, mode and coupons sit under one fold on the till
    page.locator("#guide").select_option(str(guide.id))
    # an unknown phone offers registration with the phone filled in
    page.fill("#member-value", "138 0013 8000")
    page.click("#member-form button[type=submit]")
    expect(page.locator("#member-error")).to_be_visible()
    expect(page.locator("#member-register")).to_have_attribute("open", "")
    form = page.locator("#register-form")
    assert form.locator("input[name=phone]").input_value() == "138 0013 8000"
    form.locator("input[name=name]").fill("王小明")
    form.locator("button[type=submit]").click()
    expect(page.locator("#member-attached")).to_be_visible()
    expect(page.locator("#member-name")).to_have_text("王小明")
    member = Member.objects.get(name="王小明")
    assert page.locator("#member-attached").get_attribute("data-member-id") == str(member.id)
    assert member.identities.get(kind=IdentityKind.PHONE).value == "13800138000"
    assert (member.home_id, member.channel, member.guide_id) == (store.id, "pos", guide.id)

    scan(page, EAN_TEE_S)
    expect(page.locator("#totals")).to_have_attribute("data-provisional", "0")
    expect(page.locator("#total")).to_have_text("¥99.00")
    # home delivery: the address is asked for, the goods are reserved in the store's stock room
    expect(page.locator("#delivery-field")).to_be_hidden()
    page.locator("#mode").select_option("delivery")
    page.locator("#tenders .tender-method").select_option("wallet")
    page.click("#checkout")
    expect(page.locator("#checkout-error")).to_be_visible()
    assert Order.objects.count() == 0
    page.fill("#delivery", "上海市南京西路 1 号")
    page.click("#checkout")
    receipt = page.locator("#receipt-panel[data-state='booked']")
    receipt.wait_for()
    order = Order.objects.get(pk=int(receipt.get_attribute("data-order-id")))
    assert (order.member_id, order.clerk_id, order.mode, order.status, order.total, order.points_earned) == (
        member.id, chain.guide_a.id, "delivery", "paid", 9900, 99)
    assert order.delivery == {"address": "上海市南京西路 1 号"}
    assert level(stock.wh_a, stock.cat.tee_s) == (5, 1)
    assert list(OrderLine.objects.filter(order=order).values_list("guide_id", flat=True)) == [guide.id]
    assert PointsBalance.objects.get(member=member).points == 99

    # the member's 360° page
    page.goto(f"{live_server.url}/members/{member.id}/")
    expect(page.locator("h1")).to_contain_text("王小明")
    expect(page.locator("#tile-points .tile-n")).to_have_text("99")
    expect(page.locator("#member-guide")).to_contain_text("导购小李")
    expect(page.locator("#points")).to_contain_text(str(order.pk))  # the earn entry's source is the order
    orders = page.locator("#orders")
    expect(orders.locator("tbody tr")).to_have_count(1)
    expect(orders.locator("tbody tr")).to_contain_text(order.number)
    expect(orders.locator("tbody tr")).to_contain_text("导购小李")
    page.screenshot(path=str(artifacts_dir() / "pos-member-360.png"), full_page=True)
