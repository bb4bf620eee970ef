"""`yundian webhooks worker [--once] [--batch N] [--idle S]`: dispatch the outbox into webhook deliveries and deliver
what is due (what the minute's task does), in a loop until stopped, one line per round. Several may run at once."""
import time

from django.core.management.base import BaseCommand

from yundian.core.worker import run_rounds
from yundian.integrations.webhooks_delivery import deliver_due
from yundian.integrations.webhooks_events import dispatch


class Command(BaseCommand):
    help = "Deliver webhooks: turn new outbox rows into deliveries and POST the due ones, signed."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["worker"])
        parser.add_argument("--once", action="store_true", help="stop when nothing is due")
        parser.add_argument("--batch", type=int, default=100)
        parser.add_argument("--idle", type=float, default=0.5, help="seconds to sleep when nothing is due")
        parser.add_argument("--hold-after-sending", type=float, default=0.0,
                            help="(crash tests) sleep this long after a batch's POSTs, before they are recorded")

    def handle(self, *args, **options):
        hold = options["hold_after_sending"]

        def on_sent(results):
            if hold:
                self.stdout.write(f"sent {len(results)}", ending="\n")
                self.stdout.flush()
                time.sleep(hold)

        def round_once():
            created = dispatch()
            outcome = deliver_due(limit=options["batch"], on_sent=on_sent)
            return bool(created or outcome.claimed), (
                f"events {created} claimed {outcome.claimed} delivered {outcome.delivered} "
                f"retried {outcome.retried} dead {outcome.dead}")

        run_rounds(round_once, out=self.stdout, err=self.stderr, once=options["once"], idle=options["idle"])
