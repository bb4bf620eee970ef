"""Idempotent creates: the same client key returns the first result; the same key with another payload is a 409.

The key row is inserted in the same transaction as the work it guards, so either both exist or neither; a
unique constraint (not check-then-act) decides races: the loser's transaction rolls back and it replays
the winner's stored answer.
"""
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .errors import IdempotencyConflict, ValidationFailed
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 128


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(*, scope: str, owner: str, key: str | None, payload: Any,
                   work: Callable[[], tuple[int, Any]]) -> tuple[int, Any, bool]:
    """Run `work` once per (scope, owner, key). Returns (status, body, replayed).

    `work` returns (status, json-able body) and runs inside the same transaction as the key row.
    Without a key, `work` simply runs.
    """
    if key is None:
        status, body = work()
        return status, body, False
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(_("The idempotency key must be 1 to 128 printable characters."), code="invalid_idempotency_key")
    fingerprint = request_fingerprint(payload)

    def replay(record: IdempotencyRecord) -> tuple[int, Any, bool]:
        if record.request_hash != fingerprint:
            raise IdempotencyConflict()
        return record.response_status, record.response_body, True

    existing = IdempotencyRecord.objects.filter(scope=scope, owner=owner, key=key).first()
    if existing:
        return replay(existing)
    try:
        with transaction.atomic():
            # claim the key first: a concurrent request with the same key blocks on the unique index here
            # (PostgreSQL) or on the write lock (SQLite IMMEDIATE) until this transaction ends, instead of
            # racing through `work` and failing on some other constraint with a confusing error
            record = IdempotencyRecord.objects.create(scope=scope, owner=owner, key=key, request_hash=fingerprint,
                                                      response_status=0, response_body={})
            status, body = work()
            body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
            record.response_status, record.response_body = status, body
            record.save(update_fields=["response_status", "response_body"])
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, owner=owner, key=key).first()
        if existing is None:
            raise
        return replay(existing)
    return status, body, False
