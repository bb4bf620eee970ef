"""`yundian seed --scale N [--seed S] [--enterprise CODE] [--history DAYS [--events]]`: generate an enterprise of any
size (see yundian.demo.generators); `--history` adds that many days of orders, returns and ledgers before today
(generators/history.py), `--events` their storefront and store-visit events for the warehouse.

`--shape` (alias `--dry-run`) prints the rows each given scale would produce and writes nothing:

    yundian seed --shape --scale 1 20 400 [--history 365]
"""
import re
import time

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.core.errors import Conflict
from yundian.core.progress import ProgressLine, format_table  # noqa: F401 (demo.py imports format_table from here)
from yundian.demo import generators

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def shape_table(scales: list[int], history: int = 0) -> str:
    shapes = [generators.shape(s, history=history) for s in scales]
    labels = generators.labels()
    rows = [[str(labels.get(key, key)), *(f"{shape[key]:,}" for shape in shapes)] for key in shapes[0]]
    return format_table([_("scale"), *(str(s) for s in scales)], rows)


MAX_HISTORY_DAYS = 3 * 366


class ProgressBar(ProgressLine):
    """The history's progress: redrawn in place on a terminal, every quarter otherwise."""

    def __init__(self, out):
        super().__init__(out)
        self.shown = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != "days":
            if stage == "writing":
                self.out.write(_("Writing the history to the ledgers..."))
            return
        quarter = 4 * done // total
        if not self.tty and quarter == self.shown:
            return
        self.shown = quarter
        self.show(_("History: [%(bar)s] %(done)s/%(total)s days") % {
            "bar": self.bar(done, total), "done": done, "total": total}, last=done == total)


class Command(BaseCommand):
    help = "Generate a demo enterprise at a scale factor (scale 400 is about 2,000 stores); --shape prints counts only."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, nargs="+", default=[1],
                            help="scale factor(s); several only with --shape")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
        parser.add_argument("--enterprise", default="demo", help="enterprise code; also prefixes every username")
        parser.add_argument("--name", default=None, help="enterprise name (default: generated)")
        parser.add_argument("--password", default=generators.DEFAULT_PASSWORD, help="password of every generated user")
        parser.add_argument("--shape", "--dry-run", action="store_true", dest="shape",
                            help="print the rows each scale would produce, write nothing")
        parser.add_argument("--history", type=int, default=0, metavar="DAYS",
                            help="also write this many days of sales history before today (the demo: 365)")
        parser.add_argument("--events", action="store_true",
                            help="with --history: also load its behaviour events into the warehouse")

    def handle(self, *args, scale, seed, enterprise, name, password, shape, history, events, **options):
        if any(s < 1 for s in scale):
            raise CommandError(_("The scale must be a whole number of at least 1."))
        if history < 0 or history > MAX_HISTORY_DAYS:
            raise CommandError(_("The history is a whole number of days from 0 to %(max)s.") % {"max": MAX_HISTORY_DAYS})
        if shape:
            self.stdout.write(shape_table(scale, history))
            return
        if len(scale) != 1:
            raise CommandError(_("Give one scale to write (several only with --shape)."))
        if not CODE_RE.match(enterprise):
            raise CommandError(_("Enterprise codes are 1 to 32 lower-case letters, digits, '-' or '_'."))
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages))
        started = time.perf_counter()
        try:
            ctx = generators.run_seed(scale=scale[0], seed=seed, code=enterprise, password=password,
                                      enterprise_name=name, history=history, events=events,
                                      progress=ProgressBar(self.stdout) if history else None)
        except Conflict as exc:
            raise CommandError(str(exc.message))
        elapsed = time.perf_counter() - started
        labels = generators.labels()
        rows = [[str(labels.get(key, key)), f"{n:,}"] for key, n in ctx.counts.items()]
        self.stdout.write(format_table([_("enterprise %(code)s") % {"code": enterprise}, _("rows")], rows))
        self.stdout.write(_("Seeded scale %(scale)s (seed %(seed)s) in %(seconds).1f s.")
                          % {"scale": scale[0], "seed": seed, "seconds": elapsed})
