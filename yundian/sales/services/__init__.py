"""Every sales write, one module per area; import from here.

orders.py      order_create (every channel and mode, idempotent per (store, client_ref))
payments.py    payment_add, cash change, stored value, exactly-once payment
approvals.py   manager approval gate (PIN on the device or remote), approval_decide, manager_pin_set
"""
from .approvals import ApprovalIn, approval_decide, manager_pin_set, run_with_approval  # noqa: F401
from .orders import OrderResult, order_create  # noqa: F401
from .payments import PaymentIn, PaymentResult, payment_add  # noqa: F401
