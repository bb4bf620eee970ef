"""The only place sales rows are locked. Orders come first in the global order (orders -> inventory -> members ->
commissions): a service that changes an order locks its row before it touches stock, members or commission."""
from yundian.core.locking import lock_one, lock_rows

from .models import ApprovalRequest, ManagerPin, Order, Payment


def lock_order(order_id: int) -> Order | None:
    return lock_one(Order.objects.filter(pk=order_id))


def lock_payments(order: Order) -> list[Payment]:
    """The order's payments in pk order (the caller already holds the order lock)."""
    return lock_rows(Payment.objects.filter(order=order))


def lock_approval(approval_id: int) -> ApprovalRequest | None:
    return lock_one(ApprovalRequest.objects.filter(pk=approval_id))


def lock_pin(staff_id: int) -> ManagerPin | None:
    return lock_one(ManagerPin.objects.filter(staff_id=staff_id))
