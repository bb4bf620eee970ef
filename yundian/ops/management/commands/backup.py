"""`yundian backup --to DIR`: a consistent copy of the database (SQLite online backup / pg_dump) and the warehouse,
with a manifest of checksums and row counts per table."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database and the warehouse file(s) into a new folder, with a manifest (checksums, row counts)."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, type=Path, help="a new or empty folder")
        parser.add_argument("--database", default="default")

    def handle(self, *args, to, database, **options):
        try:
            manifest = backup(to, using=database)
        except BackupError as exc:
            raise CommandError(str(exc))
        size = sum(meta["bytes"] for meta in manifest["files"].values())
        self.stdout.write(_("Backed up %(tables)d tables, %(rows)d rows (%(vendor)s) and %(files)d file(s), "
                            "%(bytes)d bytes, to %(path)s") % {
            "tables": len(manifest["tables"]), "rows": manifest["rows"], "vendor": manifest["vendor"],
            "files": len(manifest["files"]), "bytes": size, "path": to})
