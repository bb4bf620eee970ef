"""Live selling sessions (直播) in promotions: live prices only while a session runs (online, at its store), a flash
allocation's exact cap, scoping, and bad input refused with a code and nothing written."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yundian.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from yundian.members.tests.factories import register
from yundian.org.tests.factories import PASSWORD
from yundian.promotions import selectors, services
from yundian.promotions.models import FlashSale, LiveSession, LiveSessionItem, ShareLink
from yundian.promotions.services import ItemIn

from .factories import line, make_catalogue, price

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def schedule(chain, cat, *, actor=None, store=None, host=None, starts=None, hours=1, items=None, title="夏日直播"):
    starts = starts or timezone.now() + timedelta(hours=1)
    return services.live_session_create(
        actor=actor or chain.admin, store_id=(store or chain.store_a).id, title=title,
        host_id=(host or chain.guide_a).id, starts_at=starts, ends_at=starts + timedelta(hours=hours),
        items=items if items is not None else [ItemIn(sku_id=cat.tee_s.id, live_price=5900)])


def state() -> tuple:
    return (LiveSession.objects.count(), LiveSessionItem.objects.count(), FlashSale.objects.count(),
            ShareLink.objects.count())


def test_a_live_price_applies_online_at_its_store_only_while_the_session_runs(chain, cat):
    starts = timezone.now() + timedelta(hours=1)
    session = schedule(chain, cat, starts=starts)
    during = starts + timedelta(minutes=5)

    def total(at, *, channel="storefront", store=None):
        return price(chain, [line(cat.tee_s, 2)], channel=channel, store=store, at=at).total

    assert total(timezone.now()) == 19800  # before it starts: list price
    assert total(during) == 11800  # while it runs: 2 x ¥59.00
    assert total(during, channel="pos") == 19800  # not at the till
    assert total(during, store=chain.store_b) == 19800  # not at another store
    assert total(starts + timedelta(hours=1)) == 19800  # over
    assert price(chain, [line(cat.mug_sku)], channel="storefront", at=during).total == 2500  # not its product
    # ended early: the price stops then
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=10))
    services.live_session_close(actor=chain.manager_a, session_id=session.pk, cancel=False)
    assert total(timezone.now() + timedelta(seconds=1)) == 19800
    with pytest.raises(Conflict) as closed:
        services.live_session_close(actor=chain.manager_a, session_id=session.pk, cancel=True)
    assert closed.value.code == "live_session_closed"


def test_a_flash_allocation_sells_exactly_its_cap_and_each_member_at_most_their_limit(chain, cat):
    session = schedule(chain, cat, starts=timezone.now() - timedelta(minutes=1), items=[
        ItemIn(sku_id=cat.mug_sku.id, flash_price=990, cap=3, limit=2)])
    sale = session.items.get().flash_sale
    assert (sale.node_id, sale.price, sale.cap, sale.starts_at, sale.ends_at) == (
        chain.store_a.id, 990, 3, session.starts_at, session.ends_at)
    first, second, third = register(chain), register(chain), register(chain)

    def buy(member, key, quantity=1):
        return services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, enterprise_id=member.enterprise_id,
                                       client_ref=key, quantity=quantity)

    buy(first, "a", 2)
    with pytest.raises(DomainError) as over:
        buy(first, "b")
    assert over.value.code == "member_limit_reached"
    buy(second, "c")
    with pytest.raises(DomainError) as out:
        buy(third, "d")
    assert out.value.code == "sold_out"
    sale.refresh_from_db()
    assert (sale.sold, sale.cap) == (3, 3)
    # cancelling the session stops its flash sale
    services.live_session_close(actor=chain.admin, session_id=session.pk, cancel=True)
    assert FlashSale.objects.get(pk=sale.pk).is_active is False


def test_a_store_manager_sees_and_runs_only_their_stores_sessions(chain, cat):
    mine = schedule(chain, cat)
    theirs = schedule(chain, cat, store=chain.store_b, host=chain.guide_b, title="B 店直播")
    assert [s.pk for s in selectors.live_session_list(actor=chain.manager_a)] == [mine.pk]
    assert [s.pk for s in selectors.live_session_list(actor=chain.guide_a)] == [mine.pk]
    assert {s.pk for s in selectors.live_session_list(actor=chain.admin)} == {mine.pk, theirs.pk}
    before = state()
    with pytest.raises(NotFound):
        selectors.live_session_get(actor=chain.manager_a, session_id=theirs.pk)
    with pytest.raises(NotFound):
        services.live_session_close(actor=chain.manager_a, session_id=theirs.pk, cancel=True)
    with pytest.raises(NotFound):
        schedule(chain, cat, actor=chain.manager_a, store=chain.store_b, host=chain.guide_b)
    with pytest.raises(Forbidden):
        services.live_session_close(actor=chain.guide_a, session_id=mine.pk, cancel=True)
    assert state() == before
    client = Client()
    assert client.login(username=chain.manager_a.user.username, password=PASSWORD)
    assert client.get(f"/promotions/live/{theirs.pk}/").status_code == 404
    page = client.get("/promotions/live/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "夏日直播" in page and "B 店直播" not in page and "已排期" in page


def test_the_host_and_each_guide_get_their_own_link_and_an_hq_host_one_too(chain, cat):
    session = schedule(chain, cat)
    host_link = ShareLink.objects.get(source=f"live:{session.pk}")
    assert host_link.sharer_staff_id == chain.guide_a.pk and host_link.store_id == chain.store_a.pk
    assert services.live_share_link_for(actor=chain.guide_a, session_id=session.pk).pk == host_link.pk
    manager_link = services.live_share_link_for(actor=chain.manager_a, session_id=session.pk)
    assert manager_link.pk != host_link.pk and manager_link.source == host_link.source
    hq = schedule(chain, cat, host=chain.admin, title="总部直播")
    assert ShareLink.objects.get(source=f"live:{hq.pk}").sharer_staff_id == chain.admin.pk
    from yundian.members.tests.storefront import plain_storefront

    profile = plain_storefront(chain)
    response = Client().get(f"/p/r/{host_link.code}/")
    assert (response.status_code, response["Location"]) == (302, f"/s/{profile.slug}/deals/live/{session.pk}/")
    # the store's storefront home announces it (it starts within a day), with its lowest live price
    home = Client().get(f"/s/{profile.slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Live soon" in home and "夏日直播" in home and f"/deals/live/{session.pk}/" in home and "¥59.00" in home


@pytest.mark.parametrize("change, code", [
    ({"title": ""}, "required"),
    ({"host": "guide_b"}, "invalid_host"),
    ({"items": []}, "required"),
    ({"items": "dup"}, "duplicate_sku"),
    ({"items": "weighed"}, "invalid_sku"),
    ({"items": "both"}, "price_required"),
    ({"items": "no_cap"}, "invalid_number"),
    ({"hours": 72}, "invalid_window"),
    ({"hours": -1}, "invalid_window"),
    ({"store": "region"}, "not_a_store"),
])
def test_bad_input_is_refused_with_a_code_and_nothing_is_written(chain, cat, change, code):
    items = {"dup": [ItemIn(sku_id=cat.tee_s.id, live_price=1), ItemIn(sku_id=cat.tee_s.id, live_price=2)],
             "weighed": [ItemIn(sku_id=cat.apples_sku.id, live_price=100)],
             "both": [ItemIn(sku_id=cat.tee_s.id, live_price=1, flash_price=2, cap=1)],
             "no_cap": [ItemIn(sku_id=cat.tee_s.id, flash_price=100, cap=0)]}
    kwargs = {}
    if "items" in change:
        kwargs["items"] = change["items"] if isinstance(change["items"], list) else items[change["items"]]
    if "host" in change:
        kwargs["host"] = getattr(chain, change["host"])
    if "store" in change:
        kwargs["store"] = chain.east
    if "hours" in change:
        kwargs["hours"] = change["hours"]
    if "title" in change:
        kwargs["title"] = change["title"]
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        schedule(chain, cat, **kwargs)
    assert refused.value.code == code and refused.value.status == 422
    assert state() == before


def test_the_console_form_refuses_bad_input_with_the_translated_message_and_writes_nothing(chain, cat):
    client = Client()
    assert client.login(username=chain.manager_a.user.username, password=PASSWORD)
    before = state()
    response = client.post("/promotions/live/new/", {
        "title": "直播", "store_id": chain.store_a.id, "host_id": chain.guide_a.id,
        "starts_at": "2030-01-01T20:00", "ends_at": "2030-01-01T19:00", "sku_0": cat.tee_s.id, "mode_0": "live",
        "price_0": "59"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 422
    assert 'data-code="invalid_window"' in response.content.decode() and "结束时间必须晚于开始时间" in response.content.decode()
    assert state() == before
    response = client.post("/promotions/live/new/", {
        "title": "直播", "store_id": chain.store_a.id, "host_id": chain.guide_a.id,
        "starts_at": "2030-01-01T19:00", "ends_at": "2030-01-01T20:00", "sku_0": cat.tee_s.id, "mode_0": "live",
        "price_0": "59"})
    session = LiveSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/promotions/live/{session.pk}/"
    assert session.items.get().live_price == 5900
    assert client.get(f"/promotions/live/{session.pk}/").status_code == 200
    assert client.get(f"/promotions/live/{session.pk}/edit/").status_code == 200
