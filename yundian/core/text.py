"""Checks for free text typed by people (names, labels): any script and emoji are fine, control characters are not.

`str.isprintable()` is too strict for names: it refuses the ideographic space (U+3000), no-break spaces and
the zero-width joiner that glues emoji sequences together. What we refuse is what breaks storage or display:
control characters (NUL breaks PostgreSQL text), surrogates, private-use and unassigned code points, line and
paragraph separators, and bidirectional overrides (used to disguise text).
"""
import unicodedata
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed

_REFUSED_CATEGORIES = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
# format characters (Cf) that real text needs: zero-width (non-)joiner, emoji tag sequences (subdivision flags)
_ALLOWED_FORMAT = {0x200C, 0x200D} | set(range(0xE0020, 0xE0080))


def is_clean_text(value: str) -> bool:
    """True if `value` holds no character that must not be stored in a name or label."""
    for ch in value:
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES:
            return False
        if category == "Cf" and ord(ch) not in _ALLOWED_FORMAT:
            return False
    return True


def has_control_characters(value: str) -> bool:
    """True if `value` holds a C0/C1 control character or a lone surrogate (unsafe in any stored or searched text)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def clean_text(value: Any, field: str, max_length: int, *, required: bool, multiline: bool = False) -> str:
    """Validate typed text for a service: stripped, length-checked, no control characters (line breaks and tabs only
    when `multiline`, normalised to "\\n"). Numbers (e.g. an Excel cell holding a code) are taken as their text.
    Raises ValidationFailed with codes required / too_long / invalid_text and the field in details."""
    if value is None:
        value = ""
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationFailed(_("Not text."), code="invalid_text", details={"field": field})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(_("This field is required."), code="required", details={"field": field})
    if len(value) > max_length:
        raise ValidationFailed(_("Too long."), code="too_long", details={"field": field, "max_length": max_length})
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    checked = value.replace("\n", " ").replace("\t", " ") if multiline else value
    if not is_clean_text(checked):
        raise ValidationFailed(_("Contains control characters."), code="invalid_text", details={"field": field})
    return value
