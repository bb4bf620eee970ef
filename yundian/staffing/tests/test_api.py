"""Staffing over the API: the week, shift edits and the set-up for the caller's stores; another store's ids are 404
and change nothing; a shift that breaks a labour rule is 422 with the rule."""
from datetime import date, timedelta

import pytest

from yundian.org.tests.utils import assert_error, call, client_for
from yundian.staffing.models import Shift, StaffTerms, TimeOff

from .factories import staff_store

MONDAY = date(2031, 3, 3)


@pytest.fixture
def stores(chain):
    staff_store(chain, chain.store_a, [chain.manager_a, chain.guide_a])
    from yundian.stores.models import StoreProfile  # noqa: F401  (store B: its own profile and people)
    StoreProfile.objects.filter(node=chain.store_a).update(slug="a-store")
    staff_store(chain, chain.store_b, [chain.manager_b, chain.guide_b])
    b_shift = Shift.objects.create(store=chain.store_b, staff=chain.guide_b, day=MONDAY, start_hour=10, end_hour=14)
    return b_shift


def _state():
    return (sorted(Shift.objects.values_list("staff_id", "day", "start_hour", "end_hour")),
            sorted(StaffTerms.objects.values_list("staff_id", "hourly_rate")), TimeOff.objects.count())


def test_a_manager_edits_shifts_and_the_set_up_of_their_store(chain, stores):
    client = client_for(chain.manager_a)
    base = f"/api/v1/staffing/stores/{chain.store_a.pk}"
    made = call(client, "POST", f"{base}/shifts", {"staff_id": chain.guide_a.pk, "day": MONDAY.isoformat(),
                                                    "start_hour": 10, "end_hour": 19})
    assert made.status_code == 201 and (made.json()["break_hour"], made.json()["paid_hours"]) == (14, 8)
    week = call(client, "GET", f"{base}/weeks/{(MONDAY + timedelta(days=3)).isoformat()}").json()
    assert week["week_start"] == MONDAY.isoformat() and [s["staff_name"] for s in week["shifts"]] == ["guide-a"]
    assert week["totals"]["planned"] == 8 and week["plan"] is None
    illegal = call(client, "PUT", f"{base}/shifts/{made.json()['id']}", {
        "staff_id": chain.guide_a.pk, "day": MONDAY.isoformat(), "start_hour": 8, "end_hour": 21})
    assert assert_error(illegal, 422, "breaks_labor_rule")["details"]["rules"] == ["day_hours"]
    person = call(client, "PUT", f"{base}/setup/people/{chain.guide_a.pk}", {
        "hourly_rate": 3300, "skills": ["cashier"], "availability": [{"weekday": 0, "start_hour": 9, "end_hour": 21}]})
    assert person.status_code == 200
    row = next(p for p in person.json()["people"] if p["staff_id"] == chain.guide_a.pk)
    assert (row["hourly_rate"], row["availability"]) == (3300, [{"weekday": 0, "start_hour": 9, "end_hour": 21}])
    off = call(client, "POST", f"{base}/setup/time-off", {"staff_id": chain.guide_a.pk,
                                                          "first_day": (MONDAY + timedelta(days=7)).isoformat(),
                                                          "last_day": (MONDAY + timedelta(days=8)).isoformat()})
    assert off.status_code == 201
    assert call(client, "DELETE", f"{base}/shifts/{made.json()['id']}").status_code == 204


def test_another_stores_ids_are_refused_and_nothing_changes(chain, other_chain, stores):
    b_shift = stores
    before = _state()
    a, b = chain.store_a.pk, chain.store_b.pk
    client = client_for(chain.manager_a)
    for method, url, body in [
        ("GET", f"/api/v1/staffing/stores/{b}/weeks/{MONDAY}", None),
        ("GET", f"/api/v1/staffing/stores/{b}/setup", None),
        ("POST", f"/api/v1/staffing/stores/{b}/shifts", {"staff_id": chain.guide_b.pk, "day": str(MONDAY),
                                                          "start_hour": 10, "end_hour": 14}),
        ("PUT", f"/api/v1/staffing/stores/{b}/shifts/{b_shift.pk}", {"staff_id": chain.guide_b.pk,
                                                                     "day": str(MONDAY), "start_hour": 9,
                                                                     "end_hour": 14}),
        ("PUT", f"/api/v1/staffing/stores/{a}/shifts/{b_shift.pk}", {"staff_id": chain.guide_a.pk,
                                                                     "day": str(MONDAY), "start_hour": 9,
                                                                     "end_hour": 14}),
        ("DELETE", f"/api/v1/staffing/stores/{b}/shifts/{b_shift.pk}", None),
        ("DELETE", f"/api/v1/staffing/stores/{a}/shifts/{b_shift.pk}", None),
        ("PUT", f"/api/v1/staffing/stores/{b}/setup/people/{chain.guide_b.pk}",
         {"hourly_rate": 1, "skills": ["floor"], "availability": []}),
        ("POST", f"/api/v1/staffing/stores/{b}/setup/time-off", {"staff_id": chain.guide_b.pk,
                                                                 "first_day": "2031-04-01", "last_day": "2031-04-02"}),
    ]:
        assert_error(call(client, method, url, body), 404)
    # store A's endpoints with store B's person: refused as not the store's staff
    refused = call(client, "PUT", f"/api/v1/staffing/stores/{a}/setup/people/{chain.guide_b.pk}",
                   {"hourly_rate": 1, "skills": ["floor"], "availability": []})
    assert_error(refused, 422, "not_store_staff")
    assert_error(call(client, "POST", f"/api/v1/staffing/stores/{a}/shifts", {
        "staff_id": chain.guide_b.pk, "day": str(MONDAY), "start_hour": 10, "end_hour": 14}), 422, "not_store_staff")
    # another enterprise cannot see either store, a guide cannot open the week
    assert_error(call(client_for(other_chain.admin), "GET", f"/api/v1/staffing/stores/{a}/weeks/{MONDAY}"), 404)
    assert_error(call(client_for(chain.guide_a), "GET", f"/api/v1/staffing/stores/{a}/weeks/{MONDAY}"), 403)
    assert _state() == before
