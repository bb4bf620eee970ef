"""Input cleaning shared by the store services. Every failure is a 4xx domain error naming the field."""
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Forbidden, NotFound, ValidationFailed
from yundian.core.numbers import clean_int
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Role
from yundian.org.selectors import has_perm
from yundian.core.text import clean_text as core_clean_text

from ..models import THEME_FIELDS, WEEKDAYS

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
COLOUR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
TIME_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00")
PHONE_RE = re.compile(r"\+?[0-9][0-9 -]{4,18}[0-9]")
MAX_PALETTE = 24
MAX_FEATURED = 12
MAX_INTERVALS_PER_DAY = 3
MAX_STAFF_PER_ROLE = 20
MAX_COVER_DAYS = 365
MAX_ASSORTMENT_ITEMS = 5000
# roles a template may plan for a new store: those that can be held on a store node
STORE_ROLES = (Role.STORE_MANAGER, Role.GUIDE, Role.AUDITOR)


def enterprise_root(actor: Staff) -> OrgNode:
    return OrgNode.objects.get(enterprise_id=actor.enterprise_id, parent__isnull=True)


def require_at_root(actor: Staff, perm: str) -> OrgNode:
    """403 unless the actor holds `perm` on the enterprise's HQ node (templates and policy are enterprise-wide)."""
    root = enterprise_root(actor)
    if not has_perm(actor, perm, root):
        raise Forbidden(_("Only headquarters may do this."), code="hq_only")
    return root


def clean_text(value: Any, field: str, max_length: int, *, required: bool = True, multiline: bool = False) -> str:
    return core_clean_text(value, field, max_length, required=required, multiline=multiline)


def clean_code(value: Any, field: str = "code") -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not CODE_RE.fullmatch(value):
        raise ValidationFailed(_("Codes are 1 to 40 letters, digits, '.', '-' or '_'."), code="invalid_code",
                               details={"field": field})
    return value


def clean_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(_("true or false expected."), code="invalid_boolean", details={"field": field})
    return value


def clean_colour(value: Any, field: str) -> str:
    """"#RRGGBB" (upper-cased); anything else is a 422 `invalid_colour`."""
    if not isinstance(value, str) or not COLOUR_RE.fullmatch(value.strip()):
        raise ValidationFailed(_("Colours are written #RRGGBB, e.g. #D4380D."), code="invalid_colour",
                               details={"field": field})
    return value.strip().upper()


def clean_palette(value: Any, field: str = "allowed_palette") -> list[str]:
    if not isinstance(value, list | tuple) or len(value) > MAX_PALETTE:
        raise ValidationFailed(_("A palette is a list of at most 24 colours."), code="invalid_palette",
                               details={"field": field})
    palette: list[str] = []
    for item in value:
        colour = clean_colour(item, field)
        if colour not in palette:
            palette.append(colour)
    return palette


def clean_editable_fields(value: Any, field: str = "editable_fields") -> list[str]:
    if not isinstance(value, list | tuple) or any(not isinstance(v, str) or v not in THEME_FIELDS for v in value):
        raise ValidationFailed(_("Unknown theme field."), code="invalid_theme_field",
                               details={"field": field, "allowed": list(THEME_FIELDS)})
    return [name for name in THEME_FIELDS if name in value]


def clean_image_url(value: Any, field: str) -> str:
    """"" (none), an https URL, or a path on this site ("/static/...", "/media/...")."""
    value = clean_text(value, field, 500, required=False)
    if not value:
        return value
    if value.startswith("/") and not value.startswith("//"):
        if any(ch.isspace() or ch in "\"'<>\\" for ch in value):
            raise ValidationFailed(_("Not a web address."), code="invalid_url", details={"field": field})
        return value
    try:
        URLValidator(schemes=["https"])(value)
    except DjangoValidationError:
        raise ValidationFailed(_("Images must be https addresses or paths on this site."), code="invalid_url",
                               details={"field": field})
    return value


def clean_id_list(value: Any, field: str, max_items: int) -> list[int]:
    if not isinstance(value, list | tuple) or len(value) > max_items:
        raise ValidationFailed(_("A list of at most %(n)d ids is expected.") % {"n": max_items}, code="invalid_ids",
                               details={"field": field})
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**63:
            raise ValidationFailed(_("Ids are positive whole numbers."), code="invalid_ids", details={"field": field})
        if item not in ids:
            ids.append(item)
    return ids


def clean_products(enterprise_id: int, value: Any, field: str, max_items: int) -> list[int]:
    """Product ids of the enterprise (404 `product_not_found` for any other), order kept, duplicates dropped."""
    from yundian.catalog.models import Product

    ids = clean_id_list(value, field, max_items)
    found = set(Product.objects.filter(enterprise_id=enterprise_id, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("Product not found."), code="product_not_found", details={"field": field,
                                                                               "ids": missing[:20]})
    return ids


def clean_categories(enterprise_id: int, value: Any, field: str = "category_ids") -> list[int]:
    from yundian.catalog.models import Category

    ids = clean_id_list(value, field, MAX_ASSORTMENT_ITEMS)
    found = set(Category.objects.filter(enterprise_id=enterprise_id, pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("Category not found."), code="category_not_found", details={"field": field,
                                                                                 "ids": missing[:20]})
    return ids


def clean_opening_hours(value: Any, field: str = "opening_hours") -> dict[str, list[list[str]]]:
    """{"mon": [["09:00", "22:00"]], ...}: every weekday present (missing days are closed), at most three
    intervals a day, each start < end, not overlapping, sorted."""
    if not isinstance(value, dict) or any(key not in WEEKDAYS for key in value):
        raise ValidationFailed(_("Opening hours are given per weekday (mon..sun)."), code="invalid_opening_hours",
                               details={"field": field})
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        intervals = value.get(day) or []
        if not isinstance(intervals, list | tuple) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValidationFailed(_("At most three opening intervals a day."), code="invalid_opening_hours",
                                   details={"field": field, "day": day})
        cleaned = []
        for interval in intervals:
            if (not isinstance(interval, list | tuple) or len(interval) != 2
                    or not all(isinstance(t, str) and TIME_RE.fullmatch(t) for t in interval)
                    or interval[0] == "24:00" or interval[0] >= interval[1]):
                raise ValidationFailed(_("Each interval is [\"HH:MM\", \"HH:MM\"] with the start before the end."),
                                       code="invalid_opening_hours", details={"field": field, "day": day})
            cleaned.append([interval[0], interval[1]])
        cleaned.sort()
        if any(a[1] > b[0] for a, b in zip(cleaned, cleaned[1:])):
            raise ValidationFailed(_("Opening intervals overlap."), code="invalid_opening_hours",
                                   details={"field": field, "day": day})
        hours[day] = cleaned
    return hours


def clean_staff_plan(value: Any, field: str = "staff_plan") -> list[dict]:
    """[{"role": "store_manager", "count": 1}, ...]: store roles only, each at most once, 0..20 people."""
    if not isinstance(value, list | tuple) or len(value) > len(STORE_ROLES):
        raise ValidationFailed(_("The staff plan lists roles and how many people to create."),
                               code="invalid_staff_plan", details={"field": field})
    plan, seen = [], set()
    for item in value:
        if not isinstance(item, dict) or set(item) != {"role", "count"} or item["role"] not in STORE_ROLES \
                or item["role"] in seen:
            raise ValidationFailed(_("Each role of the staff plan is a store role, listed once."),
                                   code="invalid_staff_plan", details={"field": field, "allowed": list(STORE_ROLES)})
        seen.add(item["role"])
        count = clean_int(item["count"], field, 0, MAX_STAFF_PER_ROLE)
        if count:
            plan.append({"role": item["role"], "count": count})
    return plan


def clean_cover(min_days: Any, max_days: Any) -> tuple[int, int]:
    min_days = clean_int(min_days, "min_days_cover", 0, MAX_COVER_DAYS)
    max_days = clean_int(max_days, "max_days_cover", 0, MAX_COVER_DAYS)
    if min_days > max_days:
        raise ValidationFailed(_("The minimum days of cover cannot exceed the maximum."), code="invalid_cover",
                               details={"field": "max_days_cover"})
    return min_days, max_days


def clean_coordinate(value: Any, field: str, limit: int) -> Decimal:
    """A latitude (limit 90) or longitude (limit 180) in degrees, kept to 6 decimals (about 0.1 m)."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(_("Not a coordinate."), code="invalid_coordinate", details={"field": field})
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(_("Not a coordinate."), code="invalid_coordinate", details={"field": field})
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | float | Decimal) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not -limit <= number <= limit:
        raise ValidationFailed(_("Latitude is -90 to 90 and longitude -180 to 180 degrees."),
                               code="invalid_coordinate", details={"field": field})
    return number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def clean_phone(value: Any, field: str = "phone") -> str:
    phone = clean_text(value, field, 20, required=False)
    if phone and not PHONE_RE.fullmatch(phone):
        raise ValidationFailed(_("Not a phone number."), code="invalid_phone", details={"field": field})
    return phone


def require_store_node(node: OrgNode) -> None:
    if node.kind != NodeKind.STORE:
        raise ValidationFailed(_("This org node is not a store."), code="not_a_store", details={"node_kind": node.kind})
