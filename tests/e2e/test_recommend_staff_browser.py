"""Recommendation events from staff pages: a guide opens a customer's page on their phone, the next-best box arrives
by htmx and sends its recommendation_view (member, store, slot, variant) to the events API as the guide; picking a
suggestion sends recommendation_click with its SKU — the same events the storefront's tracker sends, so the A/B
counters count the guides' and the till's boxes too."""
import json
import time

import pytest

from yundian.cdp.models import EventInbox
from yundian.members.models import Member
from yundian.members.tests.factories import register
from yundian.recommend.tests.factories import make_world, train_world

from .conftest import artifacts_dir
from .test_pos_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _events(member_id: int, kind: str, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = list(EventInbox.objects.filter(member_id=member_id, kind=kind))
        if found:
            return found
        time.sleep(0.2)
    return []


def test_the_guides_next_best_box_sends_its_impression_and_the_pick(live_server, phone_page):
    world = make_world()
    train_world(world)
    chain = world.chain
    member = register(chain, name="李梅")
    Member.objects.filter(pk=member.pk).update(guide=chain.guide_a)
    phone_page.set_default_timeout(30_000)
    sign_in(phone_page, live_server, chain.guide_a)
    phone_page.goto(f"{live_server.url}/guides/me/customers/{member.pk}/")
    box = phone_page.locator("[data-testid=rec-member]")
    box.wait_for()
    view = _events(member.pk, "recommendation_view")
    assert [(e.store_id, json.loads(e.properties)["rec_slot"], json.loads(e.properties)["rec_variant"])
            for e in view] == [
        (chain.store_a.pk, "guide", "blend")]
    pick = box.locator(f"[data-rec-product='{world.mug.pk}']")
    pick.click()
    assert pick.get_attribute("aria-pressed") == "true"
    click = _events(member.pk, "recommendation_click")
    assert [(e.sku_id, json.loads(e.properties)["rec_slot"]) for e in click] == [
        (world.mug.skus.order_by("id").first().pk, "guide")]
    phone_page.screenshot(path=str(artifacts_dir() / "recommend-guide-next-best-375-zh.png"), full_page=True)
