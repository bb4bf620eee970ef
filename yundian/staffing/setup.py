"""What a store manager sets for the plan: the store's service standards, each person's hourly rate and skills,
the hours each person can work on each weekday, and their time off. Every write needs staffing.manage on the store,
changes only people whose home is that store, checks everything before writing (bad input: a translated 422 and
nothing changed) and is audited. `setup_get` reads the same for the page and the API."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm, require

from .models import Availability, ServiceStandard, Skill, StaffTerms, TimeOff

MAX_RATE = 100_000  # fen an hour (¥1,000)
MAX_TRAVEL = 100_000  # fen a shift
MAX_COUNT = 50
MAX_TASK_HOURS = 4
MAX_TIME_OFF_DAYS = 366


def _store(actor: Staff, store_id: int, perm: str = Perm.STAFFING_MANAGE) -> OrgNode:
    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id, kind=NodeKind.STORE).first()
    if store is None:
        raise NotFound()
    require(actor, perm, store)
    return store


def _person(store: OrgNode, staff_id) -> Staff:
    person = Staff.objects.filter(pk=staff_id, home=store, is_active=True).first() if isinstance(staff_id, int) \
        else None
    if person is None:
        raise ValidationFailed(_("This person does not work at this store."), code="not_store_staff",
                               details={"field": "staff"})
    return person


def _count(value, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise ValidationFailed(_("%(field)s is a whole number from %(low)s to %(high)s.") % {
            "field": FIELD_LABELS.get(name, name), "low": low, "high": high}, code="invalid_number",
            details={"field": name})
    return number


FIELD_LABELS = {
    "customers_per_staff_hour": _("Customers per staff hour"), "min_cover": _("Minimum staff while open"),
    "cashiers": _("Cashiers while open"), "opening_staff": _("Staff before opening"),
    "opening_hours": _("Hours before opening"), "closing_staff": _("Staff after closing"),
    "closing_hours": _("Hours after closing"), "hourly_rate": _("Hourly rate"),
    "travel_cost": _("Travel allowance a shift"),
}


@transaction.atomic
def standard_save(*, actor: Staff, store_id: int, customers_per_staff_hour, min_cover, cashiers, opening_staff,
                  opening_hours, closing_staff, closing_hours) -> ServiceStandard:
    """Set the store's service standards (one row per store). Customers per staff hour: 0.1 to 999.9 with one
    decimal; staff counts 0 to 50 (at least one while open); task hours 0 to 4. Audited."""
    store = _store(actor, store_id)
    try:
        rate = Decimal(str(customers_per_staff_hour).strip())
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or not Decimal("0.1") <= rate <= Decimal("999.9") \
            or rate != rate.quantize(Decimal("0.1")):
        raise ValidationFailed(_("Customers per staff hour is a number from 0.1 to 999.9 (one decimal)."),
                               code="invalid_number", details={"field": "customers_per_staff_hour"})
    values = {
        "customers_per_staff_hour": rate,
        "min_cover": _count(min_cover, "min_cover", 1, MAX_COUNT),
        "cashiers": _count(cashiers, "cashiers", 0, MAX_COUNT),
        "opening_staff": _count(opening_staff, "opening_staff", 0, MAX_COUNT),
        "opening_hours": _count(opening_hours, "opening_hours", 0, MAX_TASK_HOURS),
        "closing_staff": _count(closing_staff, "closing_staff", 0, MAX_COUNT),
        "closing_hours": _count(closing_hours, "closing_hours", 0, MAX_TASK_HOURS),
    }
    if values["cashiers"] > values["min_cover"]:
        raise ValidationFailed(_("There cannot be more cashiers than the minimum staff while open."),
                               code="invalid_number", details={"field": "cashiers"})
    row = ServiceStandard.objects.select_for_update().filter(store=store).first()
    before = None
    if row is None:
        row = ServiceStandard(store=store)
    else:
        before = {k: str(getattr(row, k)) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    row.save()
    audit_record(actor=actor, action="staffing.standard_save", target=row, scope_path=store.path, before=before,
                 after={k: str(v) for k, v in values.items()})
    return row


def _availability(days: dict) -> dict[int, tuple[int, int]]:
    out = {}
    for weekday, span in (days or {}).items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationFailed(_("Pick a day of the week."), code="invalid_weekday")
        if span is None:
            continue
        start, end = span
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= 24):
            raise ValidationFailed(_("On each day a person can work, the hours end after they start."),
                                   code="invalid_hour", details={"field": f"day_{weekday}"})
        out[weekday] = (start, end)
    return out


@transaction.atomic
def person_save(*, actor: Staff, store_id: int, staff_id: int, hourly_rate: int, skills: list[str],
                is_part_time: bool, is_shared: bool, travel_cost: int,
                availability: dict[int, tuple[int, int] | None]) -> StaffTerms:
    """A person's terms (hourly rate in fen, skills, part-time, may work at the region's other stores and the trip's
    allowance) and the hours they can work on each weekday (None or missing: not that day), replacing what they
    had. Only people whose home is the store; audited."""
    store = _store(actor, store_id)
    person = _person(store, staff_id)
    if not isinstance(hourly_rate, int) or isinstance(hourly_rate, bool) or not 0 < hourly_rate <= MAX_RATE:
        raise ValidationFailed(_("The hourly rate is more than ¥0 and at most ¥1,000."), code="invalid_amount",
                               details={"field": "hourly_rate"})
    if not isinstance(travel_cost, int) or isinstance(travel_cost, bool) or not 0 <= travel_cost <= MAX_TRAVEL:
        raise ValidationFailed(_("The travel allowance is from ¥0 to ¥1,000 a shift."), code="invalid_amount",
                               details={"field": "travel_cost"})
    chosen = sorted(set(skills or []))
    if not chosen or any(s not in Skill.values for s in chosen):
        raise ValidationFailed(_("Pick at least one skill."), code="invalid_skill", details={"field": "skills"})
    days = _availability(availability)
    terms = StaffTerms.objects.select_for_update().filter(staff=person).first()
    before = None
    if terms is None:
        terms = StaffTerms(staff=person)
    else:
        before = {"rate": terms.hourly_rate, "skills": terms.skills, "part_time": terms.is_part_time,
                  "shared": terms.is_shared, "travel": terms.travel_cost,
                  "days": {a.weekday: [a.start_hour, a.end_hour] for a in person.availability.all()}}
    terms.hourly_rate, terms.skills, terms.is_part_time = hourly_rate, chosen, bool(is_part_time)
    terms.is_shared, terms.travel_cost = bool(is_shared), travel_cost if is_shared else 0
    terms.save()
    Availability.objects.filter(staff=person).delete()
    Availability.objects.bulk_create([Availability(staff=person, weekday=w, start_hour=a, end_hour=b)
                                      for w, (a, b) in sorted(days.items())])
    audit_record(actor=actor, action="staffing.person_save", target=terms, scope_path=store.path, before=before,
                 after={"rate": hourly_rate, "skills": chosen, "part_time": bool(is_part_time),
                        "shared": bool(is_shared), "travel": terms.travel_cost,
                        "days": {w: list(span) for w, span in sorted(days.items())}})
    return terms


@transaction.atomic
def time_off_add(*, actor: Staff, store_id: int, staff_id: int, first_day: date, last_day: date,
                 note: str = "") -> TimeOff:
    """Days a person of the store cannot work (at most a year at a time, not ending in the past): the plan gives
    them no shift then and a manager's shift on such a day is refused. Audited."""
    store = _store(actor, store_id)
    person = _person(store, staff_id)
    if not isinstance(first_day, date) or not isinstance(last_day, date) or first_day > last_day:
        raise ValidationFailed(_("Time off ends on or after the day it starts."), code="invalid_dates",
                               details={"field": "last_day"})
    if (last_day - first_day).days >= MAX_TIME_OFF_DAYS:
        raise ValidationFailed(_("Time off is at most a year at a time."), code="invalid_dates",
                               details={"field": "last_day"})
    if last_day < timezone.localdate():
        raise ValidationFailed(_("Time off cannot end in the past."), code="invalid_dates",
                               details={"field": "last_day"})
    text = (note or "").strip()
    if len(text) > 120 or "\x00" in text:
        raise ValidationFailed(_("The note is at most 120 characters."), code="invalid_note",
                               details={"field": "note"})
    row = TimeOff.objects.create(staff=person, first_day=first_day, last_day=last_day, note=text)
    audit_record(actor=actor, action="staffing.time_off_add", target=row, scope_path=store.path,
                 after={"staff": person.pk, "from": first_day.isoformat(), "until": last_day.isoformat()})
    return row


@transaction.atomic
def time_off_delete(*, actor: Staff, store_id: int, time_off_id: int) -> None:
    store = _store(actor, store_id)
    row = TimeOff.objects.filter(pk=time_off_id, staff__home=store).first()
    if row is None:
        raise NotFound()
    audit_record(actor=actor, action="staffing.time_off_delete", target=row, scope_path=store.path,
                 before={"staff": row.staff_id, "from": row.first_day.isoformat(), "until": row.last_day.isoformat()})
    row.delete()


# --- reading ---------------------------------------------------------------------------------------------------

@dataclass
class PersonRow:
    staff: Staff
    terms: StaffTerms | None
    days: list[tuple[int, tuple[int, int] | None]]  # weekday -> span or None, Monday first
    time_off: list[TimeOff] = field(default_factory=list)


@dataclass
class Setup:
    store: OrgNode
    standard: ServiceStandard
    people: list[PersonRow]
    may_edit: bool


def setup_get(*, actor: Staff, store_id: int) -> Setup:
    """The store's standards (the defaults when none are set), and each active person whose home is the store with
    their terms, weekly hours and time off still ahead. Needs staffing.view on the store."""
    store = _store(actor, store_id, Perm.STAFFING_VIEW)
    standard = ServiceStandard.objects.filter(store=store).first() or ServiceStandard(store=store)
    staff = list(Staff.objects.filter(home=store, is_active=True).select_related("staffing_terms", "user")
                 .order_by("display_name", "id"))
    spans: dict[int, dict[int, tuple[int, int]]] = {}
    for a in Availability.objects.filter(staff__in=staff):
        spans.setdefault(a.staff_id, {})[a.weekday] = (a.start_hour, a.end_hour)
    today = timezone.localdate()
    off: dict[int, list[TimeOff]] = {}
    for t in TimeOff.objects.filter(staff__in=staff, last_day__gte=today):
        off.setdefault(t.staff_id, []).append(t)
    rows = [PersonRow(s, getattr(s, "staffing_terms", None), [(w, spans.get(s.pk, {}).get(w)) for w in range(7)],
                      off.get(s.pk, [])) for s in staff]
    return Setup(store, standard, rows, has_perm(actor, Perm.STAFFING_MANAGE, store))
