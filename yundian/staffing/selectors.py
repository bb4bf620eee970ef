"""Scoped reads for the staffing pages: a store's week (need vs planned vs signed-in hours per hour, shifts with
names, the plan against the fixed schedule) and a person's own shifts."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from yundian.core.errors import NotFound
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm, require, scope_q

from . import inputs
from .models import NeedHour, Shift, ShiftPlan, SignInEntry, SignKind


@dataclass
class Cell:
    hour: int
    need: int = 0
    planned: int = 0
    actual: int = 0
    customers: float = 0.0

    @property
    def gap(self) -> int:
        return self.planned - self.need

    @property
    def tone(self) -> str:
        if not self.need and not self.planned:
            return "closed"
        if self.planned < self.need:
            return "short"
        if self.planned > self.need:
            return "over"
        return "met"


@dataclass
class DayRow:
    day: date
    cells: list[Cell]
    shifts: list[Shift] = field(default_factory=list)
    need_hours: int = 0
    planned_hours: int = 0


@dataclass
class WeekView:
    store: OrgNode
    week_start: date
    days: list[DayRow]
    hours: list[int]
    plan: ShiftPlan | None
    people: list  # rules.Person who may work here
    may_edit: bool
    totals: dict


def store_list(*, actor: Staff):
    return OrgNode.objects.filter(scope_q(actor, Perm.STAFFING_VIEW), kind=NodeKind.STORE, is_active=True) \
        .order_by("path")


def store_get(*, actor: Staff, store_id: int) -> OrgNode:
    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id, kind=NodeKind.STORE).first()
    if store is None:
        raise NotFound()
    require(actor, Perm.STAFFING_VIEW, store)
    return store


def week_view(*, actor: Staff, store_id: int, week_start: date) -> WeekView:
    store = store_get(actor=actor, store_id=store_id)
    days = [week_start + timedelta(days=i) for i in range(7)]
    plan = ShiftPlan.objects.filter(node__in=[store, *([store.parent] if store.parent_id else [])],
                                    week_start=week_start).order_by("-updated_at").first()
    need: dict[tuple[date, int], NeedHour] = {}
    if plan is not None:
        need = {(n.day, n.hour): n for n in NeedHour.objects.filter(plan=plan, store=store)}
    shifts = list(Shift.objects.filter(store=store, day__in=days).select_related("staff").order_by("day", "start_hour"))
    planned: dict[tuple[date, int], int] = defaultdict(int)
    for s in shifts:
        for h in range(s.start_hour, s.end_hour):
            if h != s.break_hour:
                planned[(s.day, h)] += 1
    actual = actual_presence(store=store, days=days)
    keys = set(need) | set(planned) | set(actual)
    hours = list(range(min((h for _d, h in keys), default=9), max((h for _d, h in keys), default=21) + 1))
    rows = []
    for d in days:
        cells = [Cell(h, need[(d, h)].need if (d, h) in need else 0, planned.get((d, h), 0), actual.get((d, h), 0),
                      need[(d, h)].customers if (d, h) in need else 0.0) for h in hours]
        rows.append(DayRow(d, cells, [s for s in shifts if s.day == d], sum(c.need for c in cells),
                           sum(c.planned for c in cells)))
    totals = {"need": sum(r.need_hours for r in rows), "planned": sum(r.planned_hours for r in rows),
              "short": sum(max(0, c.need - c.planned) for r in rows for c in r.cells),
              "over": sum(max(0, c.planned - c.need) for r in rows for c in r.cells),
              "actual": sum(c.actual for r in rows for c in r.cells)}
    people = inputs.people_of(inputs.stores_under(store.parent) if store.parent_id else [store])
    people = [p for p in people if store.pk in p.stores()]
    return WeekView(store, week_start, rows, hours, plan, people, has_perm(actor, Perm.STAFFING_MANAGE, store),
                    totals)


def actual_presence(*, store: OrgNode, days: list[date]) -> dict[tuple[date, int], int]:
    """People signed in at the store per (local day, hour): an hour counts when someone was in for any of it."""
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    end = timezone.make_aware(datetime.combine(days[-1] + timedelta(days=1), datetime.min.time()))
    entries = SignInEntry.objects.filter(store=store, at__gte=start - timedelta(hours=16), at__lt=end) \
        .order_by("staff_id", "at", "id").values_list("staff_id", "kind", "at")
    out: dict[tuple[date, int], int] = defaultdict(int)
    opened: dict[int, datetime] = {}
    for staff_id, kind, at in entries:
        if kind == SignKind.IN:
            opened.setdefault(staff_id, at)
        elif staff_id in opened:
            first = timezone.localtime(opened.pop(staff_id))
            last = timezone.localtime(at)
            slot = first.replace(minute=0, second=0, microsecond=0)
            while slot < last:
                if slot.date() in days:
                    out[(slot.date(), slot.hour)] += 1
                slot += timedelta(hours=1)
    return out


def hours_worked(*, staff: Staff, days: list[date]) -> float:
    """Signed-in hours of one person over `days` (pairs of in and out)."""
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    end = timezone.make_aware(datetime.combine(days[-1] + timedelta(days=1), datetime.min.time()))
    total, opened = 0.0, None
    for kind, at in SignInEntry.objects.filter(staff=staff, at__gte=start, at__lt=end).order_by("at", "id") \
            .values_list("kind", "at"):
        if kind == SignKind.IN and opened is None:
            opened = at
        elif kind == SignKind.OUT and opened is not None:
            total += (at - opened).total_seconds() / 3600
            opened = None
    return round(total, 2)


@dataclass
class MyShifts:
    shifts: list[Shift]
    signed_in: bool
    last_entry: SignInEntry | None
    hours_this_week: float
    planned_this_week: int


def my_shifts(*, actor: Staff, today: date | None = None) -> MyShifts:
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    shifts = list(Shift.objects.filter(staff=actor, day__gte=today, day__lt=monday + timedelta(days=14))
                  .select_related("store").order_by("day"))
    last = SignInEntry.objects.filter(staff=actor).order_by("-at", "-id").select_related("store").first()
    week = [monday + timedelta(days=i) for i in range(7)]
    planned = sum(s.paid_hours for s in Shift.objects.filter(staff=actor, day__in=week))
    return MyShifts(shifts, bool(last and last.kind == SignKind.IN), last, hours_worked(staff=actor, days=week),
                    planned)
