"""Ledger checks for `yundian check-ledgers`.

stock:         for every (sku, warehouse): sum(StockMove.quantity) == on_hand,
               sum(StockMove.reserved_delta) == reserved and sum(StockMove.value) == value (one GROUP BY).
reservations:  for every (sku, warehouse): the active Reservation rows add up to reserved.
"""
from collections.abc import Iterator

from django.db.models import Sum

from yundian.core.ledgers import LedgerMismatch, compare_sums, register_ledger_check

from .models import Reservation, ReservationStatus, StockBalance, StockMove


def _key(sku_id: int, warehouse_id: int) -> str:
    return f"sku={sku_id} warehouse={warehouse_id}"


@register_ledger_check("stock")
def check_stock() -> Iterator[LedgerMismatch]:
    sums = StockMove.objects.values("sku_id", "warehouse_id").annotate(q=Sum("quantity"), r=Sum("reserved_delta"),
                                                                        v=Sum("value"))
    on_hand_sums, reserved_sums, value_sums = {}, {}, {}
    for row in sums.order_by():
        key = _key(row["sku_id"], row["warehouse_id"])
        on_hand_sums[key], reserved_sums[key], value_sums[key] = row["q"], row["r"], row["v"]
    on_hand, reserved, value = {}, {}, {}
    for sku_id, warehouse_id, q, r, v in StockBalance.objects.values_list("sku_id", "warehouse_id", "on_hand",
                                                                          "reserved", "value"):
        key = _key(sku_id, warehouse_id)
        on_hand[key], reserved[key], value[key] = q, r, v
    yield from compare_sums("stock on_hand", on_hand_sums, on_hand)
    yield from compare_sums("stock reserved", reserved_sums, reserved)
    yield from compare_sums("stock value", value_sums, value)


@register_ledger_check("reservations")
def check_reservations() -> Iterator[LedgerMismatch]:
    sums = {_key(r["sku_id"], r["warehouse_id"]): r["n"] for r in
            Reservation.objects.filter(status=ReservationStatus.ACTIVE).values("sku_id", "warehouse_id")
            .annotate(n=Sum("quantity")).order_by()}
    balances = {_key(s, w): r for s, w, r in StockBalance.objects.values_list("sku_id", "warehouse_id", "reserved")}
    yield from compare_sums("reservations", sums, balances)
