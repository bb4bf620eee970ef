"""Every inventory write. Keyword-only, atomic, takes the acting staff member; stock changes go through the ledger
(`ledger.Posting`: ordered row locks, checks, F() balance updates and StockMove rows in one transaction)."""
from .counting import (adjustment_create, adjustment_decide, cycle_count_request, stocktake_cancel, stocktake_count,
                       stocktake_post, stocktake_start, stocktake_submit)
from .ledger import (Known, Posting, StockLine, reservations_expire, stock_issue, stock_release, stock_reserve,
                     stock_return)
from .purchasing import (purchase_order_approve, purchase_order_close, purchase_order_create, purchase_order_reject,
                         purchase_order_submit, receipt_create)
from .suppliers import (may_keep_suppliers, supplier_create, supplier_price_remove, supplier_price_set,
                        supplier_update)
from .transfers import (allocation_create, allocation_release, transfer_approve, transfer_cancel, transfer_receive,
                        transfer_reject, transfer_request, transfer_ship)
from .warehouses import in_transit_warehouse, warehouse_create, warehouse_set_active

__all__ = [
    "Known", "Posting", "StockLine", "adjustment_create", "adjustment_decide", "allocation_create", "allocation_release",
    "in_transit_warehouse", "purchase_order_approve", "purchase_order_close", "purchase_order_create",
    "purchase_order_reject", "purchase_order_submit", "receipt_create", "reservations_expire", "stock_issue",
    "stock_release", "stock_reserve", "stock_return", "stocktake_cancel", "stocktake_count", "stocktake_post",
    "stocktake_start", "stocktake_submit", "cycle_count_request", "supplier_create", "supplier_price_remove", "supplier_price_set",
    "supplier_update", "transfer_approve", "transfer_cancel",
    "transfer_receive", "transfer_reject", "transfer_request", "transfer_ship", "warehouse_create",
    "warehouse_set_active",
]
