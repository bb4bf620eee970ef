"""Warehouses, the append-only stock ledger and the balances it keeps (see DESIGN.md, "Ledgers, not counters").

Warehouse kinds:
- store:      the stock on a store's shelves; every store node has exactly one (created when the store opens);
- central:    an HQ / region / dealer warehouse that replenishes stores;
- virtual:    "sell from central" stock a store may promise online and ship from elsewhere;
- in_transit: goods shipped by one warehouse and not yet received by another (one per enterprise, at HQ).
"""
from decimal import Decimal

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
    node = models.ForeignKey("org.OrgNode", verbose_name=_("org node"),
                             on_delete=models.PROTECT, related_name="warehouses")
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


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    SALE_ISSUE = "sale_issue", _("Sale")
    RETURN = "return", _("Customer return")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    ADJUSTMENT = "adjustment", _("Adjustment")
    STOCKTAKE_CORRECTION = "stocktake_correction", _("Stocktake correction")
    RESERVATION = "reservation", _("Reservation")
    RELEASE = "release", _("Reservation released")


class StockBalance(models.Model):
    """On hand and reserved units of one SKU in one warehouse. Changed only by the ledger services, with F()
    updates under an ordered row lock (locks.py), in the transaction that appends the matching StockMove rows.

    `value` is what the units on hand cost (fen), kept by moving average: a receipt adds its cost, an issue takes
    out value / on_hand per unit (all of it with the last unit), so the average unit cost is value / on_hand.

    Invariants (check constraints): on_hand >= 0, reserved >= 0, reserved <= on_hand, value >= 0, and no value
    without units. Available to promise is on_hand - reserved.
    """

    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"),
                            on_delete=models.PROTECT, related_name="stock_balances")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="balances")
    on_hand = models.BigIntegerField(_("on hand"), default=0)
    reserved = models.BigIntegerField(_("reserved"), default=0)
    value = models.BigIntegerField(_("stock value (fen)"), default=0, db_default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["sku_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse"], name="inventory_balance_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_balance_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_balance_reserved_gte_0"),
            models.CheckConstraint(condition=Q(reserved__lte=models.F("on_hand")),
                                   name="inventory_balance_reserved_lte_on_hand"),
            models.CheckConstraint(condition=Q(value__gte=0) & (Q(on_hand__gt=0) | Q(value=0)),
                                   name="inventory_balance_value"),
        ]
        indexes = [models.Index(fields=["warehouse", "sku"], name="inventory_balance_wh_sku")]

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def average_cost(self) -> int:
        """The moving-average unit cost in fen (rounded half up); 0 with nothing on hand."""
        return (2 * self.value + self.on_hand) // (2 * self.on_hand) if self.on_hand > 0 else 0


class StockMove(models.Model):
    """One line of the append-only stock ledger. Never updated or deleted; a mistake is corrected by a new move.

    `quantity` is the signed change of on hand, `reserved_delta` the signed change of reserved and `value` the
    signed change of stock value in fen (a sale issue's -value is its cost of goods sold), so for every
    (sku, warehouse): sum(quantity) == on_hand, sum(reserved_delta) == reserved and sum(value) == value.
    `source_type`/`source_id` name the document that caused it (an order, a transfer, a stocktake ...).
    """

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="stock_moves")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="moves")
    kind = models.CharField(_("kind"), max_length=24, choices=MoveKind.choices)
    quantity = models.BigIntegerField(_("quantity"), default=0)
    reserved_delta = models.BigIntegerField(_("reserved change"), default=0)
    value = models.BigIntegerField(_("value change (fen)"), default=0, db_default=0)
    source_type = models.CharField(_("source"), max_length=32, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    actor = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    occurred_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["sku", "warehouse", "occurred_at"], name="inventory_move_sku_wh_at"),
            models.Index(fields=["warehouse", "kind", "occurred_at"], name="inventory_move_wh_kind_at"),
            models.Index(fields=["source_type", "source_id"], name="inventory_move_source"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} sku={self.sku_id} wh={self.warehouse_id}"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CONSUMED = "consumed", _("Consumed by a sale")
    RELEASED = "released", _("Released")
    EXPIRED = "expired", _("Expired")


class Reservation(BaseModel):
    """Units held for an order until it is paid or the hold expires. For every (sku, warehouse) the active
    reservations add up to StockBalance.reserved (the "reservations" ledger check)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.BigIntegerField(_("quantity"))
    status = models.CharField(_("status"), max_length=10, choices=ReservationStatus.choices,
                              default=ReservationStatus.ACTIVE)
    source_type = models.CharField(_("source"), max_length=32)
    source_id = models.CharField(_("source id"), max_length=64)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_reservation_qty_gt_0")]
        indexes = [
            models.Index(fields=["source_type", "source_id"], name="inventory_reservation_source"),
            models.Index(fields=["sku", "warehouse", "status"], name="inventory_reservation_row"),
        ]


# --- documents --------------------------------------------------------------------------------------------

class PaymentTerms(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    ON_DELIVERY = "on_delivery", _("Cash on delivery")
    NET_30 = "net_30", _("30 days")
    NET_60 = "net_60", _("60 days")
    MONTHLY = "monthly", _("Monthly statement")


class Supplier(BaseModel):
    """A supplier of the enterprise (master data kept by HQ). What it sells and at what cost: SupplierPrice."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="suppliers")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("email"), max_length=120, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=12, choices=PaymentTerms.choices,
                                     default=PaymentTerms.NET_30)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=3)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="inventory_supplier_code_unique")]

    def __str__(self) -> str:
        return self.name


class SupplierPrice(BaseModel):
    """What one supplier charges for one SKU (fen per unit) and how long it takes to deliver. At most one
    preferred supplier per SKU; purchase order lines take their unit cost from here."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="supplier_prices")
    unit_cost = models.BigIntegerField(_("purchase cost (fen)"))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=3)
    is_preferred = models.BooleanField(_("preferred supplier"), default=False)

    class Meta:
        verbose_name = _("supplier price")
        verbose_name_plural = _("supplier prices")
        ordering = ["supplier_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "sku"], name="inventory_supplier_price_unique"),
            models.UniqueConstraint(fields=["sku"], condition=Q(is_preferred=True),
                                    name="inventory_one_preferred_supplier"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="inventory_supplier_price_cost_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.sku}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    PARTIAL = "partial", _("Partly received")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed short")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class PurchaseOrder(BaseModel):
    """An order for goods into `warehouse`: from a supplier, or from HQ (`source_warehouse`, a central warehouse,
    in which case approval creates the transfer that ships it). Draft -> submitted -> approved -> received."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="purchase_orders")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    source_warehouse = models.ForeignKey(Warehouse, verbose_name=_("source warehouse"),
                                         on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=PurchaseOrderStatus.choices,
                              default=PurchaseOrderStatus.DRAFT)
    origin = models.CharField(_("origin"), max_length=16, default="manual")  # manual | replenishment | erp
    tolerance_percent = models.PositiveSmallIntegerField(_("receiving tolerance (%)"), default=5)
    expected_at = models.DateField(_("expected on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "number"], name="inventory_po_number_unique"),
            models.CheckConstraint(condition=Q(supplier__isnull=True) ^ Q(source_warehouse__isnull=True),
                                   name="inventory_po_one_source"),
            models.CheckConstraint(condition=Q(tolerance_percent__lte=100), name="inventory_po_tolerance_lte_100"),
        ]


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("ordered"))
    received = models.BigIntegerField(_("received"), default=0)
    unit_cost = models.BigIntegerField(_("unit cost (fen)"), default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="inventory_po_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_po_line_qty_gt_0"),
            models.CheckConstraint(condition=Q(received__gte=0), name="inventory_po_line_received_gte_0"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="inventory_po_line_cost_gte_0"),
        ]


class Receipt(BaseModel):
    """Goods received into a warehouse, against a purchase order or (ERP/WMS sync) on their own."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="receipts")
    order = models.ForeignKey(PurchaseOrder, verbose_name=_("purchase order"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="receipts")
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    received_by = models.ForeignKey("org.Staff", verbose_name=_("received by"),
                                    on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-id"]


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity"))

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_receipt_line_qty_gt_0")]


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class Transfer(BaseModel):
    """Stock moving between two warehouses: request -> approve -> ship (into in-transit) -> receive."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40)
    from_warehouse = models.ForeignKey(Warehouse, verbose_name=_("from warehouse"),
                                       on_delete=models.PROTECT, related_name="transfers_out")
    to_warehouse = models.ForeignKey(Warehouse, verbose_name=_("to warehouse"),
                                     on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(_("status"), max_length=10, choices=TransferStatus.choices,
                              default=TransferStatus.REQUESTED)
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="transfers")
    allocation = models.ForeignKey("Allocation", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="transfers")
    note = models.CharField(_("note"), max_length=255, blank=True)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    approved_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "number"], name="inventory_transfer_number_unique"),
            models.CheckConstraint(condition=~Q(from_warehouse=models.F("to_warehouse")),
                                   name="inventory_transfer_two_warehouses"),
        ]


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("requested"))
    shipped = models.BigIntegerField(_("shipped"), default=0)
    received = models.BigIntegerField(_("received"), default=0)
    shipped_value = models.BigIntegerField(_("shipped value (fen)"), default=0)  # the cost that left the source

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "sku"], name="inventory_transfer_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_transfer_line_qty_gt_0"),
            models.CheckConstraint(condition=Q(shipped__gte=0, received__gte=0)
                                   & Q(received__lte=models.F("shipped")), name="inventory_transfer_line_counts"),
        ]


class Allocation(BaseModel):
    """HQ pushing stock from one central warehouse to many stores in one document; releasing it ships one
    transfer per store."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RELEASED = "released", _("Released")
        CANCELLED = "cancelled", _("Cancelled")

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40)
    from_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="allocations")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "number"], name="inventory_allocation_number_unique")]


class AllocationLine(models.Model):
    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="lines")
    to_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("quantity"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "to_warehouse", "sku"], name="inventory_allocation_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_allocation_line_qty_gt_0"),
        ]


class Stocktake(BaseModel):
    """A count of a warehouse (full) or of some SKUs (cycle). Counting -> review -> posted.

    At start every line freezes the system quantity (`frozen_on_hand`). Each count also records the system
    quantity at the moment it was counted (`system_at_count`), so sales during the count are accounted for:
    variance = counted - system_at_count, and posting adds that variance to whatever is on hand then.
    """

    class Kind(models.TextChoices):
        FULL = "full", _("Full count")
        CYCLE = "cycle", _("Cycle count")

    class Status(models.TextChoices):
        COUNTING = "counting", _("Counting")
        REVIEW = "review", _("In review")
        POSTED = "posted", _("Posted")
        CANCELLED = "cancelled", _("Cancelled")

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="stocktakes")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.COUNTING)
    started_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    posted_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    # a targeted cycle count the diagnosis asked for (suspicious stock): blind, the counter never sees the system
    origin = models.CharField(_("origin"), max_length=12, default="manual", db_default="manual")  # manual | diagnosis
    is_blind = models.BooleanField(_("blind count"), default=False, db_default=False)

    class Meta:
        verbose_name = _("stocktake")
        verbose_name_plural = _("stocktakes")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "number"], name="inventory_stocktake_number_unique"),
            models.UniqueConstraint(fields=["warehouse"], condition=Q(status__in=["counting", "review"]),
                                    name="inventory_one_open_stocktake"),
        ]


class StocktakeLine(models.Model):
    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    frozen_on_hand = models.BigIntegerField(_("system at start"), default=0)
    counted = models.BigIntegerField(_("counted"), null=True, blank=True)
    system_at_count = models.BigIntegerField(_("system when counted"), null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    variance = models.BigIntegerField(_("variance"), null=True, blank=True)  # fixed at posting
    reason = models.CharField(_("why counted"), max_length=24, blank=True, default="", db_default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["stocktake", "sku"], name="inventory_stocktake_line_unique"),
            models.CheckConstraint(condition=Q(counted__isnull=True) | Q(counted__gte=0),
                                   name="inventory_stocktake_counted_gte_0"),
        ]

    @property
    def pending_variance(self) -> int | None:
        """counted - system when counted, before posting (None while uncounted)."""
        return None if self.counted is None else self.counted - (self.system_at_count or 0)


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Expired")
    LOST = "lost", _("Lost / theft")
    FOUND = "found", _("Found")
    SAMPLE = "sample", _("Sample / display")
    CORRECTION = "correction", _("Data correction")
    OTHER = "other", _("Other")


class Adjustment(BaseModel):
    """A manual stock change with a reason code. Above the approval threshold it waits for a manager."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        POSTED = "posted", _("Posted")
        REJECTED = "rejected", _("Rejected")

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("number"), max_length=40)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, related_name="adjustments")
    reason = models.CharField(_("reason"), max_length=16, choices=AdjustmentReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    value = models.BigIntegerField(_("value (fen)"), default=0)  # sum of |quantity| x base price
    created_by = models.ForeignKey("org.Staff", verbose_name=_("created by"),
                                   on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "number"], name="inventory_adjustment_number_unique")]


class AdjustmentLine(models.Model):
    adjustment = models.ForeignKey(Adjustment, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField(_("change"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["adjustment", "sku"], name="inventory_adjustment_line_unique"),
            models.CheckConstraint(condition=~Q(quantity=0), name="inventory_adjustment_line_not_zero"),
        ]


class ReplenishmentRule(BaseModel):
    """How one SKU is replenished in one warehouse. Velocity (moving average of daily sales over `window_days`,
    order up to demand x (lead time + review period) + safety stock) when there is enough history; min/max
    (order up to max when available falls to min) as the fallback."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="replenishment_rules")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    source_warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    min_quantity = models.BigIntegerField(_("min"), default=0)
    max_quantity = models.BigIntegerField(_("max"), default=0)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=3)
    review_period_days = models.PositiveSmallIntegerField(_("review period (days)"), default=7)
    safety_factor = models.DecimalField(_("safety factor (z)"), max_digits=4, decimal_places=2, default=Decimal("2.33"))
    window_days = models.PositiveSmallIntegerField(_("moving average window (days)"), default=14)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("replenishment rule")
        verbose_name_plural = _("replenishment rules")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="inventory_rule_unique"),
            models.CheckConstraint(condition=Q(min_quantity__gte=0) & Q(max_quantity__gte=models.F("min_quantity")),
                                   name="inventory_rule_min_max"),
            models.CheckConstraint(condition=Q(review_period_days__gte=1) & Q(window_days__gte=7),
                                   name="inventory_rule_periods"),
        ]



class StockExpiry(BaseModel):
    """Expiry-dated stock: how many units of a SKU in a warehouse expire on a day (recorded at receipt, by hand or
    from the ERP). The ledger keeps no lots, so this is a side record the early warnings read: it is never netted
    against sales (units past the day are what the warning asks a person to look at)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="expiries")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    expires_on = models.DateField(_("expires on"))
    quantity = models.BigIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("expiry date")
        verbose_name_plural = _("expiry dates")
        constraints = [models.UniqueConstraint(fields=["warehouse", "sku", "expires_on"], name="stock_expiry_once"),
                       models.CheckConstraint(condition=Q(quantity__gt=0), name="stock_expiry_qty_gt_0")]
