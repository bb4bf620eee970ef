"""Bulk writing for the seed (`seed --history`, the stock step's sales series): ids allocated up front and
rows inserted with executemany in batches.

The ORM's per-object work (instances, pre_save, SQL compile) is most of the cost of seeding a year of orders; the
history knows every id it needs before it writes (order lines point at orders, lots at points entries, commission
at order lines), so it allocates them once per table and inserts plain tuples. Timestamps are written as given
(`created_at` is the historical time, not the seed's: an INSERT does not run auto_now_add).
"""
import json
from contextlib import contextmanager
from functools import cache
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

BATCH = 5000


def allocate_ids(model, n: int) -> list[int]:
    """n fresh primary keys for `model`: from its sequence on PostgreSQL; above the current maximum on SQLite,
    whose writer lock the seed's transaction already holds."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


@cache
def _sqlite() -> bool:
    return connection.vendor == "sqlite"  # one database per process; the proxy lookup is costly per row


@contextmanager
def roomy_cache(megabytes: int = 128):
    """On SQLite, a bigger page cache while the history writes (index pages stay in memory); restored after."""
    if not _sqlite():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def at(moment: datetime):
    """A UTC-naive datetime as the database wants it (what adapt_datetimefield_value makes of it, minus the
    time-zone round trip that costs more than the INSERT on SQLite)."""
    if _sqlite():
        return str(moment)
    return connection.ops.adapt_datetimefield_value(moment.replace(tzinfo=UTC))


def day(value: date):
    return connection.ops.adapt_datefield_value(value)


def decimal(value: Decimal, digits: int = 6, places: int = 4):
    return connection.ops.adapt_decimalfield_value(value, digits, places)


def as_json(value) -> object:
    if _sqlite():
        return "{}" if value == {} else json.dumps(value, cls=DjangoJSONEncoder)
    return connection.ops.adapt_json_value(value, DjangoJSONEncoder)


def insert(model, fields: list[str], rows: list[tuple]) -> int:
    """INSERT rows (tuples in `fields` order, already adapted) into model's table in batches; returns the count."""
    if not rows:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start:start + BATCH])
    return len(rows)


def update(model, set_fields: list[str], rows: list[tuple]) -> int:
    """UPDATE model SET f1 = %s, ... WHERE pk = %s, one tuple (values..., pk) per row."""
    if not rows:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(meta.get_field(f).column)} = %s" for f in set_fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start:start + BATCH])
    return len(rows)
