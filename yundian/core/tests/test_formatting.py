"""The one formatting path: amounts with the currency sign, separators and two decimals; moments in a time zone;
export cells as numbers."""
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from yundian.core.exports import export_value
from yundian.core.money import Money
from yundian.core.templatetags.yundian import cell, when, yuan, yuan_input


@pytest.mark.parametrize(("value", "currency", "shown"), [
    (0, "CNY", "¥0.00"), (5, "CNY", "¥0.05"), (1290, "CNY", "¥12.90"), (123456789, "CNY", "¥1,234,567.89"),
    (-1230, "CNY", "-¥12.30"), (-5, "CNY", "-¥0.05"), (Money(108900), "CNY", "¥1,089.00"),
    (1500, "JPY", "¥1,500"), (1999, "USD", "$19.99"), (None, "CNY", ""), ("", "CNY", ""),
])
def test_yuan_shows_sign_separators_and_two_decimals(value, currency, shown):
    assert yuan(value, currency) == shown


def test_yuan_input_is_the_plain_number_of_an_input():
    assert [yuan_input(v) for v in (1290, 123456789, -5, 0, None)] == ["12.90", "1234567.89", "-0.05", "0.00", ""]
    assert Money(123456789).decimal() == Decimal("1234567.89") and str(Money(7).decimal()) == "0.07"


def test_yuan_refuses_what_is_not_minor_units():
    for bad in (12.5, True, object()):
        with pytest.raises(TypeError):
            yuan(bad)


def test_the_template_library_formats_money_and_moments():
    moment = datetime(2026, 12, 6, 23, 30, 5, tzinfo=dt_timezone.utc)
    html = Template('{% load yundian %}{{ a|yuan }} {{ a|yuan_input }} {{ t|when }} {{ t|when:"seconds" }} '
                    '{{ t|when:"date" }} {{ t|when:"Europe/London" }}').render(Context({"a": -123456, "t": moment}))
    assert html == "-¥1,234.56 -1234.56 2026-12-07 07:30 2026-12-07 07:30:05 2026-12-07 2026-12-06 23:30"
    with timezone.override("Europe/Berlin"):
        assert when(moment) == "2026-12-07 00:30"
    assert when(None) == "" and cell(None) == "–" and cell(Money(-100)) == "-¥1.00" and cell(3) == 3


def test_export_cells_are_yuan_numbers_and_text_that_cannot_run():
    assert export_value(Money(108900)) == Decimal("1089.00")
    assert export_value("=SUM(A1)") == "'=SUM(A1)" and export_value(-3) == -3
    assert export_value(datetime(2026, 12, 6, 23, 30, tzinfo=dt_timezone.utc)) == "2026-12-07 07:30"
