"""Promotions' text check is core's (same codes and messages), except that numbers are refused, not converted."""
import pytest

from yundian.core.errors import ValidationFailed
from yundian.promotions.services._common import clean_text


def test_text_is_stripped_and_any_script_or_emoji_is_accepted():
    assert clean_text("  双十一 🎉\u3000大促  ", "name", 120, required=True) == "双十一 🎉\u3000大促"
    assert clean_text(None, "description", 500) == ""


@pytest.mark.parametrize("value,kwargs,code,details", [
    ("", {"required": True}, "required", {"field": "name"}),
    ("   ", {"required": True}, "required", {"field": "name"}),
    ("x" * 121, {}, "too_long", {"field": "name", "max_length": 120}),
    ("a\x00b", {}, "invalid_text", {"field": "name"}),
    ("line\nbreak", {}, "invalid_text", {"field": "name"}),
    (12345, {}, "invalid_text", {"field": "name"}),
    (["x"], {}, "invalid_text", {"field": "name"}),
])
def test_bad_text_answers_the_codes_of_core(value, kwargs, code, details):
    with pytest.raises(ValidationFailed) as exc:
        clean_text(value, "name", 120, **kwargs)
    assert (exc.value.code, exc.value.details) == (code, details)
