"""The store manager's staffing set-up page: the store's service standards, each person's hourly rate, skills and
weekly hours, and time off (people picked by name). Parse the form -> one service in staffing.setup -> redirect;
bad input re-renders the page with the translated error (422) and nothing changed."""
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import selectors, services, setup
from .models import Skill


def _page(request, store_id: int, *, error=None, status=200, open_person=None) -> HttpResponse:
    view = setup.setup_get(actor=request.actor, store_id=store_id)
    for row in view.people:
        row.week = [(w, WEEKDAYS[w], WEEKDAYS_ABBR[w], span) for w, span in row.days]
    return render(request, "staffing/setup.html", {
        "s": view, "error": error, "open_person": open_person,
        "stores": list(selectors.store_list(actor=request.actor)[:200]),
        "skills": Skill.choices, "this_week": services.week_of(timezone.localdate()).isoformat(),
        "hours_from": range(0, 24), "hours_to": range(1, 25)}, status=status)


def _after(request, store_id: int, fn) -> HttpResponse:
    """Run one write; on bad input show the page again with its message (nothing was changed)."""
    try:
        fn()
    except NotFound:
        raise
    except DomainError as exc:
        return _page(request, store_id, error=exc, status=exc.status, open_person=request.POST.get("staff"))
    return redirect(reverse("staffing:setup", args=[store_id]) + request.POST.get("anchor", "")[:40])


@console_view(Perm.STAFFING_VIEW)
def page(request: HttpRequest, store_id: int) -> HttpResponse:
    if request.GET.get("store"):
        try:
            return redirect("staffing:setup", store_id=int(request.GET["store"]))
        except ValueError:
            raise NotFound()
    return _page(request, store_id)


def _yuan(text: str, field: str) -> int:
    try:
        return Money.parse(text or "0").amount
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, details={"field": field})


def _int(text) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 6 else None


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def standard(request: HttpRequest, store_id: int) -> HttpResponse:
    post = request.POST
    return _after(request, store_id, lambda: setup.standard_save(
        actor=request.actor, store_id=store_id, customers_per_staff_hour=post.get("customers_per_staff_hour", ""),
        **{k: post.get(k, "") for k in ("min_cover", "cashiers", "opening_staff", "opening_hours", "closing_staff",
                                        "closing_hours")}))


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def person(request: HttpRequest, store_id: int) -> HttpResponse:
    post = request.POST

    def save():
        days = {}
        for w in range(7):
            start, end = post.get(f"day_{w}_from", ""), post.get(f"day_{w}_to", "")
            if not start and not end:
                days[w] = None
                continue
            days[w] = (_int(start), _int(end))
            if None in days[w]:
                raise ValidationFailed(_("On each day a person can work, pick both hours (or neither for a day "
                                         "off)."), code="invalid_hour", details={"field": f"day_{w}"})
        setup.person_save(actor=request.actor, store_id=store_id, staff_id=_int(post.get("staff")),
                          hourly_rate=_yuan(post.get("hourly_rate", ""), "hourly_rate"),
                          skills=post.getlist("skills"), is_part_time=post.get("is_part_time") == "on",
                          is_shared=post.get("is_shared") == "on",
                          travel_cost=_yuan(post.get("travel_cost", ""), "travel_cost"), availability=days)

    return _after(request, store_id, save)


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def time_off_add(request: HttpRequest, store_id: int) -> HttpResponse:
    post = request.POST

    def add():
        try:
            first, last = date.fromisoformat(post.get("first_day", "")), date.fromisoformat(post.get("last_day", ""))
        except ValueError:
            raise ValidationFailed(_("Pick the first and the last day."), code="invalid_dates")
        staff_id = _int(post.get("staff"))
        if staff_id is None:
            raise ValidationFailed(_("Pick a person."), code="not_store_staff", details={"field": "staff"})
        setup.time_off_add(actor=request.actor, store_id=store_id, staff_id=staff_id, first_day=first,
                           last_day=last, note=post.get("note", ""))

    return _after(request, store_id, add)


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def time_off_delete(request: HttpRequest, store_id: int, time_off_id: int) -> HttpResponse:
    setup.time_off_delete(actor=request.actor, store_id=store_id, time_off_id=time_off_id)
    return redirect(reverse("staffing:setup", args=[store_id]) + "#time-off")
