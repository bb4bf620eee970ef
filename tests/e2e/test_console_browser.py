"""The console in a real browser: sign in, switch language, open a store in the org tree, see it listed."""
import pytest

from yundian.org.models import OrgNode
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_signs_in_switches_to_english_and_creates_a_store_in_the_org_tree(live_server, page):
    chain = make_chain()
    page.goto(f"{live_server.url}/login/")
    # the console starts in Chinese
    assert page.locator("h1").inner_text() == "登录云店"
    page.fill("input[name=username]", chain.admin.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    with page.expect_navigation():
        page.select_option("#language-select", "en")
    groups = page.locator("nav.nav details.nav-group > summary")
    assert groups.all_inner_texts() == ["Sales", "Goods", "Stock", "Members", "Marketing", "Guides", "Analytics",
                                        "Settings"]

    page.click("nav.nav details[data-group=settings] > summary")
    page.click("nav.nav >> text=Organisation")
    page.wait_for_url(f"{live_server.url}/org/")
    west = page.locator(f"li.tree-node[data-code='{chain.west.code}']")
    west.locator(":scope > details.add-child > summary").click()
    form = west.locator(":scope > details.add-child form")
    form.locator("select[name=kind]").select_option("store")
    form.locator("input[name=name]").fill("成都春熙路店")
    form.locator("input[name=code]").fill("acme-CD1")
    form.locator("button[type=submit]").click()

    created = page.locator("li.tree-node[data-code='acme-CD1']")
    created.wait_for()
    assert page.locator("p.notice").inner_text() == "Created 成都春熙路店."
    assert created.locator(".badge").first.inner_text() == "Store"
    # listed under West, and stored under West
    assert page.locator(f"li.tree-node[data-code='{chain.west.code}'] li.tree-node[data-code='acme-CD1']").count() == 1
    node = OrgNode.objects.get(code="acme-CD1")
    assert (node.parent_id, node.kind, node.name) == (chain.west.id, "store", "成都春熙路店")

    # a full reload still lists it (not only the htmx fragment)
    page.reload()
    assert page.locator("li.tree-node[data-code='acme-CD1'] > a").inner_text() == "成都春熙路店"
    page.screenshot(path=str(artifacts_dir() / "console-org-tree.png"), full_page=True)
