"""Guides API: a guide id that does not exist or lies outside the caller's scope is 404 (never the caller's own
commission), and the list endpoints' id filters never fall back to "no filter"."""
import pytest

from yundian.org.tests.utils import assert_error, call, client_for
from yundian.sales.tests.factories import plan, sell, stocked


@pytest.fixture
def sold(chain):
    stock = stocked(chain, units=20)
    plan(chain, "0.05")
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 1)])
    return stock


@pytest.mark.parametrize("guide_id", ["0", "-1", "999999999"])
def test_commission_of_a_guide_id_that_does_not_exist_is_404_for_every_caller(chain, sold, guide_id):
    for actor in (chain.admin, chain.manager_a, chain.guide_a):
        response = call(client_for(actor), "GET", f"/api/v1/guides/commission/guides/{guide_id}")
        error = assert_error(response, 404)
        assert error["code"] == "guide_not_found"


def test_commission_of_a_guide_outside_the_callers_scope_is_404(chain, other_chain, sold):
    cases = [(chain.manager_a, chain.guide_b), (chain.east_manager, chain.guide_b), (chain.west_manager, chain.guide_a),
             (chain.manager_a, chain.admin), (chain.guide_a, chain.guide_b), (chain.guide_a, chain.manager_a),
             (chain.admin, other_chain.guide_a), (other_chain.admin, chain.guide_a)]
    for actor, guide in cases:
        response = call(client_for(actor), "GET", f"/api/v1/guides/commission/guides/{guide.id}")
        error = assert_error(response, 404)
        assert error["code"] == "guide_not_found", (actor.display_name, guide.display_name)


def test_commission_of_a_guide_in_scope_and_of_oneself_by_id(chain, sold):
    by_manager = call(client_for(chain.manager_a), "GET", f"/api/v1/guides/commission/guides/{chain.guide_a.id}")
    assert by_manager.status_code == 200
    assert (by_manager.json()["guide_id"], by_manager.json()["month_commission"]) == (chain.guide_a.id, 990)
    by_hq = call(client_for(chain.admin), "GET", f"/api/v1/guides/commission/guides/{chain.guide_b.id}")
    assert (by_hq.json()["guide_id"], by_hq.json()["month_commission"]) == (chain.guide_b.id, 495)
    own = call(client_for(chain.guide_a), "GET", f"/api/v1/guides/commission/guides/{chain.guide_a.id}")
    assert (own.status_code, own.json()["month_commission"]) == (200, 990)


def test_id_filters_of_the_commission_lists_never_fall_back_to_no_filter(chain, sold):
    admin = client_for(chain.admin)
    everything = call(admin, "GET", "/api/v1/guides/commission/entries").json()
    assert everything["count"] == 2
    for guide_id in ("0", "-1", "999999999"):
        filtered = call(admin, "GET", f"/api/v1/guides/commission/entries?guide_id={guide_id}").json()
        assert (filtered["count"], filtered["items"]) == (0, [])
    for store_id in ("0", "-1", "999999999", str(chain.store_b.id)):
        url = f"/api/v1/guides/commission/guides?store_id={store_id}"
        rows = call(client_for(chain.manager_a), "GET", url).json()
        assert rows == []
        board = call(client_for(chain.manager_a), "GET", f"/api/v1/guides/leaderboard?store_id={store_id}").json()
        assert board == []
    own_store = call(client_for(chain.manager_a), "GET", f"/api/v1/guides/commission/guides?store_id={chain.store_a.id}")
    assert [r["guide_id"] for r in own_store.json()] == [chain.guide_a.id]
    guide_entries = call(client_for(chain.guide_a), "GET",
                         f"/api/v1/guides/commission/entries?guide_id={chain.guide_b.id}").json()
    assert (guide_entries["count"], guide_entries["items"]) == (0, [])
