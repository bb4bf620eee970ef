"""`yundian check-ledgers`: prove sum(ledger) == balance for every balance row of every ledger; exit 1 on any mismatch."""
import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from yundian.core.ledgers import ledger_checks


class Command(BaseCommand):
    help = "Prove that every ledger's entries add up to its balances; exits non-zero on any mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--only", action="append", default=[], help="check only these ledgers (repeatable)")
        parser.add_argument("--max-report", type=int, default=50)

    def handle(self, *args, only, max_report, **options):
        checks = ledger_checks()
        unknown = set(only) - set(checks)
        if unknown:
            self.stderr.write(_("Unknown ledger: %(names)s") % {"names": ", ".join(sorted(unknown))})
            sys.exit(2)
        failed = 0
        for name, check in checks.items():
            if only and name not in only:
                continue
            mismatches = list(check())
            if mismatches:
                failed += len(mismatches)
                self.stdout.write(f"{name}: {len(mismatches)} mismatch(es)")
                for m in mismatches[:max_report]:
                    self.stdout.write(f"  {m}")
            else:
                self.stdout.write(f"{name}: ok")
        if not checks:
            self.stdout.write(_("No ledgers registered."))
        if failed:
            sys.exit(1)
