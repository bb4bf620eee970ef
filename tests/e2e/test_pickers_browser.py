"""A picker in a real browser: type part of a name, choose with the arrow keys and Enter (name and code shown,
the phone masked), submit the id; the issued codes are listed again afterwards."""
import pytest

from yundian.catalog.tests.factories import make_catalogue
from yundian.members.tests.factories import register
from yundian.org.tests.factories import make_chain
from yundian.promotions.models import Coupon
from yundian.promotions.tests.factories import campaign

from .conftest import artifacts_dir
from .test_console_layout_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_store_manager_picks_a_member_by_keyboard_and_the_code_is_listed_again(live_server, page):
    chain = make_chain()
    make_catalogue(chain)
    ours = register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    register(chain, phone="13822223333", name="王丽", store=chain.store_a)
    register(chain, phone="13833334444", name="王强", store=chain.store_b)
    coupon_campaign = campaign(chain, code_mode="unique")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, chain.manager_a, "zh-hans")
    page.goto(f"{live_server.url}/promotions/coupons/")

    form = page.locator(f"form[action='/promotions/coupons/{coupon_campaign.id}/issue/']")
    search = form.locator(".picker-q")
    search.fill("王")
    options = form.locator(".picker-list [role=option]")
    options.first.wait_for()
    assert sorted(options.all_inner_texts()) == ["王丽 138****3333 Store A", "王芳 138****2222 Store A"]  # not 王强
    page.screenshot(path=str(artifacts_dir() / "picker-member-open.png"))
    assert form.locator(".picker-list [role=option].active").inner_text().startswith("王丽")  # newest first
    search.press("ArrowDown")
    assert form.locator(".picker-list [role=option].active").get_attribute("data-id") == str(ours.id)
    search.press("Enter")  # chooses; does not submit
    chip = form.locator(".chip")
    assert chip.count() == 1 and chip.locator(".chip-label").inner_text() == "王芳"
    assert form.locator("input[type=hidden][name=member_ids]").input_value() == str(ours.id)
    assert Coupon.objects.count() == 0
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    code = Coupon.objects.get(member=ours).code
    assert code in page.locator("section.notice").inner_text()

    page.click(f"a[href='/promotions/coupons/{coupon_campaign.id}/codes/']")
    row = page.locator(f"#coupon-codes tr[data-code='{code}']")
    assert row.get_attribute("data-status") == "available" and "138****2222" in row.inner_text()
    page.screenshot(path=str(artifacts_dir() / "coupon-codes.png"), full_page=True)
