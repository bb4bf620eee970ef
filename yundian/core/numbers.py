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
