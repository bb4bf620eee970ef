"""Back up and restore the OLTP database (SQLite online backup API, or pg_dump / pg_restore) and the warehouse files.

A backup is a folder:

    manifest.json        format, vendor, when, Django version, row counts per table, sha256 and size of every file
    database.sqlite3     SQLite: a consistent copy made with the online backup API while the server runs
    database.pgdump      PostgreSQL: pg_dump custom format, taken in the same snapshot as the row counts
    warehouse/*.duckdb   the warehouse file(s) found in YUNDIAN_DATA, copied as they are (rebuildable from OLTP)

Restore goes into an empty database only (no tables), checks every checksum before it starts and every table's
row count after it ends; any difference is an error.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from glob import glob
from pathlib import Path

import django
from django.conf import settings
from django.db import connections, transaction
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
WAREHOUSE_DIR = "warehouse"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is translated and says why."""


@dataclass
class RestoreReport:
    tables: int
    rows: int
    files: list[str]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pg_bin(tool: str) -> str:
    """The newest PostgreSQL client tool: $PG_BIN, then /usr/lib/postgresql/*/bin, then PATH."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]) / tool)
    versions = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                                                        if x.isdigit()] or [0])
    candidates += [Path(p) / tool for p in reversed(versions)]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(tool)
    if found:
        return found
    raise BackupError(_("%(tool)s was not found; install the PostgreSQL client tools.") % {"tool": tool})


def _pg_args(db: dict) -> tuple[list[str], dict]:
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _quote(connection, table: str) -> str:
    return connection.ops.quote_name(table)


def table_counts(connection) -> dict[str, int]:
    """Rows per table of every table in the database (Django's and any other), sorted by name."""
    with connection.cursor() as cursor:
        names = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(connection, name)}")
            counts[name] = int(cursor.fetchone()[0])
    return counts


def _sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"))
        return {n: int(conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names}


def warehouse_files() -> list[Path]:
    return sorted(Path(p) for p in glob(str(Path(settings.DATA_DIR) / "*.duckdb")))


def backup(to: Path, *, using: str = "default") -> dict:
    """Write a backup of the database `using` and the warehouse files into the empty or new folder `to`."""
    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise BackupError(_("The backup folder %(path)s is not empty.") % {"path": to})
    to.mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    vendor = connection.vendor
    if vendor == "sqlite":
        target = to / SQLITE_FILE
        connection.ensure_connection()
        dst = sqlite3.connect(target)
        try:
            # the online backup API: a consistent copy while other processes keep writing
            connection.connection.backup(dst, pages=1024)
        finally:
            dst.close()
        counts = _sqlite_counts(target)
        files = [target]
    elif vendor == "postgresql":
        target = to / PG_FILE
        db = connection.settings_dict
        args, env = _pg_args(db)
        # count rows and dump in one snapshot, so the manifest describes exactly what the dump holds
        if connection.in_atomic_block:
            raise BackupError(_("A backup cannot run inside a transaction."))
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot()")
                snapshot = cursor.fetchone()[0]
            counts = table_counts(connection)
            out = subprocess.run([pg_bin("pg_dump"), *args, "-d", db["NAME"], "-Fc", "--no-owner", "--no-privileges",
                                  f"--snapshot={snapshot}", "-f", str(target)], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise BackupError(_("pg_dump failed: %(error)s") % {"error": out.stderr.strip()[-2000:]})
        files = [target]
    else:
        raise BackupError(_("Backups of %(vendor)s databases are not supported.") % {"vendor": vendor})
    for source in warehouse_files():
        (to / WAREHOUSE_DIR).mkdir(exist_ok=True)
        copied = to / WAREHOUSE_DIR / source.name
        shutil.copy2(source, copied)
        files.append(copied)
    manifest = {
        "format": FORMAT,
        "vendor": vendor,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "django": django.get_version(),
        "database": target.name,
        "tables": counts,
        "rows": sum(counts.values()),
        "files": {str(f.relative_to(to)): {"sha256": sha256_file(f), "bytes": f.stat().st_size} for f in files},
    }
    (to / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def read_manifest(source: Path) -> dict:
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(_("%(path)s holds no readable backup manifest.") % {"path": source})
    if manifest.get("format") != FORMAT:
        raise BackupError(_("Unknown backup format %(format)s.") % {"format": manifest.get("format")})
    for name, meta in manifest["files"].items():
        path = source / name
        if not path.is_file() or sha256_file(path) != meta["sha256"]:
            raise BackupError(_("The backup file %(name)s is missing or damaged (checksum differs).") % {"name": name})
    return manifest


def restore(source: Path, *, using: str = "default") -> RestoreReport:
    """Restore the backup in `source` into the empty database `using` (and the warehouse files into YUNDIAN_DATA)."""
    source = Path(source)
    manifest = read_manifest(source)
    connection = connections[using]
    if manifest["vendor"] != connection.vendor:
        raise BackupError(_("This is a %(backup)s backup; the target database is %(target)s.")
                          % {"backup": manifest["vendor"], "target": connection.vendor})
    with connection.cursor() as cursor:
        existing = connection.introspection.table_names(cursor)
    if existing:
        raise BackupError(_("The target database is not empty (%(count)s tables); restore needs an empty one.")
                          % {"count": len(existing)})
    targets = []
    for name in manifest["files"]:
        if name.startswith(f"{WAREHOUSE_DIR}/"):
            target = Path(settings.DATA_DIR) / Path(name).name
            if target.exists():
                raise BackupError(_("The warehouse file %(path)s already exists.") % {"path": target})
            targets.append((source / name, target))
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        src = sqlite3.connect(source / manifest["database"])
        try:
            src.backup(connection.connection)
        finally:
            src.close()
    else:
        db = connection.settings_dict
        args, env = _pg_args(db)
        connection.close()
        out = subprocess.run([pg_bin("pg_restore"), *args, "-d", db["NAME"], "--no-owner", "--no-privileges",
                              "--exit-on-error", "--single-transaction", str(source / manifest["database"])],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise BackupError(_("pg_restore failed: %(error)s") % {"error": out.stderr.strip()[-2000:]})
    counts = table_counts(connection)
    if counts != manifest["tables"]:
        differ = sorted(t for t in set(counts) | set(manifest["tables"]) if counts.get(t) != manifest["tables"].get(t))
        raise BackupError(_("Row counts differ from the backup after restore: %(tables)s")
                          % {"tables": ", ".join(differ[:20])})
    for copied, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(copied, target)
    return RestoreReport(tables=len(counts), rows=sum(counts.values()), files=[str(t) for _, t in targets])


def table_digests(connection) -> dict[str, str]:
    """A sha256 of every table's rows (all columns, in a fixed order): two databases with equal digests hold the same
    data, row for row. Used to prove a restore equal to its source."""
    digests = {}
    with connection.cursor() as cursor:
        for name in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {_quote(connection, name)} WHERE 1 = 0")
            width = len(cursor.description)
            order = ", ".join(str(i + 1) for i in range(width))
            cursor.execute(f"SELECT * FROM {_quote(connection, name)} ORDER BY {order}")
            digest = hashlib.sha256()
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
            digests[name] = digest.hexdigest()
    return digests
