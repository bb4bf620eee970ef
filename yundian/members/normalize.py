"""Normalising identity values, so one person typed three ways is one identity. Pure functions, no database."""
import re

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed
from yundian.core.text import is_clean_text

from .models import IdentityKind

# a mainland China mobile number: 11 digits starting 13-19
CN_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_NOISE_RE = re.compile(r"[\s\-().\u3000]")
OPENID_RE = re.compile(r"[A-Za-z0-9_-]{6,64}")
CARD_RE = re.compile(r"[A-Za-z0-9]{4,32}")
EMAIL_RE = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
MAX_RAW = 128


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678', '0086 13812345678', '138 1234 5678' -> '13812345678'; anything else is refused (422)."""
    text = raw if isinstance(raw, str) else ""
    digits = _PHONE_NOISE_RE.sub("", text.strip())[:MAX_RAW]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not CN_MOBILE_RE.fullmatch(digits):
        raise ValidationFailed(_("Not a valid mainland China mobile number."), code="invalid_phone",
                               details={"field": "phone"})
    return digits


def normalize_identity(kind: str, raw: str) -> str:
    """The stored form of an identity value of `kind`; 422 with a machine code if it cannot be one."""
    if kind not in IdentityKind.values:
        raise ValidationFailed(_("Unknown identity kind."), code="invalid_identity_kind", details={"field": "kind"})
    if kind == IdentityKind.PHONE:
        return normalize_phone(raw)
    value = raw.strip() if isinstance(raw, str) else ""
    ok = False
    if kind in (IdentityKind.WECHAT_OPENID, IdentityKind.WECHAT_UNIONID, IdentityKind.MINIPROGRAM):
        ok = bool(OPENID_RE.fullmatch(value))
    elif kind == IdentityKind.CARD:
        value = value.replace(" ", "").upper()
        ok = bool(CARD_RE.fullmatch(value))
    elif kind == IdentityKind.EMAIL:
        value = value.lower()
        ok = len(value) <= 128 and bool(EMAIL_RE.fullmatch(value))
    elif kind == IdentityKind.EXTERNAL:
        ok = 1 <= len(value) <= 64 and is_clean_text(value)
    if not ok:
        raise ValidationFailed(_("This identity value is not valid for its kind."), code="invalid_identity",
                               details={"field": "value", "kind": kind})
    return value


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678'."""
    if len(phone) == 11:
        return f"{phone[:3]}****{phone[7:]}"
    return "****" if phone else ""


def mask_identity(kind: str, value: str) -> str:
    if kind == IdentityKind.PHONE:
        return mask_phone(value)
    if kind == IdentityKind.EMAIL and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "****"
    return f"{value[:2]}****{value[-2:]}"
