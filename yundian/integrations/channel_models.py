"""Outside sales channels (marketplaces, mini-programs): a connection, the orders it brought in, its sync log."""
from django.db import models
from django.utils.translation import gettext_lazy as _

from yundian.core.models import BaseModel


class ChannelConnection(BaseModel):
    """One outside channel selling a store's stock: its orders land at `store` (channel "marketplace"), reserve in
    the store's stock room (the pool its till sells from) and are taken by `acting_staff`'s rights."""

    enterprise = models.ForeignKey("org.Enterprise", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("org.OrgNode", verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    acting_staff = models.ForeignKey("org.Staff", verbose_name=_("acts as"), on_delete=models.PROTECT,
                                     related_name="+")
    kind = models.CharField(_("kind"), max_length=32)  # an adapter registered in channels.ADAPTERS
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    base_url = models.URLField(_("address"), max_length=300)
    api_key = models.CharField(_("API key"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order_cursor = models.CharField(max_length=200, blank=True)  # the marketplace's own position in its order feed
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("channel connection")
        verbose_name_plural = _("channel connections")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="integrations_channel_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ChannelOrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    REJECTED = "rejected", _("Rejected")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class ChannelOrder(models.Model):
    """One marketplace order, once per (connection, external id): the order it became, or why it was refused
    (out of stock, unknown SKU), and the last status told back to the marketplace."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(_("marketplace order"), max_length=64)
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ChannelOrderStatus.choices)
    reason_code = models.CharField(max_length=48, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    pushed_status = models.CharField(max_length=10, blank=True)  # the last status the marketplace acknowledged
    total = models.BigIntegerField(_("marketplace total (fen)"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel order")
        verbose_name_plural = _("channel orders")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["connection", "external_id"], name="integrations_channel_order")]


class ChannelSyncRun(models.Model):
    """One sync with a channel: orders pulled, stock and prices pushed, statuses told; counts or the error."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="runs")
    at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField(default=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
