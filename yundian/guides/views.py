"""Commission pages: a guide's own live commission (refreshes itself) and a manager's view of all guides; call
lists: a guide's own calls (phone-first) and a manager's progress per guide."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import calls as calls_module, selectors
from .models import CallOutcome


@console_view(Perm.COMMISSION_VIEW_OWN)
def my_commission(request: HttpRequest) -> HttpResponse:
    overview = selectors.commission_overview(actor=request.actor)
    board = selectors.leaderboard(actor=request.actor, limit=10)
    template = "guides/partials/my_commission.html" if request.htmx else "guides/my_commission.html"
    return render(request, template, {"o": overview, "board": board})


@console_view(Perm.COMMISSION_VIEW_ALL)
def store_commission(request: HttpRequest) -> HttpResponse:
    try:
        month = selectors.parse_month((request.GET.get("month") or "")[:7] or None)
    except ValidationFailed:
        month = selectors.parse_month(None)
    rows = selectors.commission_by_guide(actor=request.actor, month=month)
    return render(request, "guides/store_commission.html", {"rows": rows, "month": month,
                                                            "total_sales": sum(r["sales"] for r in rows),
                                                            "total_commission": sum(r["commission"] for r in rows)})


# --- call lists ------------------------------------------------------------------------------------------

@console_view(Perm.CALL_LIST_WORK)
def my_calls(request: HttpRequest) -> HttpResponse:
    """A guide's calls on a phone: pending first, masked phone, tap to call, how it went with a note."""
    calls = calls_module.my_calls(actor=request.actor)
    pending = sum(1 for c in calls if c.entry.outcome == CallOutcome.PENDING)
    return render(request, "guides/my_calls.html", {"calls": calls, "pending": pending,
                                                     "outcomes": _OUTCOME_CHOICES})


_OUTCOME_CHOICES = [(v, l) for v, l in CallOutcome.choices if v != CallOutcome.PENDING]


@console_view(Perm.CALL_LIST_WORK)
@require_http_methods(["POST"])
def call_outcome(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        calls_module.call_outcome_set(actor=request.actor, entry_id=entry_id, outcome=request.POST.get("outcome", ""),
                                      note=request.POST.get("note", ""))
    except NotFound:
        raise
    except DomainError as exc:
        calls = calls_module.my_calls(actor=request.actor)
        return render(request, "guides/my_calls.html", {
            "calls": calls, "pending": sum(1 for c in calls if c.entry.outcome == CallOutcome.PENDING),
            "outcomes": _OUTCOME_CHOICES, "error": {"message": exc.message, "code": exc.code},
            "error_entry": entry_id}, status=exc.status)
    return redirect(f"{reverse('guides:my_calls')}#call-{entry_id}")


@console_view(Perm.CALL_LIST_WORK)
def call_dial(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Tap to call: audited, then the phone's dialer (the number never shows on the page of a masked role)."""
    phone = calls_module.call_dial(actor=request.actor, entry_id=entry_id)
    response = HttpResponse(status=302)
    response["Location"] = f"tel:{phone}"
    return response


@console_view(Perm.CALL_LIST_MANAGE)
def call_lists(request: HttpRequest) -> HttpResponse:
    rows = []
    for call_list in calls_module.call_list_list(actor=request.actor)[:50]:
        progress = calls_module.call_list_progress(actor=request.actor, call_list_id=call_list.pk)[1]
        size, done = sum(p.size for p in progress), sum(p.done for p in progress)
        rows.append({"call_list": call_list, "size": size, "done": done,
                     "percent": done * 100 // size if size else 0})
    return render(request, "guides/call_lists.html", {"rows": rows})


@console_view(Perm.CALL_LIST_MANAGE)
def call_list_detail(request: HttpRequest, call_list_id: int) -> HttpResponse:
    call_list, progress = calls_module.call_list_progress(actor=request.actor, call_list_id=call_list_id)
    return render(request, "guides/call_list_detail.html", {
        "call_list": call_list, "progress": progress, "outcomes": CallOutcome.choices,
        "size": sum(p.size for p in progress), "done": sum(p.done for p in progress)})
