"""yundian events import FILE [--enterprise CODE] [--batch-size N]

import    load behaviour events from a JSON-lines (.jsonl) or Parquet file into the warehouse, with a progress line;
          the file is checked first (a bad record changes nothing) and events already there are skipped
"""
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from yundian.cdp.imports import ImportRefused, events_import
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
                raise CommandError(f"no enterprise with the code {enterprise!r}")
        if batch_size < 1:
            raise CommandError("--batch-size is at least 1")
        started = time.monotonic()
        tty = sys.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if quiet:
                return
            width = 30
            filled = int(width * done / max(total, 1))
            rate = done / max(time.monotonic() - started, 1e-6)
            line = f"[{'#' * filled}{'.' * (width - filled)}] {done:>12,} / {total:,} events  {rate:>10,.0f} events/s"
            self.stdout.write(("\r" + line) if tty else line, ending="" if tty else "\n")
            self.stdout.flush()

        try:
            read, kept = events_import(file, enterprise_id=enterprise_id, batch_size=batch_size, progress=progress)
        except ImportRefused as exc:
            raise CommandError(f"{file}: {exc}; nothing was loaded") from None
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file") from None
        if tty and not quiet:
            self.stdout.write("")
        self.stdout.write(f"read {read:,} events, kept {kept:,} new ({read - kept:,} already there) "
                          f"in {time.monotonic() - started:.1f} s")
