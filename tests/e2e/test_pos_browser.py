"""The till in a real browser: a clerk rings up a sale by barcode, loses the network, rings up two more (one
after reloading the till from its service worker), comes back online, and the queue syncs: the server has
exactly those three orders, once each, with the device's client keys, their lines, and stock moved once."""
import pytest
from playwright.sync_api import expect

from yundian.catalog import services as catalog
from yundian.catalog.barcodes import SchemeLayout, weighed_encode
from yundian.catalog.tests.factories import EAN_TEE_S, UPC_MUG
from yundian.inventory.models import StockMove
from yundian.inventory.tests.factories import assert_ledgers_clean, level, make_stock, put
from yundian.org.tests.factories import PASSWORD, make_chain
from yundian.sales.models import Order, OrderLine, Payment

from .conftest import artifacts_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, staff) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the digits, then Enter."""
    page.locator("#scan").press_sequentially(code)
    page.locator("#scan").press("Enter")


def cart(page) -> list[tuple[str, str]]:
    rows = page.locator("#cart-lines tr.cart-line")
    return [(rows.nth(i).locator("td").nth(0).locator("small").inner_text(),
             rows.nth(i).locator("td.qty").inner_text().replace("−", "").replace("+", "").strip())
            for i in range(rows.count())]


def queued_refs(page, store_id: int) -> list[str]:
    return page.evaluate(f"PosQueue.list({store_id}).then(rows => rows.map(r => r.client_ref))")


def test_a_clerk_sells_online_then_offline_and_the_queue_syncs_each_order_once(live_server, page):
    chain = make_chain()
    stock = make_stock(chain)
    tee, mug, apples = stock.cat.tee_s, stock.cat.mug_sku, stock.cat.apples_sku
    put(stock, stock.wh_a, tee, 10)
    put(stock, stock.wh_a, mug, 10)
    put(stock, stock.wh_a, apples, 5000)  # grams
    catalog.weighed_scheme_set(actor=chain.admin, prefix="21", value_kind="weight")
    apples_512g = weighed_encode(SchemeLayout("21", 5, 5, "weight"), "123", 512)  # the scale's label
    store = chain.store_a
    sign_in(page, live_server, chain.guide_a)

    page.goto(f"{live_server.url}/pos/{store.id}/")
    page.locator("#pos[data-ready='1'][data-offline-ready='1']").wait_for()
    expect(page.locator("#net-status")).to_have_attribute("data-state", "online")

    # 1. online: two tees and a mug by barcode, server-priced, cash with change
    scan(page, EAN_TEE_S)
    scan(page, EAN_TEE_S)
    scan(page, UPC_MUG)
    expect(page.locator("#totals")).to_have_attribute("data-provisional", "0")
    expect(page.locator("#total")).to_have_text("¥223.00")
    assert cart(page) == [("TEE-001-S", "2"), ("MUG-01", "1")]
    # +/- and remove, each re-priced by the server; a product found by search
    mug_row = page.locator(f"#cart-lines tr[data-sku-id='{mug.id}']")
    mug_row.locator(".qty-plus").click()
    expect(page.locator("#total")).to_have_text("¥248.00")
    mug_row.locator(".qty-minus").click()
    expect(page.locator("#total")).to_have_text("¥223.00")
    page.fill("#search", "tee-001-m")
    page.locator("#search-results button").first.click()
    expect(page.locator("#total")).to_have_text("¥322.00")
    page.locator("#cart-lines tr.cart-line").last.locator(".line-remove").click()
    expect(page.locator("#total")).to_have_text("¥223.00")
    assert cart(page) == [("TEE-001-S", "2"), ("MUG-01", "1")]
    page.locator("#tenders .tender-given").fill("300")
    expect(page.locator("#change")).to_contain_text("¥77.00")
    page.screenshot(path=str(artifacts_dir() / "pos-sale.png"), full_page=True)
    page.click("#checkout")
    receipt = page.locator("#receipt-panel[data-state='booked']")
    receipt.wait_for()
    first = Order.objects.get(pk=int(receipt.get_attribute("data-order-id")))
    assert page.locator("#receipt-title").inner_text().endswith(first.number)
    assert (first.status, first.total, first.paid_total) == ("completed", 22300, 22300)
    assert list(Payment.objects.filter(order=first).values_list("method", "amount", "tendered", "change")) == [
        ("cash", 22300, 30000, 7700)]
    page.click("#next-sale")

    # 2. the network goes: a mug, paid in cash, queued on the device
    page.context.set_offline(True)
    expect(page.locator("#net-status")).to_have_attribute("data-state", "offline")
    scan(page, UPC_MUG)
    expect(page.locator("#totals")).to_have_attribute("data-provisional", "1")
    expect(page.locator("#provisional-note")).to_be_visible()
    assert cart(page) == [("MUG-01", "1")]
    page.click("#checkout")
    page.locator("#receipt-panel[data-state='queued']").wait_for()
    expect(page.locator("#queue-count")).to_have_text("1")

    # 3. still offline, the till is reloaded: the service worker serves it and its snapshot; the queue survives
    page.reload()
    page.locator("#pos[data-ready='1']").wait_for()
    expect(page.locator("#net-status")).to_have_attribute("data-state", "offline")
    expect(page.locator("#queue-count")).to_have_text("1")
    expect(page.locator("#snapshot-version")).not_to_have_text("—")
    scan(page, EAN_TEE_S)
    scan(page, apples_512g)  # decoded on the device from the cached weighed-barcode scheme
    assert cart(page) == [("TEE-001-S", "1"), ("APL-KG", "0.512 kg")]
    expect(page.locator("#total")).to_contain_text("¥105.55")
    page.locator("#tenders .tender-method").select_option("card")
    page.click("#checkout")
    page.locator("#receipt-panel[data-state='queued']").wait_for()
    expect(page.locator("#queue-count")).to_have_text("2")
    offline_refs = queued_refs(page, store.id)
    assert len(offline_refs) == 2 and len(set(offline_refs)) == 2
    assert Order.objects.count() == 1  # nothing reached the server
    page.screenshot(path=str(artifacts_dir() / "pos-offline-queue.png"), full_page=True)

    # 4. back online: the queue syncs, in order, once each
    page.context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_text("0", timeout=15_000)
    expect(page.locator("#sync-status")).to_have_attribute("data-state", "synced")
    expect(page.locator("#attention-count")).to_have_text("0")
    # the last sale's slip, shown as "saved offline", now shows its booked order
    expect(page.locator("#receipt-panel")).to_have_attribute("data-state", "booked")
    assert page.locator("#receipt-panel").get_attribute("data-client-ref") == offline_refs[1]
    page.screenshot(path=str(artifacts_dir() / "pos-synced.png"), full_page=True)

    orders = list(Order.objects.order_by("id"))
    assert [o.client_ref for o in orders] == [first.client_ref, *offline_refs]
    assert len({o.client_ref for o in orders}) == 3 and all(len(o.client_ref) == 36 for o in orders)
    assert [(o.store_id, o.channel, o.mode, o.status, o.total, o.paid_total, o.clerk_id) for o in orders] == [
        (store.id, "pos", "take_now", "completed", 22300, 22300, chain.guide_a.id),
        (store.id, "pos", "take_now", "completed", 2500, 2500, chain.guide_a.id),
        (store.id, "pos", "take_now", "completed", 10555, 10555, chain.guide_a.id),
    ]
    lines = [list(OrderLine.objects.filter(order=o).order_by("line_no").values_list("sku_id", "quantity", "line_total",
                                                                                    "guide_id")) for o in orders]
    assert lines == [[(tee.id, 2, 19800, chain.guide_a.id), (mug.id, 1, 2500, chain.guide_a.id)],
                     [(mug.id, 1, 2500, chain.guide_a.id)],
                     [(tee.id, 1, 9900, chain.guide_a.id), (apples.id, 512, 655, chain.guide_a.id)]]
    assert [list(Payment.objects.filter(order=o).values_list("method", "amount")) for o in orders[1:]] == [
        [("cash", 2500)], [("card", 10555)]]
    # stock moved exactly once per line
    moves = sorted(StockMove.objects.filter(source_type="order").values_list("source_id", "sku_id", "quantity"))
    assert moves == sorted([(str(orders[0].pk), tee.id, -2), (str(orders[0].pk), mug.id, -1),
                            (str(orders[1].pk), mug.id, -1), (str(orders[2].pk), tee.id, -1),
                            (str(orders[2].pk), apples.id, -512)])
    assert level(stock.wh_a, tee) == (7, 0) and level(stock.wh_a, mug) == (8, 0)
    assert level(stock.wh_a, apples) == (4488, 0)
    assert_ledgers_clean()

    # the store's order lookup lists all three for reprints
    page.locator("#lookup-panel button[type=submit]").click()
    for order in orders:
        expect(page.locator(f"#lookup-table tr[data-order-id='{order.pk}']")).to_have_count(1)
    assert page.locator(f"#lookup-table tr[data-order-id='{orders[0].pk}'] a").get_attribute("href") == \
        f"/sales/orders/{orders[0].pk}/receipt/"


def test_offline_sales_refused_or_repriced_on_sync_wait_for_the_manager_and_a_retry_books_once(live_server, page):
    from yundian.catalog import services as catalog
    from yundian.sales.tests.factories import sell

    chain = make_chain()
    stock = make_stock(chain)
    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    put(stock, stock.wh_a, tee, 1)
    put(stock, stock.wh_a, mug, 5)
    store = chain.store_a
    sign_in(page, live_server, chain.manager_a)
    page.goto(f"{live_server.url}/pos/{store.id}/")
    page.locator("#pos[data-ready='1'][data-offline-ready='1']").wait_for()

    page.context.set_offline(True)
    expect(page.locator("#net-status")).to_have_attribute("data-state", "offline")
    # HQ raises the mug's price while the till is cut off: it sells from its stale price list. (Orders are priced
    # at their time of sale, so only a change made before the sale can reprice it.)
    hq = catalog.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="store", code="HQ", name="HQ")
    catalog.price_entry_set(actor=chain.admin, price_list_id=hq.id, sku_id=mug.id, price=2800)
    for code in (EAN_TEE_S, UPC_MUG):
        scan(page, code)
        page.locator("#tenders .tender-method").select_option("card")
        page.click("#checkout")
        page.locator("#receipt-panel[data-state='queued']").wait_for()
    expect(page.locator("#queue-count")).to_have_text("2")
    tee_ref, mug_ref = queued_refs(page, store.id)

    # meanwhile the last tee is sold at another till
    sell(chain.guide_a, store, [(tee, 1)])

    page.context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_text("0", timeout=15_000)
    expect(page.locator("#attention-count")).to_have_text("2")
    refused = page.locator(f"#attention-list li[data-client-ref='{tee_ref}']")
    repriced = page.locator(f"#attention-list li[data-client-ref='{mug_ref}']")
    expect(refused).to_have_attribute("data-code", "insufficient_stock")
    expect(repriced).to_have_attribute("data-code", "price_changed")
    expect(repriced).to_contain_text("¥28.00")
    page.screenshot(path=str(artifacts_dir() / "pos-needs-attention.png"), full_page=True)
    assert not Order.objects.filter(client_ref=tee_ref).exists()
    booked = Order.objects.get(client_ref=mug_ref)
    assert (booked.total, booked.paid_total, booked.status) == (2800, 2500, "open")  # the customer owes ¥3.00

    # stock arrives; the manager retries the refused sale: booked once, with the device's key
    put(stock, stock.wh_a, tee, 1)
    refused.locator(".entry-retry").click()
    expect(page.locator(f"li[data-client-ref='{tee_ref}']")).to_have_count(0)  # left the queue: booked
    expect(page.locator("#attention-count")).to_have_text("1")
    assert Order.objects.filter(client_ref=tee_ref).count() == 1
    assert level(stock.wh_a, tee) == (0, 0)
    # the repriced sale links its order; once settled the manager removes it from the list
    assert repriced.locator("a").get_attribute("href") == f"/sales/orders/{booked.pk}/"
    page.once("dialog", lambda dialog: dialog.accept())
    repriced.locator(".entry-dismiss").click()
    expect(page.locator("#attention-badge")).to_be_hidden()
    assert Order.objects.filter(store=store).count() == 3  # the other till's sale, the mug, the retried tee
    assert_ledgers_clean()


def test_a_clerk_takes_a_coupon_at_the_till_and_checkout_redeems_it_once(live_server, page):
    from yundian.promotions import services as promo
    from yundian.promotions.models import Coupon, CouponRedemption

    chain = make_chain()
    stock = make_stock(chain)
    put(stock, stock.wh_a, stock.cat.tee_s, 5)
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="WELCOME", name="满50减15",
                                            kind="threshold_amount", tiers=[{"min": 5000, "off": 1500}])
    code = promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code
    store = chain.store_a
    sign_in(page, live_server, chain.guide_a)
    page.goto(f"{live_server.url}/pos/{store.id}/")
    page.locator("#pos[data-ready='1']").wait_for()

    scan(page, EAN_TEE_S)
    expect(page.locator("#total")).to_have_text("¥99.00")
    page.click("#more-options summary")  # guide, mode and coupons sit under one fold on the till
    page.fill("#coupon-value", "nosuchcode")
    page.locator("#coupon-form button[type=submit]").click()
    expect(page.locator("#coupon-list li.refused[data-code='NOSUCHCODE']")).to_have_count(1)
    expect(page.locator("#total")).to_have_text("¥99.00")
    page.locator("#coupon-list li[data-code='NOSUCHCODE'] .coupon-remove").click()
    page.fill("#coupon-value", code.lower())
    page.locator("#coupon-form button[type=submit]").click()
    expect(page.locator("#total")).to_have_text("¥84.00")
    expect(page.locator("#promotions-applied li")).to_have_count(1)
    expect(page.locator("#coupon-list li.refused")).to_have_count(0)
    page.locator("#tenders .tender-method").select_option("card")
    page.click("#checkout")
    receipt = page.locator("#receipt-panel[data-state='booked']")
    receipt.wait_for()
    order = Order.objects.get(pk=int(receipt.get_attribute("data-order-id")))
    assert (order.total, order.paid_total, order.status) == (8400, 8400, "completed")
    assert CouponRedemption.objects.get().order_ref == str(order.pk)
    assert Coupon.objects.get(code=code).status == "redeemed"
    page.screenshot(path=str(artifacts_dir() / "pos-coupon.png"), full_page=True)
