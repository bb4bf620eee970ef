"""members' clean_text is core's clean_text with the members' error codes (invalid_text / required)."""
import pytest

from yundian.core.errors import ValidationFailed
from yundian.members.services._common import clean_text


@pytest.mark.parametrize("value, expected", [("  王芳 ", "王芳"), (None, ""), ("", ""), ("👩‍👩‍👧 家", "👩‍👩‍👧 家"),
                                             ("a" * 80, "a" * 80)])
def test_clean_text_strips_and_keeps_real_text(value, expected):
    assert clean_text(value, "name", max_length=80) == expected


@pytest.mark.parametrize("value, kwargs, code", [
    ("a" * 81, {}, "invalid_text"),
    ("bad\x00name", {}, "invalid_text"),
    ("line\nbreak", {}, "invalid_text"),
    ("\u202eevil", {}, "invalid_text"),
    (12345, {}, "invalid_text"),
    (["x"], {}, "invalid_text"),
    ("   ", {"required": True}, "required"),
    (None, {"required": True}, "required"),
])
def test_clean_text_refuses_with_the_members_codes(value, kwargs, code):
    with pytest.raises(ValidationFailed) as caught:
        clean_text(value, "name", max_length=80, **kwargs)
    assert (caught.value.code, caught.value.details["field"]) == (code, "name")
