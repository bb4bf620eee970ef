"""Domain errors. Each maps to one HTTP status and carries a machine code and a translated message.

Services raise these; the API and pages turn them into `{"error": {"code", "message", "details"}}`.
"""
from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _("The request could not be processed.")

    def __init__(self, message: Any = None, *, code: str | None = None, details: dict | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class ValidationFailed(DomainError):
    status = 422
    code = "invalid"
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    """Also raised for objects outside the actor's scope, so their existence is not revealed."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This idempotency key was already used with a different request.")


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    default_message = _("The request is too large.")


class TooManyRequests(DomainError):
    """A rate limit was reached: the caller may try again later."""

    status = 429
    code = "too_many_requests"
    default_message = _("Too many requests; try again later.")
