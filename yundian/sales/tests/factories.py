"""Sales fixtures: the test chain with catalogue and stock (store A and B warehouses, HQ central and virtual)."""
from itertools import count

from yundian.inventory.models import Reservation, StockBalance, StockMove
from yundian.inventory.tests.factories import Stock, level, make_stock, put  # noqa: F401
from yundian.sales import services
from yundian.sales.models import ApprovalRequest, Order, OrderLine, Payment, Refund

_refs = count(1)


def next_ref(prefix: str = "till-1") -> str:
    return f"{prefix}-{next(_refs)}"


def stocked(chain, units: int = 10) -> Stock:
    """Stock with `units` of tee S, tee M and mug in store A, store B, central and virtual."""
    s = make_stock(chain)
    for wh in (s.wh_a, s.wh_b, s.central, s.virtual):
        for sku in (s.cat.tee_s, s.cat.tee_m, s.cat.mug_sku):
            put(s, wh, sku, units)
    return s


def sell(actor, store, lines, *, mode="take_now", pay: str | None = "cash", client_ref: str | None = None, **kwargs):
    """Create an order of (sku, quantity) lines, paid in full by `pay` unless pay is None."""
    payments = [{"method": pay, "client_ref": "p1"}] if pay else []
    return services.order_create(actor=actor, store_id=store.id, mode=mode, client_ref=client_ref or next_ref(),
                                 lines=[{"sku_id": sku.id, "quantity": q} for sku, q in lines],
                                 payments=payments, **kwargs).order


def sales_state() -> tuple:
    """Everything a failed call must leave unchanged: orders, lines, payments, refunds, stock."""
    return (Order.objects.count(), OrderLine.objects.count(), Payment.objects.count(), Refund.objects.count(),
            sorted(StockBalance.objects.values_list("sku_id", "warehouse_id", "on_hand", "reserved")),
            StockMove.objects.count(), Reservation.objects.filter(status="active").count(),
            ApprovalRequest.objects.filter(status__in=["approved", "used"]).count())


def plan(chain, default_rate="0.05", **kwargs):
    """A commission plan at HQ (every store)."""
    from yundian.guides.services import commission_plan_create

    return commission_plan_create(actor=chain.admin, node_id=chain.hq.id, name="Standard", default_rate=default_rate,
                                  **kwargs)


def commission_of(staff) -> int:
    from yundian.guides.models import CommissionBalance

    row = CommissionBalance.objects.filter(guide=staff).first()
    return row.amount if row else 0


def assert_ledgers_clean() -> None:
    from yundian.core.ledgers import ledger_checks

    for name, check in ledger_checks().items():
        mismatches = list(check())
        assert mismatches == [], (name, mismatches[:5])
