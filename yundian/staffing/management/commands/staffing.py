"""yundian staffing backtest [--enterprise demo] [--weeks 2] [--time-limit 10] | plan [--week YYYY-MM-DD]

backtest  on the last complete weeks of history: the plan (made on the forecast) and a fixed schedule, both scored
          against the need the real customers called for: hours under and over per store, cost (a table)
plan      plan the coming (or given) week for every region of the enterprise (forecast -> need -> CP-SAT)
"""
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.core.money import Money
from yundian.core.progress import ProgressLine, format_table
from yundian.org.models import Enterprise, OrgNode
from yundian.org.roles import NodeKind

from yundian.staffing import backtest, services


class Progress(ProgressLine):
    def __call__(self, stage: str, done: int, total: int) -> None:
        self.show(f"[{self.bar(done, total)}] {stage:<10} {done}/{total}", last=done == total)


def yuan(fen: int) -> str:
    return Money(fen, "CNY").format()


class Command(BaseCommand):
    help = "Backtest the shift plan against a fixed schedule on the history, or plan the coming week."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["backtest", "plan"])
        parser.add_argument("--enterprise", default="demo")
        parser.add_argument("--weeks", type=int, default=2)
        parser.add_argument("--week", default=None, help="plan: a day of the week to plan (default: next week)")
        parser.add_argument("--time-limit", type=float, default=10.0, help="seconds the solver may take a region")

    def handle(self, *args, action, enterprise, weeks, week, time_limit, **options):
        chain = Enterprise.objects.filter(code=enterprise).first()
        if chain is None:
            raise CommandError(_("No enterprise with the code %(code)s.") % {"code": enterprise})
        if action == "backtest":
            self.backtest(chain, weeks, time_limit)
        else:
            self.plan(chain, week, time_limit)

    def backtest(self, chain, weeks, time_limit):
        if not 1 <= weeks <= 12:
            raise CommandError(_("Backtest 1 to 12 weeks."))
        progress = Progress(self.stdout)
        result = backtest.run(enterprise=chain, weeks=weeks, time_limit=time_limit, progress=progress)
        if not result.weeks:
            raise CommandError(_("The warehouse has no sales history for this enterprise (run `yundian warehouse sync`)."))
        header = [_("store"), _("needed h"), _("plan h"), _("plan short"), _("plan over"), _("plan cost"),
                  _("fixed h"), _("fixed short"), _("fixed over"), _("fixed cost"), _("forecast MAE")]
        rows = [[s.store, str(s.needed), str(s.plan_hours), str(s.plan_short), str(s.plan_over), yuan(s.plan_cost),
                 str(s.fixed_hours), str(s.fixed_short), str(s.fixed_over), yuan(s.fixed_cost),
                 f"{s.forecast_error:.2f}"] for s in result.stores]
        t = result.total()
        rows.append([_("total"), str(t.needed), str(t.plan_hours), str(t.plan_short), str(t.plan_over),
                     yuan(t.plan_cost), str(t.fixed_hours), str(t.fixed_short), str(t.fixed_over), yuan(t.fixed_cost),
                     ""])
        self.stdout.write(_("Weeks of %(weeks)s; staff-hours; short and over against the need real customers "
                            "called for.") % {"weeks": ", ".join(w.isoformat() for w in result.weeks)})
        self.stdout.write(format_table(header, rows, align="l" + "r" * 10))
        self.stdout.write(_("Solver: %(seconds).1f s in all (%(statuses)s).")
                          % {"seconds": result.solve_seconds,
                             "statuses": ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))})

    def plan(self, chain, week, time_limit):
        try:
            day = date.fromisoformat(week) if week else timezone.localdate() + timedelta(days=7)
        except ValueError:
            raise CommandError(_("Give the week as a date, YYYY-MM-DD."))
        regions = OrgNode.objects.filter(enterprise=chain, kind=NodeKind.STORE, is_active=True) \
            .values_list("parent_id", flat=True).distinct()
        rows = []
        for node in OrgNode.objects.filter(pk__in=set(regions)).order_by("path"):
            plan = services.plan_week(actor=None, node=node, week_start=day, time_limit=time_limit)
            rows.append([node.name, plan.solver_status, str(plan.hours_needed), str(plan.hours_planned),
                         str(plan.hours_short), str(plan.hours_over), yuan(plan.cost), yuan(plan.fixed_cost)])
        self.stdout.write(format_table([_("planned for"), _("solver"), _("needed h"), _("plan h"), _("short"),
                                        _("over"), _("cost"), _("fixed cost")], rows, align="ll" + "r" * 6))
