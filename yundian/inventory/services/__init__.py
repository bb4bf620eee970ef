"""Every inventory write. Keyword-only, atomic, takes the acting staff member; stock changes go through the ledger."""
from .warehouses import in_transit_warehouse, warehouse_create, warehouse_set_active

__all__ = ["in_transit_warehouse", "warehouse_create", "warehouse_set_active"]
