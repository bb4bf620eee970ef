"""The demo's suppliers: every catalogue SKU priced by a preferred supplier, opening stock received at those costs
and sold at moving-average cost (the stock ledger's value check holds), draft orders priced from the prices."""
import pytest
from django.db import transaction
from django.db.models import Sum

from yundian.core.ledgers import ledger_checks
from yundian.demo.generators import run_seed, shape
from yundian.inventory.models import PurchaseOrderLine, StockBalance, StockMove, Supplier, SupplierPrice

# the demo always runs on its embedded SQLite: its seed is proven once, in the SQLite run of the suite
pytestmark = [pytest.mark.django_db, pytest.mark.once]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        ctx = run_seed(scale=1, seed=5, code="supl")
        yield ctx
        # rolled back: a seeded enterprise left behind would show in every later test's counts on this worker
        transaction.set_rollback(True)


def test_suppliers_price_every_catalogue_sku_once_preferred(seeded):
    expected = shape(1)
    assert Supplier.objects.filter(enterprise=seeded.enterprise).count() == expected["suppliers"] == 6
    prices = SupplierPrice.objects.filter(enterprise=seeded.enterprise)
    assert prices.count() == expected["supplier_prices"]
    skus = {s.pk for s in seeded.created["skus"]}
    assert set(prices.filter(is_preferred=True).values_list("sku_id", flat=True)) == skus
    assert prices.filter(is_preferred=True).count() == len(skus)
    assert all(cost > 0 for cost in prices.values_list("unit_cost", flat=True))
    assert Supplier.objects.filter(enterprise=seeded.enterprise, prices__isnull=True).count() == 0


def test_opening_stock_carries_its_cost_and_the_ledger_check_holds(seeded):
    balances = StockBalance.objects.filter(warehouse__enterprise=seeded.enterprise, on_hand__gt=0)
    assert balances.filter(value=0).count() == 0
    moves = StockMove.objects.filter(enterprise=seeded.enterprise)
    assert moves.aggregate(v=Sum("value"))["v"] == balances.aggregate(v=Sum("value"))["v"] > 0
    assert moves.filter(kind="sale_issue", value__gte=0).count() == 0  # every sale took cost out
    assert list(ledger_checks()["stock"]()) == []


def test_draft_orders_are_priced_from_the_suppliers_prices(seeded):
    lines = PurchaseOrderLine.objects.filter(order__enterprise=seeded.enterprise, order__supplier__isnull=False)
    assert {l.order.supplier_id for l in lines} == {s.pk for s in seeded.created["suppliers"]}
    for line in lines.select_related("order"):
        price = SupplierPrice.objects.get(supplier_id=line.order.supplier_id, sku_id=line.sku_id)
        assert line.unit_cost == price.unit_cost
