"""yundian events import FILE [--enterprise CODE] [--batch-size N]

import    load behaviour events from a JSON-lines (.jsonl) or Parquet file into the warehouse, with a progress line;
          the file is checked first (a bad record changes nothing) and events already there are skipped
"""
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.cdp.imports import ImportRefused, events_import
from yundian.core.progress import ProgressLine
from yundian.org.models import Enterprise


class Command(BaseCommand):
    help = "Load behaviour events from a JSON-lines or Parquet file into the warehouse."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import"])
        parser.add_argument("file")
        parser.add_argument("--enterprise", help="the enterprise code, for files without enterprise_id")
        parser.add_argument("--batch-size", type=int, default=100_000)
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, action, file, enterprise=None, batch_size=100_000, quiet=False, **options):
        enterprise_id = None
        if enterprise:
            enterprise_id = Enterprise.objects.filter(code=enterprise).values_list("pk", flat=True).first()
            if enterprise_id is None:
                raise CommandError(_("No enterprise has the code %(code)r.") % {"code": enterprise})
        if batch_size < 1:
            raise CommandError(_("--batch-size is at least 1."))
        started = time.monotonic()
        line = ProgressLine(self.stdout)

        def progress(done: int, total: int) -> None:
            if not quiet:
                rate = done / max(time.monotonic() - started, 1e-6)
                line.show(_("[%(bar)s] %(done)s / %(total)s events  %(rate)s events/s") % {
                    "bar": line.bar(done, total), "done": f"{done:>12,}", "total": f"{total:,}", "rate": f"{rate:>10,.0f}"})

        try:
            read, kept = events_import(file, enterprise_id=enterprise_id, batch_size=batch_size, progress=progress)
        except ImportRefused as exc:
            raise CommandError(_("%(file)s: %(reason)s; nothing was loaded.") % {"file": file, "reason": exc}) from None
        except FileNotFoundError:
            raise CommandError(_("%(file)s: no such file.") % {"file": file}) from None
        if not quiet:
            line.done()
        self.stdout.write(_("Read %(read)s events, kept %(kept)s new (%(old)s already there) in %(seconds)s s.") % {
            "read": f"{read:,}", "kept": f"{kept:,}", "old": f"{read - kept:,}",
            "seconds": f"{time.monotonic() - started:.1f}"})
