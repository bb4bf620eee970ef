"""What a points or stored-value entry came from, as a person reads it: "Order SO0000000127", "Opening balance
(import)", never the ledger's internal (source_type, source_id) pair."""
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy as _

ORDER_NUMBER = "SO{:010d}"
# source types whose id is an order's id
ORDER_SOURCES = {"order", "referral", "referral_reversal"}
LABELS = {
    "order": _("Order %(ref)s"),
    "referral": _("Referral reward for order %(ref)s"),
    "referral_reversal": _("Referral reward taken back for order %(ref)s"),
    "return": _("Return #%(ref)s"),
    "refund": _("Refund #%(ref)s"),
    "sales_payment": _("Payment #%(ref)s"),
    "adjustment": _("Manual adjustment #%(ref)s"),
    "api_redeem": _("Redeemed through the API"),
    "lot": _("Expiry of points received earlier"),
    "birthday": _("Birthday gift"),
    "merge": _("Member merge"),
    "import": _("Opening balance (import)"),
    "payment": _("Top-up, payment reference %(ref)s"),
    "topup": _("Top-up #%(ref)s"),
    "gift_card": _("Gift card"),
}
# free-text reasons our own code writes, shown translated
REASONS = {
    "referral reward": _("Referral reward"),
    "referral reward reversed": _("Referral reward taken back"),
    "void": _("Void"),
}


@dataclass(frozen=True)
class Reference:
    text: str
    order_id: int | None = None  # the order it links to, when it is one


def _tail(source_id: str) -> str:
    """ "refund:12" -> "12": the id after a "kind:" prefix our services put on some references."""
    return source_id.rsplit(":", 1)[-1]


def source_reference(source_type: str, source_id: str) -> Reference:
    """The translated reference of a ledger entry's source."""
    label = LABELS.get(source_type)
    if source_type in ORDER_SOURCES and str(source_id).isdigit():
        return Reference(str(label) % {"ref": ORDER_NUMBER.format(int(source_id))}, int(source_id))
    if label is None:
        return Reference(gettext("Other (%(ref)s)") % {"ref": f"{source_type} {source_id}".strip()})
    return Reference(str(label) % {"ref": _tail(str(source_id))} if "%(ref)s" in str(label) else str(label))


def reason_label(reason: str) -> str:
    """A reason as typed by a person stays as it is; the few our own code writes are translated ("void: x" too)."""
    if reason in REASONS:
        return str(REASONS[reason])
    if reason.startswith("void: "):
        return gettext("Void: %(reason)s") % {"reason": reason[len("void: "):]}
    return reason
