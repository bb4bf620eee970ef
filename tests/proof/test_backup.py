"""Backup and restore: a database with orders, stock, points, stored value and commission is backed up while it is
in use, restored into a fresh empty database by another process, and found equal table for table (row counts and
row-for-row digests) with every ledger clean."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from yundian.ops.backup import MANIFEST, sha256_file, table_counts, table_digests

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import json, django; django.setup()\n"
         "from django.db import connection\n"
         "from yundian.ops.backup import table_counts, table_digests\n"
         "print(json.dumps({'counts': table_counts(connection), 'digests': table_digests(connection)}))")


def _fresh_database(tmp_path: Path):
    """Environment of a server on a new empty database of the same kind as the test database; and a cleanup."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "SECRET_KEY": "restore-test",
           "DEBUG": "0", "YUNDIAN_DATA": str(tmp_path / "fresh")}
    env.pop("DATABASE_URL", None)
    if connection.vendor != "postgresql":
        return env, lambda: None
    import psycopg

    db = connection.settings_dict
    name = f"yd_proof_restore_{os.getpid()}"
    base = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    env["DATABASE_URL"] = f"{base}/{name}"

    def drop():
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return env, drop


def translated(text: str, **params) -> str:
    """`text` in the language the commands speak (the settings' default), as a command would print it."""
    from django.conf import settings
    from django.utils.translation import gettext, override

    with override(settings.LANGUAGE_CODE):
        return gettext(text) % params


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture
def store_data(transactional_db, settings, tmp_path):
    """A seeded enterprise (orders, returns, stock, points, stored value, commission) and a warehouse file."""
    from yundian.demo.generators import run_seed

    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    run_seed(scale=1, seed=7, code="bk")
    (settings.DATA_DIR / "warehouse.duckdb").write_bytes(b"DUCK" + os.urandom(4096))
    return settings.DATA_DIR


def test_backup_restores_into_a_fresh_database_equal_table_for_table(store_data, tmp_path):
    from yundian.inventory.models import StockMove
    from yundian.members.models import PointsEntry
    from yundian.sales.models import Order, OrderReturn

    assert Order.objects.count() > 50 and OrderReturn.objects.exists()
    assert StockMove.objects.exists() and PointsEntry.objects.exists()
    source_counts = table_counts(connection)
    source_digests = table_digests(connection)

    target = tmp_path / "backup"
    call_command("backup", to=target, stdout=open(os.devnull, "w"))
    manifest = json.loads((target / MANIFEST).read_text())
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"] == source_counts
    assert manifest["rows"] == sum(source_counts.values())
    expected_files = {"database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump",
                      "warehouse/warehouse.duckdb"}
    assert set(manifest["files"]) == expected_files
    for name, meta in manifest["files"].items():
        assert sha256_file(target / name) == meta["sha256"] and (target / name).stat().st_size == meta["bytes"]

    env, drop = _fresh_database(tmp_path)
    try:
        out = _run(env, "manage.py", "restore", "--from", str(target))
        assert out.returncode == 0, out.stderr[-3000:]
        probe = _run(env, "-c", PROBE)
        assert probe.returncode == 0, probe.stderr[-3000:]
        restored = json.loads(probe.stdout.strip().splitlines()[-1])
        assert restored["counts"] == source_counts
        assert restored["digests"] == source_digests
        ledgers = _run(env, "manage.py", "check_ledgers")
        assert ledgers.returncode == 0, ledgers.stdout + ledgers.stderr
        assert "mismatch" not in ledgers.stdout
        assert (Path(env["YUNDIAN_DATA"]) / "warehouse.duckdb").read_bytes() == \
            (store_data / "warehouse.duckdb").read_bytes()
        # a second restore into the now non-empty database is refused and changes nothing
        again = _run(env, "manage.py", "restore", "--from", str(target))
        assert again.returncode != 0 and ("not empty" in again.stderr or "不为空" in again.stderr)  # the console speaks zh-Hans by default
        probe = _run(env, "-c", PROBE)
        assert json.loads(probe.stdout.strip().splitlines()[-1])["digests"] == source_digests
    finally:
        drop()


def test_a_damaged_backup_is_refused_before_anything_is_written(store_data, tmp_path):
    target = tmp_path / "backup"
    call_command("backup", to=target, stdout=open(os.devnull, "w"))
    database = next(name for name in json.loads((target / MANIFEST).read_text())["files"] if name.startswith("database"))
    data = bytearray((target / database).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (target / database).write_bytes(bytes(data))
    env, drop = _fresh_database(tmp_path)
    try:
        out = _run(env, "manage.py", "restore", "--from", str(target))
        assert out.returncode != 0 and ("damaged" in out.stderr or "已损坏" in out.stderr)
        probe = _run(env, "-c", PROBE)
        assert json.loads(probe.stdout.strip().splitlines()[-1])["counts"] == {}
        assert not (Path(env["YUNDIAN_DATA"]) / "warehouse.duckdb").exists()
    finally:
        drop()


def test_backup_refuses_a_folder_that_is_not_empty(store_data, tmp_path):
    target = tmp_path / "backup"
    target.mkdir()
    (target / "something").write_text("x")
    with pytest.raises(CommandError, match="not empty|不为空"):
        call_command("backup", to=target)
    assert sorted(p.name for p in target.iterdir()) == ["something"]
