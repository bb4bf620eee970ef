"""Shared pieces of the members services: argument checks and the one way to insert a ledger row once."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.text import clean_text as core_clean_text

from ..models import Member, MemberStatus

MAX_POINTS = 10**9  # per movement
MAX_FEN = 10**11  # one billion yuan per movement
SOURCE_MAX = 64


def clean_int(value, field: str, *, low: int = 1, high: int = MAX_POINTS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("Must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
                               code="invalid_number", details={"field": field})
    return value


def clean_amount(value, field: str = "amount_fen") -> int:
    """A positive amount of money in fen."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_FEN:
        raise ValidationFailed(_("The amount must be a positive number of fen."), code="invalid_amount",
                               details={"field": field})
    return value


def clean_ref(value, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > SOURCE_MAX or not text.isprintable():
        raise ValidationFailed(_("A reference of 1 to 64 printable characters is required."), code="invalid_reference",
                               details={"field": field})
    return text


def clean_text(value, field: str, *, max_length: int = 255, required: bool = False) -> str:
    """yundian.core.text.clean_text with the members' error codes: anything but text (numbers too), too long or
    control characters is `invalid_text`; empty when required is `required`."""
    if not (value is None or isinstance(value, str)):
        raise ValidationFailed(_("Not text."), code="invalid_text", details={"field": field})
    try:
        return core_clean_text(value, field, max_length, required=required)
    except ValidationFailed as exc:
        if exc.code == "too_long":
            raise ValidationFailed(exc.message, code="invalid_text", details=exc.details) from exc
        raise


def require_active(member: Member) -> None:
    if member.status == MemberStatus.MERGED:
        raise Conflict(_("This member was merged into another member."), code="member_merged",
                       details={"merged_into": member.merged_into_id})
    if member.status == MemberStatus.ERASED:
        raise NotFound(_("Member not found."), code="member_not_found")


def insert_once(model, *, savepoint: bool = True, **fields):
    """Insert a ledger row whose (enterprise, kind, source_type, source_id) is unique; a duplicate is a 409.
    `savepoint=False` when the caller checked the key under its lock and fails as a whole on a duplicate (a sale):
    the 409 then aborts the caller's transaction instead of being caught inside it."""
    try:
        if not savepoint:
            return model.objects.create(**fields)
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        raise Conflict(_("This source reference was already posted."), code="already_posted",
                       details={"source_type": fields.get("source_type"), "source_id": fields.get("source_id")})
