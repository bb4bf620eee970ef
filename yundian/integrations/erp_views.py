"""Console pages of ERP sync: start an import (upload) or an export, the jobs with a live progress bar, the per-row
error report and export files to download, the schedules. Parse -> one service/selector -> render; a domain error
re-renders the page with its translated message and status, changing nothing."""
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yundian.core.errors import DomainError, ValidationFailed
from yundian.org.console import console_view
from yundian.org.selectors import has_perm

from . import erp_imports, erp_jobs
from .erp_export import SPECS
from .erp_models import ErpEntity, ErpJobStatus, ErpSchedule


def status_labels() -> dict[str, str]:
    """The job statuses in words of their own context (a bare "Queued" is a message's status elsewhere)."""
    return {"queued": pgettext("erp job", "Queued"), "running": pgettext("erp job", "Running"),
            "done": pgettext("erp job", "Done"), "partial": pgettext("erp job", "Done with rejected rows"),
            "failed": pgettext("erp job", "Failed")}


def _allowed(actor) -> tuple[list, list]:
    exportable = [(v, l) for v, l in ErpEntity.choices if has_perm(actor, SPECS[v].perm)]
    importable = [(v, l) for v, l in ErpEntity.choices
                  if v in erp_imports.IMPORTABLE and has_perm(actor, erp_imports.IMPORT_PERM[v])]
    return exportable, importable


def _context(request: HttpRequest, **extra) -> dict:
    exportable, importable = _allowed(request.actor)
    if not exportable:
        raise Http404
    page = Paginator(erp_jobs.erp_job_list(actor=request.actor), 25).get_page(request.GET.get("page"))
    running = any(j.status in (ErpJobStatus.QUEUED, ErpJobStatus.RUNNING) for j in page)
    schedules = ErpSchedule.objects.filter(enterprise_id=request.actor.enterprise_id, is_active=True,
                                           node__path__startswith=request.actor.home.path).order_by("id")
    for job in page:
        job.status_label = status_labels().get(job.status, job.status)
    return {"page": page, "running": running, "exportable": exportable, "importable": importable,
            "schedules": schedules, "columns": {k: list(v) for k, v in erp_imports.COLUMNS.items()}, **extra}


@console_view()
@require_http_methods(["GET"])
def erp_home(request: HttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "erp-jobs":
        return render(request, "integrations/partials/erp_jobs.html", _context(request))
    return render(request, "integrations/erp.html", _context(request))


@console_view()
@require_POST
def erp_import(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    entity = request.POST.get("entity", "")
    try:
        if upload is None:
            raise ValidationFailed(_("Choose a file to import."), code="file_required", details={"field": "file"})
        erp_jobs.erp_import_create(actor=request.actor, entity=entity, filename=upload.name or "",
                                   data=upload.read(erp_imports.MAX_FILE_BYTES + 1))
    except DomainError as exc:
        return render(request, "integrations/erp.html", _context(request, import_error=exc, form_entity=entity),
                      status=exc.status)
    return redirect("integrations:erp")


@console_view()
@require_POST
def erp_export(request: HttpRequest) -> HttpResponse:
    p = request.POST
    try:
        since = p.get("updated_since") or None
        if since and len(since) == 10:
            since = f"{since}T00:00:00+08:00"
        erp_jobs.erp_export_create(actor=request.actor, entity=p.get("entity", ""), file_format=p.get("format", "csv"),
                                   updated_since=since)
    except DomainError as exc:
        return render(request, "integrations/erp.html", _context(request, export_error=exc), status=exc.status)
    return redirect("integrations:erp")


def _download(name: str, content_type: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@console_view()
def erp_job_errors(request: HttpRequest, job_id: int) -> HttpResponse:
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return _download(*erp_jobs.erp_job_error_report(actor=request.actor, job_id=job_id, file_format=fmt))


@console_view()
def erp_job_file(request: HttpRequest, job_id: int) -> HttpResponse:
    return _download(*erp_jobs.erp_job_file(actor=request.actor, job_id=job_id))
