"""Printing receipts: every print is counted on the order; a reprint is marked on the slip and audited."""
from django.db import transaction
from django.db.models import F

from yundian.core.audit import audit_record
from yundian.members.models import IdentityKind
from yundian.members.normalize import mask_identity
from yundian.members.selectors import phone_of
from yundian.org.models import Staff
from yundian.org.roles import Perm

from ..models import Order
from ..receipts import Receipt, receipt_for
from ._common import order_for


@transaction.atomic
def receipt_print(*, actor: Staff, order_id: int) -> Receipt:
    """The receipt of an order in the actor's scope (order.sell there); the second and later prints are reprints,
    marked "REPRINT n" and audited. Locks: none (an F() update of the print count)."""
    order = order_for(actor, order_id, Perm.ORDER_SELL)
    Order.objects.filter(pk=order.pk).update(receipt_prints=F("receipt_prints") + 1)
    prints = Order.objects.filter(pk=order.pk).values_list("receipt_prints", flat=True).get()
    order = Order.objects.select_related("store", "clerk", "member").get(pk=order.pk)
    reprint = prints - 1
    if reprint:
        audit_record(actor=actor, action="sales.receipt.reprinted", target=order, after={"reprint": reprint},
                     scope_path=order.store.path)
    # a slip leaves the shop with the customer: the phone is always masked on it
    member = mask_identity(IdentityKind.PHONE, phone_of(order.member)) if order.member_id else ""
    return receipt_for(order, reprint=reprint, member_label=member)
