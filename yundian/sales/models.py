"""Orders for every channel (POS, storefront, API), payments, refunds, returns, shipments and manager approvals.

Money is integer fen in the order's currency. An order is created once per (store, client_ref): the unique
constraint, not a check, decides retries and races. Stock moves live in the inventory ledger with
source ("order", order id) / ("return", return id); points and stored value in the members ledgers; commission
in the guides ledger. Nothing here is a counter that cannot be rebuilt from those ledgers and the rows below.

Order modes and the stock pool each one uses:
- take_now:             issued from the store's own warehouse when the order is created (the customer walks out);
- pickup:               reserved in the store's warehouse at creation, issued when the customer collects it;
- delivery:             reserved in the store's warehouse, issued when the store ships it (split shipments allowed);
- ship_from_warehouse:  sold from the virtual (else central) pool above the store: reserved at creation,
                        issued when that warehouse ships;
- preorder:             out-of-stock goods: no stock move at creation; `order_preorder_allocate` reserves in the
                        store warehouse once the goods arrive, after which it is collected like a pickup order.
"""
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yundian.core.models import BaseModel


class OrderChannel(models.TextChoices):
    POS = "pos", _("POS")
    STOREFRONT = "storefront", _("Storefront")
    API = "api", _("API")
    MARKETPLACE = "marketplace", _("Marketplace")  # an outside marketplace or mini-program (integrations' adapters)


class OrderMode(models.TextChoices):
    TAKE_NOW = "take_now", _("Take now")
    SHIP_FROM_WAREHOUSE = "ship_from_warehouse", _("Ship from warehouse")
    PICKUP = "pickup", _("Pick up in store")
    DELIVERY = "delivery", _("Home delivery")
    PREORDER = "preorder", _("Pre-order")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open (awaiting payment)")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Fulfilled")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
    RETURNED = "returned", _("Returned")


class Order(BaseModel):
    """One order of any channel. `number` is derived from the pk (no counter row to lock)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(_("channel"), max_length=12, choices=OrderChannel.choices)
    mode = models.CharField(_("mode"), max_length=20, choices=OrderMode.choices)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    client_ref = models.CharField(_("client key"), max_length=128, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    clerk = models.ForeignKey("org.Staff", verbose_name=_("clerk"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    member = models.ForeignKey("members.Member", verbose_name=pgettext_lazy("the order's buyer", "member"),
                               on_delete=models.PROTECT, null=True, blank=True,
                               related_name="orders")
    warehouse = models.ForeignKey("inventory.Warehouse", verbose_name=_("warehouse"),
                                  on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", help_text="the pool the order's stock comes from")
    currency = models.CharField(max_length=3, default="CNY")
    subtotal = models.BigIntegerField(_("subtotal (fen)"), default=0)
    discount_total = models.BigIntegerField(_("discount (fen)"), default=0)
    total = models.BigIntegerField(_("total (fen)"), default=0)
    paid_total = models.BigIntegerField(_("paid (fen)"), default=0)
    refunded_total = models.BigIntegerField(_("refunded (fen)"), default=0)
    points_earned = models.BigIntegerField(default=0)
    note = models.CharField(_("note"), max_length=500, blank=True)
    delivery = models.JSONField(_("delivery address"), default=dict, blank=True)
    placed_at = models.DateTimeField(_("placed at"), db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    receipt_prints = models.PositiveIntegerField(default=0)
    # the pricing engine's whole result (promotions.engine.PricingResult.as_dict): what was applied, what was not and
    # why — the basis for redeeming coupons, promotion results and explaining the price later
    pricing = models.JSONField(_("pricing"), default=dict, blank=True)
    share_code = models.CharField(_("share link"), max_length=40, blank=True, default="")  # 分销: the link it came by
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)  # reached the server (offline: synced)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "client_ref"], condition=~Q(client_ref=""),
                                    name="sales_order_client_ref_unique"),
            models.CheckConstraint(condition=Q(total__gte=0) & Q(discount_total__gte=0), name="sales_order_total_gte_0"),
            models.CheckConstraint(condition=Q(paid_total__gte=0) & Q(paid_total__lte=F("total")),
                                   name="sales_order_paid_lte_total"),
            models.CheckConstraint(condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("paid_total")),
                                   name="sales_order_refund_lte_paid"),
        ]
        indexes = [
            models.Index(fields=["store", "placed_at"], name="sales_order_store_at"),
            models.Index(fields=["enterprise", "status", "placed_at"], name="sales_order_status_at"),
            models.Index(fields=["member", "placed_at"], name="sales_order_member_at"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"SO{self.pk:010d}" if self.pk else ""

    @property
    def uses_promotions(self) -> bool:
        """Whether promotions must hear of this order's payment, cancellation or return: the engine applied
        something (a discount, a coupon, a special price), or it came by a share link."""
        return bool((self.pricing or {}).get("applied") or self.share_code)

    @property
    def due(self) -> int:
        return self.total - self.paid_total

    @property
    def is_paid(self) -> bool:
        return self.paid_total >= self.total and self.paid_at is not None


class OrderLine(models.Model):
    """One line: what was sold, at which price, by which guide, from which warehouse. Prices are per unit
    (per kilogram for weighed SKUs, whose quantity is in grams); `line_total` is what the customer pays for the line
    after its share of the order discount, so returns refund exactly what was paid."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    sku_code = models.CharField(max_length=40)
    name = models.CharField(max_length=250)
    category_id = models.BigIntegerField(null=True, blank=True)
    is_weighed = models.BooleanField(default=False)
    quantity = models.BigIntegerField(_("quantity"))
    list_price = models.BigIntegerField(_("list price (fen)"))
    unit_price = models.BigIntegerField(_("unit price (fen)"))
    discount = models.BigIntegerField(_("discount (fen)"), default=0)
    line_total = models.BigIntegerField(_("line total (fen)"))
    guide = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    shipped_quantity = models.BigIntegerField(default=0)
    returned_quantity = models.BigIntegerField(default=0)
    returned_amount = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="sales_line_no_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0) & Q(line_total__gte=0) & Q(unit_price__gte=0),
                                   name="sales_line_positive"),
            models.CheckConstraint(condition=Q(returned_quantity__gte=0) & Q(returned_quantity__lte=F("quantity")),
                                   name="sales_line_returned_lte_qty"),
            models.CheckConstraint(condition=Q(shipped_quantity__gte=0) & Q(shipped_quantity__lte=F("quantity")),
                                   name="sales_line_shipped_lte_qty"),
            models.CheckConstraint(condition=Q(returned_amount__gte=0) & Q(returned_amount__lte=F("line_total")),
                                   name="sales_line_returned_amount_lte_total"),
        ]
        indexes = [models.Index(fields=["guide", "order"], name="sales_line_guide")]

    @property
    def stock_quantity(self) -> int:
        return self.quantity


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WALLET = "wallet", _("Mobile wallet")
    STORED_VALUE = "stored_value", _("Stored value")


class Payment(BaseModel):
    """One tender applied to an order, once per (order, client_ref). `amount` is what it paid towards the order;
    for cash `tendered` is what the customer handed over and `change` what went back."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.BigIntegerField(_("amount (fen)"))
    tendered = models.BigIntegerField(_("tendered (fen)"), default=0)
    change = models.BigIntegerField(_("change (fen)"), default=0)
    refunded_amount = models.BigIntegerField(_("refunded (fen)"), default=0)
    client_ref = models.CharField(_("client key"), max_length=128)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    taken_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    shift = models.ForeignKey("TillShift", on_delete=models.PROTECT, null=True, blank=True, related_name="payments",
                              help_text="the till shift (cash drawer) of the clerk who took it, if one was open")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "client_ref"], name="sales_payment_client_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(change__gte=0) & Q(tendered__gte=0),
                                   name="sales_payment_positive"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                                   name="sales_payment_refund_lte_amount"),
        ]


class Refund(BaseModel):
    """Money given back on one payment, for a return or a void; once per (payment, source_ref)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount (fen)"))
    source_ref = models.CharField(max_length=64, help_text="return:<id> or void:<order id>")
    refunded_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    shift = models.ForeignKey("TillShift", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds",
                              help_text="the till shift of the clerk who gave it back, if one was open")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "source_ref"], name="sales_refund_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sales_refund_positive"),
        ]


class OrderReturn(BaseModel):
    """Goods brought back, against an order (with receipt) or without one (needs a manager's approval).
    Restocks into the warehouse the line came from (or the store's, for take-now and no-receipt returns)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, verbose_name=_("order"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="returns")
    client_ref = models.CharField(max_length=128, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    refund_total = models.BigIntegerField(default=0)
    refund_method = models.CharField(_("refund method"), max_length=16, blank=True,
                                     help_text="for returns without receipt")
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    approval = models.ForeignKey("ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    exchange_order = models.ForeignKey(Order, verbose_name=_("exchange order"),
                                       on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey("org.Staff", verbose_name=_("created by"),
                                   on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("order return")
        verbose_name_plural = _("order returns")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "client_ref"], condition=~Q(client_ref=""),
                                    name="sales_return_client_ref_unique"),
        ]

    @property
    def number(self) -> str:
        return f"RT{self.pk:010d}" if self.pk else ""


class ReturnLine(models.Model):
    return_doc = models.ForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()
    amount = models.BigIntegerField()
    warehouse = models.ForeignKey("inventory.Warehouse", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    restocked = models.BigIntegerField(default=0, help_text="units put back on the shelf (a void of goods never "
                                                            "issued restocks nothing: its reservation is released)")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0) & Q(amount__gte=0) & Q(restocked__gte=0)
                                              & Q(restocked__lte=F("quantity")), name="sales_return_line_positive")]


class Shipment(BaseModel):
    """One parcel (or one collection at the counter) of an order; an order may ship in several."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    client_ref = models.CharField(max_length=128)
    carrier = models.CharField(max_length=40, blank=True)
    tracking_no = models.CharField(max_length=64, blank=True)
    shipped_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "client_ref"], name="sales_shipment_once")]


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_shipment_line_positive")]


class ApprovalKind(models.TextChoices):
    PRICE_OVERRIDE = "price_override", _("Price below the floor")
    DISCOUNT = "discount", _("Discount beyond the clerk's limit")
    VOID = "void", _("Void a paid order")
    RETURN_NO_RECEIPT = "return_no_receipt", _("Return without receipt")
    LATE_RETURN = "late_return", _("Return after the return window")
    ORDER_EDIT = "order_edit", _("Order edit")


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    USED = "used", _("Used")


class ApprovalVia(models.TextChoices):
    PIN = "pin", _("Manager PIN on the device")
    REMOTE = "remote", _("Remote approval")


class ApprovalRequest(BaseModel):
    """A manager's approval (审批) of one exact sensitive action: `payload_hash` fingerprints the action, so an
    approval for one price or discount cannot be used for another. Used once."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=ApprovalKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ApprovalStatus.choices,
                              default=ApprovalStatus.PENDING)
    payload = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=64)
    summary = models.CharField(_("summary"), max_length=255, blank=True)
    requested_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=8, choices=ApprovalVia.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "kind", "payload_hash", "requested_by"],
                                    condition=Q(status="pending"), name="sales_approval_one_pending"),
        ]
        indexes = [models.Index(fields=["store", "status"], name="sales_approval_store_status")]


class ManagerPin(BaseModel):
    """A store manager's PIN for approvals on the till (hashed like a password; locked after repeated misses)."""

    staff = models.OneToOneField("org.Staff", on_delete=models.CASCADE, related_name="manager_pin")
    pin_hash = models.CharField(max_length=128)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


class SalesPolicy(BaseModel):
    """Limits on a node and its subtree (the nearest node's policy wins; none: the defaults below).

    A line priced below `price_floor_percent` of its list price, or an order discount above
    `clerk_discount_percent` of the subtotal, needs a manager's approval unless the seller holds order.approve;
    so does a return with receipt more than `return_days` after the sale."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    node = models.OneToOneField("org.OrgNode", on_delete=models.CASCADE, related_name="sales_policy")
    price_floor_percent = models.PositiveSmallIntegerField(default=90)
    clerk_discount_percent = models.PositiveSmallIntegerField(default=10)
    approval_minutes = models.PositiveIntegerField(default=60)
    return_days = models.PositiveSmallIntegerField(
        _("return window (days)"), default=30,
        help_text="a return with receipt later than this many days after the sale needs a manager's approval")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(price_floor_percent__lte=100) & Q(clerk_discount_percent__lte=100),
                                              name="sales_policy_percent_lte_100")]


class ShiftStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("till shift", "Open")
    CLOSED = "closed", pgettext_lazy("till shift", "Closed")


class TillShift(BaseModel):
    """One clerk's shift at a store's till (交班): opened with a counted float, closed blind with a counted drawer.

    The drawer's cash is never a counter: it is the float plus the shift's cash payments, less its cash refunds,
    plus its cash-in and less its cash-out moves (CashMove). At the close the expected cash, the count and the
    over/short are frozen on the row with the Z report, once (a second close is refused)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=ShiftStatus.choices, default=ShiftStatus.OPEN)
    opened_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    opening_float = models.BigIntegerField(_("opening float (fen)"))
    opening_count = models.JSONField(default=dict, blank=True, help_text="denomination (fen) -> pieces")
    client_ref = models.CharField(max_length=128)
    closed_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(pgettext_lazy("till shift", "closed at"), null=True, blank=True)
    close_ref = models.CharField(max_length=128, blank=True, default="")
    closing_count = models.JSONField(default=dict, blank=True, help_text="denomination (fen) -> pieces")
    counted_cash = models.BigIntegerField(_("counted cash (fen)"), null=True, blank=True)
    expected_cash = models.BigIntegerField(_("expected cash (fen)"), null=True, blank=True)
    over_short = models.BigIntegerField(_("over / short (fen)"), null=True, blank=True)
    report = models.JSONField(default=dict, blank=True, help_text="the Z report, frozen at the close")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("till shift")
        verbose_name_plural = _("till shifts")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "client_ref"], name="sales_shift_client_ref_unique"),
            models.UniqueConstraint(fields=["store", "opened_by"], condition=Q(status="open"),
                                    name="sales_shift_one_open_per_clerk"),
            models.CheckConstraint(condition=Q(opening_float__gte=0), name="sales_shift_float_gte_0"),
            models.CheckConstraint(condition=Q(status="open") | (Q(closed_at__isnull=False)
                                                                 & Q(counted_cash__isnull=False)),
                                   name="sales_shift_closed_is_counted"),
        ]
        indexes = [models.Index(fields=["store", "opened_at"], name="sales_shift_store_at")]

    @property
    def number(self) -> str:
        return f"SH{self.pk:08d}" if self.pk else ""


class CashMoveKind(models.TextChoices):
    CASH_IN = "cash_in", _("Cash in")
    CASH_OUT = "cash_out", _("Cash out")


class CashMove(models.Model):
    """Cash put into or taken out of a shift's drawer other than by a sale or a refund (change float top-up, a
    bank drop, petty cash), with its reason. Insert-only: a mistake is corrected by an opposite move."""

    shift = models.ForeignKey(TillShift, on_delete=models.PROTECT, related_name="cash_moves")
    kind = models.CharField(_("kind"), max_length=8, choices=CashMoveKind.choices)
    amount = models.BigIntegerField(_("amount (fen)"), help_text="signed: in > 0, out < 0")
    reason = models.CharField(_("reason"), max_length=255)
    client_ref = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "client_ref"], name="sales_cash_move_once"),
            models.CheckConstraint(condition=(Q(kind="cash_in") & Q(amount__gt=0)) | (Q(kind="cash_out") & Q(amount__lt=0)),
                                   name="sales_cash_move_sign"),
        ]


class DailySettlement(BaseModel):
    """A store's day settled (日结): the closed shifts of one business day added up, once per (store, day)."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", on_delete=models.PROTECT, related_name="+")
    business_date = models.DateField(_("business day"))
    shift_count = models.PositiveIntegerField(default=0)
    expected_cash = models.BigIntegerField(_("expected cash (fen)"), default=0)
    counted_cash = models.BigIntegerField(_("counted cash (fen)"), default=0)
    over_short = models.BigIntegerField(_("over / short (fen)"), default=0)
    report = models.JSONField(default=dict, blank=True)
    client_ref = models.CharField(max_length=128, blank=True, default="")
    settled_by = models.ForeignKey("org.Staff", on_delete=models.PROTECT, related_name="+")
    shifts = models.ManyToManyField(TillShift, related_name="+", blank=True)

    class Meta:
        verbose_name = _("daily settlement")
        verbose_name_plural = _("daily settlements")
        ordering = ["-business_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["store", "business_date"], name="sales_settlement_once")]
