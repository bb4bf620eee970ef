"""yundian diagnose [--enterprise CODE] [--day YYYY-MM-DD] [--window 14] [--explain]

Diagnose every store and region now (what the scheduler runs each night): each KPI against its forecast, the
significant deviations explained and routed to the person who owns the driver, kept as findings (a rerun of the
same window adds none twice), earlier findings followed up. A progress line shows the steps; --explain prints each
finding with its numbers and owner.
"""
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yundian.core.progress import ProgressLine


class Command(BaseCommand):
    help = "Diagnose every store and region: KPIs against their forecasts, deviations explained and routed."

    def add_arguments(self, parser):
        parser.add_argument("--enterprise", help="the enterprise code (default: every enterprise)")
        parser.add_argument("--day", help="the window's last day, YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--window", type=int, default=14, help="days in the window (default 14)")
        parser.add_argument("--explain", action="store_true", help="print every finding with its numbers")

    def handle(self, *args, enterprise=None, day=None, window=14, explain=False, **options):
        from yundian.analytics.diagnosis_services import diagnosis_run
        from yundian.analytics.models import Finding
        from yundian.org.models import Enterprise

        if not 7 <= window <= 56:
            raise CommandError(_("--window is 7 to 56 days."))
        try:
            last = date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(_("--day %(value)r is not a date (YYYY-MM-DD).") % {"value": day}) from None
        enterprises = Enterprise.objects.order_by("id")
        if enterprise:
            enterprises = enterprises.filter(code=enterprise)
            if not enterprises.exists():
                raise CommandError(_("No enterprise has the code %(code)r.") % {"code": enterprise})
        line = ProgressLine(self.stdout)
        for ent in enterprises:
            def progress(done, total, ent=ent):
                line.show(_("%(enterprise)s: diagnosing [%(bar)s] %(done)s/%(total)s") % {
                    "enterprise": ent.code, "bar": ProgressLine.bar(done, total), "done": done, "total": total},
                    last=done == total)
            result = diagnosis_run(enterprise_id=ent.pk, day=last, window=window, progress=progress)
            run = result.run
            self.stdout.write(_("%(enterprise)s: %(from)s – %(until)s, %(stores)s stores and %(regions)s regions, "
                                "%(series)s KPI series, %(new)s new findings (%(old)s already known), %(checked)s "
                                "followed up, in %(seconds).1f s.") % {
                "enterprise": ent.code, "from": run.window_start, "until": run.window_end, "stores": run.stores,
                "regions": run.regions, "series": run.series, "new": len(result.created), "old": result.existing,
                "checked": result.checked, "seconds": run.seconds})
            if explain:
                findings = (Finding.objects.filter(enterprise=ent, window_end=run.window_end)
                            .select_related("node", "owner", "category", "guide").order_by("node__path", "id"))
                self._explain(list(findings))

    def _explain(self, findings) -> None:
        from yundian.analytics.diagnosis_text import explanation_lines, headline, owner_text

        if not findings:
            self.stdout.write(_("No finding: every KPI is inside its forecast band."))
        for number, finding in enumerate(findings, 1):
            self.stdout.write("")
            self.stdout.write(f"{number}. {headline(finding)}")
            for text in explanation_lines(finding):
                self.stdout.write(f"   {text}")
            self.stdout.write("   → " + owner_text(finding) + (f" ({finding.task_ref})" if finding.task_ref else ""))
