"""Back office (Django admin): categories, products with their SKUs, SKUs with barcodes, price lists. Prices are
changed on the console (audited, priced through the one pricing engine); here they are shown in yuan."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from yundian.core.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from yundian.core.money import Money

from .models import Barcode, Category, PriceList, Product, Sku


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ("name", "code", "parent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


class SkuInline(ReadOnlyTabularInline):
    model = Sku
    fields = ("code", "name", "price_display", "unit", "is_active")
    show_change_link = True

    @admin.display(description=_("base price"))
    def price_display(self, sku):
        return Money(sku.base_price).format()


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ("name", "code", "category", "brand", "is_active")
    list_filter = ("is_active", "category")
    search_fields = ("name", "code", "brand")
    list_select_related = ("category",)
    inlines = [SkuInline]


class BarcodeInline(ReadOnlyTabularInline):
    model = Barcode
    fields = ("code", "kind", "is_primary")


@admin.register(Sku)
class SkuAdmin(ModelAdmin):
    list_display = ("code", "product", "name", "price_display", "unit", "is_active")
    list_filter = ("is_active", "is_weighed")
    search_fields = ("code", "name", "product__name", "barcodes__code")
    list_select_related = ("product",)
    readonly_fields = ("price_display",)
    exclude = ("base_price",)  # a price change is audited: the console's price pages make it
    inlines = [BarcodeInline]

    @admin.display(description=_("base price"), ordering="base_price")
    def price_display(self, sku):
        return Money(sku.base_price).format()


@admin.register(PriceList)
class PriceListAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "node", "channel", "priority", "valid_from", "valid_to", "is_active")
    list_filter = ("channel", "is_active")
    search_fields = ("name", "code")
