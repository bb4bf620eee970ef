"""Staffing pages: the store's week (need vs planned as a heat strip, shifts editable with people picked by name,
plan the week) for managers at 1024 px and on a phone, and a person's own shifts with sign-in/out (phone)."""
import uuid
from datetime import date, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .models import Shift

PLAN_TIME_LIMIT = 10.0


def _week(text: str | None) -> date:
    try:
        day = date.fromisoformat(text) if text else timezone.localdate()
    except ValueError:
        raise Http404
    return services.week_of(day)


@console_view()
def index(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if has_perm(actor, Perm.STAFFING_VIEW):
        store = (selectors.store_list(actor=actor).filter(pk=actor.home_id).first()
                 or selectors.store_list(actor=actor).first())
        if store is not None:
            return redirect("staffing:week", store_id=store.pk, week=_week(None).isoformat())
    if has_perm(actor, Perm.SHIFT_OWN):
        return redirect("staffing:me")
    raise Http404


def _week_page(request, store_id: int, week: str, *, error=None, status=200, form=None):
    view = selectors.week_view(actor=request.actor, store_id=store_id, week_start=_week(week))
    stores = list(selectors.store_list(actor=request.actor)[:200])
    return render(request, "staffing/week.html", {
        "v": view, "stores": stores, "error": error, "form": form or {},
        "previous": (view.week_start - timedelta(days=7)).isoformat(),
        "next": (view.week_start + timedelta(days=7)).isoformat(),
        "hours_range": range(0, 25)}, status=status)


@console_view(Perm.STAFFING_VIEW)
def week(request: HttpRequest, store_id: int, week: str) -> HttpResponse:
    if request.GET.get("store"):
        try:
            return redirect("staffing:week", store_id=int(request.GET["store"]), week=week)
        except ValueError:
            raise Http404
    return _week_page(request, store_id, week)


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def plan(request: HttpRequest, store_id: int, week: str) -> HttpResponse:
    store = selectors.store_get(actor=request.actor, store_id=store_id)
    region = store.parent if store.parent_id and has_perm(request.actor, Perm.STAFFING_MANAGE, store.parent) else None
    try:
        services.plan_week(actor=request.actor, node=region or store, week_start=_week(week),
                           time_limit=PLAN_TIME_LIMIT)
    except NotFound:
        raise
    except DomainError as exc:
        return _week_page(request, store_id, week, error=exc, status=exc.status)
    return redirect("staffing:week", store_id=store_id, week=week)


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def shift_save(request: HttpRequest, store_id: int, week: str) -> HttpResponse:
    post = request.POST
    try:
        day = date.fromisoformat(post.get("day", ""))
        staff_id = int(post.get("staff", ""))
        shift_id = int(post["shift"]) if post.get("shift") else None
    except ValueError:
        from yundian.core.errors import ValidationFailed
        from django.utils.translation import gettext as _
        exc = ValidationFailed(_("Pick a person and a day."), code="invalid_shift")
        return _week_page(request, store_id, week, error=exc, status=exc.status, form=post)
    try:
        services.shift_save(actor=request.actor, store_id=store_id, staff_id=staff_id, day=day,
                            start_hour=post.get("start_hour"), end_hour=post.get("end_hour"), shift_id=shift_id)
    except NotFound:
        raise
    except DomainError as exc:
        return _week_page(request, store_id, week, error=exc, status=exc.status, form=post)
    return redirect(f"{reverse('staffing:week', args=[store_id, week])}#day-{day.isoformat()}")


@console_view(Perm.STAFFING_MANAGE)
@require_http_methods(["POST"])
def shift_delete(request: HttpRequest, store_id: int, week: str, shift_id: int) -> HttpResponse:
    if not Shift.objects.filter(pk=shift_id, store_id=store_id).exists():
        raise Http404
    services.shift_delete(actor=request.actor, shift_id=shift_id)
    return redirect("staffing:week", store_id=store_id, week=week)


@console_view(Perm.SHIFT_OWN)
def me(request: HttpRequest) -> HttpResponse:
    mine = selectors.my_shifts(actor=request.actor)
    return render(request, "staffing/me.html", {"m": mine, "client_ref": uuid.uuid4().hex,
                                                "today": timezone.localdate()})


@console_view(Perm.SHIFT_OWN)
@require_http_methods(["POST"])
def sign(request: HttpRequest) -> HttpResponse:
    try:
        services.sign_record(actor=request.actor, kind=request.POST.get("kind", ""),
                             client_ref=request.POST.get("client_ref", ""))
    except DomainError as exc:
        mine = selectors.my_shifts(actor=request.actor)
        return render(request, "staffing/me.html", {"m": mine, "client_ref": uuid.uuid4().hex, "error": exc,
                                                    "today": timezone.localdate()}, status=exc.status)
    return redirect("staffing:me")
