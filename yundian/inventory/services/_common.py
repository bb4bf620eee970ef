"""Input cleaning shared by the inventory services; every failure is a 4xx domain error."""
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed
from yundian.core.text import clean_text as core_clean_text

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")
MAX_QUANTITY = 10**9  # units in one line: far above any real quantity, guards against typos and overflow
MAX_LINES = 100_000


def clean_code(value: Any, field: str = "code") -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not CODE_RE.fullmatch(value):
        raise ValidationFailed(_("Codes are 1 to 40 letters, digits, '.', '/', '-' or '_'."), code="invalid_code",
                               details={"field": field})
    return value


def clean_text(value: Any, field: str, max_length: int, *, required: bool = True) -> str:
    return core_clean_text(value, field, max_length, required=required, multiline=True)


def clean_quantity(value: Any, field: str = "quantity", *, allow_zero: bool = False) -> int:
    """A whole number of units, > 0 (or >= 0 with allow_zero); not a bool, not a float."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_QUANTITY:
        raise ValidationFailed(_("Quantities are whole numbers greater than zero."), code="invalid_quantity",
                               details={"field": field, "value": value if isinstance(value, int) else str(value)[:40]})
    return value


def clean_id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": field})
    return value
