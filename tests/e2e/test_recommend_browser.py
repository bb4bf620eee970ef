"""Recommendations on the storefront, end to end: a signed-in member looks at two tees on their phone, the home page
suggests goods for them ("for you", with the reason), a tee's page shows what goes with it, the member opens one of
those, adds it to the cart and buys it; after the warehouse sync HQ's recommendations page counts that member once in
their A/B variant: shown, clicked, added to the cart, bought."""
import time

import pytest
from playwright.sync_api import expect

from yundian.analytics.sync import sync_run
from yundian.catalog import services as catalog_services
from yundian.catalog.models import Sku
from yundian.cdp.models import EventInbox
from yundian.inventory.tests.factories import put
from yundian.members import senders
from yundian.members.models import Member
from yundian.members.tests.storefront import open_storefront
from yundian.recommend import selectors, services
from yundian.recommend.tests.factories import make_world, train_world
from yundian.sales.models import Order
from yundian.stores.tests.factories import make_template

from .conftest import artifacts_dir
from .test_pos_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for(check, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


def counters(page, experiment_id: int, variant: str) -> dict[str, str]:
    row = page.locator(f"[data-testid='rec-experiment-{experiment_id}'] tr[data-variant='{variant}']")
    return {col: row.locator(f"td[data-col='{col}']").inner_text()
            for col in ("persons", "clicks", "add_to_carts", "buyers", "orders")}


def test_a_member_browses_two_tees_is_shown_suggestions_and_buys_one(live_server, phone_page, page, warehouse):
    # given a trained model, a storefront selling tees, the mug and the pan, and an A/B test on "goes with"
    world = make_world()
    chain, cat = world.chain, world.stock.cat
    polo = catalog_services.product_create(actor=chain.admin, code="POLO-1", name="珠地棉Polo衫", category_id=cat.tees.id,
                                           skus=[{"code": "POLO-1", "base_price": 12900}])
    put(world.stock, world.stock.wh_a, Sku.objects.get(code="POLO-1"), 4)
    template = make_template(chain, cat, product_ids=[world.mug.pk, world.pan.pk])
    profile = open_storefront(chain, cat, template=template)
    train_world(world)
    experiment = services.experiment_start(actor=chain.admin, slot="goes_with", name="Lift vs blend",
                                           variants=[{"key": "blend", "share": 50}, {"key": "copurchase", "share": 50}])
    base = f"{live_server.url}/s/{profile.slug}"
    shop = phone_page
    shop.set_default_timeout(30_000)  # the first pages train nothing but warm the model up on a shared machine
    page.set_default_timeout(30_000)
    senders.outbox.clear()

    # the member signs in on their phone
    shop.goto(f"{base}/me/sign-in/?next=/s/{profile.slug}/")
    shop.fill("#ma-phone-form input[name=phone]", "13900003333")
    shop.click("#ma-phone-form button[type=submit]")
    expect(shop.locator("#ma-sent")).to_be_visible()
    shop.fill("#ma-code-form input[name=code]", senders.last_code("13900003333"))
    shop.click("#ma-code-form button[type=submit]")
    shop.wait_for_url(f"{base}/")
    member = Member.objects.get()
    variant = selectors.variant_of(experiment, f"m{member.pk}")

    # when they look at two tees
    shop.goto(f"{base}/p/{polo.pk}/")
    shop.goto(f"{base}/p/{world.tee.pk}/")
    goes_with = shop.locator("#sf-rec-goes_with")
    expect(goes_with).to_be_visible()
    expect(goes_with).to_have_attribute("data-rec-variant", variant)
    expect(goes_with.locator("[data-rec-product]").first).to_be_visible()
    assert goes_with.locator(f"[data-rec-product='{world.pan.pk}']").count() == 1
    shop.screenshot(path=str(artifacts_dir() / "recommend-goes-with-375-zh.png"), full_page=True)
    assert _wait_for(lambda: EventInbox.objects.filter(kind="product_view", member_id=member.pk).count() >= 2)

    # then the home page suggests for them, saying why
    shop.goto(f"{base}/")
    for_you = shop.locator("#sf-rec-for_you")
    expect(for_you).to_be_visible()
    expect(for_you.locator(".sf-rec-why").first).to_contain_text("纯棉T恤")
    assert for_you.locator(f"[data-rec-product='{world.tee.pk}'], [data-rec-product='{polo.pk}']").count() == 0
    assert shop.evaluate("document.documentElement.scrollWidth") <= 390
    shop.screenshot(path=str(artifacts_dir() / "recommend-for-you-375-zh.png"), full_page=True)

    # and they open the mug from a tee's "goes with", add it to the cart and buy it for pickup
    shop.goto(f"{base}/p/{world.tee.pk}/")
    shop.locator(f"#sf-rec-goes_with [data-rec-product='{world.mug.pk}']").click()
    shop.wait_for_url(f"{base}/p/{world.mug.pk}/?rec=goes_with.{variant}.{experiment.pk}")
    shop.locator(f".sf-cart-add:has(input[value='{world.stock.cat.mug_sku.pk}']) button").click()
    shop.wait_for_url(f"{base}/cart/")
    expect(shop.locator("#sf-rec-goes_with")).to_be_visible()  # the cart's "goes with your cart"
    shop.click("#sc-place")
    shop.locator("#sf-placed").wait_for()
    shop.goto("about:blank")
    order = Order.objects.get()
    assert order.member_id == member.pk
    assert _wait_for(lambda: {"recommendation_view", "recommendation_click", "add_to_cart"} <= set(
        EventInbox.objects.filter(member_id=member.pk).values_list("kind", flat=True)))

    # HQ's counters, before and after the sync
    sign_in(page, live_server, chain.admin)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/recommend/")
    before = counters(page, experiment.pk, variant)
    sync_run()
    page.goto(f"{live_server.url}/recommend/")
    after = counters(page, experiment.pk, variant)
    assert before == {"persons": "0", "clicks": "0", "add_to_carts": "0", "buyers": "0", "orders": "0"}
    assert after == {"persons": "1", "clicks": "1", "add_to_carts": "1", "buyers": "1", "orders": "1"}
    expect(page.locator("[data-testid='rec-evaluation']")).to_be_visible()
    page.screenshot(path=str(artifacts_dir() / "recommend-console-1440-zh.png"), full_page=True)
