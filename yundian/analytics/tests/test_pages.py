"""The warehouse status page: freshness, what waits, the actor's scope (a store manager sees their store only)."""
import pytest
from django.test import Client

from yundian.analytics.sync import sync_run
from yundian.org.tests.factories import PASSWORD
from yundian.sales.tests.factories import sell, stocked

pytestmark = pytest.mark.django_db


def signed_in(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def test_the_status_page_shows_freshness_waiting_changes_and_the_actors_own_sales(chain, warehouse):
    stock = stocked(chain)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])  # ¥99.00 in store A
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 2)])  # ¥198.00 in store B
    sync_run()
    page = signed_in(chain.admin).get("/analytics/warehouse/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200 and "Up to date" in text and "Sync now" in text
    assert "¥297.00" in text  # HQ: both stores
    mine = signed_in(chain.manager_a).get("/analytics/warehouse/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "¥99.00" in mine and "¥297.00" not in mine and "¥198.00" not in mine
    assert "/analytics/warehouse/sync/" not in mine and "你的范围" in mine  # only HQ runs the warehouse

    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 1)])
    waiting = signed_in(chain.admin).get("/analytics/warehouse/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="pending">1<' in waiting


def test_guides_do_not_see_the_warehouse_and_only_hq_may_queue_a_sync(chain, warehouse):
    assert signed_in(chain.guide_a).get("/analytics/warehouse/").status_code == 404
    assert signed_in(chain.manager_a).post("/analytics/warehouse/sync/").status_code == 404
    response = signed_in(chain.admin).post("/analytics/warehouse/sync/")
    assert response.status_code == 302
