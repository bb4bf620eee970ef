"""Staffing API (/api/v1/staffing): a store's week (the plan against the fixed schedule, need and planned staff per
hour, the shifts), planning the week, a manager's shift edits (checked against the labour rules: 422
`breaks_labor_rule`), and the store's set-up (standards, people's rates and hours, time off). Scoped like the pages:
a store outside the caller's part of the tree is 404. Parse -> one service or selector -> schema."""
from datetime import date

from django.http import HttpRequest
from ninja import Field, Router, Schema

from yundian.core.errors import NotFound, ValidationFailed
from yundian.core.schemas import errors

from . import selectors, services, setup
from .models import Shift

router = Router(tags=["staffing"])


class ShiftOut(Schema):
    id: int
    store_id: int
    staff_id: int
    staff_name: str
    day: date
    start_hour: int
    end_hour: int
    break_hour: int | None
    paid_hours: int
    is_manual: bool

    @staticmethod
    def resolve_staff_name(obj) -> str:
        return obj.staff.display_name


class HourOut(Schema):
    day: date
    hour: int
    need: int
    planned: int
    signed_in: int
    customers: float


class PlanOut(Schema):
    id: int
    node_id: int
    solver_status: str
    cost: int = Field(..., description="fen")
    hours_needed: int
    hours_planned: int
    hours_short: int
    hours_over: int
    fixed_cost: int = Field(..., description="fen")
    fixed_hours_short: int
    fixed_hours_over: int


class WeekOut(Schema):
    store_id: int
    week_start: date
    plan: PlanOut | None
    totals: dict[str, int]
    hours: list[HourOut]
    shifts: list[ShiftOut]


class ShiftIn(Schema):
    staff_id: int
    day: date
    start_hour: int = Field(..., ge=0, le=24)
    end_hour: int = Field(..., ge=0, le=24)


class StandardIO(Schema):
    customers_per_staff_hour: float = Field(..., description="customers one person serves in an hour")
    min_cover: int
    cashiers: int
    opening_staff: int
    opening_hours: int
    closing_staff: int
    closing_hours: int


class DayIn(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    start_hour: int = Field(..., ge=0, le=24)
    end_hour: int = Field(..., ge=0, le=24)


class PersonIn(Schema):
    hourly_rate: int = Field(..., description="fen an hour")
    skills: list[str] = Field(..., max_length=3)
    is_part_time: bool = False
    is_shared: bool = False
    travel_cost: int = Field(0, description="fen a shift")
    availability: list[DayIn] = Field(..., max_length=7, description="the weekdays they can work; others are off")


class TimeOffIn(Schema):
    staff_id: int
    first_day: date
    last_day: date
    note: str = Field("", max_length=120)


class TimeOffOut(Schema):
    id: int
    staff_id: int
    first_day: date
    last_day: date
    note: str


class PersonOut(Schema):
    staff_id: int
    name: str
    hourly_rate: int | None
    skills: list[str]
    is_part_time: bool
    is_shared: bool
    travel_cost: int
    availability: list[DayIn]
    time_off: list[TimeOffOut]


class SetupOut(Schema):
    store_id: int
    standard: StandardIO
    people: list[PersonOut]


def _week(week: str) -> date:
    try:
        return services.week_of(date.fromisoformat(week))
    except ValueError:
        raise ValidationFailed(code="invalid_date", details={"field": "week"})


def _week_out(request, store_id: int, week: date) -> dict:
    view = selectors.week_view(actor=request.auth, store_id=store_id, week_start=week)
    return {"store_id": view.store.pk, "week_start": view.week_start, "plan": view.plan, "totals": view.totals,
            "hours": [{"day": row.day, "hour": c.hour, "need": c.need, "planned": c.planned, "signed_in": c.actual,
                       "customers": round(c.customers, 2)} for row in view.days for c in row.cells
                      if c.need or c.planned or c.actual],
            "shifts": [s for row in view.days for s in row.shifts]}


@router.get("/stores/{store_id}/weeks/{week}", response={200: WeekOut, **errors(403, 404)})
def week(request: HttpRequest, store_id: int, week: str):
    """The store's week starting on the Monday of `week` (YYYY-MM-DD)."""
    return _week_out(request, store_id, _week(week))


@router.post("/stores/{store_id}/weeks/{week}/plan", response={200: WeekOut, **errors(403, 404)})
def plan(request: HttpRequest, store_id: int, week: str):
    """Forecast, need and a shift plan for the store's week (a manager's edited shifts stay and count)."""
    store = selectors.store_get(actor=request.auth, store_id=store_id)
    services.plan_week(actor=request.auth, node=store, week_start=_week(week), time_limit=10.0)
    return _week_out(request, store_id, _week(week))


@router.post("/stores/{store_id}/shifts", response={201: ShiftOut, **errors(403, 404)})
def shift_create(request: HttpRequest, store_id: int, payload: ShiftIn):
    shift = services.shift_save(actor=request.auth, store_id=store_id, staff_id=payload.staff_id, day=payload.day,
                                start_hour=payload.start_hour, end_hour=payload.end_hour)
    return 201, Shift.objects.select_related("staff").get(pk=shift.pk)


@router.put("/stores/{store_id}/shifts/{shift_id}", response={200: ShiftOut, **errors(403, 404)})
def shift_update(request: HttpRequest, store_id: int, shift_id: int, payload: ShiftIn):
    shift = services.shift_save(actor=request.auth, store_id=store_id, staff_id=payload.staff_id, day=payload.day,
                                start_hour=payload.start_hour, end_hour=payload.end_hour, shift_id=shift_id)
    return Shift.objects.select_related("staff").get(pk=shift.pk)


@router.delete("/stores/{store_id}/shifts/{shift_id}", response={204: None, **errors(403, 404)})
def shift_delete(request: HttpRequest, store_id: int, shift_id: int):
    selectors.store_get(actor=request.auth, store_id=store_id)
    if not Shift.objects.filter(pk=shift_id, store_id=store_id).exists():
        raise NotFound()
    services.shift_delete(actor=request.auth, shift_id=shift_id)
    return 204, None


def _setup_out(request, store_id: int) -> dict:
    view = setup.setup_get(actor=request.auth, store_id=store_id)
    st = view.standard
    return {"store_id": view.store.pk,
            "standard": {"customers_per_staff_hour": float(st.customers_per_staff_hour), "min_cover": st.min_cover,
                         "cashiers": st.cashiers, "opening_staff": st.opening_staff,
                         "opening_hours": st.opening_hours, "closing_staff": st.closing_staff,
                         "closing_hours": st.closing_hours},
            "people": [{"staff_id": r.staff.pk, "name": r.staff.display_name,
                        "hourly_rate": r.terms.hourly_rate if r.terms else None,
                        "skills": list(r.terms.skills) if r.terms else [],
                        "is_part_time": bool(r.terms and r.terms.is_part_time),
                        "is_shared": bool(r.terms and r.terms.is_shared),
                        "travel_cost": r.terms.travel_cost if r.terms else 0,
                        "availability": [{"weekday": w, "start_hour": s[0], "end_hour": s[1]} for w, s in r.days if s],
                        "time_off": r.time_off} for r in view.people]}


@router.get("/stores/{store_id}/setup", response={200: SetupOut, **errors(403, 404)})
def setup_get(request: HttpRequest, store_id: int):
    return _setup_out(request, store_id)


@router.put("/stores/{store_id}/setup/standard", response={200: SetupOut, **errors(403, 404)})
def standard_put(request: HttpRequest, store_id: int, payload: StandardIO):
    setup.standard_save(actor=request.auth, store_id=store_id, **payload.dict())
    return _setup_out(request, store_id)


@router.put("/stores/{store_id}/setup/people/{staff_id}", response={200: SetupOut, **errors(403, 404)})
def person_put(request: HttpRequest, store_id: int, staff_id: int, payload: PersonIn):
    days: dict[int, tuple[int, int] | None] = {}
    for d in payload.availability:
        if d.weekday in days:
            raise ValidationFailed(code="invalid_weekday", details={"field": "availability"})
        days[d.weekday] = (d.start_hour, d.end_hour)
    setup.person_save(actor=request.auth, store_id=store_id, staff_id=staff_id, hourly_rate=payload.hourly_rate,
                      skills=payload.skills, is_part_time=payload.is_part_time, is_shared=payload.is_shared,
                      travel_cost=payload.travel_cost, availability=days)
    return _setup_out(request, store_id)


@router.post("/stores/{store_id}/setup/time-off", response={201: TimeOffOut, **errors(403, 404)})
def time_off_add(request: HttpRequest, store_id: int, payload: TimeOffIn):
    return 201, setup.time_off_add(actor=request.auth, store_id=store_id, staff_id=payload.staff_id,
                                   first_day=payload.first_day, last_day=payload.last_day, note=payload.note)


@router.delete("/stores/{store_id}/setup/time-off/{time_off_id}", response={204: None, **errors(403, 404)})
def time_off_delete(request: HttpRequest, store_id: int, time_off_id: int):
    setup.time_off_delete(actor=request.auth, store_id=store_id, time_off_id=time_off_id)
    return 204, None
