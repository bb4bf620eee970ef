"""Receipts: the data of a printed receipt, and a small ESC/POS encoder for 80 mm thermal printers.

Our own encoder (a dozen commands) rather than python-escpos: we only produce bytes for the till to send to its
printer, we never talk to a device, so the library's USB/network drivers would not earn their place.

80 mm paper with font A prints 48 columns; Chinese characters take two. Text is encoded as GB18030, which
Chinese thermal printers read in their default Chinese mode.
"""
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yundian.core.money import Money
from yundian.core.when import format_when
from yundian.stores.selectors import store_time_zone

from .models import Order, PaymentMethod

WIDTH = 48
ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
ALIGN_LEFT, ALIGN_CENTER = ESC + b"a\x00", ESC + b"a\x01"
BOLD_ON, BOLD_OFF = ESC + b"E\x01", ESC + b"E\x00"
DOUBLE_ON, DOUBLE_OFF = GS + b"!\x11", GS + b"!\x00"
CUT = GS + b"V\x42\x00"  # feed and partial cut


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out


def two_columns(left: str, right: str, width: int = WIDTH) -> str:
    right = clip(right, width)
    left = clip(left, max(0, width - display_width(right) - 1))
    return left + " " * (width - display_width(left) - display_width(right)) + right


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    detail: str  # "2 x ¥99.00" or "350 g x ¥12.80/kg"
    amount: Money


@dataclass(frozen=True)
class Receipt:
    store: str
    number: str
    placed_at: str
    clerk: str
    mode: str
    lines: list[ReceiptLine]
    totals: list[tuple[str, Money]]
    payments: list[tuple[str, Money]]
    member: str
    points: int
    reprint: int  # 0: the original; n: the n-th reprint


def receipt_for(order: Order, *, reprint: int = 0, member_label: str = "") -> Receipt:
    """The receipt's data; amounts are Money, shown by the one formatting path (`|yuan` on the page, `.format()`
    on the printer)."""
    def money(fen: int) -> Money:
        return Money(fen, order.currency)

    lines = []
    for line in order.lines.order_by("line_no"):
        if line.is_weighed:
            detail = f"{line.quantity} g x {money(line.unit_price)}/kg"
        else:
            detail = f"{line.quantity} x {money(line.unit_price)}"
        lines.append(ReceiptLine(line.name, detail, money(line.line_total)))
    totals = [(_("Subtotal"), money(order.subtotal))]
    if order.discount_total:
        totals.append((_("Discount"), money(-order.discount_total)))
    totals.append((_("Total"), money(order.total)))
    methods = dict(PaymentMethod.choices)
    payments = []
    for p in order.payments.order_by("id"):
        payments.append((str(methods.get(p.method, p.method)), money(p.tendered if p.tendered else p.amount)))
        if p.change:
            payments.append((pgettext("cash handed back", "Change"), money(p.change)))
    if order.refunded_total:
        payments.append((_("Refunded"), money(-order.refunded_total)))
    clerk = order.clerk.display_name if order.clerk_id else ""
    return Receipt(store=order.store.name, number=order.number,
                   placed_at=format_when(order.placed_at, "seconds", store_time_zone(order.store_id)), clerk=clerk,
                   mode=order.get_mode_display(), lines=lines, totals=totals, payments=payments, member=member_label,
                   points=order.points_earned, reprint=reprint)


def escpos(receipt: Receipt) -> bytes:
    """The receipt as ESC/POS bytes for an 80 mm printer."""
    out = bytearray(INIT)

    def text(value: str) -> None:
        out.extend(value.encode("gb18030", errors="replace") + b"\n")

    out.extend(ALIGN_CENTER + BOLD_ON + DOUBLE_ON)
    text(clip(receipt.store, WIDTH // 2))
    out.extend(DOUBLE_OFF + BOLD_OFF)
    if receipt.reprint:
        text(_("REPRINT %(n)d") % {"n": receipt.reprint})
    out.extend(ALIGN_LEFT)
    text(two_columns(_("Order"), receipt.number))
    text(two_columns(_("Time"), receipt.placed_at))
    if receipt.clerk:
        text(two_columns(_("Clerk"), receipt.clerk))
    text(two_columns(_("Mode"), str(receipt.mode)))
    text("-" * WIDTH)
    for line in receipt.lines:
        text(clip(line.name, WIDTH))
        text(two_columns("  " + line.detail, line.amount.format()))
    text("-" * WIDTH)
    for label, value in receipt.totals:
        if label == _("Total"):
            out.extend(BOLD_ON)
            text(two_columns(str(label), value.format()))
            out.extend(BOLD_OFF)
        else:
            text(two_columns(str(label), value.format()))
    for label, value in receipt.payments:
        text(two_columns(str(label), value.format()))
    if receipt.member:
        text(two_columns(_("Member"), receipt.member))
        text(two_columns(_("Points earned"), str(receipt.points)))
    out.extend(ALIGN_CENTER)
    text(_("Thank you for shopping with us"))
    out.extend(b"\n\n\n" + CUT)
    return bytes(out)


def zreport_escpos(*, shift, report: dict, show_expected: bool) -> bytes:
    """A shift's X or Z report as ESC/POS bytes for an 80 mm printer (the same rows as the page and the export)."""
    from .shifts import report_rows

    out = bytearray(INIT)

    def text(value: str) -> None:
        out.extend(value.encode("gb18030", errors="replace") + b"\n")

    currency = shift.store.enterprise.currency
    out.extend(ALIGN_CENTER + BOLD_ON + DOUBLE_ON)
    text(clip(shift.store.name, WIDTH // 2))
    out.extend(DOUBLE_OFF)
    text(_("Z report") if "counted" in report else _("X report"))
    out.extend(BOLD_OFF + ALIGN_LEFT)
    text(two_columns(_("Shift"), shift.number))
    text(two_columns(_("Clerk"), shift.opened_by.display_name))
    zone = store_time_zone(shift.store_id)
    text(two_columns(_("Opened"), format_when(shift.opened_at, zone=zone)))
    if shift.closed_at:
        text(two_columns(pgettext("till shift", "Closed"), format_when(shift.closed_at, zone=zone)))
    text("-" * WIDTH)
    for label, count, amount in report_rows(report, currency, show_expected):
        left = f"{label} ({count})" if count != "" else str(label)
        text(two_columns(left, amount.format()))
    out.extend(b"\n\n\n" + CUT)
    return bytes(out)
