"""yundian warehouse sync [--rebuild] [--batch-size N] | status | export DIR

sync      bring the DuckDB warehouse up to date with the OLTP database (a progress line per batch)
          --rebuild empties what the sync derives and reads everything again (events stay)
status    when the sync last ran, what waits, rows per table
export    write every warehouse table as Parquet under DIR (one folder per table), for Spark or another engine
"""
import time

from django.core.management.base import BaseCommand, CommandError

from yundian.analytics.sync import source_names, sync_rebuild, sync_run, sync_status
from yundian.core.progress import ProgressLine


class Progress(ProgressLine):
    """The sync's progress: rows per source, the whole run's rate."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.rows: dict[str, int] = {}
        self.started = time.monotonic()
        self.steps = len(source_names())

    def __call__(self, source: str, rows: int) -> None:
        self.rows[source] = self.rows.get(source, 0) + rows
        total = sum(self.rows.values())
        rate = total / max(time.monotonic() - self.started, 1e-6)
        self.show(f"[{self.bar(len(self.rows), self.steps)}] {source:<28} {self.rows[source]:>10,} rows"
                  f"  total {total:>11,}  {rate:>9,.0f} rows/s")


class Command(BaseCommand):
    help = "Sync the analytics warehouse from the OLTP database, show its status or export it as Parquet."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync", "status", "export"])
        parser.add_argument("target", nargs="?", help="export: the folder to write Parquet into")
        parser.add_argument("--rebuild", action="store_true", help="sync: read everything again")
        parser.add_argument("--batch-size", type=int, default=None, help="sync: rows per committed batch")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, action, target=None, rebuild=False, batch_size=None, quiet=False, **options):
        if action == "sync":
            progress = None if quiet else Progress(self.stdout)
            run = sync_rebuild if rebuild else sync_run
            result = run(progress=progress, batch=batch_size)
            if progress:
                progress.done()
            seconds = (result.finished_at - result.started_at).total_seconds()
            self.stdout.write(f"synced {result.total:,} rows in {seconds:.1f} s")
        elif action == "status":
            status = sync_status()
            self.stdout.write(f"last run: {status['last_run'] or 'never'}; changes waiting: {status['pending']}"
                              f" (oldest {status['oldest_pending'] or '-'})")
            for name, count in sorted(status.get("tables", {}).items()):
                self.stdout.write(f"  {name:<26} {count:>12,}")
        else:
            if not target:
                raise CommandError("export needs a folder: yundian warehouse export DIR")
            from yundian.analytics.export import warehouse_export

            for name, rows in warehouse_export(target).items():
                self.stdout.write(f"  {name:<26} {rows:>12,} rows")
