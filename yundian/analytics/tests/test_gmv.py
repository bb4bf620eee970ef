"""GMV trees against the hand-computed chain of `facts`: every count, the identities exactly, the change split."""
from datetime import date
from fractions import Fraction

import pytest

from yundian.analytics import gmv
from yundian.core.warehouse import warehouse_read

from .facts import WEEK, WEEK_BEFORE, write_facts

pytestmark = pytest.mark.once  # the warehouse only: no OLTP difference between the databases


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    from django.test import override_settings

    with override_settings(WAREHOUSE_PATH=tmp_path_factory.mktemp("gmv") / "warehouse.duckdb"):
        write_facts()
        yield


def _figures(**kwargs):
    with warehouse_read() as wh:
        return gmv.gmv_figures(wh, enterprise_id=1, **kwargs)


def test_the_chains_week_counts_traffic_per_store_day_and_members_with_their_home(facts):
    week = _figures(paths=["/1/"], since=WEEK[0], until=WEEK[1])["total"]
    # A 11-02: 1 visitor + 5 door counts; 11-04: 2 visitors (member 101, device d3) + 4; 11-05: no count, its till
    # order stands in; B 11-03: 3; C 11-06: its till order stands in
    assert (week.traffic, week.visitors, week.footfall) == (6 + 6 + 1 + 3 + 1, 3, 12)
    assert (week.gmv, week.orders, week.member_gmv, week.member_orders) == (35000, 6, 33000, 5)
    # 100, 101, 102, 103, 105 at home (104 joined later, 106 merged); 100 bought on two days
    assert (week.members, week.active, week.repeat) == (5, 4, 1)
    assert (week.referral_gmv, week.referral_orders, week.referral_share) == (8000, 1, Fraction(8, 35))
    assert week.conversion == Fraction(6, 17) and week.aov == Fraction(35000, 6)
    assert week.repurchase_rate == Fraction(1, 4) and week.guest_gmv == 2000


def test_the_identities_hold_exactly_at_every_node_guide_and_day(facts):
    nodes = []
    for by in ("total", "children:/1/", "children:/1/2/", "day"):
        nodes += list(_figures(paths=["/1/"], since=WEEK[0], until=WEEK[1], by=by).values())
    nodes += list(_figures(paths=["/1/"], since=WEEK[0], until=WEEK[1], by="guides", store_path="/1/2/4/").values())
    assert len(nodes) == 1 + 2 + 2 + 7 + 2
    for node in nodes:
        if node.traffic is not None:
            traffic, conversion, aov = node.traffic_factors()
            assert traffic * conversion * aov == node.gmv
        members, active_rate, frequency, member_aov = node.member_factors()
        assert members * active_rate * frequency * member_aov == node.member_gmv
        assert node.member_gmv + node.guest_gmv == node.gmv


def test_drilling_down_a_region_and_a_store_counts_members_from_elsewhere(facts):
    regions = _figures(paths=["/1/"], since=WEEK[0], until=WEEK[1], by="children:/1/")
    assert set(regions) == {"2", "3"}
    east, west = regions["2"], regions["3"]
    assert (east.gmv, east.orders, east.traffic, east.members, east.active) == (31000, 5, 16, 4, 3)
    # west: 105 lives there; 103 (home in A) bought in C: a member from elsewhere
    assert (west.gmv, west.orders, west.traffic, west.members, west.active) == (4000, 1, 1, 2, 1)
    guides = _figures(paths=["/1/"], since=WEEK[0], until=WEEK[1], by="guides", store_path="/1/2/4/")
    assert {k: (g.gmv, g.orders, g.members, g.active, g.traffic) for k, g in guides.items()} == {
        "7": (17000, 3, 1, 1, None), "8": (8000, 1, 1, 1, None)}
    store = _figures(paths=["/1/2/4/"], since=WEEK[0], until=WEEK[1])["total"]
    assert sum(g.gmv for g in guides.values()) == store.gmv == 25000


def test_days_count_the_members_who_had_joined_by_then(facts):
    days = _figures(paths=["/1/"], since=WEEK[0], until=WEEK[1], by="day")
    assert list(days) == [f"2026-11-0{d}" for d in range(2, 9)]
    assert [days[k].members for k in days] == [4, 5, 5, 5, 5, 5, 5]  # 101 joined on the 3rd
    assert [days[k].gmv for k in days] == [10000, 6000, 13000, 2000, 4000, 0, 0]
    assert [days[k].traffic for k in days] == [6, 3, 6, 1, 1, 0, 0]


def test_a_region_manager_sees_nothing_of_the_other_region(facts):
    west = _figures(paths=["/1/3/"], since=WEEK[0], until=WEEK[1])["total"]
    assert (west.gmv, west.orders, west.traffic, west.members) == (4000, 1, 1, 2)


def test_the_change_split_sums_to_the_change_exactly(facts):
    before = _figures(paths=["/1/"], since=WEEK_BEFORE[0], until=WEEK_BEFORE[1])["total"]
    after = _figures(paths=["/1/"], since=WEEK[0], until=WEEK[1])["total"]
    assert (before.gmv, before.orders, before.traffic, before.members, before.active) == (10000, 2, 2, 4, 1)
    split = gmv.gmv_change(before, after)
    assert split["change"] == 25000
    assert sum(split["traffic"]) == 25000
    assert sum(split["member"]) + split["guest"] == 25000 and split["guest"] == 2000 - 3000
    shown = gmv.round_fen(split["traffic"])
    assert sum(shown) == 25000


def test_the_shapley_split_of_two_factors_is_the_average_of_both_orders():
    # 2x3 -> 4x5: the first factor adds (4-2)x3 or (4-2)x5, on average 8; the second (5-3)x2 or (5-3)x4: 6
    assert gmv.change_split([Fraction(2), Fraction(3)], [Fraction(4), Fraction(5)]) == [8, 6]
    # a factor that goes to zero still splits exactly
    parts = gmv.change_split([Fraction(3), Fraction(1, 3), Fraction(700)], [Fraction(0), Fraction(0), Fraction(0)])
    assert sum(parts) == -700
    assert gmv.round_fen([Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)]) == [1, 0, 0]


def test_period_bounds_are_calendar_days_weeks_and_months():
    assert gmv.period_bounds("week", date(2026, 11, 5)) == WEEK
    assert gmv.period_bounds("month", date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert gmv.period_before("month", date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert gmv.period_bounds("day", date(2026, 2, 14)) == (date(2026, 2, 14), date(2026, 2, 14))
