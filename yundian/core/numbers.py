"""Checks for whole numbers given to a service (JSON or parsed form input): every failure is a 4xx domain error
naming the field."""
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed


def clean_int(value: Any, field: str, low: int, high: int) -> int:
    """An int (not a bool, not a float or text) from `low` to `high`; anything else is a 422 `invalid_number`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("A whole number from %(low)d to %(high)d is expected.") % {"low": low, "high": high},
                               code="invalid_number", details={"field": field})
    return value


def parse_whole(text: Any) -> int | None:
    """What someone typed in a form or query as a non-negative whole number (1 to 18 ASCII digits, surrounding
    spaces ignored), or None when it is anything else — never an exception ("²" is a digit to str.isdigit, not to
    int())."""
    text = str(text if text is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
