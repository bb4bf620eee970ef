"""`{% load inventory_tags %}`: notes our own code writes on documents, shown translated (a person's note as typed)."""
from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

SYSTEM_NOTES = {"auto-replenishment": _("Created by automatic replenishment")}
MOVE_REASONS = {
    "expired": _("Reservation expired"), "consumed": _("Reservation used by the sale"),
    "released": _("Reservation released"), "transit_shortage": _("Short on arrival from transit"),
}


@register.filter
def note(value: str) -> str:
    """A document note our code writes, translated; a person's note as it was typed."""
    return str(SYSTEM_NOTES.get(value, value or ""))


@register.filter
def move_reason(value: str, kind: str) -> str:
    """A stock move's reason: an adjustment's reason code by its label, a return's sale as that order (linked), the
    codes the ledger writes translated."""
    from yundian.inventory.models import AdjustmentReason, MoveKind

    if kind == MoveKind.ADJUSTMENT and value in AdjustmentReason.values:
        return str(AdjustmentReason(value).label)
    if kind == MoveKind.RETURN and ":" in value:  # the sale it came back from, "order:127": that order, linked
        return stock_source(*value.split(":", 1))
    return str(MOVE_REASONS.get(value, value or ""))


# a stock move's source: (label, the page it links to); the pages answer 404 outside the viewer's scope
SOURCES = {
    "order": (_("Order %(ref)s"), "sales:order_detail"),
    "return": (_("Return #%(ref)s"), None),
    "receipt": (_("Goods receipt #%(ref)s"), None),
    "transfer": (_("Transfer #%(ref)s"), "inventory:transfer"),
    "allocation": (_("Allocation #%(ref)s"), "inventory:allocation"),
    "adjustment": (_("Adjustment #%(ref)s"), "inventory:adjustment"),
    "stocktake": (_("Stocktake #%(ref)s"), "inventory:stocktake"),
    "reservation_expiry": (_("Reservation expired"), None),
}


@register.simple_tag
def stock_source(source_type: str, source_id: str) -> str:
    """`{% stock_source m.source_type m.source_id %}`: "Transfer #12" linked to the transfer, "Order SO0000000127"
    linked to the order; an unknown source as its stored reference."""
    from django.urls import reverse
    from django.utils.html import format_html

    label, url_name = SOURCES.get(source_type, (None, None))
    if label is None:
        return format_html("{} {}", source_type, source_id)
    ref = str(source_id)
    shown = f"SO{int(ref):010d}" if source_type == "order" and ref.isdigit() else ref
    text = str(label) % {"ref": shown} if "%(ref)s" in str(label) else str(label)
    if url_name and ref.isdigit():
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[int(ref)]), text)
    return format_html("{}", text)
