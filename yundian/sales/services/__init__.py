"""Every sales write, one module per area; import from here.

orders.py      order_create (every channel and mode, idempotent per (store, client_ref))
payments.py    payment_add, cash change, stored value, exactly-once payment
exchanges.py   exchange_create (a return against the receipt and a new sale in one transaction)
returns.py     return_create (with receipt: pro rata refunds, restock, points and commission reversal;
               without receipt: manager approval), refunds to the original tenders
fulfilment.py  shipment_create (split shipments, collection), order_preorder_allocate, order_cancel (cancel / void)
shifts.py      till shifts: open with a float, cash in/out, blind close with the Z report, daily settlement
approvals.py   manager approval gate (PIN on the device or remote), approval_decide, manager_pin_set
"""
from .approvals import ApprovalIn, approval_decide, manager_pin_set, run_with_approval  # noqa: F401
from .exchanges import ExchangeResult, exchange_create  # noqa: F401
from .fulfilment import ShipmentResult, order_cancel, order_preorder_allocate, shipment_create  # noqa: F401
from .orders import OrderResult, order_create, order_edit  # noqa: F401
from .payments import PaymentIn, PaymentResult, payment_add  # noqa: F401
from .returns import ReturnResult, return_create  # noqa: F401
from .receipts import receipt_print  # noqa: F401
from .shifts import (ShiftResult, cash_move_add, settlement_create, shift_close, shift_for,  # noqa: F401
                     shift_open)
