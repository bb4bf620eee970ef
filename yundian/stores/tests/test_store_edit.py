"""A store's details page: whoever manages the store changes its address, phone, status, services and time zone
(audited); a bad value is a 4xx that changes nothing; someone else's store is out of reach."""
import pytest

from yundian.core.models import AuditEntry
from yundian.org.tests.utils import client_for
from yundian.stores.models import StoreProfile

from .factories import make_shop

pytestmark = pytest.mark.django_db


def test_a_store_manager_sets_the_store_time_zone_and_details_on_its_page(chain):
    make_shop(chain)
    url = f"/stores/{chain.store_a.id}/edit/"
    admin = client_for(chain.admin)
    assert f'href="{url}"' in admin.get("/stores/").content.decode()
    manager = client_for(chain.manager_a)
    page = manager.get(url).content.decode()
    assert '<option value="Asia/Shanghai" selected>' in page and '<option value="Asia/Urumqi">' in page
    saved = manager.post(url, {"city": "乌鲁木齐", "address": "解放北路 1 号", "phone": "0991-1234567",
                               "status": "open", "time_zone": "Asia/Urumqi", "pickup_enabled": "on"})
    assert (saved.status_code, saved["Location"]) == (302, f"{url}?saved=1")
    profile = StoreProfile.objects.get(node=chain.store_a)
    assert (profile.city, profile.phone, profile.time_zone, profile.pickup_enabled, profile.delivery_enabled) == (
        "乌鲁木齐", "0991-1234567", "Asia/Urumqi", True, False)
    entry = AuditEntry.objects.filter(action="store_profile.update").latest("id")
    assert (entry.actor_user_id, entry.after["time_zone"]) == (chain.manager_a.user_id, "Asia/Urumqi")
    assert '<option value="Asia/Urumqi" selected>' in manager.get(f"{url}?saved=1").content.decode()

    before = list(StoreProfile.objects.values_list("node_id", "city", "phone", "status", "time_zone"))
    for field, value, code in (("time_zone", "Mars/Olympus", "invalid_time_zone"), ("status", "gone", "invalid_status")):
        body = {"city": "X", "address": "Y", "phone": "", "status": "open", "time_zone": "Asia/Urumqi", field: value}
        refused = manager.post(url, body)
        assert refused.status_code == 422 and f'data-code="{code}"' in refused.content.decode()
        assert 'value="X"' in refused.content.decode()  # what was typed is shown again
    assert list(StoreProfile.objects.values_list("node_id", "city", "phone", "status", "time_zone")) == before
    # another store's manager and a clerk do not reach it
    assert client_for(chain.manager_b).get(url).status_code == 404
    assert client_for(chain.guide_a).post(url, {"time_zone": "UTC"}).status_code == 404
    assert list(StoreProfile.objects.values_list("node_id", "city", "phone", "status", "time_zone")) == before
