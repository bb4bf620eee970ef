"""ERP jobs: an import or export asked from the console, the API or a schedule, run by the task worker with
progress, a per-row error report and (export) the file to download.

A job is claimed by a conditional UPDATE (queued -> running), so two workers never run one job; the import
itself is idempotent (erp_imports), so a job re-run after a crash changes nothing it already changed."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from yundian.core.exports import table_file
from yundian.org.models import Staff
from yundian.org.selectors import has_perm, scope_q

from . import erp_export, erp_imports
from .erp_models import ErpDirection, ErpEntity, ErpJob, ErpJobStatus, ErpSchedule

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
VIEW_PERM = {entity: spec.perm for entity, spec in erp_export.SPECS.items()}


def _enqueue(job_id: int) -> None:
    from .erp_tasks import erp_job_run_task

    try:
        erp_job_run_task.enqueue(job_id)
    except Exception:  # noqa: BLE001 - the scheduler's sweep picks queued jobs up too
        log.exception("could not enqueue ERP job %s", job_id)


@transaction.atomic
def erp_import_create(*, actor: Staff, entity: str, filename: str, data: bytes, source: str = "console") -> ErpJob:
    """Queue an import of one file. The file's type, size and header are checked now (4xx, nothing stored);
    rows are checked when the job runs. The same file again is a new job that reports 0 changes."""
    total = erp_imports.check_file(actor=actor, entity=entity, filename=filename, data=data)
    digest = erp_imports.file_hash(data)
    earlier = (ErpJob.objects.filter(enterprise_id=actor.enterprise_id, direction=ErpDirection.IMPORT, entity=entity,
                                     file_hash=digest, status__in=[ErpJobStatus.DONE, ErpJobStatus.PARTIAL])
               .order_by("-id").first())
    job = ErpJob.objects.create(
        enterprise_id=actor.enterprise_id, node=actor.home, created_by=actor, direction=ErpDirection.IMPORT,
        entity=entity, source=source, file_format="xlsx" if filename.lower().endswith(".xlsx") else "csv",
        filename=(filename or "")[-200:], file_hash=digest, payload=data, total_rows=total, same_file_as=earlier)
    audit_record(actor=actor, action="erp_import.create", target=job, scope_path=actor.home.path,
                 after={"entity": entity, "file": job.filename, "rows": total, "sha256": digest})
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


@transaction.atomic
def erp_export_create(*, actor: Staff, entity: str, file_format: str = "csv", updated_since: Any = None,
                      source: str = "console") -> ErpJob:
    """Queue an export of `entity` rows in the actor's scope changed since `updated_since` (all without)."""
    spec = erp_export.spec_for(entity)
    if file_format not in FORMATS:
        raise ValidationFailed(_("The format is csv or xlsx."), code="invalid_format", details={"field": "format"})
    if not has_perm(actor, spec.perm):
        raise Forbidden()
    since = erp_export.clean_since(updated_since)
    job = ErpJob.objects.create(
        enterprise_id=actor.enterprise_id, node=actor.home, created_by=actor, direction=ErpDirection.EXPORT,
        entity=entity, source=source, file_format=file_format, counts={"updated_since": since.isoformat()})
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _claim(job_id: int) -> ErpJob | None:
    claimed = ErpJob.objects.filter(pk=job_id, status=ErpJobStatus.QUEUED).update(
        status=ErpJobStatus.RUNNING, started_at=timezone.now(), updated_at=timezone.now())
    if not claimed:
        return None
    return ErpJob.objects.select_related("created_by__home", "created_by__enterprise", "created_by__user").get(pk=job_id)


def erp_job_run(*, job_id: int) -> ErpJob | None:
    """Run a queued job once (None when another worker has it or it is not queued)."""
    job = _claim(job_id)
    if job is None:
        return None
    actor = job.created_by

    def progress(done: int) -> None:
        ErpJob.objects.filter(pk=job.pk).update(processed_rows=done, updated_at=timezone.now())

    fields: dict[str, Any] = {}
    try:
        if actor is None or not actor.is_active:
            raise Forbidden()
        if job.direction == ErpDirection.IMPORT:
            out = erp_imports.erp_import_run(actor=actor, entity=job.entity, filename=job.filename,
                                             data=bytes(job.payload or b""), job_id=job.pk, progress=progress)
            status = ErpJobStatus.PARTIAL if out.errors else ErpJobStatus.DONE
            fields = dict(total_rows=out.total_rows, processed_rows=out.total_rows, changed_rows=out.changed_rows,
                          unchanged_rows=out.unchanged_rows, rejected_rows=out.rejected_rows, counts=out.counts,
                          errors=out.errors[:5000], payload=None)
        else:
            columns, rows, cursor = erp_export.erp_export_rows(actor=actor, entity=job.entity,
                                                               updated_since=job.counts.get("updated_since"),
                                                               progress=progress)
            _type, body = table_file([str(c) for c in columns], rows, job.file_format, sheet_name=job.entity)
            status = ErpJobStatus.DONE
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            fields = dict(total_rows=len(rows), processed_rows=len(rows), payload=body,
                          filename=f"{job.entity}-{stamp}.{job.file_format}",
                          counts={**job.counts, "next_cursor": cursor})
    except DomainError as exc:
        status = ErpJobStatus.FAILED
        fields = dict(error_code=exc.code, error_message=str(exc.message)[:255], payload=None)
    except Exception:  # noqa: BLE001 - a job ends failed, never stays running
        log.exception("ERP job %s failed", job.pk)
        status = ErpJobStatus.FAILED
        fields = dict(error_code="server_error", error_message=str(_("Something went wrong on our side.")))
    ErpJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), updated_at=timezone.now(),
                                            **fields)
    job.refresh_from_db()
    if job.direction == ErpDirection.IMPORT and actor is not None:
        audit_record(actor=actor, action="erp_import.run", target=job, scope_path=job.node.path,
                     after={"status": job.status, "rows": job.total_rows, "changed": job.changed_rows,
                            "unchanged": job.unchanged_rows, "rejected": job.rejected_rows})
    return job


def erp_jobs_run_queued(*, limit: int = 20) -> int:
    """Run queued jobs (the scheduler's sweep, for jobs whose wake-up task was lost); returns how many ran."""
    ran = 0
    for job_id in ErpJob.objects.filter(status=ErpJobStatus.QUEUED).order_by("id").values_list("pk", flat=True)[:limit]:
        ran += erp_job_run(job_id=job_id) is not None
    return ran


# --- reads ---------------------------------------------------------------------------------------------------

def erp_job_list(*, actor: Staff, direction: str | None = None) -> QuerySet[ErpJob]:
    """Jobs started at nodes in the actor's subtree, for the kinds of data the actor may see."""
    allowed = [entity for entity, perm in VIEW_PERM.items() if has_perm(actor, perm)]
    qs = ErpJob.objects.filter(scope_q(actor, path_field="node__path"), enterprise_id=actor.enterprise_id,
                               entity__in=allowed).select_related("created_by", "node").defer("payload")
    if direction:
        qs = qs.filter(direction=direction)
    return qs.order_by("-id")


def erp_job_get(*, actor: Staff, job_id: int) -> ErpJob:
    job = erp_job_list(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("Job not found."), code="job_not_found")
    return job


def erp_job_file(*, actor: Staff, job_id: int) -> tuple[str, str, bytes]:
    """(file name, content type, bytes) of a finished export."""
    job = erp_job_get(actor=actor, job_id=job_id)
    if job.direction != ErpDirection.EXPORT or job.status != ErpJobStatus.DONE:
        raise NotFound(_("This job has no file."), code="no_file")
    body = bytes(ErpJob.objects.filter(pk=job.pk).values_list("payload", flat=True).first() or b"")
    content_type = "text/csv; charset=utf-8" if job.file_format == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if job.entity == ErpEntity.MEMBERS:
        audit_record(actor=actor, action="erp_members.export", target=job, scope_path=actor.home.path,
                     after={"rows": job.total_rows})
    return job.filename, content_type, body


def erp_job_error_report(*, actor: Staff, job_id: int, file_format: str = "csv") -> tuple[str, str, bytes]:
    """The job's rejected rows as a file: row, column, code, message."""
    job = erp_job_get(actor=actor, job_id=job_id)
    if file_format not in FORMATS:
        raise ValidationFailed(_("The format is csv or xlsx."), code="invalid_format", details={"field": "format"})
    columns = [_("Row"), _("Column"), _("Code"), _("Message")]
    rows = [[e.get("row"), e.get("column"), e.get("code"), e.get("message")] for e in job.errors]
    content_type, body = table_file(columns, rows, file_format, sheet_name="errors")
    return f"errors-job-{job.pk}.{file_format}", content_type, body


# --- schedules -----------------------------------------------------------------------------------------------

def drop_root() -> Path:
    return Path(getattr(settings, "ERP_DROP_ROOT", Path(settings.BASE_DIR) / "var" / "erp"))


def _folder(schedule: ErpSchedule) -> Path:
    root = drop_root().resolve()
    path = (root / str(schedule.enterprise_id) / schedule.folder).resolve()
    if root not in path.parents:
        raise ValidationFailed(_("Not a folder name."), code="invalid_folder")
    return path


@transaction.atomic
def erp_schedule_create(*, actor: Staff, direction: str, entity: str, folder: str, every: str = "hourly",
                        file_format: str = "csv") -> ErpSchedule:
    """A recurring import (every new file in the folder) or export (changes since the last run into it)."""
    if direction not in ErpDirection.values:
        raise ValidationFailed(_("Unknown direction."), code="invalid_direction", details={"field": "direction"})
    if every not in ErpSchedule.Every.values:
        raise ValidationFailed(_("Unknown interval."), code="invalid_every", details={"field": "every"})
    if file_format not in FORMATS:
        raise ValidationFailed(_("The format is csv or xlsx."), code="invalid_format", details={"field": "format"})
    folder = (folder or "").strip()
    if not folder or len(folder) > 120 or not all(ch.isalnum() or ch in "-_" for ch in folder):
        raise ValidationFailed(_("A folder name is letters, digits, - and _."), code="invalid_folder",
                               details={"field": "folder"})
    if direction == ErpDirection.IMPORT:
        if entity not in erp_imports.IMPORTABLE:
            raise ValidationFailed(_("This kind of data cannot be imported."), code="invalid_entity")
        if not has_perm(actor, erp_imports.IMPORT_PERM[entity]):
            raise Forbidden()
    elif not has_perm(actor, erp_export.spec_for(entity).perm):
        raise Forbidden()
    schedule = ErpSchedule.objects.create(enterprise_id=actor.enterprise_id, node=actor.home, created_by=actor,
                                          direction=direction, entity=entity, folder=folder, every=every,
                                          file_format=file_format)
    audit_record(actor=actor, action="erp_schedule.create", target=schedule, scope_path=actor.home.path,
                 after={"direction": direction, "entity": entity, "folder": folder, "every": every})
    return schedule


def erp_schedules_run(*, now=None) -> int:
    """Run every due schedule: a new file in an import folder becomes a job (then moved to done/), an export
    writes the changes since its last cursor into the folder. Returns the jobs made."""
    now = now or timezone.now()
    made = 0
    for schedule in ErpSchedule.objects.filter(is_active=True).select_related("created_by__home", "created_by__enterprise"):
        due = schedule.last_run_at is None or now - schedule.last_run_at >= (
            timedelta(hours=1) if schedule.every == ErpSchedule.Every.HOURLY else timedelta(days=1)) - timedelta(minutes=1)
        if not due:
            continue
        ErpSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now)
        try:
            made += _run_schedule(schedule)
        except DomainError:
            log.exception("ERP schedule %s failed", schedule.pk)
    return made


def _run_schedule(schedule: ErpSchedule) -> int:
    folder = _folder(schedule)
    folder.mkdir(parents=True, exist_ok=True)
    actor = schedule.created_by
    if schedule.direction == ErpDirection.IMPORT:
        made = 0
        done = folder / "done"
        done.mkdir(exist_ok=True)
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".xlsx")):
            job = erp_import_create(actor=actor, entity=schedule.entity, filename=path.name,
                                    data=path.read_bytes(), source="schedule")
            path.rename(done / f"{job.pk}-{path.name}")
            erp_job_run(job_id=job.pk)
            made += 1
        return made
    columns, rows, cursor = erp_export.erp_export_rows(actor=actor, entity=schedule.entity,
                                                       cursor=schedule.export_cursor or None)
    if rows:
        _type, body = table_file([str(c) for c in columns], rows, schedule.file_format, sheet_name=schedule.entity)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        (folder / f"{schedule.entity}-{stamp}.{schedule.file_format}").write_bytes(body)
    ErpSchedule.objects.filter(pk=schedule.pk).update(export_cursor=cursor)
    return 1 if rows else 0
