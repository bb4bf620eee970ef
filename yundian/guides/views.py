"""Commission pages: a guide's own live commission (refreshes itself) and a manager's view of all guides."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yundian.core.errors import ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import selectors


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
