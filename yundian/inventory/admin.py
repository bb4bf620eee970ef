"""Back office (Django admin): suppliers (editable master data; their SKU prices shown, set on the console),
warehouses, and the stock documents and ledger read-only — stock changes only through the ledger services
(ordered locks, moves, cost)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from yundian.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from yundian.core.money import Money

from .models import (Adjustment, AdjustmentLine, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine, StockBalance,
                     StockMove, Stocktake, StocktakeLine, Supplier, SupplierPrice, Transfer, TransferLine, Warehouse)


def _yuan(amount: int) -> str:
    return Money(amount or 0).format()


class SupplierPriceInline(ReadOnlyTabularInline):
    """Shown, not edited: a price is set on the console's supplier page (supplier_price_set: HQ only, one preferred
    supplier per SKU, audited with the old and new cost), since it is the cost stock comes in at."""
    model = SupplierPrice
    fields = ("sku", "unit_cost_display", "lead_time_days", "is_preferred")

    @admin.display(description=_("unit cost"))
    def unit_cost_display(self, price):
        return _yuan(price.unit_cost)


@admin.register(Supplier)
class SupplierAdmin(ModelAdmin):
    list_display = ("code", "name", "contact_name", "phone", "payment_terms", "lead_time_days", "is_active")
    list_filter = ("is_active", "payment_terms")
    search_fields = ("code", "name", "contact_name")
    inlines = [SupplierPriceInline]


@admin.register(Warehouse)
class WarehouseAdmin(ModelAdmin):
    list_display = ("code", "name", "kind", "node", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("node", "kind")


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ("sku", "warehouse", "on_hand", "reserved", "average_cost_display", "value_display", "updated_at")
    list_filter = ("warehouse",)
    search_fields = ("sku__code", "sku__name", "warehouse__code")
    list_select_related = ("sku", "warehouse")

    @admin.display(description=_("average cost"))
    def average_cost_display(self, balance):
        return _yuan(balance.average_cost)

    @admin.display(description=_("stock value"), ordering="value")
    def value_display(self, balance):
        return _yuan(balance.value)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "kind", "sku", "warehouse", "quantity", "reserved_delta", "value_display",
                    "source_type", "source_id", "reason")
    list_filter = ("kind", "warehouse")
    search_fields = ("sku__code", "source_id", "reason")
    list_select_related = ("sku", "warehouse")
    date_hierarchy = "occurred_at"

    @admin.display(description=_("value change"))
    def value_display(self, move):
        return _yuan(move.value)


class PurchaseOrderLineInline(ReadOnlyTabularInline):
    model = PurchaseOrderLine
    fields = ("sku", "quantity", "received", "unit_cost_display")

    @admin.display(description=_("unit cost"))
    def unit_cost_display(self, line):
        return _yuan(line.unit_cost)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "warehouse", "supplier", "source_warehouse", "status", "origin", "created_at")
    list_filter = ("status", "origin")
    search_fields = ("number", "supplier__name")
    list_select_related = ("warehouse", "supplier", "source_warehouse")
    inlines = [PurchaseOrderLineInline]


class ReceiptLineInline(ReadOnlyTabularInline):
    model = ReceiptLine
    fields = ("sku", "quantity")


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("receipt_number", "warehouse", "order", "reference", "received_by", "created_at")
    list_select_related = ("warehouse", "order", "received_by")
    inlines = [ReceiptLineInline]

    @admin.display(description=_("receipt"), ordering="id")
    def receipt_number(self, receipt):
        return f"#{receipt.pk}"


class TransferLineInline(ReadOnlyTabularInline):
    model = TransferLine
    fields = ("sku", "quantity", "shipped", "received", "shipped_value_display")

    @admin.display(description=_("shipped value"))
    def shipped_value_display(self, line):
        return _yuan(line.shipped_value)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("number", "from_warehouse", "to_warehouse", "status", "shipped_at", "received_at")
    list_filter = ("status",)
    search_fields = ("number",)
    list_select_related = ("from_warehouse", "to_warehouse")
    inlines = [TransferLineInline]


class AdjustmentLineInline(ReadOnlyTabularInline):
    model = AdjustmentLine
    fields = ("sku", "quantity")


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("number", "warehouse", "reason", "status", "created_by", "created_at")
    list_filter = ("status", "reason")
    search_fields = ("number",)
    list_select_related = ("warehouse", "created_by")
    inlines = [AdjustmentLineInline]


class StocktakeLineInline(ReadOnlyTabularInline):
    model = StocktakeLine
    fields = ("sku", "frozen_on_hand", "counted", "system_at_count", "variance")


@admin.register(Stocktake)
class StocktakeAdmin(ReadOnlyAdmin):
    list_display = ("number", "warehouse", "kind", "status", "posted_at")
    list_filter = ("status", "kind")
    search_fields = ("number",)
    list_select_related = ("warehouse",)
    inlines = [StocktakeLineInline]
