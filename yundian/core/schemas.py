"""Schemas shared by every router: the error shape and the documented error responses."""
from typing import Any

from django.http import HttpRequest
from ninja import Schema

from .idempotency import run_idempotent


class ErrorDetail(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorOut(Schema):
    error: ErrorDetail


def errors(*statuses: int) -> dict[int, type[Schema]]:
    """Documented error responses: 400, 401 and 422 always, plus the given ones."""
    return {s: ErrorOut for s in sorted({400, 401, 422, *statuses})}


def idempotent_response(request: HttpRequest, *, scope: str, payload: Any, work) -> tuple[int, Any]:
    """Run a create under the request's `Idempotency-Key` header (optional), keyed per acting staff member."""
    key = request.headers.get("Idempotency-Key")
    status, body, _replayed = run_idempotent(scope=scope, owner=f"staff:{request.auth.pk}", key=key,
                                             payload=payload, work=work)
    return status, body
