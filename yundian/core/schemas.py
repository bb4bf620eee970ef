"""Schemas shared by every router: the error shape and the documented error responses."""
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import AfterValidator

from .idempotency import run_idempotent
from .text import has_control_characters


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("control characters are not allowed")
    return value


# a string field (search box, filter) that may hold any text except control characters such as NUL,
# which PostgreSQL refuses even in a query parameter
SafeStr = Annotated[str, AfterValidator(_no_control_characters)]


class ErrorDetail(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorOut(Schema):
    error: ErrorDetail


def errors(*statuses: int) -> dict[int, type[Schema]]:
    """Documented error responses: 400, 401 and 422 always, plus the given ones."""
    return {s: ErrorOut for s in sorted({400, 401, 422, *statuses})}


def idempotent_response(request: HttpRequest, *, scope: str, payload: Any, work) -> Status:
    """Run a create under the request's `Idempotency-Key` header (optional), keyed per acting staff member."""
    key = request.headers.get("Idempotency-Key")
    status, body, _replayed = run_idempotent(scope=scope, owner=f"staff:{request.auth.pk}", key=key,
                                             payload=payload, work=work)
    return Status(status, body)
