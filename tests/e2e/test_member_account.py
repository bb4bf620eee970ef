"""A member signs in on their phone at the store's storefront with the one-time code (read from the test outbox)
and sees their points, balance and the order they paid at the till, under the store's theme."""
import pytest
from django.utils import translation
from playwright.sync_api import expect

from yundian.members import senders
from yundian.members.models import Member, PointsBalance
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import make_chain
from yundian.sales.tests.factories import sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_signs_in_on_a_phone_with_the_code_and_sees_points_and_an_order(live_server, phone_page):
    chain = make_chain()
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    member = register(chain, phone="13800138000", name="王小明")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.pk)
    assert PointsBalance.objects.get(member=member).points == 99
    senders.outbox.clear()

    page = phone_page
    page.goto(f"{live_server.url}/s/{profile.slug}/me/")
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/me/sign-in/?next=/s/{profile.slug}/me/")
    page.fill("#ma-phone-form input[name=phone]", "138 0013 8000")
    page.click("#ma-phone-form button[type=submit]")
    expect(page.locator("#ma-sent")).to_contain_text("138****8000")
    code = senders.last_code("13800138000")
    assert code is not None and len(code) == 6

    # a wrong code first: refused on the page, the right one still works
    page.fill("#ma-code-form input[name=code]", "000000" if code != "000000" else "111111")
    page.click("#ma-code-form button[type=submit]")
    expect(page.locator("#ma-error")).to_have_attribute("data-code", "login_code_wrong")
    page.fill("#ma-code-form input[name=code]", code)
    page.click("#ma-code-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/me/")

    expect(page.locator("#ma-points")).to_have_text("99")
    expect(page.locator("#ma-stored-value")).to_have_text("¥0.00")
    expect(page.locator(".ma-hello")).to_have_text("王小明")
    header = page.locator(".sf-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(22, 119, 255)"  # the store's theme
    assert page.locator(".ma-hero").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(22, 119, 255)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    page.screenshot(path=str(artifacts_dir() / "member-account-phone.png"), full_page=True)

    page.click("#ma-tab-orders")
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/me/orders/")
    rows = page.locator("#ma-orders li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-order", order.number)
    with translation.override("zh-hans"):
        expect(rows.first).to_contain_text(str(order.get_status_display()))
    expect(rows.first.locator(".ma-amount")).to_have_text("¥99.00")

    page.click("#ma-tab-points")
    expect(page.locator("#ma-points-entries li")).to_have_count(1)
    expect(page.locator("#ma-points-entries .ma-amount")).to_have_text("+99")
    page.screenshot(path=str(artifacts_dir() / "member-account-phone-points.png"), full_page=True)

    page.click("#ma-sign-out")
    page.wait_for_url(f"{live_server.url}/s/{profile.slug}/")
    page.goto(f"{live_server.url}/s/{profile.slug}/me/points/")
    expect(page.locator("#ma-phone-form")).to_be_visible()
    assert Member.objects.count() == 1  # the known phone signed in as its member, no new registration
