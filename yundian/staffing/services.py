"""Every staffing write: planning a week (forecast -> need -> CP-SAT), a manager's shift edits (checked against
the legal rules by the independent checker) and sign-ins (insert-only, once per client reference)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import actor_roles, require

from . import inputs
from .checker import plan_check
from .forecast import HourlyModel, fit
from .models import NeedHour, Shift, ShiftPlan, SignInEntry, SignKind, SignSource
from .need import need_from_forecast
from .rules import PlannedShift, break_for
from .solver import PlanResult, evaluate, fixed_schedule, solve
from .traffic import store_hour_history

HISTORY_DAYS = 364


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def forecast_fit(*, enterprise_id: int, stores: list[OrgNode], until: date, horizon_end: date,
                 open_hours: dict | None = None) -> tuple[HourlyModel, dict]:
    """Fit the hourly forecast on the warehouse history of `stores` up to `until`; also returns promo days."""
    since = until - timedelta(days=HISTORY_DAYS - 1)
    open_hours = open_hours or inputs.open_hours_of(stores)
    history = store_hour_history(enterprise_id=enterprise_id, store_ids=[s.pk for s in stores], since=since,
                                 until=until)
    promos = inputs.promo_days_of(stores, since, horizon_end)
    return fit(history, since=since, until=until, open_hours=open_hours, promo_days=promos), promos


def plan_week(*, actor: Staff | None, node: OrgNode, week_start: date, time_limit: float = 10.0,
              model: HourlyModel | None = None) -> ShiftPlan:
    """Forecast, need and solve one week for `node` (a store, or every store under a region) and replace the
    solver's shifts of that week in those stores (a manager's edited shifts stay and bind the plan). Needs
    staffing.manage on the node."""
    if actor is not None:
        require(actor, Perm.STAFFING_MANAGE, node)
    week_start = week_of(week_start)
    days = [week_start + timedelta(days=i) for i in range(7)]
    stores = inputs.stores_under(node)
    open_hours = inputs.open_hours_of(stores)
    promos = None
    if model is None:
        model, promos = forecast_fit(enterprise_id=node.enterprise_id, stores=stores,
                                     until=week_start - timedelta(days=1), horizon_end=days[-1], open_hours=open_hours)
    promos = promos or inputs.promo_days_of(stores, days[0], days[-1])
    rows = [r for s in stores for r in model.predict(s.pk, days, open_hours[s.pk], promos.get(s.pk, set()))]
    need = need_from_forecast(rows, inputs.standards_of(stores), open_hours)
    people = inputs.people_of(stores)
    rules = inputs.rules_of(node.enterprise_id)
    # a manager's shift stays (in these stores, or a planned person's anywhere): the solver plans the other days,
    # takes those shifts' cover as given and counts their hours and days towards each person's week limits
    kept = list(Shift.objects.filter(Q(store__in=stores) | Q(staff_id__in=[p.id for p in people]), day__in=days,
                                     is_manual=True))
    kept_people = {s.staff_id for s in kept}
    kept_keys = {(s.staff_id, s.day) for s in kept}
    free = people
    fixed = fixed_schedule(people, open_hours, days, rules)
    previous = inputs.previous_shifts(people, days[0])
    last_end = {}
    for s in previous:
        if s.day == days[0] - timedelta(days=1):
            last_end[s.person] = (s.day, s.end)
    result: PlanResult = solve(free, _minus(need, kept, people), days, rules, time_limit=time_limit,
                               previous_end=last_end, hint=[f for f in fixed if (f.person, f.day) not in kept_keys
                                                            and f.person not in kept_people],
                               kept=[_planned(s) for s in kept])
    planned = [s for s in result.shifts if (s.person, s.day) not in kept_keys]
    all_shifts = planned + [_planned(s) for s in kept if s.store_id in {st.pk for st in stores}]
    by_id = {p.id: p for p in people}
    ours = evaluate(all_shifts, need, by_id)
    theirs = evaluate(fixed, need, by_id)
    with transaction.atomic():
        plan, _created = ShiftPlan.objects.update_or_create(node=node, week_start=week_start, defaults=dict(
            enterprise_id=node.enterprise_id, solver_status=result.status, solve_seconds=result.seconds,
            forecast_package=model.package[:40], cost=ours.cost, hours_needed=ours.hours_needed,
            hours_planned=ours.hours_planned, hours_short=ours.hours_short, hours_over=ours.hours_over,
            fixed_cost=theirs.cost, fixed_hours_short=theirs.hours_short, fixed_hours_over=theirs.hours_over,
            created_by=actor))
        NeedHour.objects.filter(plan=plan).delete()
        NeedHour.objects.bulk_create([
            NeedHour(plan=plan, store_id=r.store_id, day=r.day, hour=r.hour, customers=round(r.customers, 2),
                     sales=r.sales, need=need[(r.store_id, r.day, r.hour)].total,
                     cashiers=need[(r.store_id, r.day, r.hour)].cashier) for r in rows])
        forecast_keys = {(r.store_id, r.day, r.hour) for r in rows}
        NeedHour.objects.bulk_create([  # opening and closing tasks: a need without customers
            NeedHour(plan=plan, store_id=k[0], day=k[1], hour=k[2], need=n.total, cashiers=n.cashier, stock=n.stock)
            for k, n in need.items() if k not in forecast_keys])
        Shift.objects.filter(store__in=stores, day__in=days, is_manual=False).delete()
        Shift.objects.filter(staff_id__in=[p.id for p in people], day__in=days, is_manual=False).delete()
        Shift.objects.bulk_create([Shift(plan=plan, store_id=s.store, staff_id=s.person, day=s.day,
                                         start_hour=s.start, end_hour=s.end, break_hour=s.break_hour)
                                   for s in planned])
        if actor is not None:
            audit_record(actor=actor, action="staffing.plan", target=plan, scope_path=node.path,
                         after={"week": week_start.isoformat(), "cost": ours.cost, "short": ours.hours_short})
    return plan


def _planned(s: Shift) -> PlannedShift:
    return PlannedShift(s.staff_id, s.store_id, s.day, s.start_hour, s.end_hour, s.break_hour)


def _minus(need, kept: list[Shift], people) -> dict:
    """The need left once the kept (manager's) shifts' cover is taken off."""
    from .need import Need

    out = dict(need)
    for s in kept:
        person = next((p for p in people if p.id == s.staff_id), None)
        for h in range(s.start_hour, s.end_hour):
            if h == s.break_hour or (s.store_id, s.day, h) not in out:
                continue
            n = out[(s.store_id, s.day, h)]
            skills = person.skills if person else frozenset()
            out[(s.store_id, s.day, h)] = Need(max(0, n.total - 1), max(0, n.cashier - ("cashier" in skills)),
                                               max(0, n.stock - ("stock" in skills)))
    return out


def _store_for(actor: Staff, store_id: int, perm: str) -> OrgNode:
    store = OrgNode.objects.filter(pk=store_id, enterprise_id=actor.enterprise_id, kind=NodeKind.STORE).first()
    if store is None:
        raise NotFound()
    require(actor, perm, store)
    return store


def _hour(value, field: str) -> int:
    try:
        hour = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("Hours are whole numbers from 0 to 24."), code="invalid_hour",
                               details={"field": field})
    if not 0 <= hour <= 24:
        raise ValidationFailed(_("Hours are whole numbers from 0 to 24."), code="invalid_hour",
                               details={"field": field})
    return hour


@transaction.atomic
def shift_save(*, actor: Staff, store_id: int, staff_id: int, day: date, start_hour, end_hour,
               shift_id: int | None = None) -> Shift:
    """Create or change one shift by hand (marked manual, so a re-plan keeps it). Refused with the rule it
    would break (422 `breaks_labor_rule`) when the person's week would no longer be legal; audited."""
    store = _store_for(actor, store_id, Perm.STAFFING_MANAGE)
    start, end = _hour(start_hour, "start_hour"), _hour(end_hour, "end_hour")
    if start >= end:
        raise ValidationFailed(_("A shift ends after it starts."), code="invalid_hour", details={"field": "end_hour"})
    people = {p.id: p for p in inputs.people_of(inputs.stores_under(store.parent) if store.parent else [store])}
    person = people.get(staff_id)
    if person is None or store.pk not in person.stores():
        raise ValidationFailed(_("This person does not work at this store."), code="not_store_staff",
                               details={"field": "staff"})
    shift = None
    if shift_id is not None:
        shift = Shift.objects.select_for_update().filter(pk=shift_id, store=store).first()
        if shift is None:
            raise NotFound()
    rules = inputs.rules_of(store.enterprise_id)
    monday = week_of(day)
    others = [PlannedShift(s.staff_id, s.store_id, s.day, s.start_hour, s.end_hour, s.break_hour)
              for s in Shift.objects.filter(staff_id=staff_id, day__gte=monday - timedelta(days=1),
                                            day__lte=monday + timedelta(days=7))
              if shift is None or s.pk != shift.pk]
    new = PlannedShift(staff_id, store.pk, day, start, end, break_for(start, end, rules))
    violations = plan_check(others + [new], {staff_id: person}, rules)
    if violations:
        raise ValidationFailed(_("This shift breaks a labour rule: %(rule)s.") % {"rule": rule_label(violations[0].code)},
                               code="breaks_labor_rule", details={"rules": sorted({v.code for v in violations})})
    before = None
    if shift is None:
        try:
            with transaction.atomic():
                shift = Shift.objects.create(store=store, staff_id=staff_id, day=day, start_hour=start, end_hour=end,
                                             break_hour=new.break_hour, is_manual=True)
        except IntegrityError:
            raise ValidationFailed(_("This person already has a shift that day."), code="breaks_labor_rule",
                                   details={"rules": ["two_shifts_a_day"]})
    else:
        before = {"staff": shift.staff_id, "day": shift.day.isoformat(), "from": shift.start_hour, "to": shift.end_hour}
        shift.staff_id, shift.day, shift.start_hour, shift.end_hour = staff_id, day, start, end
        shift.break_hour, shift.is_manual = new.break_hour, True
        shift.save()
    audit_record(actor=actor, action="staffing.shift_save", target=shift, scope_path=store.path, before=before,
                 after={"staff": staff_id, "day": day.isoformat(), "from": start, "to": end})
    return shift


@transaction.atomic
def shift_delete(*, actor: Staff, shift_id: int) -> None:
    shift = Shift.objects.select_related("store").filter(pk=shift_id, store__enterprise_id=actor.enterprise_id).first()
    if shift is None:
        raise NotFound()
    require(actor, Perm.STAFFING_MANAGE, shift.store)
    audit_record(actor=actor, action="staffing.shift_delete", target=shift, scope_path=shift.store.path,
                 before={"staff": shift.staff_id, "day": shift.day.isoformat(), "from": shift.start_hour,
                         "to": shift.end_hour})
    shift.delete()


def rule_label(code: str) -> str:
    labels = {
        "two_shifts_a_day": _("one shift a day"), "shift_too_short": _("shortest shift"),
        "missing_break": _("a break in long shifts"), "needless_break": _("a break in long shifts"),
        "day_hours": _("hours a day"), "week_hours": _("hours a week"), "no_day_off": _("a day off a week"),
        "rest_between_shifts": _("rest between shifts"), "unavailable": _("the person's availability"),
        "store_not_allowed": _("where the person may work"), "bad_hours": _("hours of the day"),
    }
    return str(labels.get(code, code))


def sign_record(*, actor: Staff, kind: str, client_ref: str, source: str = SignSource.PHONE,
                at: datetime | None = None) -> SignInEntry:
    """Sign the actor in or out at the store of today's shift (else their home store). Insert-only; the same
    client_ref returns the first entry (a retried tap records once)."""
    if kind not in SignKind.values:
        raise ValidationFailed(_("Sign in or sign out."), code="invalid_sign_kind")
    if source not in SignSource.values:
        raise ValidationFailed(_("Sign in or sign out."), code="invalid_sign_source")
    client_ref = (client_ref or "").strip()[:64]
    if not client_ref:
        raise ValidationFailed(_("The request has no reference."), code="missing_client_ref")
    if not any(perm_role for perm_role, _p, _i in actor_roles(actor)):
        raise NotFound()
    existing = SignInEntry.objects.filter(staff=actor, client_ref=client_ref).first()
    if existing is not None:
        return existing
    now = at or timezone.now()
    today = timezone.localdate(now)
    shift = Shift.objects.filter(staff=actor, day=today).first()
    store_id = shift.store_id if shift else actor.home_id
    try:
        with transaction.atomic():
            return SignInEntry.objects.create(staff=actor, store_id=store_id, kind=kind, source=source, at=now,
                                              client_ref=client_ref)
    except IntegrityError:
        return SignInEntry.objects.get(staff=actor, client_ref=client_ref)
