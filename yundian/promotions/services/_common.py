"""Input cleaning and scoped lookups shared by the promotions services; every failure is a 4xx domain error."""
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category, Product, Sku
from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.text import clean_text as core_clean_text
from yundian.core.text import has_control_characters
from yundian.members.models import Member, MemberStatus
from yundian.members.selectors import resolve_active
from yundian.org.models import OrgNode, Staff
from yundian.org.selectors import require

MAX_AMOUNT = 10**11  # fen
MAX_REF = 64
MAX_IDS = 500
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def clean_int(value: Any, field: str, *, low: int = 0, high: int = MAX_AMOUNT, code: str = "invalid_number") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("Not a valid whole number here."), code=code,
                               details={"field": field, "min": low, "max": high})
    return value


def clean_text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    """yundian.core.text.clean_text (codes required / too_long / invalid_text), except that a number is not text
    here: promotions' names and descriptions come from people, never from a spreadsheet cell."""
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(_("Not text."), code="invalid_text", details={"field": field})
    return core_clean_text(value, field, max_length, required=required)


def clean_code(value: Any, field: str = "code", max_length: int = 40) -> str:
    text = clean_text(value, field, max_length, required=True)
    if not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text):
        raise ValidationFailed(_("Codes use letters, digits, '-' and '_' only."), code="invalid_code",
                               details={"field": field})
    return text


def clean_ref(value: Any, field: str = "order_ref") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_REF or not value.isprintable() \
            or value != value.strip() or has_control_characters(value):
        raise ValidationFailed(_("A reference is 1 to 64 printable characters."), code="invalid_ref",
                               details={"field": field})
    return value


def clean_rate(value: Any, field: str, *, low: Decimal = Decimal(0), high: Decimal = Decimal(1)) -> Decimal:
    if isinstance(value, (bool, float)) or value is None:
        raise ValidationFailed(_("Give the rate as text, e.g. \"0.85\"."), code="invalid_rate", details={"field": field})
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(_("Not a valid rate."), code="invalid_rate", details={"field": field})
    if not rate.is_finite() or not low <= rate <= high or rate != rate.quantize(Decimal("0.0001")):
        raise ValidationFailed(_("A rate lies between %(low)s and %(high)s with at most 4 decimals.")
                               % {"low": low, "high": high}, code="invalid_rate", details={"field": field})
    return rate


def clean_ids(values: Any, field: str) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)) or len(values) > MAX_IDS:
        raise ValidationFailed(_("Give a list of ids."), code="invalid_ids", details={"field": field})
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": field})
        out.append(value)
    return sorted(set(out))


def clean_window(starts: datetime | None, ends: datetime | None, *, required: bool = False) -> None:
    if required and (starts is None or ends is None):
        raise ValidationFailed(_("Give a start and an end."), code="required", details={"field": "ends_at"})
    for value, field in ((starts, "starts_at"), (ends, "ends_at")):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise ValidationFailed(_("Give a date and time with its time zone."), code="invalid_datetime",
                                   details={"field": field})
    if starts is not None and ends is not None and ends <= starts:
        raise ValidationFailed(_("The end must come after the start."), code="invalid_window",
                               details={"field": "ends_at"})


def node_for(actor: Staff, node_id: Any, perm: str) -> OrgNode:
    """An org node in the actor's view (else 404) where they hold `perm` (else 403), active (else 422)."""
    if isinstance(node_id, bool) or not isinstance(node_id, int):
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "node_id"})
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first()
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    require(actor, perm, node)
    if not node.is_active:
        raise ValidationFailed(_("This node is closed."), code="node_inactive", details={"field": "node_id"})
    return node


def check_ids_exist(model, ids: list[int], enterprise_id: int, field: str) -> None:
    if ids and model.objects.filter(pk__in=ids, enterprise_id=enterprise_id).count() != len(ids):
        raise ValidationFailed(_("Unknown ids."), code="unknown_ids", details={"field": field})


def sku_for(enterprise_id: int, sku_id: Any) -> Sku:
    if isinstance(sku_id, bool) or not isinstance(sku_id, int):
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "sku_id"})
    sku = Sku.objects.filter(pk=sku_id, enterprise_id=enterprise_id).select_related("product").first()
    if sku is None:
        raise ValidationFailed(_("Unknown SKU."), code="unknown_sku", details={"field": "sku_id"})
    return sku


def member_for(enterprise_id: int, member_id: Any) -> Member:
    """An active member of the enterprise (merged members resolve to who absorbed them); 404 otherwise."""
    if isinstance(member_id, bool) or not isinstance(member_id, int):
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": "member_id"})
    member = Member.objects.filter(pk=member_id, enterprise_id=enterprise_id).first()
    if member is not None:
        member = resolve_active(member)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise NotFound(_("Member not found."), code="member_not_found")
    return member


def random_code(length: int = 10, prefix: str = "") -> str:
    return prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


__all__ = ["Category", "Product", "Sku"]
