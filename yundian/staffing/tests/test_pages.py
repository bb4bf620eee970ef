"""The staffing pages over HTTP: who may open them, a manager's edit refused with the rule's code, sign-in."""
from datetime import date, timedelta

import pytest
from django.test import Client

from yundian.org.tests.factories import PASSWORD
from yundian.staffing.models import Shift, SignInEntry

from .factories import extra_guides, staff_store

MONDAY = date(2026, 12, 14)


def _client(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


@pytest.fixture
def store_a(chain):
    people = [chain.manager_a, chain.guide_a, *extra_guides(chain, chain.store_a, 1)]
    staff_store(chain, chain.store_a, people)
    return people


def test_the_week_page_is_for_the_stores_managers_only(chain, store_a):
    url = f"/staffing/{chain.store_a.pk}/{MONDAY.isoformat()}/"
    page = _client(chain.manager_a).get(url)
    assert page.status_code == 200 and b'class="heat"' in page.content
    assert _client(chain.east_manager).get(url).status_code == 200
    assert _client(chain.manager_b).get(url).status_code == 404
    assert _client(chain.guide_a).get(url).status_code == 404
    assert _client(chain.manager_a).get(f"/staffing/{chain.store_a.pk}/not-a-day/").status_code == 404
    assert _client(chain.manager_a).get("/staffing/").status_code == 302
    assert _client(chain.guide_a).get("/staffing/")["Location"] == "/staffing/me/"


def test_an_illegal_shift_edit_answers_422_with_the_rule_and_changes_nothing(chain, store_a):
    client = _client(chain.manager_a)
    url = f"/staffing/{chain.store_a.pk}/{MONDAY.isoformat()}/shift/"
    ok = client.post(url, {"day": MONDAY.isoformat(), "staff": chain.guide_a.pk, "start_hour": 10, "end_hour": 19})
    assert ok.status_code == 302
    too_long = client.post(url, {"day": (MONDAY + timedelta(days=1)).isoformat(), "staff": chain.guide_a.pk,
                                 "start_hour": 8, "end_hour": 22})
    assert too_long.status_code == 422 and b'data-code="breaks_labor_rule"' in too_long.content
    junk = client.post(url, {"day": "x", "staff": "", "start_hour": "a", "end_hour": "\x00"})
    assert junk.status_code == 422
    other = _client(chain.manager_b).post(url, {"day": MONDAY.isoformat(), "staff": chain.guide_a.pk,
                                                "start_hour": 10, "end_hour": 14})
    assert other.status_code == 404
    assert list(Shift.objects.values_list("staff_id", "day", "start_hour", "end_hour", "break_hour")) == [
        (chain.guide_a.pk, MONDAY, 10, 19, 14)]


def test_a_guide_sees_own_shifts_and_signs_in_once_per_tap(chain, store_a):
    from django.utils import timezone

    today = timezone.localdate()
    Shift.objects.create(store=chain.store_a, staff=chain.guide_a, day=today, start_hour=10, end_hour=14)
    client = _client(chain.guide_a)
    page = client.get("/staffing/me/")
    assert page.status_code == 200 and b"10:00" in page.content
    for _ in range(2):
        assert client.post("/staffing/me/sign/", {"kind": "in", "client_ref": "tap-1"}).status_code == 302
    assert client.post("/staffing/me/sign/", {"kind": "up", "client_ref": "tap-2"}).status_code == 422
    assert list(SignInEntry.objects.values_list("staff_id", "kind", "store_id")) == [
        (chain.guide_a.pk, "in", chain.store_a.pk)]
    assert _client(chain.auditor).get("/staffing/me/").status_code == 404
