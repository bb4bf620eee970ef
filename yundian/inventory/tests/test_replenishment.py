"""Replenishment: the maths, live suggestions, the scheduled run, and the backtest on the demo's seeded sales."""
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from yundian.inventory import replenishment as maths
from yundian.inventory.models import MoveKind, PurchaseOrder, ReplenishmentRule, StockMove
from yundian.inventory.services.replenish import daily_sales, replenishment_run, replenishment_suggest

from .factories import assert_ledgers_clean, make_stock, put


def test_velocity_orders_up_to_cover_lead_time_and_review_period_plus_safety_stock():
    history = [4, 6] * 7  # mean 5, sample sd sqrt(14/13)
    policy = maths.Policy(lead_time_days=3, review_period_days=7, safety_factor=Decimal("2.00"), window_days=14)
    target = maths.velocity_target(history, policy)
    sd = (14 / 13) ** 0.5
    assert target == __import__("math").ceil(5 * 10 + 2 * sd * (10 + 100 / 14) ** 0.5)
    assert maths.suggest(history, 20, policy) == ("velocity", target - 20)
    assert maths.suggest(history, target + 5, policy) == ("velocity", 0)


def test_without_enough_history_min_max_is_the_fallback():
    policy = maths.Policy(min_quantity=10, max_quantity=30)
    assert maths.suggest([3] * 5, 10, policy) == ("minmax", 20)
    assert maths.suggest([3] * 5, 11, policy) == ("minmax", 0)


def test_simulation_counts_stockout_days_and_average_stock():
    policy = maths.Policy(lead_time_days=1, review_period_days=2, min_quantity=0, max_quantity=4)
    result = maths.simulate([0, 3, 3, 3, 3], start=1, policy=policy, method="minmax", initial_stock=2)
    # day 1: review, position 2 > min 0: no order; sells 2 of 3 (stock-out). day 2: sells 0 of 3 (stock-out).
    # day 3: review, position 0 <= 0: order 4, due day 4; sells 0 of 3 (stock-out). day 4: 4 arrive, sells 3, 1 left
    assert (result.days, result.stockout_days, result.lost_units, result.sold_units, result.orders) == (4, 3, 7, 5, 1)
    assert result.average_stock == 0.25


def _sell_history(stock, warehouse, sku, per_day: list[int]):
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    moves = []
    for i, units in enumerate(per_day):
        day = today - timedelta(days=len(per_day) - i)
        if units:
            moves.append(StockMove(enterprise_id=warehouse.enterprise_id, sku=sku, warehouse=warehouse,
                                   kind=MoveKind.SALE_ISSUE, quantity=-units, source_type="test", source_id=str(i),
                                   occurred_at=timezone.make_aware(datetime.combine(day, time(12)), tz)))
    StockMove.objects.bulk_create(moves)


@pytest.mark.django_db
def test_daily_sales_buckets_by_local_day_with_zero_days():
    from yundian.org.tests.factories import make_chain

    stock = make_stock(make_chain())
    _sell_history(stock, stock.wh_a, stock.cat.tee_s, [1, 0, 3])
    sales = daily_sales(warehouse_id=stock.wh_a.id, days=5, until=timezone.localdate())
    assert sales == {stock.cat.tee_s.id: [0, 0, 1, 0, 3]}


@pytest.mark.django_db
def test_suggestions_and_the_scheduled_run_draft_one_order_per_source_once(chain):
    stock = make_stock(chain)
    tee, mug = stock.cat.tee_s, stock.cat.mug_sku
    put(stock, stock.wh_a, tee, 5)
    put(stock, stock.wh_a, mug, 2)
    ReplenishmentRule.objects.create(enterprise_id=chain.admin.enterprise_id, warehouse=stock.wh_a, sku=tee,
                                     source_warehouse=stock.central, safety_factor=Decimal("0"))
    ReplenishmentRule.objects.create(enterprise_id=chain.admin.enterprise_id, warehouse=stock.wh_a, sku=mug,
                                     min_quantity=3, max_quantity=10)
    _sell_history(stock, stock.wh_a, tee, [2] * 28)  # steady 2 a day -> cover 10 days = 20
    suggestions = {s.sku_id: s for s in replenishment_suggest(actor=chain.manager_a, warehouse_id=stock.wh_a.id)}
    assert (suggestions[tee.id].method, suggestions[tee.id].quantity) == ("velocity", 15)
    assert (suggestions[mug.id].method, suggestions[mug.id].quantity) == ("minmax", 8)
    orders = replenishment_run(enterprise_id=chain.admin.enterprise_id)
    assert len(orders) == 1  # both from the central warehouse (the mug rule's default source)
    order = orders[0]
    assert (order.status, order.origin, order.source_warehouse_id) == ("draft", "replenishment", stock.central.id)
    assert sorted(order.lines.values_list("sku_id", "quantity")) == sorted([(tee.id, 15), (mug.id, 8)])
    assert replenishment_run(enterprise_id=chain.admin.enterprise_id) == []  # drafts count as on order
    assert PurchaseOrder.objects.count() == 1


@pytest.mark.django_db
def test_backtest_on_the_demo_seeded_sales_velocity_has_fewer_stockouts_at_no_more_stock(monkeypatch):
    from yundian.demo import generators
    from yundian.demo.generators import org, stock

    # only the steps the sales history depends on: the stock step draws the same series with or without the
    # other steps (its own random stream; the stores come from the org step)
    monkeypatch.setattr(generators, "STEPS", lambda: [org.step, stock.step])
    generators.run_seed(scale=1, seed=1, code="demo")
    assert_ledgers_clean()
    out = StringIO()
    call_command("replenishment_backtest", "--check", stdout=out)
    text = out.getvalue()
    rows = {line.split("  ")[0]: line.split() for line in text.splitlines() if line.startswith(("velocity", "min/max"))}
    matched, minmax = rows["velocity (stock matched)"], rows["min/max (fixed)"]
    # columns from the right: stock-out days, lost units, fill rate, avg stock, two ratios
    assert int(matched[-6]) < int(minmax[-6])
    assert float(matched[-3]) <= float(minmax[-3])
    assert "72" in matched


def test_inventory_tasks_are_on_the_schedule():
    from yundian.core.scheduler import SCHEDULE

    names = {(name, period) for name, period, _at in SCHEDULE if name.startswith("yundian.inventory.")}
    assert names == {("yundian.inventory.tasks.replenishment_nightly", "daily"),
                     ("yundian.inventory.tasks.reservations_expire_task", "hourly")}


@pytest.mark.django_db
def test_the_nightly_task_drafts_orders_and_a_rerun_drafts_nothing(chain):
    from yundian.inventory.tasks import replenishment_nightly

    stock = make_stock(chain)
    ReplenishmentRule.objects.create(enterprise_id=chain.admin.enterprise_id, warehouse=stock.wh_b,
                                     sku=stock.cat.mug_sku, min_quantity=2, max_quantity=12)
    assert replenishment_nightly.call() == 1
    assert replenishment_nightly.call() == 0
    order = PurchaseOrder.objects.get()
    assert (order.warehouse_id, order.source_warehouse_id, list(order.lines.values_list("quantity", flat=True))) == (
        stock.wh_b.id, stock.central.id, [12])
