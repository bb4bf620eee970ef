"""Behaviour events end to end: a shopper browses a storefront anonymously (the first-party tracker sends page,
search, product and cart events to /api/v1/events), signs in with the one-time code and buys; after one sync the
warehouse attributes the anonymous browsing to the member (identity stitching) and holds the order. And a clerk's
till sends scan and member-identified events."""
import time

import pytest
from playwright.sync_api import expect

from yundian.analytics.sync import sync_run
from yundian.catalog.tests.factories import EAN_TEE_S
from yundian.cdp.identity import events_resolved
from yundian.cdp.models import EventInbox
from yundian.core.warehouse import warehouse_read
from yundian.inventory.tests.factories import make_stock, put
from yundian.members import senders
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.org.tests.factories import make_chain
from yundian.sales.models import Order
from yundian.sales.tests.factories import stocked

from .test_pos_browser import scan, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for(kinds: set[str], seconds: float = 30) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while True:
        rows = list(EventInbox.objects.order_by("id").values_list("kind", "anonymous_id", "member_id"))
        if kinds <= {r[0] for r in rows} or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_anonymous_browsing_is_attributed_to_the_member_who_signs_in_and_buys(live_server, phone_page, warehouse):
    chain = make_chain()
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    senders.outbox.clear()
    tee = stock.cat.tee_s
    page = phone_page
    base = f"{live_server.url}/s/{profile.slug}"

    page.goto(f"{base}/?q=T")
    page.goto(f"{base}/p/{tee.product_id}/")
    page.locator(f".sf-cart-add:has(input[value='{tee.pk}']) button").click()
    page.wait_for_url(f"{base}/cart/")
    device = page.evaluate("localStorage.getItem('yd.device')")
    anonymous = _wait_for({"page_view", "search", "product_view", "add_to_cart"})
    assert {kind for kind, _d, _m in anonymous} >= {"page_view", "search", "product_view", "add_to_cart"}
    assert {(d, m) for _k, d, m in anonymous} == {(device, None)}

    page.click("#sc-sign-in")
    page.fill("#ma-phone-form input[name=phone]", "13900002222")
    page.click("#ma-phone-form button[type=submit]")
    expect(page.locator("#ma-sent")).to_be_visible()
    page.fill("#ma-code-form input[name=code]", senders.last_code("13900002222"))
    page.click("#ma-code-form button[type=submit]")
    page.wait_for_url(f"{base}/cart/")
    page.click("#sc-place")
    page.locator("#sf-placed").wait_for()
    page.goto("about:blank")  # leaving the page hands its last events to sendBeacon
    order = Order.objects.get()
    member_id = order.member_id
    rows = _wait_for(set())
    deadline = time.monotonic() + 30
    while not any(m == member_id for _k, _d, m in rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = _wait_for(set())
    assert any(m == member_id and d == device for _k, d, m in rows)  # signed-in pages name the member

    sync_run()
    with warehouse_read() as wh:
        people = events_resolved(wh.table("fact_event"), wh.table("identity_link"), wh.table("dim_member"))
        mine = people.filter(people.anonymous_id == device).select("kind", "member_id", "person_id")
        resolved = mine.to_pyarrow().to_pylist()
        orders = wh.table("fact_order").select("order_id", "member_id", "channel").to_pyarrow().to_pylist()
    before_sign_in = [r for r in resolved if r["member_id"] is None]
    assert {r["kind"] for r in before_sign_in} >= {"search", "product_view", "add_to_cart"}
    assert {r["person_id"] for r in resolved} == {member_id}
    assert orders == [{"order_id": order.pk, "member_id": member_id, "channel": "storefront"}]


def test_the_till_sends_scan_and_member_identified_events(live_server, page):
    chain = make_chain()
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    member = register(chain, phone="13800138001")
    sign_in(page, live_server, chain.guide_a)
    page.goto(f"{live_server.url}/pos/{chain.store_a.id}/")
    page.locator("#pos[data-ready='1']").wait_for()
    scan(page, EAN_TEE_S)
    page.fill("#member-value", "13800138001")
    page.click("#member-form button[type=submit]")
    expect(page.locator("#member-attached")).to_be_visible()
    rows = _wait_for({"scan", "member_identified"})
    # each once, as it happened (not compared by time: the two may go in separate batches a few milliseconds apart,
    # and each batch's times are corrected by its own sent_at against the server's clock)
    till = sorted(EventInbox.objects.values_list("kind", "store_id", "member_id", "sku_id", "channel"), key=str)
    assert till == sorted([("scan", chain.store_a.id, None, stock.cat.tee_s.id, "pos"),
                           ("member_identified", chain.store_a.id, member.pk, None, "pos")], key=str)
    assert len(rows) == 2
