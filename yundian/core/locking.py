"""The one lock order. Every select_for_update goes through here: rows by primary key, evaluated at once.

Global order across tables: orders -> inventory -> members -> commissions (STYLE.md). Within a table: by pk.
On SQLite the surrounding transaction is IMMEDIATE (settings), so the write lock is taken at BEGIN.
"""
from django.db import connection, transaction
from django.db.models import Model, QuerySet


def lock_rows[M: Model](queryset: QuerySet[M]) -> list[M]:
    """Lock the rows of a queryset in primary-key order and return them as a list."""
    if not transaction.get_connection(queryset.db).in_atomic_block:
        raise RuntimeError("lock_rows must be called inside transaction.atomic()")
    return list(queryset.select_for_update().order_by("pk"))


def lock_one[M: Model](queryset: QuerySet[M]) -> M | None:
    """Lock the rows of a queryset (expected to match at most one) and return the first, or None."""
    rows = lock_rows(queryset)
    return rows[0] if rows else None


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"
