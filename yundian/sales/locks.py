"""The only place sales rows are locked. Orders come first in the global order (orders -> inventory -> members ->
commissions): a service that changes an order locks its row before it touches stock, members or commission."""
from yundian.core.locking import lock_one, lock_rows

from .models import ApprovalRequest, ManagerPin, Order, Payment, ShiftStatus, TillShift


def lock_order(order_id: int) -> Order | None:
    return lock_one(Order.objects.filter(pk=order_id))


def lock_payments(order: Order) -> list[Payment]:
    """The order's payments in pk order (the caller already holds the order lock)."""
    return lock_rows(Payment.objects.filter(order=order))


def lock_approval(approval_id: int) -> ApprovalRequest | None:
    return lock_one(ApprovalRequest.objects.filter(pk=approval_id))


def lock_pin(staff_id: int) -> ManagerPin | None:
    return lock_one(ManagerPin.objects.filter(staff_id=staff_id))


def lock_shift(shift_id: int) -> TillShift | None:
    return lock_one(TillShift.objects.filter(pk=shift_id))


def lock_open_shift(store_id: int, staff_id: int) -> TillShift | None:
    """The clerk's open shift at the store (at most one), locked; None if none is open."""
    return lock_one(TillShift.objects.filter(store_id=store_id, opened_by_id=staff_id, status=ShiftStatus.OPEN))


def lock_shifts_opened(store_id: int, start, end) -> list[TillShift]:
    """The store's shifts opened in [start, end), locked in pk order."""
    return lock_rows(TillShift.objects.filter(store_id=store_id, opened_at__gte=start, opened_at__lt=end))
