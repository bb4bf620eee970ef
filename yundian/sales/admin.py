"""Back office (Django admin): orders and returns, read-only — every change to an order goes through the sales
services (payments, returns, voids), which keep stock, points, commission and the audit log in step."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from yundian.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from yundian.core.money import Money

from .models import Order, OrderLine, OrderReturn, Payment, ReturnLine


def _yuan(amount: int, currency: str) -> str:
    return Money(amount or 0, currency).format()


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = ("sku_code", "name", "quantity", "unit_price_display", "discount_display", "line_total_display",
              "returned_quantity")
    readonly_fields = fields
    verbose_name = _("order line")
    verbose_name_plural = _("order lines")

    @admin.display(description=_("unit price"))
    def unit_price_display(self, line):
        return _yuan(line.unit_price, line.order.currency)

    @admin.display(description=_("discount"))
    def discount_display(self, line):
        return _yuan(line.discount, line.order.currency)

    @admin.display(description=_("line total"))
    def line_total_display(self, line):
        return _yuan(line.line_total, line.order.currency)


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = ("method", "amount_display", "refunded_display", "reference", "taken_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount_display(self, payment):
        return _yuan(payment.amount, payment.order.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, payment):
        return _yuan(payment.refunded_amount, payment.order.currency)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "store", "channel", "mode", "status", "total_display", "paid_display", "placed_at")
    list_filter = ("status", "channel", "mode")
    search_fields = ("store__name", "store__code")
    date_hierarchy = "placed_at"
    list_select_related = ("store",)
    fields = ("number", "store", "channel", "mode", "status", "clerk", "member", "warehouse",
              "subtotal_display", "discount_display", "total_display", "paid_display", "refunded_display",
              "placed_at", "paid_at", "fulfilled_at", "cancelled_at", "note")
    readonly_fields = fields
    inlines = [OrderLineInline, PaymentInline]

    @admin.display(description=_("number"), ordering="id")
    def number(self, order):
        return order.number

    @admin.display(description=_("subtotal"))
    def subtotal_display(self, order):
        return _yuan(order.subtotal, order.currency)

    @admin.display(description=_("discount"))
    def discount_display(self, order):
        return _yuan(order.discount_total, order.currency)

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, order):
        return _yuan(order.total, order.currency)

    @admin.display(description=_("paid"), ordering="paid_total")
    def paid_display(self, order):
        return _yuan(order.paid_total, order.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, order):
        return _yuan(order.refunded_total, order.currency)


class ReturnLineInline(ReadOnlyTabularInline):
    model = ReturnLine
    fields = ("sku", "quantity", "amount_display", "warehouse", "restocked")
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def amount_display(self, line):
        return _yuan(line.amount, line.return_doc.store.enterprise.currency)


@admin.register(OrderReturn)
class OrderReturnAdmin(ReadOnlyAdmin):
    list_display = ("number", "store", "order", "refund_display", "created_at")
    search_fields = ("store__name",)
    list_select_related = ("store__enterprise", "order")
    fields = ("number", "store", "order", "exchange_order", "refund_display", "refund_method",
              "reason", "created_by", "created_at")
    readonly_fields = fields
    inlines = [ReturnLineInline]

    @admin.display(description=_("number"), ordering="id")
    def number(self, doc):
        return doc.number

    @admin.display(description=_("refunded"))
    def refund_display(self, doc):
        return _yuan(doc.refund_total, doc.store.enterprise.currency)
