"""Checks for free text typed by people (names, labels): any script and emoji are fine, control characters are not.

`str.isprintable()` is too strict for names: it refuses the ideographic space (U+3000), no-break spaces and
the zero-width joiner that glues emoji sequences together. What we refuse is what breaks storage or display:
control characters (NUL breaks PostgreSQL text), surrogates, private-use and unassigned code points, line and
paragraph separators, and bidirectional overrides (used to disguise text).
"""
import unicodedata

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
