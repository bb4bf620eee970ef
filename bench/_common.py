"""Shared by the benchmarks: Django set up on a throwaway SQLite database in a temporary folder, timing, the load,
a bench enterprise, one process per database, Markdown tables.

    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        ...   # import models and services only now
"""
import json
import os
import subprocess
import sys
import time
from collections.abc import Collection
from pathlib import Path


def setup_django(data_dir: str) -> None:
    """Set up Django (production settings, DEBUG off) on an embedded SQLite database in `data_dir`."""
    os.environ["YUNDIAN_DATA"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"  # DEBUG would record every query
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    import django

    django.setup()


def timed(fn):
    """(wall seconds, result) of `fn()`."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def load() -> str:
    """The load averages over 1, 5 and 15 minutes, for a table's load column."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_store():
    """A fresh enterprise 'bench' with its admin and one store: (admin, store)."""
    from yundian.org import services as org_services
    from yundian.org.roles import NodeKind

    _enterprise, admin = org_services.enterprise_bootstrap(
        name="Bench", code="bench", hq_name="HQ", hq_code="B-HQ", admin_username="bench-admin",
        admin_password="bench-password-42", admin_display_name="Bench")
    store = org_services.org_node_create(actor=admin, parent_id=admin.home_id, kind=NodeKind.STORE, name="S",
                                         code="B-S1")
    return admin, store


def per_database(script: str, pg: str | None, args: list[str]) -> list[dict]:
    """Run `script --one <db> args` for SQLite (and PostgreSQL when `pg` is a URL), each in its own process; the
    JSON each prints on its last line."""
    results = []
    for db in ["sqlite"] + (["postgres"] if pg else []):
        cmd = [sys.executable, script, "--one", db, *args] + (["--pg", pg] if pg else [])
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, cwd=Path(script).resolve().parent.parent)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def markdown_table(header: list[str], rows: list[list], right: Collection[int] = ()) -> None:
    """Print a Markdown table; the columns numbered in `right` are right-aligned."""
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def cpu() -> float:
    """CPU seconds of this process (the database's too on SQLite, which runs inside it)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_url(url: str) -> str:
    """A PostgreSQL URL without its database name: postgresql://user@host:port/db -> postgresql://user@host:port."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
