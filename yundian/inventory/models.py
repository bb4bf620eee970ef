"""Warehouses, the append-only stock ledger and the balances it keeps (see DESIGN.md, "Ledgers, not counters").

Warehouse kinds:
- store:      the stock on a store's shelves; every store node has exactly one (created when the store opens);
- central:    an HQ / region / dealer warehouse that replenishes stores;
- virtual:    "sell from central" stock a store may promise online and ship from elsewhere;
- in_transit: goods shipped by one warehouse and not yet received by another (one per enterprise, at HQ).
"""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class WarehouseKind(models.TextChoices):
    CENTRAL = "central", _("Central warehouse")
    STORE = "store", _("Store stock room")
    VIRTUAL = "virtual", _("Virtual (sell from central)")
    IN_TRANSIT = "in_transit", _("In transit")


class Warehouse(BaseModel):
    """A place stock is counted in. Belongs to one org node; its scope is that node's subtree."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="warehouses")
    node = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="warehouses")
    kind = models.CharField(_("kind"), max_length=12, choices=WarehouseKind.choices)
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "code"], name="inventory_warehouse_code_unique"),
            models.UniqueConstraint(fields=["node"], condition=Q(kind="store"), name="inventory_one_store_warehouse"),
            models.UniqueConstraint(fields=["enterprise"], condition=Q(kind="in_transit"),
                                    name="inventory_one_in_transit_warehouse"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
