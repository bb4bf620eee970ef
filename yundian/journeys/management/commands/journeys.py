"""`yundian journeys run [--once] [--batch N]`: read triggers and step due enrolments (what the minute's task
does), in a loop until stopped, printing one line per batch. Several may run at once."""
import time

from django.core.management.base import BaseCommand
from django.db import OperationalError

from yundian.journeys.runner import step_due
from yundian.journeys.triggers import scan_all


class Command(BaseCommand):
    help = "Run journeys: read triggers and step the enrolments that are due."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--once", action="store_true", help="stop when nothing is due")
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--idle", type=float, default=1.0, help="seconds to sleep when nothing is due")
        parser.add_argument("--hold-after-acting", type=float, default=0.0,
                            help="(crash tests) sleep this long after a hop's actions, before it is recorded")

    def handle(self, *args, **options):
        hold = options["hold_after_acting"]

        def on_hop(phase, rows):
            if hold and phase == "acted":
                self.stdout.write(f"acted {len(rows)} at {rows[0].node}", ending="\n")
                self.stdout.flush()
                time.sleep(hold)

        while True:
            try:
                enrolled = scan_all()
                steps = step_due(limit=options["batch"], on_hop=on_hop)
            except OperationalError as e:  # SQLite busy beyond its timeout: nothing was lost, try again
                self.stderr.write(f"database busy ({e}); retrying")
                time.sleep(options["idle"])
                continue
            self.stdout.write(f"enrolled {enrolled} steps {steps}", ending="\n")
            self.stdout.flush()
            if not steps and not enrolled:
                if options["once"]:
                    return
                time.sleep(options["idle"])
