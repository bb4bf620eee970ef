from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "yundian.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import WAREHOUSES, watch
        from .models import Warehouse
        watch(Warehouse, WAREHOUSES)
