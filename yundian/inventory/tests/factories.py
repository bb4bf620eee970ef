"""Stock fixtures built through the services: a central and a virtual warehouse at HQ, one warehouse per store."""
from dataclasses import dataclass

from django.core.management import call_command

from yundian.catalog.tests.factories import Catalogue, make_catalogue
from yundian.inventory.models import StockBalance, StockMove, Warehouse
from yundian.inventory.services import receipt_create, warehouse_create
from yundian.org.tests.factories import Chain


@dataclass
class Stock:
    chain: Chain
    cat: Catalogue
    central: Warehouse
    virtual: Warehouse
    wh_a: Warehouse
    wh_b: Warehouse


def make_stock(chain: Chain) -> Stock:
    admin = chain.admin
    cat = make_catalogue(chain)
    central = warehouse_create(actor=admin, node_id=chain.hq.id, kind="central", code="CW-1", name="Central")
    virtual = warehouse_create(actor=admin, node_id=chain.hq.id, kind="virtual", code="VW-1", name="Online")
    wh_a = warehouse_create(actor=admin, node_id=chain.store_a.id, kind="store", code="WH-A", name="Store A")
    wh_b = warehouse_create(actor=admin, node_id=chain.store_b.id, kind="store", code="WH-B", name="Store B")
    return Stock(chain, cat, central, virtual, wh_a, wh_b)


def put(stock: Stock, warehouse: Warehouse, sku, quantity: int) -> None:
    """Receive `quantity` units (no order) as HQ."""
    receipt_create(actor=stock.chain.admin, warehouse_id=warehouse.id, lines=[(sku.id, quantity)])


def costed(warehouse: Warehouse, sku) -> tuple[int, int, int]:
    """(on hand, stock value in fen, average unit cost in fen) of one row; zeros without a row."""
    row = StockBalance.objects.filter(warehouse=warehouse, sku=sku).first()
    return (row.on_hand, row.value, row.average_cost) if row else (0, 0, 0)


def level(warehouse: Warehouse, sku) -> tuple[int, int]:
    """(on hand, reserved) of one row; (0, 0) without a row."""
    row = StockBalance.objects.filter(warehouse=warehouse, sku=sku).values_list("on_hand", "reserved").first()
    return row or (0, 0)


def state() -> tuple:
    """Everything a failed call must leave unchanged: all balances and the ledger length."""
    return (sorted(StockBalance.objects.values_list("sku_id", "warehouse_id", "on_hand", "reserved", "value")),
            StockMove.objects.count())


def assert_ledgers_clean() -> None:
    from yundian.core.ledgers import ledger_checks

    for name, check in ledger_checks().items():
        mismatches = list(check())
        assert mismatches == [], (name, mismatches[:5])
    call_command("check_ledgers", "--only", "stock", "--only", "reservations")
