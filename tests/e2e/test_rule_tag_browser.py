"""A rule tag built on the segment builder in a real browser (English, a 1024 px tablet): HQ picks the condition
from words, watches how many members would hold the tag, saves it, and finds it on the tags page with its rule
one click away (the builder opening on the stored condition)."""
import pytest
from playwright.sync_api import expect

from yundian.analytics.sync import sync_run
from yundian.cdp import tags as svc
from yundian.cdp.models import Tag
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hq_builds_a_rule_tag_on_the_builder_and_opens_it_again(live_server, browser, warehouse):
    chain = make_chain()
    for name, phone, gender in (("王芳", "13900001111", "f"), ("李娜", "13900002222", "f"), ("张伟", "13900003333", "m")):
        register(chain, gender=gender, name=name, phone=phone)
    group = svc.tag_group_create(actor=chain.admin, name="Audiences", code="aud")
    sync_run()
    url = live_server.url
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("input[name=username]", chain.admin.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.set_default_timeout(15_000)

    page.goto(f"{url}/cdp/tags/")
    page.click("[data-testid=new-rule-tag]")
    page.locator("[data-testid=tag-group]").select_option(str(group.pk))
    page.fill("[data-testid=tag-name]", "Women")
    page.fill("[data-testid=tag-code]", "women")
    live = page.locator("[data-testid=live-count]")
    row = page.locator("[data-row]").first
    row.locator("select[data-param=kind]").select_option("gender")
    row.locator("input[type=checkbox][value=f]").check()
    expect(live).to_have_text("2")  # two members would hold it now
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir() / "rule-tag-builder-1024-en.png"), full_page=True)
    page.click("[data-testid=segment-save]")
    page.wait_for_url(f"{url}/cdp/tags/")
    tag = Tag.objects.get(code="women")
    assert (tag.kind, tag.rule["conditions"][0]["kind"], tag.rule["conditions"][0]["in"]) == ("rule", "gender", ["f"])

    page.locator("tr[data-tag=women] [data-testid=edit-rule]").click()
    expect(page.locator("[data-row] input[type=checkbox][value=f]").first).to_be_checked()
    expect(page.locator("[data-testid=live-count]")).to_have_text("2")
    context.close()
