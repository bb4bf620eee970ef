"""Schemas shared by every router: the error shape and the documented error responses."""
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status
from ninja.security.apikey import APIKeyCookie
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
    """Documented error responses: 400, 401 and 422 always, plus the given ones.

    A write operation that a session cookie may call also answers 403 `csrf_failed` when the CSRF check fails;
    `document_csrf_failures` adds that 403 to every such operation (the API calls it before building its OpenAPI
    schema), so a handler documents only the statuses its own logic answers."""
    return {s: ErrorOut for s in sorted({400, 401, 422, *statuses})}


CSRF_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_checked(operation) -> bool:
    """Whether a django-ninja operation runs the CSRF check: an unsafe method with a cookie (session) auth that
    checks CSRF, and the view not exempt."""
    if operation.csrf_exempt or not set(operation.methods) - CSRF_SAFE_METHODS:
        return False
    return any(isinstance(auth, APIKeyCookie) and auth.csrf for auth in operation.auth_callbacks)


def document_csrf_failures(api: NinjaAPI) -> int:
    """Document 403 (ErrorOut, code `csrf_failed`) on every operation of `api` that runs the CSRF check and does not
    document 403 yet. Idempotent; returns how many operations gained it."""
    added = 0
    for bound_router in api._get_bound_routers():  # the operations as mounted (auth inherited from the API)
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                if csrf_checked(operation) and 403 not in operation.response_models:
                    operation.response_models[403] = operation._create_response_model(ErrorOut)
                    added += 1
    return added


def idempotent_response(request: HttpRequest, *, scope: str, payload: Any, work) -> Status:
    """Run a create under the request's `Idempotency-Key` header (optional), keyed per acting staff member."""
    key = request.headers.get("Idempotency-Key")
    status, body, _replayed = run_idempotent(scope=scope, owner=f"staff:{request.auth.pk}", key=key,
                                             payload=payload, work=work)
    return Status(status, body)
