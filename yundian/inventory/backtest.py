"""The replenishment backtest: replay recorded daily sales through velocity and through a fixed min/max.

For every (store warehouse, SKU) with sales in the window, both policies start on the same day with the same
stock and see the same past: the first `warmup` days are history only; min/max is set from that warm-up the
textbook way (ReplenishmentRule docs) and then frozen, while velocity recomputes its order-up-to level from
the moving average at every review. Rows:

- velocity (rule defaults): the live defaults (window 14 days, z = 2.33);
- velocity (stock matched): the largest safety factor whose average stock is no more than min/max's, found by
  bisection, so the two are compared at the same inventory investment;
- min/max (fixed).
"""
from dataclasses import dataclass
from decimal import Decimal

from .replenishment import Policy, SimResult, minmax_from_history, simulate


@dataclass
class Row:
    label: str
    safety_factor: Decimal | None
    series: int
    days: int
    stockout_days: int
    lost_units: int
    sold_units: int
    average_stock: float

    @property
    def fill_rate(self) -> float:
        demand = self.sold_units + self.lost_units
        return self.sold_units / demand if demand else 1.0


def _total(label: str, z: Decimal | None, results: list[SimResult]) -> Row:
    return Row(label, z, len(results), sum(r.days for r in results), sum(r.stockout_days for r in results),
               sum(r.lost_units for r in results), sum(r.sold_units for r in results),
               sum(r.average_stock for r in results) / len(results) if results else 0.0)


def run_backtest(series: list[list[int]], *, warmup: int = 56, base: Policy | None = None) -> list[Row]:
    base = base or Policy()
    series = [s for s in series if len(s) > warmup + base.review_period_days and sum(s[:warmup]) > 0]
    frozen = [minmax_from_history(s[:warmup], base) for s in series]

    def velocity(z: Decimal) -> list[SimResult]:
        policy = Policy(base.lead_time_days, base.review_period_days, z, base.window_days)
        return [simulate(s, start=warmup, policy=policy, method="velocity", initial_stock=f.max_quantity)
                for s, f in zip(series, frozen)]

    minmax = [simulate(s, start=warmup, policy=f, method="minmax", initial_stock=f.max_quantity)
              for s, f in zip(series, frozen)]
    mm_row = _total("min/max (fixed)", None, minmax)
    default_row = _total("velocity (rule defaults)", base.safety_factor, velocity(base.safety_factor))
    # bisection on z: average stock grows with z
    low, high = Decimal("0.00"), Decimal("8.00")
    best = _total("velocity (stock matched)", low, velocity(low))
    if best.average_stock <= mm_row.average_stock:
        while high - low > Decimal("0.01"):
            mid = ((low + high) / 2).quantize(Decimal("0.01"))
            row = _total("velocity (stock matched)", mid, velocity(mid))
            if row.average_stock <= mm_row.average_stock:
                low, best = mid, row
            else:
                high = mid
    return [default_row, best, mm_row]


def format_table(rows: list[Row]) -> str:
    mm = rows[-1]
    head = f"{'policy':<26} {'z':>5} {'series':>6} {'days':>6} {'stock-out days':>14} {'lost units':>10} " \
           f"{'fill rate':>9} {'avg stock':>9} {'stock-outs vs min/max':>21} {'stock vs min/max':>16}"
    lines = [head, "-" * len(head)]
    for r in rows:
        so_ratio = f"{r.stockout_days / mm.stockout_days:.2f}x" if mm.stockout_days else "-"
        st_ratio = f"{r.average_stock / mm.average_stock:.2f}x" if mm.average_stock else "-"
        z = f"{r.safety_factor:.2f}" if r.safety_factor is not None else "-"
        lines.append(f"{r.label:<26} {z:>5} {r.series:>6} {r.days:>6} {r.stockout_days:>14} {r.lost_units:>10} "
                     f"{r.fill_rate:>9.1%} {r.average_stock:>9.1f} {so_ratio:>21} {st_ratio:>16}")
    return "\n".join(lines)
