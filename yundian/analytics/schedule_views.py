"""The scheduled reports page: the schedules of the actor's scope and a form to add one."""
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yundian.core.errors import ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import PERMISSIONS, Perm, Role
from yundian.org.selectors import scope_q

from .models import ExportFormat, Frequency, ReportSchedule
from .reports import REPORTS
from .schedules import report_schedule_create


@console_view(Perm.ANALYTICS_VIEW)
def schedules(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    status = 200
    error = None
    if request.method == "POST":
        try:
            raw_node = request.POST.get("node", "")
            node_id = int(raw_node) if raw_node.isdigit() else 0
            report_schedule_create(actor=actor, report=request.POST.get("report", ""), node_id=node_id,
                                   role=request.POST.get("role", ""), frequency=request.POST.get("frequency", ""),
                                   format=request.POST.get("format", ExportFormat.XLSX))
        except ValidationFailed as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, _("The report will be mailed."))
            return redirect("analytics:schedules")
    names = {slug: title for slug, (title, _f) in REPORTS.items()}
    rows = (ReportSchedule.objects.filter(scope_q(actor, Perm.ANALYTICS_VIEW, "node__path"),
                                          enterprise_id=actor.enterprise_id)
            .select_related("node").order_by("id"))
    return render(request, "analytics/schedules.html", {
        "schedules": [{"s": s, "report": names.get(s.report, s.report)} for s in rows],
        "reports": list(names.items()), "frequencies": Frequency.choices, "formats": ExportFormat.choices,
        "roles": [(value, label) for value, label in Role.choices if Perm.ANALYTICS_VIEW in PERMISSIONS[value]],
        "error": error, "form": request.POST if request.method == "POST" else {},
    }, status=status)
