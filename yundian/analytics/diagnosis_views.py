"""The findings inbox (事找人): each person's findings with the numbers and a chart of the KPI against its forecast
band; a manager also sees every finding of their part of the tree. The owner (or a manager) records what was done."""
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yundian.core import charts
from yundian.core.errors import DomainError
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import diagnosis as D
from .diagnosis_selectors import finding_get, finding_list
from .diagnosis_text import KPI_LABELS, explanation_lines, figure, headline, owner_text
from .models import FindingStatus

STATUSES = ("open", "resolved", "dismissed")


def _unit(kpi: str) -> str:
    return charts.MONEY if kpi in D.MONEY_KPIS else charts.PERCENT if kpi in D.PERCENT_KPIS else charts.COUNT


def finding_chart(finding) -> dict | None:
    """Actual day by day against the forecast and its band over the window (a ratio over 7 days to each day)."""
    data = finding.chart or {}
    if not data.get("days"):
        return None
    days = data["days"]
    pad = [None] * (len(days) - len(data["mean"]))
    scale = 100 if finding.kpi in D.PERCENT_KPIS else 1
    values = lambda xs: [None if v is None else v * scale for v in xs]  # noqa: E731
    return charts.line(
        str(KPI_LABELS.get(finding.kpi, finding.kpi)), x=[d[5:] for d in days],
        unit=_unit(finding.kpi),
        series=[charts.series(_("Actual"), values(data["actual"])),
                charts.series(_("Forecast"), values(pad + data["mean"]), dashed=True),
                charts.series(_("Band low"), values(pad + data["lower"]), dashed=True),
                charts.series(_("Band high"), values(pad + data["upper"]), dashed=True)])


def _card(finding, *, chart: bool) -> dict:
    gap = (finding.actual - finding.expected) / finding.expected if finding.expected else None
    return {"f": finding, "headline": headline(finding), "lines": explanation_lines(finding),
            "owner": owner_text(finding), "gap": gap, "actual": figure(finding.kpi, finding.actual),
            "expected": figure(finding.kpi, finding.expected), "chart": finding_chart(finding) if chart else None}


@console_view()
def findings(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in STATUSES:
        status = "open"
    may_view_all = has_perm(request.actor, Perm.ANALYTICS_VIEW)
    mine = request.GET.get("mine") == "1" or not may_view_all
    rows = list(finding_list(actor=request.actor, status=status, mine=mine)[:100])
    cards = [_card(f, chart=i < 20) for i, f in enumerate(rows)]
    return render(request, "analytics/findings.html", {
        "cards": cards, "status": status, "mine": mine, "may_view_all": may_view_all,
        "statuses": [(s, FindingStatus(s).label) for s in STATUSES]})


@console_view()
def finding(request: HttpRequest, finding_id: int) -> HttpResponse:
    item = finding_get(actor=request.actor, finding_id=finding_id)
    if item is None:
        raise Http404
    return render(request, "analytics/finding.html", {"card": _card(item, chart=True)})


@require_POST
@console_view()
def finding_close(request: HttpRequest, finding_id: int) -> HttpResponse:
    from .diagnosis_services import finding_resolve

    try:
        finding_resolve(actor=request.actor, finding_id=finding_id, resolution=request.POST.get("resolution", ""),
                        dismiss=request.POST.get("action") == "dismiss")
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
        return redirect("analytics:finding", finding_id)
    messages.success(request, _("Recorded. The diagnosis checks whether the KPI comes back."))
    return redirect("analytics:findings")


def _buyers_page(request, *, error=None, status=200):
    from yundian.catalog.models import CategoryBuyer
    from yundian.catalog.selectors import category_list
    from yundian.org.models import OrgNode

    categories = list(category_list(actor=request.actor, include_inactive=False)[:500])
    assigned = {b.category_id: b for b in CategoryBuyer.objects.filter(enterprise_id=request.actor.enterprise_id)
                .select_related("buyer")}
    rows = []
    for c in categories:
        ids = [int(p) for p in (c.path or "").strip("/").split("/") if p.isdigit()] or [c.pk]
        own = assigned.get(c.pk)
        inherited = next((assigned[i] for i in reversed(ids[:-1]) if i in assigned), None)
        rows.append({"category": c, "depth": max(len(ids) - 1, 0), "own": own, "inherited": inherited})
    hq = OrgNode(path="/" + request.actor.home.path.strip("/").split("/")[0] + "/",
                 enterprise_id=request.actor.enterprise_id)
    return render(request, "analytics/category_buyers.html", {
        "rows": rows, "error": error, "may_manage": has_perm(request.actor, Perm.CATALOG_MANAGE, hq)}, status=status)


@console_view(Perm.ANALYTICS_VIEW)
def category_buyers(request: HttpRequest) -> HttpResponse:
    """Who buys each category (HQ assigns; the diagnosis sends a category's problems to its buyer)."""
    return _buyers_page(request)


@require_POST
@console_view(Perm.ANALYTICS_VIEW)
def category_buyer_save(request: HttpRequest) -> HttpResponse:
    from yundian.catalog.services import category_buyer_assign, category_buyer_remove

    def number(name):
        text = (request.POST.get(name) or "").strip()
        return int(text) if text.isascii() and text.isdecimal() and len(text) <= 18 else None

    try:
        if request.POST.get("action") == "remove":
            category_buyer_remove(actor=request.actor, category_id=number("category"))
        else:
            category = number("category")
            if category is None:
                from yundian.core.errors import ValidationFailed
                raise ValidationFailed(_("Pick a category."), code="invalid_category", details={"field": "category"})
            category_buyer_assign(actor=request.actor, category_id=category, buyer_id=number("buyer"))
    except DomainError as exc:
        return _buyers_page(request, error=exc, status=exc.status)
    messages.success(request, _("Saved. The diagnosis sends this category's problems to its buyer."))
    return redirect("analytics:category_buyers")
