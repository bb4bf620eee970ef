"""The analytics warehouse: a DuckDB file under YUNDIAN_DATA, its tables, who may open it and how rows get in.

Only two writers exist: the sync from the OLTP database (`yundian.analytics.sync`) and the event ingest
(`yundian.cdp.ingest`). Everything else reads, through Ibis expressions (`warehouse_read()` yields an Ibis
backend), so the same expressions run on Spark or ClickHouse when a chain outgrows one machine.

DuckDB lets one process write a file and refuses every other process while it does, so access is taken
through an advisory lock file beside the warehouse: readers share it, a writer holds it alone, and both keep
their connection only for the work at hand (a writer commits in batches and lets readers in between).

Tables are declared by the context that owns them (`register_table`), like ledger checks and periodic tasks;
`schema_ensure` creates missing tables and adds missing columns, so a new column is one line in a TableSpec.
Every fact carries `enterprise_id` and `org_path` (the org node chain, "/1/4/9/"), so scoping is a prefix filter.

Writes are idempotent by construction: `rows_replace` deletes the batch's keys before inserting them, and
`rows_insert_new` inserts only keys not yet present; the sync records its watermarks in the same DuckDB
transaction as the rows, so a writer killed mid-batch leaves the warehouse as it was before the batch.
"""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db.models import Q

_DUCK = {"int64": "BIGINT", "int32": "INTEGER", "string": "VARCHAR", "timestamp": "TIMESTAMP", "date": "DATE",
         "boolean": "BOOLEAN", "float64": "DOUBLE"}
_ARROW = {"int64": pa.int64(), "int32": pa.int32(), "string": pa.string(), "timestamp": pa.timestamp("us"),
          "date": pa.date32(), "boolean": pa.bool_(), "float64": pa.float64()}


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: columns (name -> int64 | int32 | string | timestamp | date | boolean | float64) and the
    key a replace deletes by. Timestamps are UTC without a zone, as every engine reads them alike."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...] = ()
    doc: str = ""

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(column, _ARROW[kind]) for column, kind in self.columns.items()])

    def arrow(self, columns: dict[str, list]) -> pa.Table:
        """An Arrow table of this spec from column lists (missing columns are nulls)."""
        length = len(next(iter(columns.values()))) if columns else 0
        arrays = [pa.array(columns.get(name, [None] * length), type=_ARROW[kind]) for name, kind in self.columns.items()]
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema)


TABLES: dict[str, TableSpec] = {}
# the modules whose import registers their contexts' tables (like core.ledgers.LEDGER_MODULES)
TABLE_MODULES = ["yundian.cdp.warehouse_tables", "yundian.analytics.warehouse_tables"]


def register_table(spec: TableSpec) -> TableSpec:
    TABLES[spec.name] = spec
    return spec


def tables() -> dict[str, TableSpec]:
    from importlib import import_module

    for module in TABLE_MODULES:
        import_module(module)
    return TABLES


STATE = register_table(TableSpec("_sync_state", {
    "source": "string", "watermark": "int64", "ts_watermark": "timestamp", "gaps": "string", "rows": "int64",
    "updated_at": "timestamp"}, key=("source",), doc="one row per sync source: how far it has read"))


def warehouse_path() -> Path:
    configured = getattr(settings, "WAREHOUSE_PATH", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "warehouse.duckdb"


@contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def warehouse_write() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for writing, alone (the lock is exclusive), with every registered table present."""
    path = warehouse_path()
    with _locked(path, exclusive=True):
        con = duckdb.connect(str(path))
        try:
            schema_ensure(con, path)
            yield con
        finally:
            con.close()


@contextmanager
def warehouse_read():
    """An Ibis backend over the warehouse, read-only, beside other readers. Creates the empty warehouse first."""
    import ibis

    path = warehouse_path()
    if not path.exists():
        with warehouse_write():
            pass
    with _locked(path, exclusive=False):
        con = duckdb.connect(str(path), read_only=True)
        try:
            yield ibis.duckdb.from_connection(con)
        finally:
            con.close()


@contextmanager
def warehouse_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction: committed when the block ends, rolled back if it raises (or the process dies)."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list:
    """Execute one statement to completion (DuckDB keeps a statement's result open until it is fetched)."""
    return con.execute(sql, params or []).fetchall()


_ENSURED: set[tuple[str, int]] = set()  # (warehouse file, registered tables) this process has checked


def schema_ensure(con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
    """Create every registered table that is missing and add columns a spec gained since (checked once per process
    and warehouse file; a file replaced meanwhile, e.g. by a restore, is checked again)."""
    key = (f"{path}:{path.stat().st_ino}" if path is not None and path.exists() else "", len(tables()))
    if path is not None and key in _ENSURED:
        return
    existing: dict[str, set[str]] = {}
    for table, column in run(con,
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"):
        existing.setdefault(table, set()).add(column)
    for spec in tables().values():
        if spec.name not in existing:
            columns = ", ".join(f'"{name}" {_DUCK[kind]}' for name, kind in spec.columns.items())
            run(con, f'CREATE TABLE "{spec.name}" ({columns})')
            continue
        for name, kind in spec.columns.items():
            if name not in existing[spec.name]:
                run(con, f'ALTER TABLE "{spec.name}" ADD COLUMN "{name}" {_DUCK[kind]}')
    if path is not None:
        _ENSURED.add(key)


def _conform(spec: TableSpec, batch: pa.Table) -> pa.Table:
    if batch.schema != spec.arrow_schema:
        batch = batch.select(list(spec.columns)).cast(spec.arrow_schema)
    return batch


def rows_replace(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: pa.Table,
                 key: tuple[str, ...] | None = None) -> int:
    """Delete the rows whose key is in `batch`, then insert `batch` (an upsert that a replay repeats harmlessly)."""
    key = key or spec.key
    batch = _conform(spec, batch)
    if batch.num_rows == 0:
        return 0
    con.register("_batch", batch)
    try:
        match = " AND ".join(f't."{k}" = b."{k}"' for k in key)
        run(con, f'DELETE FROM "{spec.name}" t WHERE EXISTS (SELECT 1 FROM (SELECT DISTINCT {", ".join(key)} '
                    f'FROM _batch) b WHERE {match})')
        run(con, f'INSERT INTO "{spec.name}" SELECT * FROM _batch')
    finally:
        con.unregister("_batch")
    return batch.num_rows


def rows_insert(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: pa.Table) -> int:
    """Insert `batch` as it is: for a caller that has just deleted these rows' keys itself."""
    batch = _conform(spec, batch)
    if batch.num_rows:
        con.register("_batch", batch)
        try:
            run(con, f'INSERT INTO "{spec.name}" SELECT * FROM _batch')
        finally:
            con.unregister("_batch")
    return batch.num_rows


def rows_insert_new(con: duckdb.DuckDBPyConnection, spec: TableSpec, batch: pa.Table, key: tuple[str, ...],
                    window: tuple[str, datetime] | None = None) -> int:
    """Insert the rows of `batch` whose key is not in the table yet (and not twice within the batch); the number
    inserted. `window` = (column, lower bound) limits the duplicate search to rows at or after that bound."""
    batch = _conform(spec, batch)
    if batch.num_rows == 0:
        return 0
    con.register("_batch", batch)
    try:
        match = " AND ".join(f't."{k}" = b."{k}"' for k in key)
        bound = ""
        params: list = []
        if window is not None:
            bound = f' AND t."{window[0]}" >= ?'
            params.append(window[1])
        partition = ", ".join(f'"{k}"' for k in key)
        before = run(con, f'SELECT count(*) FROM "{spec.name}"')[0][0]
        run(con,
            f'INSERT INTO "{spec.name}" SELECT * EXCLUDE (_n) FROM ('
            f'SELECT *, row_number() OVER (PARTITION BY {partition}) AS _n FROM _batch) b '
            f'WHERE _n = 1 AND NOT EXISTS (SELECT 1 FROM "{spec.name}" t WHERE {match}{bound})', params)
        return run(con, f'SELECT count(*) FROM "{spec.name}"')[0][0] - before
    finally:
        con.unregister("_batch")


def rows_delete(con: duckdb.DuckDBPyConnection, spec: TableSpec, column: str, values: list) -> None:
    """Delete the rows whose `column` is one of `values`."""
    if not values:
        return
    con.register("_keys", pa.table({"v": values}))
    try:
        run(con, f'DELETE FROM "{spec.name}" WHERE "{column}" IN (SELECT v FROM _keys)')
    finally:
        con.unregister("_keys")


@dataclass
class SourceState:
    """How far one sync source has read: the id watermark, the id gaps still open ([low, high, first seen]), a
    time watermark for sources read by modification time, and the rows it has written in all."""

    source: str
    watermark: int = 0
    ts_watermark: datetime | None = None
    gaps: list[list] | None = None
    rows: int = 0
    updated_at: datetime | None = None


def state_get(con: duckdb.DuckDBPyConnection, source: str) -> SourceState:
    found = run(con, 'SELECT watermark, ts_watermark, gaps, rows, updated_at FROM "_sync_state" WHERE source = ?',
                [source])
    row = found[0] if found else None
    if row is None:
        return SourceState(source=source, gaps=[])
    return SourceState(source=source, watermark=row[0] or 0, ts_watermark=row[1], gaps=json.loads(row[2] or "[]"),
                       rows=row[3] or 0, updated_at=row[4])


def state_put(con: duckdb.DuckDBPyConnection, state: SourceState) -> None:
    """Record a source's progress; call it in the same DuckDB transaction as the rows it covers."""
    run(con, 'DELETE FROM "_sync_state" WHERE source = ?', [state.source])
    run(con, 'INSERT INTO "_sync_state" VALUES (?, ?, ?, ?, ?, ?)',
        [state.source, state.watermark, state.ts_watermark, json.dumps(state.gaps or []), state.rows,
         state.updated_at])


def states_all(con) -> list[SourceState]:
    rows = run(con, 'SELECT source FROM "_sync_state" ORDER BY source')
    return [state_get(con, source) for (source,) in rows]


# --- sources read by id: watermarks and the gaps late commits leave ------------------------------------------------
# On PostgreSQL ids are handed out before commit, so a row may commit after a higher id was read. Every id hole below
# a watermark is kept as a gap [low, high, first seen] and looked up again until it fills or has stayed empty for
# GAP_GRACE (a rolled-back transaction's ids never fill). The sync's id sources and the event inbox flush use these.
GAP_GRACE = timedelta(minutes=10)


def naive_utc(value: datetime | None) -> datetime | None:
    """An aware datetime as naive UTC (the warehouse's clock); a naive one is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


def _merge_ranges(ids: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for value in sorted(ids):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1][1] = value
        else:
            ranges.append([value, value])
    return ranges


def gaps_after_read(state: SourceState, seen_ids: list[int], read_above: int, now: datetime) -> list[list]:
    """The open gaps once `seen_ids` were read: old gaps minus what filled, plus holes among the new ids."""
    seen = set(seen_ids)
    stamp = now.isoformat()
    kept: list[list] = []
    for low, high, since in state.gaps or []:
        if datetime.fromisoformat(since) < now - GAP_GRACE:
            continue  # never committed: a rolled-back transaction's ids
        missing = [i for i in range(low, high + 1) if i not in seen]
        kept.extend([a, b, since] for a, b in _merge_ranges(missing))
    new_ids = sorted(i for i in seen if i > read_above)
    if new_ids:
        holes = [i for i in range(read_above + 1, new_ids[-1]) if i not in seen]
        kept.extend([a, b, stamp] for a, b in _merge_ranges(holes))
    return kept


def gap_filter(state: SourceState, field_name: str = "id") -> Q | None:
    """A filter for the rows whose ids lie in the source's open gaps (None when there are none)."""
    q = None
    for low, high, _since in state.gaps or []:
        part = Q(**{f"{field_name}__gte": low, f"{field_name}__lte": high})
        q = part if q is None else q | part
    return q
