import json
from datetime import datetime
from io import StringIO

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from yundian.core.warehouse import warehouse_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _keys() -> list[tuple]:
    with warehouse_read() as wh:
        rows = wh.table("fact_event").select("enterprise_id", "event_key", "kind", "occurred_at", "properties",
                                             "org_path").to_pyarrow().to_pylist()
    return sorted((r["enterprise_id"], r["event_key"], r["kind"], r["occurred_at"], r["properties"], r["org_path"])
                  for r in rows)


def _jsonl(tmp_path, records, name="events.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def test_a_json_lines_file_is_loaded_once_however_often_it_is_imported(chain, warehouse, tmp_path):
    store = chain.store_a.id
    path = _jsonl(tmp_path, [
        {"event_key": "a", "kind": "search", "occurred_at": "2026-03-01T10:30:00+08:00", "store_id": store,
         "anonymous_id": "d1", "properties": {"query": "茶"}},
        {"event_key": "b", "kind": "page_view", "occurred_at": "2026-03-01T02:31:00"},
    ])
    out = StringIO()
    call_command("events", "import", str(path), "--enterprise", "acme", "--batch-size", "1", stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("Read 2 events, kept 2 new (0 already there)")
    assert "[###############...............]            1 / 2 events" in out.getvalue()
    call_command("events", "import", str(path), "--enterprise", "acme", stdout=StringIO())
    enterprise = chain.hq.enterprise_id
    assert _keys() == [(enterprise, "a", "search", datetime(2026, 3, 1, 2, 30), '{"query":"茶"}', chain.store_a.path),
                       (enterprise, "b", "page_view", datetime(2026, 3, 1, 2, 31), "{}", None)]


def test_a_bad_record_anywhere_in_the_file_loads_nothing(chain, warehouse, tmp_path):
    good = {"event_key": "a", "kind": "page_view", "occurred_at": "2026-03-01T02:30:00"}
    for bad, reason in [({**good, "kind": "teleport"}, "record 3: kind is not one of"),
                        ({**good, "occurred_at": "soon"}, "line 3: not an ISO 8601 time"),
                        ({**good, "colour": "red"}, "line 3: unknown field 'colour'")]:
        path = _jsonl(tmp_path, [good, {**good, "event_key": "b"}, bad])
        with pytest.raises(CommandError, match=reason):
            call_command("events", "import", str(path), "--enterprise", "acme", "--batch-size", "2",
                         stdout=StringIO())
    with pytest.raises(CommandError, match="no enterprise_id"):
        call_command("events", "import", str(_jsonl(tmp_path, [good])), stdout=StringIO())
    with translation.override("zh-hans"), pytest.raises(CommandError, match="第 3 行：未知字段 'colour'；未载入任何事件。"):
        call_command("events", "import", str(_jsonl(tmp_path, [good, {**good, "event_key": "b"}, {**good, "colour": "red"}])),
                     "--enterprise", "acme", stdout=StringIO())
    assert _keys() == []


def test_a_parquet_file_is_loaded_with_defaults_for_missing_columns(chain, warehouse, tmp_path):
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({
        "enterprise_id": pa.array([chain.hq.enterprise_id] * 3, type=pa.int64()),
        "event_key": ["p1", "p2", "p3"], "kind": ["page_view", "product_view", "custom"],
        "occurred_at": pa.array([datetime(2026, 3, 1, 2, 30)] * 3, type=pa.timestamp("us")),
    }), path)
    out = StringIO()
    call_command("events", "import", str(path), stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("Read 3 events, kept 3 new")
    assert [k[1:3] for k in _keys()] == [("p1", "page_view"), ("p2", "product_view"), ("p3", "custom")]
