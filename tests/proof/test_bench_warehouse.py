"""bench/warehouse.py at tiny sizes, so the benchmark cannot rot: the bulk ingest keeps each event once, the sync
moves the history and new sales, the segment query's answer on DuckDB (and on PostgreSQL when the tests run there)
equals the same segment worked out by hand from the generated lines, and every table prints."""
from collections import defaultdict
from datetime import timedelta

import pyarrow as pa
import pytest
from django.db import connection

from bench import warehouse as bench

pytestmark = pytest.mark.django_db


def test_bulk_ingest_keeps_each_event_once_and_prints_its_table(warehouse, tmp_path, capsys):
    w = bench.world(products=10, members=20)

    result = bench.measure_ingest(w, batch=500, batches=2, scratch=tmp_path)

    assert (result["kept"], result["again_kept"], result["stored"]) == ([500, 500], 0, 1000)
    assert len(result["baseline_seconds"]) == 2
    bench.print_ingest(result)
    out = capsys.readouterr().out
    assert "first batch again (all duplicates, none kept)" in out
    assert "again kept 0" in out


def test_the_sync_moves_the_history_and_the_new_sales(warehouse, tmp_path, capsys):
    w = bench.world(products=10, members=20)

    result = bench.measure_sync(w, scale=1, days=1, new_sales=3, scratch=tmp_path)

    assert result["history"]["orders"] > 0
    assert result["first_lines"] == result["floor_rows"]  # every order line of the database reached the warehouse
    assert result["lines_after"] == result["first_lines"] + result["new_lines"]
    assert result["new_lines"] >= 6  # 2 or 3 lines a sale
    bench.print_sync([result])
    assert "incremental after 3 real sales" in capsys.readouterr().out


def lapsers_by_hand(lines: pa.Table) -> list[dict]:
    """category_lapsers worked out row by row: >= 2 orders in the category within 90 days of TODAY, none in 30."""
    today, category = bench.TODAY, bench.heavy_category()
    orders, last = defaultdict(set), {}
    for row in lines.select(["member_id", "order_id", "is_sale", "local_date", "category_id"]).to_pylist():
        if not row["is_sale"] or row["member_id"] is None:
            continue
        last[row["member_id"]] = max(last.get(row["member_id"], row["local_date"]), row["local_date"])
        if row["category_id"] == category and today - timedelta(days=90) <= row["local_date"] <= today:
            orders[row["member_id"]].add(row["order_id"])
    return [{"member_id": m, "orders": len(o), "last_date": last[m]} for m, o in sorted(orders.items())
            if len(o) >= 2 and last[m] < today - timedelta(days=30)]


def _test_database_url() -> str | None:
    if connection.vendor != "postgresql":
        return None
    s = connection.settings_dict
    return f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_the_segment_query_gives_the_segment_on_every_engine(tmp_path, capsys):
    pg_url = _test_database_url()
    table = "bench_smoke_fact_order_line"
    try:
        result = bench.measure_segment(3_000, 30_000, scratch=tmp_path, pg_url=pg_url, runs=1, pg_runs=1, table=table)
    finally:
        if pg_url:
            import psycopg

            with psycopg.connect(pg_url, autocommit=True) as pg:
                pg.execute(f"DROP TABLE IF EXISTS {table}")
    lines = pa.concat_tables(bench.order_lines(3_000, 30_000))

    expected = lapsers_by_hand(lines)

    assert result["answer"].to_pylist() == expected
    assert len(expected) >= 5  # the generator makes lapsers, not an empty segment
    assert result["lines"] == lines.num_rows
    assert result.get("equal", True) is True
    bench.print_segment([result])
    assert "category_lapsers" in capsys.readouterr().out
