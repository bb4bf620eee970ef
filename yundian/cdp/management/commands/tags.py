"""yundian tags refresh [--enterprise CODE] [--quiet]

refresh   recompute RFM scores and groups, lifecycle stages, preferred store and category, price band and every
          rule tag in the warehouse and write the differences back (with history), with a progress line
"""
import time

from django.core.management.base import BaseCommand, CommandError

from yundian.cdp.tag_refresh import tags_refresh_run
from yundian.core.progress import ProgressLine
from yundian.org.models import Enterprise


class Command(BaseCommand):
    help = "Refresh rule and computed tags (RFM, lifecycle, preferences) from the warehouse."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh"])
        parser.add_argument("--enterprise", help="the enterprise code (default: every enterprise)")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, action, enterprise=None, quiet=False, **options):
        enterprises = Enterprise.objects.order_by("id")
        if enterprise:
            enterprises = enterprises.filter(code=enterprise)
            if not enterprises.exists():
                raise CommandError(f"no enterprise with the code {enterprise!r}")
        for ent in enterprises:
            started = time.monotonic()
            line = ProgressLine(self.stdout)

            def progress(step: str, done: int, total: int) -> None:
                if not quiet:
                    line.show(f"{ent.code} [{line.bar(done, total)}] {done}/{total} {step:<24}")

            result = tags_refresh_run(ent.id, progress=progress)
            if not quiet:
                line.done()
            self.stdout.write(f"{ent.code}: {result.members:,} members, {result.scores_written:,} scores written, "
                              f"{result.gained:,} tags gained, {result.lost:,} lost in "
                              f"{time.monotonic() - started:.1f} s")
