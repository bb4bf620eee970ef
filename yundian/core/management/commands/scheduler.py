"""`yundian scheduler [--once] [--interval 30]`: enqueue due periodic tasks (yundian.core.scheduler.SCHEDULE).

Safe to run several at once or to restart at any time: each (task, period) is enqueued exactly once.
"""
import signal
import time

from django.core.management.base import BaseCommand
from django.db import OperationalError, close_old_connections
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core import scheduler


class Command(BaseCommand):
    help = "Enqueue due periodic tasks, once per period even with several schedulers; --once runs one tick."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one tick and exit (for cron)")
        parser.add_argument("--interval", type=float, default=30.0, help="seconds between ticks (default 30)")

    def handle(self, *args, once, interval, **options):
        for _name, period, at in scheduler.SCHEDULE:  # fail fast on a malformed entry
            scheduler.due_period(period, at, timezone.now())
        if once:
            self.tick()
            return
        self.running = True

        def stop(signum, frame):
            self.running = False

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        if options["verbosity"] > 0:
            self.stdout.write(_("Scheduler started: %(count)d periodic task(s), a tick every %(seconds)s s.")
                              % {"count": len(scheduler.SCHEDULE), "seconds": interval})
        while self.running:
            close_old_connections()
            try:
                self.tick()
            except OperationalError as exc:  # e.g. SQLite busy; the next tick tries again
                self.stderr.write(f"scheduler: {exc}")
            deadline = time.monotonic() + interval
            while self.running and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))

    def tick(self) -> None:
        for run in scheduler.run_due():
            self.stdout.write(_("Enqueued %(task)s for %(period)s") % {"task": run.task_name, "period": run.period_key})
