"""Helpers shared by the catalogue services: permission checks and input cleaning (all raise 4xx domain errors)."""
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Forbidden, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.core.text import clean_text as core_clean_text

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
MAX_JSON_KEYS = 50
MAX_JSON_TEXT = 200
MAX_PRICE = 10**12  # fen: ten billion yuan, far above any real price; guards against overflow and typos


def root_path(actor: Staff) -> str:
    """The path of the enterprise's HQ node ("/<id>/"), where the catalogue lives for audit and scoping."""
    return "/" + actor.home.path.strip("/").split("/")[0] + "/"


def require_catalog_manage(actor: Staff) -> None:
    """Catalogue writes need catalog.manage held on the HQ node (the catalogue is enterprise-wide)."""
    hq = OrgNode(path=root_path(actor), enterprise_id=actor.enterprise_id)
    if not has_perm(actor, Perm.CATALOG_MANAGE, hq):
        raise Forbidden(_("Only headquarters may change the catalogue."), code="catalog_manage_required")


def clean_text(value: Any, field: str, max_length: int, *, required: bool = True) -> str:
    return core_clean_text(value, field, max_length, required=required, multiline=True)


def clean_code(value: Any, field: str = "code") -> str:
    value = "" if value is None else str(value).strip()
    if not CODE_RE.match(value):
        raise ValidationFailed(_("Codes are 1 to 40 letters, digits, '.', '/', '-' or '_'."), code="invalid_code",
                               details={"field": field})
    return value


def clean_mapping(value: Any, field: str, *, text_values_only: bool = False) -> dict:
    """A flat JSON object: at most 50 keys of up to 40 chars; values text (<= 200), numbers or booleans."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_JSON_KEYS:
        raise ValidationFailed(_("Expected an object with at most 50 keys."), code="invalid_mapping",
                               details={"field": field})
    cleaned = {}
    for key, item in value.items():
        key = clean_text(key, field, 40)
        if text_values_only:
            item = clean_text(item, field, MAX_JSON_TEXT)
        elif isinstance(item, str):
            item = clean_text(item, field, MAX_JSON_TEXT, required=False)
        elif isinstance(item, bool | int | float) and item == item and abs(item) != float("inf"):
            pass
        else:
            raise ValidationFailed(_("Values must be text, numbers or true/false."), code="invalid_mapping",
                                   details={"field": field, "key": key})
        cleaned[key] = item
    return cleaned


def clean_price(value: Any, field: str = "price") -> int:
    """A price in fen: a non-negative integer (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRICE:
        raise ValidationFailed(_("A price is a whole number of fen from 0 upwards."), code="invalid_price",
                               details={"field": field})
    return value
