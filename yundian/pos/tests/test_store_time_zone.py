"""A store keeps its own time zone: the till, its receipts, shift and Z reports, the daily settlement and the
order page and list and its storefront read times in it, and a business day is the store's midnight to midnight."""
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from yundian.core.models import AuditEntry
from yundian.core.errors import ValidationFailed
from yundian.org.tests.factories import PASSWORD
from yundian.sales import services as sales_services
from yundian.sales.models import DailySettlement, Order, TillShift
from yundian.sales.tests.factories import sell, stocked
from yundian.stores import services as store_services
from yundian.stores.models import StoreProfile

# 03:30 UTC on 7 December is 11:30 the same day in Shanghai and 19:30 the evening before in Los Angeles
MOMENT = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)


def client_for(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


@pytest.fixture
def west(chain):
    """Store A with a profile in Los Angeles (store B keeps no profile: the site's zone, Asia/Shanghai)."""
    stock = stocked(chain)
    profile = StoreProfile.objects.create(node=chain.store_a, enterprise_id=chain.store_a.enterprise_id, slug="la-1",
                                          address="1 Main St", city="Los Angeles", latitude=Decimal("34.05"),
                                          longitude=Decimal("-118.24"))
    assert profile.time_zone == "Asia/Shanghai"  # a new store starts in the site's zone
    store_services.store_profile_update(actor=chain.admin, store_id=chain.store_a.id,
                                        time_zone="America/Los_Angeles")
    return stock


def test_a_store_time_zone_is_an_iana_name_changed_with_an_audit_entry(chain, west):
    profile = StoreProfile.objects.get(node=chain.store_a)
    assert profile.time_zone == "America/Los_Angeles"
    entry = AuditEntry.objects.filter(action="store_profile.update").latest("id")
    assert (entry.before["time_zone"], entry.after["time_zone"]) == ("Asia/Shanghai", "America/Los_Angeles")
    for bad in ("Mars/Olympus", "", 8, "asia/shanghai"):
        with pytest.raises(ValidationFailed) as refused:
            store_services.store_profile_update(actor=chain.admin, store_id=chain.store_a.id, time_zone=bad)
        assert refused.value.code == "invalid_time_zone"
    profile.refresh_from_db()
    assert profile.time_zone == "America/Los_Angeles"
    # through the API too: 422 with the code, the store unchanged
    api = client_for(chain.admin)
    bad = api.patch(f"/api/v1/stores/{chain.store_a.id}", {"time_zone": "Nowhere/Land"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_time_zone"
    good = api.patch(f"/api/v1/stores/{chain.store_a.id}", {"time_zone": "Asia/Urumqi"}, content_type="application/json")
    assert good.status_code == 200 and good.json()["time_zone"] == "Asia/Urumqi"


def test_shift_reports_and_the_settlement_read_the_store_clock_and_its_day(chain, west):
    clerk, manager = client_for(chain.guide_a), client_for(chain.manager_a)
    shift_url = f"/pos/{chain.store_a.id}/shift/"
    clerk.post(shift_url, {"action": "open", "client_ref": "o-1", "n_1000": "2"})
    TillShift.objects.update(opened_at=MOMENT)
    clerk.post(shift_url, {"action": "close", "client_ref": "c-1", "n_1000": "2"})
    shift = TillShift.objects.get()
    TillShift.objects.update(closed_at=datetime(2026, 12, 7, 4, 0, tzinfo=UTC))
    report = clerk.get(f"/pos/shifts/{shift.id}/").content.decode()
    assert "2026-12-06 19:30" in report and "2026-12-06 20:00" in report and "2026-12-07 11:30" not in report
    slip = clerk.get(f"/pos/shifts/{shift.id}/?format=escpos").content
    assert "2026-12-06 19:30".encode() in slip
    # the shift belongs to the 6th in Los Angeles, though it was the 7th in Shanghai
    settle = f"/pos/{chain.store_a.id}/settlement/"
    assert shift.number in manager.get(f"{settle}?date=2026-12-06").content.decode()
    assert shift.number not in manager.get(f"{settle}?date=2026-12-07").content.decode()
    refused = manager.post(settle, {"client_ref": "d-0", "business_date": "2026-12-07"})
    assert refused.status_code == 409 and DailySettlement.objects.count() == 0
    assert manager.post(settle, {"client_ref": "d-1", "business_date": "2026-12-06"}).status_code == 302
    assert DailySettlement.objects.get().business_date.isoformat() == "2026-12-06"
    assert sales_services.shifts.business_date_of(shift).isoformat() == "2026-12-06"


def test_the_order_page_the_receipt_and_the_till_lookup_read_the_store_clock(chain, west):
    order = sell(chain.guide_a, chain.store_a, [(west.cat.mug_sku, 1)])
    other = sell(chain.guide_b, chain.store_b, [(west.cat.mug_sku, 1)])
    Order.objects.filter(pk__in=[order.pk, other.pk]).update(placed_at=MOMENT)
    admin = client_for(chain.admin)
    assert "2026-12-06 19:30:00" in admin.get(f"/sales/orders/{order.id}/").content.decode()
    # a store without a profile reads the site's zone
    assert "2026-12-07 11:30:00" in admin.get(f"/sales/orders/{other.id}/").content.decode()
    clerk = client_for(chain.guide_a)
    assert "2026-12-06 19:30:00" in clerk.get(f"/sales/orders/{order.id}/receipt/").content.decode()
    lookup = clerk.get(f"/pos/{chain.store_a.id}/orders/?q={order.number}").content.decode()
    assert "2026-12-06 19:30" in lookup
    till = clerk.get(f"/pos/{chain.store_a.id}/").content.decode()
    assert '"time_zone": "America/Los_Angeles"' in till


def test_the_order_list_reads_each_order_in_its_own_stores_clock(chain, west):
    order = sell(chain.guide_a, chain.store_a, [(west.cat.mug_sku, 1)])
    other = sell(chain.guide_b, chain.store_b, [(west.cat.mug_sku, 1)])
    Order.objects.filter(pk__in=[order.pk, other.pk]).update(placed_at=MOMENT)
    page = client_for(chain.admin).get("/sales/orders/").content.decode()
    rows = {number: page.split(number, 1)[1].split("</tr>", 1)[0] for number in (order.number, other.number)}
    assert "2026-12-06 19:30" in rows[order.number] and "2026-12-07 11:30" not in rows[order.number]
    assert "2026-12-07 11:30" in rows[other.number]


def test_a_storefront_reads_its_stores_clock_and_the_next_request_the_sites(chain, west,
                                                                            django_capture_on_commit_callbacks):
    from yundian.members.tests.factories import register
    from yundian.members.tests.storefront import english_client, sign_in

    member = register(chain, phone="13900003030")
    order = sell(chain.guide_a, chain.store_a, [(west.cat.mug_sku, 1)], member_id=member.pk)
    Order.objects.filter(pk=order.pk).update(placed_at=MOMENT)
    shopper = english_client()
    sign_in(shopper, "la-1", "13900003030", django_capture_on_commit_callbacks)
    orders = shopper.get("/s/la-1/me/orders/").content.decode()
    assert f'data-order="{order.number}"' in orders
    assert "2026-12-06 19:30" in orders and "2026-12-07 11:30" not in orders
    # the zone is the storefront request's alone: a console page served next reads the site's zone
    other = sell(chain.guide_b, chain.store_b, [(west.cat.mug_sku, 1)])
    Order.objects.filter(pk=other.pk).update(placed_at=MOMENT)
    assert "2026-12-07 11:30:00" in client_for(chain.admin).get(f"/sales/orders/{other.id}/").content.decode()
