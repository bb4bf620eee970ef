"""Typed whole numbers from forms and queries."""
from yundian.core.numbers import parse_whole


def test_parse_whole_takes_ascii_digits_only_and_never_raises():
    assert [parse_whole(v) for v in ("12", " 7 ", "0", None, "", "-3", "1.5", "²", "١٢", "12a", "9" * 19)] == [
        12, 7, 0, None, None, None, None, None, None, None, None]
