"""Events from a file into the warehouse (`yundian events import FILE`): JSON lines or Parquet, through
`ingest.events_load_bulk` in batches.

A record has the columns of EVENT_INPUT_COLUMNS; `enterprise_id` may come from the command instead, `received_at`
defaults to now, `name`, `anonymous_id` and `properties` to empty. In JSON lines, times are ISO 8601 (a time without
a zone is UTC) and `properties` is an object. The whole file is checked before anything is loaded, so a bad record
(its line or row number is named) changes nothing; loading is idempotent by event key, so a file loaded twice, or
again after an interruption, keeps each event once.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from datetime import timezone as dt_timezone
from pathlib import Path

from django.utils.translation import gettext as _

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from yundian.core.warehouse import naive_utc

from .ingest import events_load_bulk
from .warehouse_tables import EVENT_INPUT_COLUMNS, EVENT_KINDS, FACT_EVENT

SCHEMA = pa.schema([(c, FACT_EVENT.arrow_schema.field(c).type) for c in EVENT_INPUT_COLUMNS])
_INTS = ("enterprise_id", "member_id", "store_id", "sku_id", "order_id", "amount")


class ImportRefused(ValueError):
    """A file that cannot be loaded; the message is translated and names the line, record or column."""


def _time(value, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise ImportRefused(_("%(where)s: not an ISO 8601 time: %(value)r") % {"where": where, "value": str(value)[:40]})
    return naive_utc(stamp)


def _json_lines(path: Path, size: int, enterprise_id: int | None, now: datetime) -> Iterator[tuple[int, pa.Table]]:
    columns: dict[str, list] = {c: [] for c in EVENT_INPUT_COLUMNS}
    first = records = 1  # the ordinal of the batch's first record, of the next record
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = _("line %(number)s") % {"number": number}
            try:
                record = json.loads(line)
            except ValueError:
                raise ImportRefused(_("%(where)s: not JSON") % {"where": where}) from None
            if not isinstance(record, dict):
                raise ImportRefused(_("%(where)s: not an object") % {"where": where})
            unknown = sorted(set(record) - set(EVENT_INPUT_COLUMNS))
            if unknown:
                raise ImportRefused(_("%(where)s: unknown field %(field)r") % {"where": where, "field": unknown[0]})
            for name in _INTS:
                value = record.get(name)
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise ImportRefused(_("%(where)s: %(field)s is not a whole number") % {"where": where, "field": name})
            properties = record.get("properties")
            if properties is not None and not isinstance(properties, dict):
                raise ImportRefused(_("%(where)s: properties is not an object") % {"where": where})
            for name in ("event_key", "kind", "name", "anonymous_id", "channel"):
                if record.get(name) is not None and not isinstance(record[name], str):
                    raise ImportRefused(_("%(where)s: %(field)s is not text") % {"where": where, "field": name})
            columns["enterprise_id"].append(record.get("enterprise_id", enterprise_id))
            columns["occurred_at"].append(_time(record.get("occurred_at"), where))
            columns["received_at"].append(_time(record.get("received_at"), where) or now)
            columns["properties"].append(json.dumps(properties or {}, ensure_ascii=False, separators=(",", ":")))
            for name in ("event_key", "kind", "member_id", "store_id", "sku_id", "order_id", "amount"):
                columns[name].append(record.get(name))
            for name in ("name", "anonymous_id", "channel"):
                columns[name].append(record.get(name) or "")
            records += 1
            if len(columns["event_key"]) == size:
                yield first, pa.table(columns, schema=SCHEMA)
                columns = {c: [] for c in EVENT_INPUT_COLUMNS}
                first = records
    if columns["event_key"]:
        yield first, pa.table(columns, schema=SCHEMA)


def _parquet(path: Path, size: int, enterprise_id: int | None, now: datetime) -> Iterator[tuple[int, pa.Table]]:
    source = pq.ParquetFile(path)
    unknown = sorted(set(source.schema_arrow.names) - set(EVENT_INPUT_COLUMNS))
    if unknown:
        raise ImportRefused(_("unknown column %(column)r") % {"column": unknown[0]})
    first = 1
    for batch in source.iter_batches(batch_size=size):
        table = pa.Table.from_batches([batch])
        n = table.num_rows
        defaults = {"enterprise_id": enterprise_id, "received_at": now, "name": "", "anonymous_id": "",
                    "channel": "", "properties": "{}"}
        arrays = []
        for name in EVENT_INPUT_COLUMNS:
            kind = SCHEMA.field(name).type
            if name in table.column_names:
                try:
                    column = table[name].cast(kind)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise ImportRefused(_("column %(column)r cannot be read as %(type)s") % {"column": name, "type": kind}) from None
                if defaults.get(name) is not None:
                    column = pc.fill_null(column, pa.scalar(defaults[name], type=kind))
            else:
                column = pa.array([defaults.get(name)] * n, type=kind)
            arrays.append(column)
        yield first, pa.Table.from_arrays(arrays, schema=SCHEMA)
        first += n


def _check(first: int, table: pa.Table) -> None:
    """Every record has an enterprise, a key of 1 to 64 characters, a known kind and a time."""
    lengths = pc.utf8_length(table["event_key"])
    checks = [
        (pc.is_null(table["enterprise_id"]), _("no enterprise_id (give --enterprise)")),
        (pc.or_kleene(pc.is_null(table["event_key"]), pc.or_(pc.less(lengths, 1), pc.greater(lengths, 64))),
         _("event_key is missing or longer than 64")),
        (pc.invert(pc.fill_null(pc.is_in(table["kind"], value_set=pa.array(EVENT_KINDS)), False)),
         _("kind is not one of %(kinds)s") % {"kinds": ", ".join(EVENT_KINDS)}),
        (pc.is_null(table["occurred_at"]), _("occurred_at is missing")),
    ]
    for bad, reason in checks:
        bad = pc.fill_null(bad, True)
        if pc.any(bad).as_py():
            index = pc.index(bad, True).as_py()
            raise ImportRefused(_("record %(number)s: %(reason)s") % {"number": first + index, "reason": reason})


def events_import(path: str | Path, *, enterprise_id: int | None = None, batch_size: int = 100_000,
                  progress: Callable[[int, int], None] | None = None, now: datetime | None = None) -> tuple[int, int]:
    """Check the whole file, then load it in batches; (records read, events kept). Raises ImportRefused (naming
    the line or record) before loading anything if a record is bad."""
    path = Path(path)
    now = now or datetime.now(dt_timezone.utc).replace(tzinfo=None)
    if path.suffix.lower() == ".parquet":
        reader = _parquet
    elif path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        reader = _json_lines
    else:
        raise ImportRefused(_("the file must end in .jsonl, .ndjson, .json or .parquet"))
    total = 0
    for first, table in reader(path, batch_size, enterprise_id, now):
        _check(first, table)
        total += table.num_rows
    read = kept = 0
    for _first, table in reader(path, batch_size, enterprise_id, now):
        kept += events_load_bulk(table)
        read += table.num_rows
        if progress:
            progress(read, total)
    return read, kept
