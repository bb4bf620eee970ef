"""ERP API (/api/v1/integrations/erp/...): changes of each entity with keyset cursors, import and export jobs.

Parse -> one service or selector -> schema out. The cursor guarantee is documented in erp_export.py."""
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from yundian.core.schemas import errors

from . import erp_export, erp_imports, erp_jobs

router = Router(tags=["integrations: ERP"])

Entity = Literal["products", "prices", "stock", "purchase_orders", "orders", "members"]


class ChangesQuery(Schema):
    updated_since: datetime | None = Field(None, description="ISO 8601 with a time zone; the first call's start")
    cursor: str | None = Field(None, max_length=400, description="next_cursor of the previous page (opaque)")
    limit: int = Field(erp_export.DEFAULT_LIMIT, ge=1, le=erp_export.MAX_LIMIT)


class ChangesOut(Schema):
    items: list[dict[str, Any]]
    next_cursor: str = Field(description="where the next page starts; keep it and ask again later when has_more "
                                         "is false")
    has_more: bool
    until: datetime = Field(description="the safe cutoff of this page: rows changed before it are all visible")


class JobOut(Schema):
    id: int
    direction: str
    entity: str
    status: str
    source: str
    file_format: str
    filename: str
    file_hash: str
    total_rows: int
    processed_rows: int
    percent: int
    changed_rows: int
    unchanged_rows: int
    rejected_rows: int
    counts: dict[str, Any]
    errors: list[dict[str, Any]]
    error_code: str
    error_message: str
    same_file_as_id: int | None
    created_at: datetime
    finished_at: datetime | None


class RowsIn(Schema):
    rows: list[dict[str, Any]] = Field(..., min_length=1, max_length=10_000)
    wait: bool = Field(False, description="run now and answer with the finished job (small batches)")


class ExportIn(Schema):
    format: Literal["csv", "xlsx"] = "csv"
    updated_since: datetime | None = None


def _job_body(job) -> dict:
    return JobOut.from_orm(job).model_dump(mode="json")


def _finish(request, job, wait: bool):
    if wait:
        erp_jobs.erp_job_run(job_id=job.pk)
        job = erp_jobs.erp_job_get(actor=request.auth, job_id=job.pk)
        return 200, _job_body(job)
    return 202, _job_body(job)


ImportEntity = Literal["products", "prices", "stock", "purchase_orders", "members"]


@router.post("/erp/imports/{entity}/file", response={200: JobOut, 202: JobOut, **errors(403, 413)},
             url_name="erp_import_file")
def erp_import_file(request: HttpRequest, entity: ImportEntity, file: File[UploadedFile], wait: Form[bool] = False):
    """Import a .csv or .xlsx file as a job (202, then poll the job; `wait` runs it now). The same file twice
    changes nothing: the second job reports 0 changed rows."""
    data = file.read(erp_imports.MAX_FILE_BYTES + 1)
    job = erp_jobs.erp_import_create(actor=request.auth, entity=entity, filename=file.name or "", data=data,
                                     source="api")
    return _finish(request, job, wait)


@router.post("/erp/imports/{entity}/rows", response={200: JobOut, 202: JobOut, **errors(403)},
             url_name="erp_import_rows")
def erp_import_rows(request: HttpRequest, entity: ImportEntity, payload: RowsIn):
    """Import rows sent as JSON objects with the file's column names (see erp_imports.COLUMNS)."""
    data = erp_imports.rows_to_csv(entity, payload.rows)
    job = erp_jobs.erp_import_create(actor=request.auth, entity=entity, filename="api-rows.csv", data=data,
                                     source="api")
    return _finish(request, job, payload.wait)


@router.post("/erp/exports/{entity}", response={202: JobOut, **errors(403)}, url_name="erp_export_create")
def erp_export_create(request: HttpRequest, entity: Entity, payload: ExportIn):
    """Export the rows changed since `updated_since` (all without) as a file job; download it when done."""
    job = erp_jobs.erp_export_create(actor=request.auth, entity=entity, file_format=payload.format,
                                     updated_since=payload.updated_since, source="api")
    return 202, _job_body(job)


@router.get("/erp/jobs", response=list[JobOut], url_name="erp_jobs")
def erp_job_list(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    return [_job_body(j) for j in erp_jobs.erp_job_list(actor=request.auth)[:limit]]


@router.get("/erp/jobs/{job_id}", response={200: JobOut, **errors(404)}, url_name="erp_job")
def erp_job_get(request: HttpRequest, job_id: int):
    return _job_body(erp_jobs.erp_job_get(actor=request.auth, job_id=job_id))


def _download(name: str, content_type: str, body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/erp/jobs/{job_id}/errors", response={200: None, **errors(404)}, url_name="erp_job_errors")
def erp_job_errors(request: HttpRequest, job_id: int, format: Literal["csv", "xlsx"] = "csv"):
    """The job's per-row error report: row, column, code, message."""
    return _download(*erp_jobs.erp_job_error_report(actor=request.auth, job_id=job_id, file_format=format))


@router.get("/erp/jobs/{job_id}/file", response={200: None, **errors(404)}, url_name="erp_job_file")
def erp_job_file(request: HttpRequest, job_id: int):
    """The file an export job wrote."""
    return _download(*erp_jobs.erp_job_file(actor=request.auth, job_id=job_id))


@router.get("/erp/{entity}", response={200: ChangesOut, **errors(403)}, url_name="erp_changes")
def erp_changes(request: HttpRequest, entity: Entity, query: Query[ChangesQuery]):
    """Rows of `entity` changed since `updated_since` (first call) or after `cursor` (every next call), oldest
    first, in the caller's org subtree. Nothing is missed or repeated by following next_cursor."""
    page = erp_export.erp_changes_page(actor=request.auth, entity=entity, updated_since=query.updated_since,
                                       cursor=query.cursor, limit=query.limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "has_more": page.has_more, "until": page.until}
