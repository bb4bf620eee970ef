"""The uplift interval against published figures (Newcombe 1998, Stat Med 17:873-890, Table II)."""
import pytest

from yundian.journeys.stats import uplift


@pytest.mark.once
def test_newcombes_example_56_of_70_against_48_of_80():
    u = uplift(treated=70, treated_converted=56, control=80, control_converted=48)
    assert u.difference == pytest.approx(0.2)
    assert (round(u.low, 4), round(u.high, 4)) == (0.0524, 0.3339)
    assert u.relative == pytest.approx(0.2 / 0.6)
    assert u.significant


@pytest.mark.once
def test_newcombes_example_with_zero_events_stays_inside_the_unit_range():
    u = uplift(treated=10, treated_converted=0, control=10, control_converted=0)
    assert u.difference == 0
    assert (round(u.low, 4), round(u.high, 4)) == (-0.2775, 0.2775)
    assert not u.significant


@pytest.mark.once
def test_an_empty_group_has_no_rate_and_no_interval():
    u = uplift(treated=100, treated_converted=10, control=0, control_converted=0)
    assert (u.treated_rate, u.control_rate, u.difference, u.low, u.high) == (0.1, None, None, None, None)
