"""Tags in a real browser: HQ reads the tags page at 1440 px (English) with the computed groups a refresh made;
a guide on a 1024 px tablet opens a member's 360° page, whose CDP panel loads from the cdp URL, adds a manual tag
there (htmx, no reload) and sees RFM and lifecycle; the same panel on a 375 px phone (Chinese)."""
import pytest

from yundian.analytics.sync import sync_run
from yundian.cdp import tags as svc
from yundian.cdp.models import MemberTag
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.tests.factories import sell, stocked

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, url, staff):
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_tags_page_and_a_members_cdp_panel_at_three_widths(live_server, browser, warehouse):
    chain = make_chain()
    stock = stocked(chain)
    member = register(chain, name="李雷")
    group = svc.tag_group_create(actor=chain.admin, name="Interests", code="interest")
    sporty = svc.tag_create(actor=chain.admin, group_id=group.id, name="Sporty", code="sporty")
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], member_id=member.id)
    sync_run()  # the sale gives the member RFM scores, a group and a lifecycle stage in this sync

    hq = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = hq.new_page()
    _sign_in(page, live_server.url, chain.admin)
    page.goto(f"{live_server.url}/cdp/tags/")
    assert page.locator("tr[data-tag=sporty] td").nth(1).inner_text() == "Manual"
    assert page.locator("tr[data-tag='lifecycle.new'] [data-testid=holders]").inner_text() == "1"
    assert page.locator("section.tag-group h2").nth(1).inner_text().startswith("RFM group")  # the reader's language
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "tags-1440-en.png"), full_page=True)
    page.goto(f"{live_server.url}/cdp/tags/lifecycle/")
    page.screenshot(path=str(artifacts_dir() / "tags-lifecycle-1440-en.png"), full_page=True)
    hq.close()

    tablet = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    page = tablet.new_page()
    _sign_in(page, live_server.url, chain.guide_a)
    page.goto(f"{live_server.url}/members/{member.id}/")
    panel = page.locator("[data-testid=cdp-panel]")
    panel.wait_for()
    assert page.locator("[data-testid=lifecycle]").inner_text() == "New"
    page.select_option("#cdp-tags select[name=tag_id]", str(sporty.id))
    page.click("#cdp-tags button[type=submit]")
    page.locator("#cdp-tags li[data-tag=sporty]").wait_for()
    assert MemberTag.objects.filter(member=member, tag=sporty, source="manual").exists()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "member-cdp-panel-1024-en.png"), full_page=True)
    tablet.close()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                is_mobile=True, has_touch=True)
    page = phone.new_page()
    _sign_in(page, live_server.url, chain.guide_a)
    page.goto(f"{live_server.url}/members/{member.id}/")
    page.locator("[data-testid=cdp-panel]").wait_for()
    assert page.locator("[data-testid=lifecycle]").inner_text() == "新客"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#tags").screenshot(path=str(artifacts_dir() / "member-cdp-panel-375-zh.png"))
    phone.close()
