"""Stock documents in a real browser: a store manager running two stores asks for a transfer from Store A to her
other store (lines typed by SKU code and, in an htmx-added row, by barcode); the dealer approves and ships it; the
destination's manager receives it; the balances page shows the stock moved; `yundian check-ledgers` is clean."""
import io
import re

import pytest
from django.core.management import call_command

from yundian.catalog.tests.factories import EAN_TEE_M
from yundian.inventory.models import Transfer
from yundian.inventory.services import warehouse_create
from yundian.inventory.tests.factories import level, make_stock, put
from yundian.org import services as org_services
from yundian.org.roles import NodeKind, Role
from yundian.org.tests.factories import PASSWORD, make_chain

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(browser, live_server, staff):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def balance_rows(page) -> list[list[str]]:
    """(warehouse, SKU, name, on hand, reserved, available) of every row on the balances page."""
    rows = page.locator("table.table tbody tr")
    return [[cell.strip() for cell in rows.nth(i).locator("td").all_inner_texts()][:6] for i in range(rows.count())]


def test_a_transfer_from_store_a_is_requested_approved_shipped_and_received_in_the_browser(live_server, browser):
    chain = make_chain()
    stock = make_stock(chain)
    admin = chain.admin
    store_c = org_services.org_node_create(actor=admin, parent_id=chain.dealer.id, kind=NodeKind.STORE,
                                           name="Store C", code="acme-C")
    wh_c = warehouse_create(actor=admin, node_id=store_c.id, kind="store", code="WH-C", name="Store C")
    # Store A's manager also runs Store C; Store C has its own manager too
    org_services.role_assign(actor=admin, staff_id=chain.manager_a.id, role=Role.STORE_MANAGER, node_id=store_c.id)
    manager_c = org_services.staff_create(actor=admin, home_id=store_c.id, username="acme-manager-c",
                                          display_name="manager-c", password=PASSWORD, role=Role.STORE_MANAGER)
    put(stock, stock.wh_a, stock.cat.tee_s, 10)
    put(stock, stock.wh_a, stock.cat.tee_m, 5)

    # the store manager asks for the transfer from the transfers page
    page = sign_in(browser, live_server, chain.manager_a)
    page.goto(f"{live_server.url}/inventory/transfers/")
    page.click("a[href='/inventory/transfers/new/']")
    page.wait_for_url(f"{live_server.url}/inventory/transfers/new/")
    to_options = page.locator("select[name=to_warehouse] option").all_inner_texts()
    assert to_options == ["—", "Store A (WH-A)", "Store C (WH-C)"]  # only the warehouses she manages
    page.select_option("select[name=from_warehouse]", str(stock.wh_a.id))
    page.select_option("select[name=to_warehouse]", str(wh_c.id))
    rows = page.locator("#lines tbody tr")
    assert rows.count() == 3
    page.click("#document-form button[hx-get]")  # htmx: one more row
    rows.nth(3).wait_for()
    rows.nth(0).locator("input[name=line_sku]").fill("TEE-001-S")
    rows.nth(0).locator("input[name=line_quantity]").fill("4")
    rows.nth(3).locator("input[name=line_sku]").fill(EAN_TEE_M)
    rows.nth(3).locator("input[name=line_quantity]").fill("2")
    page.screenshot(path=str(artifacts_dir() / "inventory-transfer-form.png"), full_page=True)
    page.click("#document-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/inventory/transfers/\d+/$"))
    transfer = Transfer.objects.get()
    assert page.url == f"{live_server.url}/inventory/transfers/{transfer.id}/"
    assert page.locator("h1 .status").get_attribute("data-status") == "requested"
    assert transfer.number in page.locator("ul.messages").inner_text()
    assert page.locator("#transfer-lines tbody tr").all_inner_texts() == [
        "TEE-001-S\t纯棉T恤 S\t4\t0\t0", "TEE-001-M\t纯棉T恤 M\t2\t0\t0"]
    page.context.close()

    # the dealer (over Store A, the giving side) approves and ships everything requested
    page = sign_in(browser, live_server, chain.dealer_staff)
    page.goto(f"{live_server.url}/inventory/transfers/{transfer.id}/")
    with page.expect_navigation():
        page.click("button[name=action][value=approve]")
    assert page.locator("h1 .status").get_attribute("data-status") == "approved"
    assert page.locator(f"input[name=qty_{stock.cat.tee_s.id}]").input_value() == "4"
    page.screenshot(path=str(artifacts_dir() / "inventory-transfer-approved.png"), full_page=True)
    with page.expect_navigation():
        page.click("button[name=action][value=ship]")
    assert page.locator("h1 .status").get_attribute("data-status") == "shipped"
    assert level(stock.wh_a, stock.cat.tee_s) == (6, 0)
    page.context.close()

    # Store C's manager receives it
    page = sign_in(browser, live_server, manager_c)
    page.goto(f"{live_server.url}/inventory/transfers/{transfer.id}/")
    assert page.locator(f"input[name=qty_{stock.cat.tee_m.id}]").input_value() == "2"
    with page.expect_navigation():
        page.click("button[name=action][value=receive]")
    assert page.locator("h1 .status").get_attribute("data-status") == "received"
    assert page.locator("#transfer-lines tbody tr").all_inner_texts() == [
        "TEE-001-S\t纯棉T恤 S\t4\t4\t4", "TEE-001-M\t纯棉T恤 M\t2\t2\t2"]
    page.goto(f"{live_server.url}/inventory/balances/?warehouse={wh_c.id}")
    assert balance_rows(page) == [["WH-C", "TEE-001-M", "M", "2", "0", "2"], ["WH-C", "TEE-001-S", "S", "4", "0", "4"]]
    page.context.close()

    # the manager of both stores sees the stock moved
    page = sign_in(browser, live_server, chain.manager_a)
    page.goto(f"{live_server.url}/inventory/balances/")
    assert balance_rows(page) == [
        ["WH-A", "TEE-001-M", "M", "3", "0", "3"], ["WH-A", "TEE-001-S", "S", "6", "0", "6"],
        ["WH-C", "TEE-001-M", "M", "2", "0", "2"], ["WH-C", "TEE-001-S", "S", "4", "0", "4"]]
    page.screenshot(path=str(artifacts_dir() / "inventory-transfer-balances.png"), full_page=True)
    page.context.close()

    out = io.StringIO()
    call_command("check_ledgers", stdout=out)  # exits 1 on any mismatch
    assert "stock: ok" in out.getvalue() and "mismatch" not in out.getvalue()
