from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yundian.core.errors import ValidationFailed
from yundian.core.money import Money


@pytest.mark.parametrize(("text", "currency", "fen"), [
    ("12.30", "CNY", 1230),
    ("12.3", "CNY", 1230),
    ("12", "CNY", 1200),
    ("0.01", "CNY", 1),
    ("0.5", "USD", 50),
    ("-3.10", "CNY", -310),
    ("  7.50 ", "CNY", 750),
    ("1.230", "CNY", 123),  # trailing zeros are not extra precision
    ("100", "JPY", 100),
    ("99999999999999999999", "CNY", 9999999999999999999900),
    (42, "CNY", 4200),
    (Decimal("19.99"), "CNY", 1999),
])
def test_parse_turns_text_into_minor_units(text, currency, fen):
    assert Money.parse(text, currency) == Money(fen, currency)


@pytest.mark.parametrize("text", [
    "", " ", "abc", "1e3", "1,000", "1.000,00", ".5", "1.", "+1", "--1", "1.2.3", "¥12", "12元",
    "١٢", "１２", "12\n3", "NaN", "Infinity", "0x10", "1" * 41,
])
def test_parse_refuses_anything_that_is_not_a_plain_amount(text):
    with pytest.raises(ValidationFailed) as exc:
        Money.parse(text)
    assert exc.value.code == "invalid_amount"
    assert exc.value.status == 422


@pytest.mark.parametrize(("text", "currency"), [("1.234", "CNY"), ("0.001", "USD"), ("1.5", "JPY"), ("100.01", "KRW")])
def test_parse_refuses_more_decimals_than_the_currency_has(text, currency):
    with pytest.raises(ValidationFailed) as exc:
        Money.parse(text, currency)
    assert exc.value.code == "too_many_decimals"


def test_parse_and_construct_refuse_unknown_currency():
    with pytest.raises(ValidationFailed) as exc:
        Money.parse("1.00", "XXX")
    assert exc.value.code == "unknown_currency"
    with pytest.raises(ValidationFailed) as exc:
        Money(100, "cny")
    assert exc.value.code == "unknown_currency"


@pytest.mark.parametrize("amount", [1.5, 1.0, "100", Decimal(1), True, None])
def test_amount_must_be_an_int_of_minor_units(amount):
    with pytest.raises(TypeError):
        Money(amount)


def test_arithmetic_in_one_currency():
    assert Money(150) + Money(250) == Money(400)
    assert Money(150) - Money(250) == Money(-100)
    assert Money(150) * 3 == Money(450)
    assert -Money(150) == Money(-150)
    assert Money(1) < Money(2)
    assert Money(2) <= Money(2)
    assert Money(3) > Money(2)
    with pytest.raises(TypeError):
        Money(150) * 1.5


@pytest.mark.parametrize("operation", [
    lambda: Money(100, "CNY") + Money(100, "USD"),
    lambda: Money(100, "CNY") - Money(100, "HKD"),
    lambda: Money(100, "CNY") < Money(100, "JPY"),
    lambda: Money(100, "CNY") <= Money(100, "EUR"),
    lambda: Money(100, "CNY") + 100,
])
def test_mixing_currencies_is_refused(operation):
    with pytest.raises(ValidationFailed) as exc:
        operation()
    assert exc.value.code == "currency_mismatch"


def test_money_in_different_currencies_is_never_equal():
    assert Money(100, "CNY") != Money(100, "USD")


@pytest.mark.parametrize(("amount", "rate", "expected"), [
    (1000, "0.85", 850),
    (999, "0.5", 500),     # 499.5 rounds half up
    (-999, "0.5", -500),   # half away from zero for refunds too
    (1001, "0.5", 501),    # 500.5 -> 501
    (333, "0.333", 111),   # 110.889 -> 111
    (100, "1", 100),
    (100, "0", 0),
    (1, "0.004", 0),
    (1, Decimal("0.5"), 1),
])
def test_scale_rounds_half_up_to_a_minor_unit(amount, rate, expected):
    assert Money(amount).scale(rate) == Money(expected)


@pytest.mark.parametrize("rate", ["abc", "", "NaN", "Infinity", "-Infinity", None])
def test_scale_refuses_a_rate_that_is_not_a_finite_number(rate):
    with pytest.raises(ValidationFailed) as exc:
        Money(100).scale(rate)
    assert exc.value.code == "invalid_rate"


def test_scale_refuses_float_rates():
    with pytest.raises(TypeError):
        Money(100).scale(0.85)


@pytest.mark.parametrize(("amount", "weights", "expected"), [
    (100, [1, 1, 1], [34, 33, 33]),
    (100, [1, 2], [33, 67]),
    (5, [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]),
    (0, [3, 7], [0, 0]),
    (1000, [0, 1], [0, 1000]),
    (-100, [1, 1, 1], [-33, -33, -34]),
    (1001, [50, 50], [501, 500]),
])
def test_allocate_splits_by_largest_remainder(amount, weights, expected):
    parts = Money(amount).allocate(weights)
    assert [p.amount for p in parts] == expected
    assert sum(p.amount for p in parts) == amount
    assert all(p.currency == "CNY" for p in parts)


@given(amount=st.integers(min_value=-10**12, max_value=10**12),
       weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda w: sum(w) > 0))
def test_allocated_parts_always_sum_to_the_whole_and_stay_within_one_fen_of_exact(amount, weights):
    parts = Money(amount, "USD").allocate(weights)
    assert sum(p.amount for p in parts) == amount
    total = sum(weights)
    for part, weight in zip(parts, weights):
        exact = Decimal(amount) * weight / total
        assert abs(Decimal(part.amount) - exact) < 1


@pytest.mark.parametrize("weights", [[], [0, 0], [-1, 2]])
def test_allocate_refuses_bad_weights(weights):
    with pytest.raises(ValidationFailed) as exc:
        Money(100).allocate(weights)
    assert exc.value.code == "bad_weights"


@pytest.mark.parametrize(("money", "text"), [
    (Money(123456), "¥1,234.56"),
    (Money(-5), "-¥0.05"),
    (Money(0), "¥0.00"),
    (Money(1500, "JPY"), "¥1,500"),
    (Money(199, "USD"), "$1.99"),
])
def test_format(money, text):
    assert money.format() == text
    assert str(money) == text
