"""`yundian journeys run [--once] [--batch N]`: read triggers and step due enrolments (what the minute's task
does), in a loop until stopped, printing one line per batch. Several may run at once."""
import time

from django.core.management.base import BaseCommand

from yundian.journeys.runner import step_due
from yundian.journeys.triggers import scan_all


class Command(BaseCommand):
    help = "Run journeys: read triggers and step the enrolments that are due."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run"])
        parser.add_argument("--once", action="store_true", help="stop when nothing is due")
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--idle", type=float, default=1.0, help="seconds to sleep when nothing is due")

    def handle(self, *args, **options):
        while True:
            enrolled = scan_all()
            steps = step_due(limit=options["batch"])
            self.stdout.write(f"enrolled {enrolled} steps {steps}", ending="\n")
            self.stdout.flush()
            if not steps and not enrolled:
                if options["once"]:
                    return
                time.sleep(options["idle"])
