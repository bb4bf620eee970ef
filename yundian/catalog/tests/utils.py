"""A snapshot of every catalogue table, to prove that a refused request changed nothing."""
from yundian.catalog.models import (Barcode, BarcodeSequence, Category, ImportRun, PriceEntry, PriceList, Product,
                                    ProductMedia, Sku, WeighedBarcodeScheme)
from yundian.core.models import AuditEntry, IdempotencyRecord


def catalog_state() -> dict:
    return {
        "categories": list(Category.objects.order_by("id").values_list("id", "name", "code", "is_active")),
        "products": list(Product.objects.order_by("id").values_list("id", "code", "name", "category_id", "brand",
                                                                    "attributes", "is_active")),
        "skus": list(Sku.objects.order_by("id").values_list("id", "code", "name", "base_price", "unit", "plu",
                                                            "is_active")),
        "barcodes": list(Barcode.objects.order_by("id").values_list("id", "sku_id", "code", "is_primary")),
        "media": ProductMedia.objects.count(),
        "price_lists": list(PriceList.objects.order_by("id").values_list("id", "code", "name", "priority",
                                                                         "valid_from", "valid_to", "is_active")),
        "entries": list(PriceEntry.objects.order_by("id").values_list("id", "price_list_id", "sku_id", "price")),
        "schemes": list(WeighedBarcodeScheme.objects.values_list("prefix", "item_digits", "value_kind", "is_active")),
        "sequences": list(BarcodeSequence.objects.values_list("prefix", "next_value")),
        "imports": ImportRun.objects.count(),
        "audit": AuditEntry.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }
