"""A live session end to end against a fixture: viewers open the host's link (the session's storefront page, page
views through the event inbox), one signs in and joins the host's store, buys at the live price through the
storefront checkout; the order is the session's and the host's (commission once, half of it back on a return of
half); the report's figures from the warehouse equal the fixture's and the OLTP database's."""
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yundian.analytics import live
from yundian.analytics.sync import sync_run
from yundian.guides.models import CommissionEntry
from yundian.members.models import Member
from yundian.members.tests.storefront import open_storefront, sign_in
from yundian.org.tests.factories import PASSWORD
from yundian.promotions import services as promotions
from yundian.promotions.models import ShareLink, ShareLinkSignup
from yundian.promotions.services import ItemIn
from yundian.sales import services as sales
from yundian.sales.live import live_session_figures
from yundian.sales.models import Order
from yundian.sales.tests.factories import assert_ledgers_clean, commission_of, next_ref, plan, sell, stocked

pytestmark = pytest.mark.django_db


def _view(client: Client, slug: str, session_id: int, device: str, key: str) -> None:
    """What the storefront tracker sends for the session's page."""
    body = {"store": slug, "events": [{"event_id": key, "kind": "page_view", "anonymous_id": device,
                                       "properties": {"path": f"/s/{slug}/deals/live/{session_id}/", "referrer": ""}}]}
    response = client.post("/api/v1/events", data=json.dumps(body), content_type="application/json")
    assert response.status_code in (200, 202), response.content


def test_a_live_sessions_orders_attribution_sign_ups_and_report(chain, warehouse, django_capture_on_commit_callbacks):
    stock = stocked(chain, units=20)
    profile = open_storefront(chain, stock.cat)
    plan(chain, "0.05")
    now = timezone.now()
    session = promotions.live_session_create(
        actor=chain.manager_a, store_id=chain.store_a.id, title="夏日直播", host_id=chain.guide_a.id,
        starts_at=now - timedelta(minutes=20), ends_at=now + timedelta(hours=1),
        items=[ItemIn(sku_id=stock.cat.tee_s.id, live_price=5900),
               ItemIn(sku_id=stock.cat.mug_sku.id, flash_price=990, cap=5, limit=1)])
    link = ShareLink.objects.get(source=f"live:{session.pk}")

    # two phones open the host's link (one twice): the session's page with its live prices
    viewer, other = Client(), Client()
    opened = viewer.get(f"/p/r/{link.code}/")
    assert (opened.status_code, opened["Location"]) == (302, f"/s/{profile.slug}/deals/live/{session.pk}/")
    page = viewer.get(opened["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "夏日直播" in page and "¥59.00" in page and "¥99.00" in page and "¥9.90" in page and "直播中" in page
    other.get(f"/p/r/{link.code}/")
    for device, key in (("phone-1", "v1"), ("phone-1", "v2"), ("phone-2", "v3")):
        _view(viewer, profile.slug, session.pk, device, key)
    _view(viewer, profile.slug, session.pk + 1, "phone-3", "v4")  # another session's page: not a viewer

    # the first viewer signs in on the page: a new member of the host's store, brought in by the session's link
    sign_in(viewer, profile.slug, "13900001111", django_capture_on_commit_callbacks)
    member = Member.objects.get(identities__value__endswith="13900001111")
    assert member.home_id == chain.store_a.id
    assert ShareLinkSignup.objects.get().link_id == link.pk

    # ... and buys two tees through the storefront cart and checkout, the link's cookie on the order
    assert viewer.post(f"/s/{profile.slug}/cart/add", {"sku_id": stock.cat.tee_s.id, "quantity": 2}).status_code == 302
    cart = viewer.get(f"/s/{profile.slug}/cart/")
    placed = viewer.post(f"/s/{profile.slug}/cart/checkout", {"key": cart.context["key"], "mode": "pickup",
                                                               "pay": "store"})
    assert placed.status_code == 302, placed.content[:500]
    order = Order.objects.get(member=member)
    assert (order.share_code, order.total, order.channel) == (link.code, 11800, "storefront")
    assert [l.guide_id for l in order.lines.all()] == [chain.guide_a.id]

    # paid at the store: the host earns the commission once (a repeated payment call changes nothing)
    sales.payment_add(actor=chain.manager_a, order_id=order.pk, payment={"method": "cash", "client_ref": "counter"})
    sales.payment_add(actor=chain.manager_a, order_id=order.pk, payment={"method": "cash", "client_ref": "counter"})
    assert commission_of(chain.guide_a) == 590
    # a sale at the till is not the session's
    sell(chain.manager_a, chain.store_a, [(stock.cat.tee_m, 1)])
    sales.shipment_create(actor=chain.manager_a, order_id=order.pk, client_ref="handed-over")
    # one of the two comes back: half the commission back, once
    line = order.lines.get()
    back = dict(actor=chain.manager_a, order_id=order.pk, client_ref=next_ref("ret"),
                lines=[{"order_line_id": line.pk, "quantity": 1}], reason="size")
    sales.return_create(**back)
    sales.return_create(**back)
    assert commission_of(chain.guide_a) == 295
    assert CommissionEntry.objects.filter(guide=chain.guide_a).count() == 2
    assert_ledgers_clean()

    # the report: the fixture's figures, the same from the warehouse and from the OLTP database
    oltp = live.oltp_figures(session, slug=profile.slug)
    sync_run()
    report = live.warehouse_report(session, slug=profile.slug, now=timezone.now())
    expected = {"viewers": 2, "signups": 1, "orders": 1, "gmv": 5900, "buyers": 1}
    assert {k: getattr(report, k) for k in expected} == expected
    assert {k: getattr(oltp, k) for k in expected} == expected
    assert report.conversion == oltp.conversion == 0.5
    assert report.top_products == oltp.top_products == [
        {"product_id": stock.cat.tee.id, "name": stock.cat.tee.name, "quantity": 1, "amount": 5900}]
    assert sum(b["orders"] for b in report.buckets) == 1 and sum(b["viewers"] for b in report.buckets) == 2
    assert report.by_guide == oltp.by_guide == live_session_figures(session).by_guide == [
        {"staff_id": chain.guide_a.id, "name": chain.guide_a.display_name, "orders": 1, "gmv": 5900}]

    # the report page: HQ and the store see it; another store's manager does not
    hq = Client()
    assert hq.login(username=chain.admin.user.username, password=PASSWORD)
    text = hq.get(f"/analytics/live/{session.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-kpi="gmv">¥59.00<' in text and 'data-kpi="viewers">2<' in text and "50.0%" in text
    assert 'hx-trigger="every 30s"' in text  # live: it refreshes itself
    stranger = Client()
    assert stranger.login(username=chain.manager_b.user.username, password=PASSWORD)
    assert stranger.get(f"/analytics/live/{session.pk}/").status_code == 404
