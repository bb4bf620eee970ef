"""`yundian replenishment-backtest`: replay the recorded daily sales of every store warehouse through velocity
replenishment and a fixed min/max, and print stock-out days and average stock for each (see backtest.py)."""
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.inventory.backtest import format_table, run_backtest
from yundian.inventory.models import Warehouse, WarehouseKind
from yundian.inventory.replenishment import Policy
from yundian.inventory.services.replenish import daily_sales
from yundian.org.models import Enterprise


class Command(BaseCommand):
    help = "Backtest velocity replenishment against a fixed min/max on recorded sales; prints a table."

    def add_arguments(self, parser):
        parser.add_argument("--enterprise", default="demo", help="enterprise code (default: demo)")
        parser.add_argument("--days", type=int, default=182, help="days of sales to replay, ending yesterday")
        parser.add_argument("--warmup", type=int, default=56, help="days of history before the first review")
        parser.add_argument("--lead-time", type=int, default=3)
        parser.add_argument("--review-period", type=int, default=7)
        parser.add_argument("--until", default=None, help="replay up to this date (YYYY-MM-DD, exclusive)")
        parser.add_argument("--check", action="store_true",
                            help="exit 1 unless velocity has fewer stock-out days at no more average stock")

    def handle(self, *args, enterprise, days, warmup, lead_time, review_period, until, check, **options):
        found = Enterprise.objects.filter(code=enterprise).first()
        if found is None:
            raise CommandError(_("No enterprise with code %(code)s.") % {"code": enterprise})
        if not 0 < warmup < days <= 3660 or not 0 <= lead_time <= 90 or not 1 <= review_period <= 90:
            raise CommandError(_("Use 0 < warmup < days <= 3660, lead time 0-90, review period 1-90."))
        end = date.fromisoformat(until) if until else timezone.localdate()
        series = []
        for warehouse_id in Warehouse.objects.filter(enterprise=found, kind=WarehouseKind.STORE).order_by("id") \
                .values_list("id", flat=True):
            for _sku, history in sorted(daily_sales(warehouse_id=warehouse_id, days=days, until=end).items()):
                series.append(history)
        if not series:
            raise CommandError(_("No sales recorded in this window."))
        rows = run_backtest(series, warmup=warmup, base=Policy(lead_time_days=lead_time,
                                                               review_period_days=review_period))
        self.stdout.write(_("Replenishment backtest: %(n)d store x SKU series, %(d)d days each (%(w)d warm-up), "
                            "lead time %(l)d, review every %(r)d days")
                          % {"n": rows[0].series, "d": days, "w": warmup, "l": lead_time, "r": review_period})
        self.stdout.write(format_table(rows))
        matched, minmax = rows[1], rows[2]
        wins = matched.stockout_days < minmax.stockout_days and matched.average_stock <= minmax.average_stock
        self.stdout.write(_("Velocity has fewer stock-out days at no more average stock: %(answer)s")
                          % {"answer": _("yes") if wins else _("no")})
        if check and not wins:
            raise SystemExit(1)
