"""`yundian journeys run [--once] [--batch N]`: read triggers and step due enrolments (what the minute's task
does), in a loop until stopped, printing one line per batch. Several may run at once."""
import time

from django.core.management.base import BaseCommand

from yundian.core.worker import run_rounds
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

        def round_once():
            enrolled = scan_all()
            steps = step_due(limit=options["batch"], on_hop=on_hop)
            return bool(steps or enrolled), f"enrolled {enrolled} steps {steps}"

        run_rounds(round_once, out=self.stdout, err=self.stderr, once=options["once"], idle=options["idle"],
                   echo_idle=True)
