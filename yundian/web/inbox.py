"""The console's approval and to-do inbox: what waits for the acting staff member, by kind, across contexts.

Each kind is a scoped selector of its own context (inventory, sales, members) that already answers "what may this
actor act on"; the inbox only puts them side by side, counts them for the navigation badge and links to the page
where the action is taken.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yundian.inventory import selectors as stock
from yundian.members import selectors as members
from yundian.org.models import Staff
from yundian.sales import selectors as sales


@dataclass(frozen=True)
class InboxRow:
    title: str
    detail: str
    url: str
    when: object = None


@dataclass
class InboxSection:
    key: str
    label: str
    action: str  # what the actor does with each row ("Approve", "Ship", ...)
    list_url: str
    count: int = 0
    rows: list[InboxRow] = field(default_factory=list)


@dataclass(frozen=True)
class InboxKind:
    key: str
    label: str
    action: str
    list_url: str
    queryset: Callable[[Staff], object]
    row: Callable[[object], InboxRow]


def _po_row(order) -> InboxRow:
    source = order.supplier.name if order.supplier_id else (order.source_warehouse.name if order.source_warehouse_id else "")
    return InboxRow(order.number, f"{source} → {order.warehouse.name}" if source else order.warehouse.name,
                    reverse("inventory:purchase_order", args=[order.id]), order.created_at)


def _transfer_row(transfer) -> InboxRow:
    return InboxRow(transfer.number, f"{transfer.from_warehouse.name} → {transfer.to_warehouse.name}",
                    reverse("inventory:transfer", args=[transfer.id]), transfer.created_at)


def _adjustment_row(adjustment) -> InboxRow:
    return InboxRow(adjustment.number, f"{adjustment.warehouse.name} · {adjustment.get_reason_display()}",
                    reverse("inventory:adjustment", args=[adjustment.id]), adjustment.created_at)


def _approval_row(approval) -> InboxRow:
    return InboxRow(str(approval.get_kind_display()),
                    " · ".join(p for p in (approval.store.name, approval.requested_by.display_name,
                                           "" if approval.summary == approval.kind else approval.summary) if p),
                    reverse("sales:approval_list"), approval.created_at)


def _points_row(adjustment) -> InboxRow:
    return InboxRow(_("%(points)s points") % {"points": f"{adjustment.points:+d}"},
                    f"{adjustment.member.name or adjustment.member.id} · {adjustment.reason} · "
                    f"{adjustment.requested_by.display_name}",
                    reverse("members:member_detail", args=[adjustment.member_id]), adjustment.created_at)


KINDS: list[InboxKind] = [
    InboxKind("purchase_orders", _("Purchase orders to approve"), _("Approve"), "inventory:purchase_orders",
              lambda a: stock.purchase_orders_awaiting_approval(actor=a), _po_row),
    InboxKind("transfers_approve", _("Transfers to approve"), _("Approve"), "inventory:transfers",
              lambda a: stock.transfers_awaiting(actor=a, step="approve"), _transfer_row),
    InboxKind("transfers_ship", _("Transfers to ship"), _("Ship"), "inventory:transfers",
              lambda a: stock.transfers_awaiting(actor=a, step="ship"), _transfer_row),
    InboxKind("transfers_receive", _("Transfers to receive"), _("Receive"), "inventory:transfers",
              lambda a: stock.transfers_awaiting(actor=a, step="receive"), _transfer_row),
    InboxKind("stock_adjustments", _("Stock adjustments above the threshold"), _("Decide"), "inventory:adjustments",
              lambda a: stock.adjustments_awaiting_approval(actor=a), _adjustment_row),
    InboxKind("till_approvals", _("Voids, returns without receipt and price overrides"), _("Decide"),
              "sales:approval_list", lambda a: sales.approvals_awaiting(actor=a), _approval_row),
    InboxKind("points_adjustments", _("Points adjustments to approve"), _("Decide"), "members:member_list",
              lambda a: members.adjustments_awaiting_approval(actor=a), _points_row),
]


def inbox_count(*, actor: Staff) -> int:
    """How many things wait for the actor, across every kind (one COUNT query per kind)."""
    return sum(kind.queryset(actor).count() for kind in KINDS)


def inbox_sections(*, actor: Staff, limit: int = 20) -> list[InboxSection]:
    """Every kind with its count and its oldest `limit` rows (kinds with nothing waiting included, count 0)."""
    sections = []
    for kind in KINDS:
        qs = kind.queryset(actor)
        count = qs.count()
        rows = [kind.row(obj) for obj in qs[:limit]] if count else []
        sections.append(InboxSection(kind.key, kind.label, kind.action, reverse(kind.list_url), count, rows))
    return sections
