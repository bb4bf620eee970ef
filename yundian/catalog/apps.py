from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "yundian.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import CATALOG, PRICES, watch
        from .models import Category, PriceEntry, PriceList, Product, Sku
        for model in (Category, Product, Sku):
            watch(model, CATALOG)
        for model in (PriceList, PriceEntry):
            watch(model, PRICES)
