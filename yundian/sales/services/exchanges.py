"""Exchanges at the till (换货): goods of a paid order come back and others go out, in one transaction.

An exchange is a return against the receipt (`return_create`: restock, refund to the original tenders newest
first, points, commission and coupons reversed) plus a new take-now sale at the same store for the same member
(`create_at_store`: priced by the one pricing function, stock issued, paid by `payments`), linked by the return's
`exchange_order`. The difference is the new total less the refund: the customer pays it when positive and gets it
back when negative; both movements are recorded on their own tenders, so the drawer and the Z report stay exact.
Once per (store, client_ref): the return and the sale take derived keys, so a retry replays both.
"""
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Forbidden, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm

from ..models import Order, OrderChannel, OrderMode, OrderReturn
from ._common import clean_ref, order_for, store_for
from .orders import create_at_store
from .returns import return_create


@dataclass(frozen=True)
class ExchangeResult:
    order_return: OrderReturn
    order: Order | None  # the new sale; None for a plain return
    replayed: bool

    @property
    def difference(self) -> int:
        """What the customer pays (> 0) or gets back (< 0) over the exchange."""
        return (self.order.total if self.order else 0) - self.order_return.refund_total


def exchange_create(*, actor: Staff, order_id: int, lines: Any, new_lines: Any = (), payments: Any = (),
                    client_ref: str, reason: str = "", approval: Any = None, coupon_codes: Any = None) -> ExchangeResult:
    """Return `lines` of the order and, when `new_lines` are given, sell them at the order's store to the order's
    member, paid by `payments`, in one transaction (both or neither). A manager's approval the new sale needs
    (a price below the floor) is asked for as in `order_create`. Locks: those of return_create, then order_create."""
    client_ref = clean_ref(client_ref, required=True)
    if len(client_ref) > 120:
        raise ValidationFailed(_("A client key is 1 to 128 printable characters."), code="invalid_client_ref",
                               details={"field": "client_ref"})
    original = order_for(actor, order_id, Perm.ORDER_SELL)
    store = store_for(actor, original.store_id, Perm.ORDER_SELL)
    if new_lines and not isinstance(new_lines, list | tuple):
        raise ValidationFailed(_("An order needs at least one line."), code="no_lines", details={"field": "new_lines"})
    try:
        return _exchange(actor=actor, original=original, store=store, lines=lines, new_lines=new_lines,
                         payments=payments, client_ref=client_ref, reason=reason, approval=approval,
                         coupon_codes=coupon_codes)
    except Forbidden as exc:
        if exc.code != "approval_required":
            raise
        # the pending request was rolled back with the exchange: the till approves an exchange by a manager's PIN
        raise Forbidden(exc.message, code="approval_required",
                        details={**exc.details, "approval_request_id": None, "via": "pin"}) from exc


def _exchange(*, actor, original, store, lines, new_lines, payments, client_ref, reason, approval,
              coupon_codes) -> ExchangeResult:
    with transaction.atomic():
        returned = return_create(actor=actor, order_id=original.pk, lines=lines, client_ref=f"{client_ref}:r",
                                 reason=reason, approval=approval)
        doc = returned.order_return
        sale = None
        if new_lines:
            result = create_at_store(actor=actor, store=store, lines=list(new_lines),
                                     channel=OrderChannel.POS, mode=OrderMode.TAKE_NOW, client_ref=f"{client_ref}:s",
                                     member_id=original.member_id, payments=payments, approval=approval,
                                     coupon_codes=coupon_codes, note=f"{doc.number}")
            sale = result.order
            if doc.exchange_order_id is None:
                OrderReturn.objects.filter(pk=doc.pk).update(exchange_order=sale)
                doc.exchange_order = sale
    return ExchangeResult(doc, sale, returned.replayed)


__all__ = ["ExchangeResult", "exchange_create"]
