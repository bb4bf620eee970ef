"""Every catalogue write. Keyword-only, atomic, takes the acting staff member, audited."""
from .catalogue import (category_create, category_update, media_add, media_remove, product_create, product_update,
                        sku_create, sku_update)
from .buyers import category_buyer_assign, category_buyer_remove
from .codes import barcode_add, barcode_generate, barcode_remove, weighed_scheme_set
from .prices import price_entry_delete, price_entry_set, price_list_create, price_list_update

__all__ = [
    "barcode_add", "barcode_generate", "barcode_remove", "category_buyer_assign", "category_buyer_remove", "category_create", "category_update", "media_add",
    "media_remove", "price_entry_delete", "price_entry_set", "price_list_create", "price_list_update",
    "product_create", "product_update", "sku_create", "sku_update", "weighed_scheme_set",
]
