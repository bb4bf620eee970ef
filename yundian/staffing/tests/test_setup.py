"""The store manager's staffing set-up: standards, rates and hours, time off — scoped to their store, bad input
refused with nothing changed, and what they set is what the plan uses."""
from datetime import date, timedelta

import pytest
from django.test import Client

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.org.tests.factories import PASSWORD
from yundian.staffing import setup
from yundian.staffing.inputs import people_of, standards_of
from yundian.staffing.models import Availability, ServiceStandard, StaffTerms, TimeOff

from .factories import staff_store

FAR = date(2031, 3, 3)  # a Monday well ahead


@pytest.fixture
def store_a(chain):
    people = [chain.manager_a, chain.guide_a]
    staff_store(chain, chain.store_a, people)
    return people


def _client(staff) -> Client:
    client = Client()
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def _snapshot():
    return (list(ServiceStandard.objects.values_list("store_id", "customers_per_staff_hour", "min_cover", "cashiers")),
            list(StaffTerms.objects.values_list("staff_id", "hourly_rate", "skills", "is_part_time")),
            sorted(Availability.objects.values_list("staff_id", "weekday", "start_hour", "end_hour")),
            list(TimeOff.objects.values_list("staff_id", "first_day", "last_day")))


def test_a_manager_sets_standards_rates_hours_and_time_off_and_the_plan_reads_them(chain, store_a):
    setup.standard_save(actor=chain.manager_a, store_id=chain.store_a.pk, customers_per_staff_hour="8.5",
                        min_cover="2", cashiers="1", opening_staff="1", opening_hours="1", closing_staff="2",
                        closing_hours="1")
    setup.person_save(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk, hourly_rate=3150,
                      skills=["floor", "cashier"], is_part_time=True, is_shared=False, travel_cost=500,
                      availability={0: (9, 15), 2: (12, 20), 5: None})
    setup.time_off_add(actor=chain.manager_a, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk,
                       first_day=FAR, last_day=FAR + timedelta(days=2), note="考试")
    standard = standards_of([chain.store_a])[chain.store_a.pk]
    assert (standard.customers_per_staff_hour, standard.min_cover, standard.closing_staff) == (8.5, 2, 2)
    guide = next(p for p in people_of([chain.store_a]) if p.id == chain.guide_a.pk)
    assert (guide.rate, guide.skills, guide.part_time) == (3150, frozenset({"cashier", "floor"}), True)
    assert guide.availability == {0: (9, 15), 2: (12, 20)} and guide.travel == {}
    assert guide.days_off == {FAR, FAR + timedelta(days=1), FAR + timedelta(days=2)}
    view = setup.setup_get(actor=chain.manager_a, store_id=chain.store_a.pk)
    row = next(r for r in view.people if r.staff.pk == chain.guide_a.pk)
    assert row.days[0] == (0, (9, 15)) and row.days[1] == (1, None) and [t.note for t in row.time_off] == ["考试"]
    assert AuditEntry.objects.filter(action__startswith="staffing.").count() == 3


def test_bad_input_is_refused_with_its_code_and_changes_nothing(chain, store_a):
    before = _snapshot()
    cases = [
        (setup.standard_save, dict(customers_per_staff_hour="0", min_cover=1, cashiers=1, opening_staff=1,
                                   opening_hours=1, closing_staff=1, closing_hours=1), "invalid_number"),
        (setup.standard_save, dict(customers_per_staff_hour="6", min_cover="x", cashiers=1, opening_staff=1,
                                   opening_hours=1, closing_staff=1, closing_hours=1), "invalid_number"),
        (setup.standard_save, dict(customers_per_staff_hour="6", min_cover=1, cashiers=3, opening_staff=1,
                                   opening_hours=1, closing_staff=1, closing_hours=1), "invalid_number"),
        (setup.person_save, dict(staff_id=chain.guide_a.pk, hourly_rate=0, skills=["floor"], is_part_time=False,
                                 is_shared=False, travel_cost=0, availability={}), "invalid_amount"),
        (setup.person_save, dict(staff_id=chain.guide_a.pk, hourly_rate=2500, skills=["juggling"],
                                 is_part_time=False, is_shared=False, travel_cost=0, availability={}), "invalid_skill"),
        (setup.person_save, dict(staff_id=chain.guide_a.pk, hourly_rate=2500, skills=["floor"], is_part_time=False,
                                 is_shared=False, travel_cost=0, availability={1: (18, 9)}), "invalid_hour"),
        (setup.person_save, dict(staff_id=chain.guide_b.pk, hourly_rate=2500, skills=["floor"], is_part_time=False,
                                 is_shared=False, travel_cost=0, availability={}), "not_store_staff"),
        (setup.time_off_add, dict(staff_id=chain.guide_a.pk, first_day=FAR, last_day=FAR - timedelta(days=1)),
         "invalid_dates"),
        (setup.time_off_add, dict(staff_id=chain.guide_a.pk, first_day=date(2020, 1, 1), last_day=date(2020, 1, 2)),
         "invalid_dates"),
    ]
    for fn, kwargs, code in cases:
        with pytest.raises(ValidationFailed) as refused:
            fn(actor=chain.manager_a, store_id=chain.store_a.pk, **kwargs)
        assert refused.value.code == code, (fn.__name__, kwargs)
        assert str(refused.value.message)
    # another store's manager, a region manager elsewhere and a guide cannot touch store A
    for outsider in (chain.manager_b, chain.west_manager):
        with pytest.raises(NotFound):
            setup.person_save(actor=outsider, store_id=chain.store_a.pk, staff_id=chain.guide_a.pk, hourly_rate=1,
                              skills=["floor"], is_part_time=False, is_shared=False, travel_cost=0, availability={})
        with pytest.raises(NotFound):
            setup.setup_get(actor=outsider, store_id=chain.store_a.pk)
    assert _snapshot() == before


def test_the_set_up_page_saves_yuan_and_hours_and_shows_bad_input_as_a_translated_422(chain, store_a):
    client = _client(chain.manager_a)
    url = f"/staffing/{chain.store_a.pk}/setup/"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "人员".encode() in page.content and b"data-picker" in page.content
    form = {"staff": chain.guide_a.pk, "hourly_rate": "31.50", "skills": ["cashier", "floor"], "travel_cost": "0",
            **{f"day_{w}_from": "9" for w in range(5)}, **{f"day_{w}_to": "18" for w in range(5)}}
    assert client.post(url + "person/", form).status_code == 302
    assert StaffTerms.objects.get(staff=chain.guide_a).hourly_rate == 3150
    assert sorted(Availability.objects.filter(staff=chain.guide_a).values_list("weekday", flat=True)) == [0, 1, 2, 3, 4]
    assert "¥31.50".encode() in client.get(url).content
    before = _snapshot()
    bad = client.post(url + "person/", {**form, "hourly_rate": "31.505"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 422 and b'data-code="too_many_decimals"' in bad.content
    half = client.post(url + "person/", {**form, "day_6_from": "10"})
    assert half.status_code == 422 and b'data-code="invalid_hour"' in half.content
    junk = client.post(url + "standard/", {"customers_per_staff_hour": "lots", "min_cover": "1"})
    assert junk.status_code == 422
    assert client.post(url + "time-off/", {"staff": "", "first_day": "x"}).status_code == 422
    assert _snapshot() == before
    assert _client(chain.manager_b).get(url).status_code == 404
    assert _client(chain.manager_b).post(url + "person/", form).status_code == 404
    assert _client(chain.guide_a).get(url).status_code == 404
    assert _snapshot() == before
