"""`yundian restore --from DIR`: restore a backup made by `yundian backup` into an empty database, checking every
checksum before and every table's row count after."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup folder into an empty database (and the warehouse file(s) into YUNDIAN_DATA)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, type=Path, help="a folder made by `yundian backup`")
        parser.add_argument("--database", default="default")

    def handle(self, *args, source, database, **options):
        try:
            report = restore(source, using=database)
        except BackupError as exc:
            raise CommandError(str(exc))
        self.stdout.write(_("Restored %(tables)d tables, %(rows)d rows and %(files)d warehouse file(s); row counts "
                            "match the manifest.") % {"tables": report.tables, "rows": report.rows,
                                                      "files": len(report.files)})
