"""Reads of orders, returns and approvals, scoped to the acting staff member (out of scope -> 404).

A clerk sees their store's orders; a region manager their region's; HQ all of the enterprise's.
"""
import re
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from .models import (ApprovalKind, ApprovalRequest, ApprovalStatus, Order, OrderChannel, OrderLine, OrderMode, OrderReturn,
                     OrderStatus, ShiftStatus, TillShift)

NUMBER_RE = re.compile(r"(?i)SO0*([0-9]{1,12})")


def order_scope(actor: Staff) -> QuerySet[Order]:
    return Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id)


def order_get(*, actor: Staff, order_id: int) -> Order:
    order = order_scope(actor).filter(pk=order_id).select_related("store", "member", "clerk").first()
    if order is None:
        raise NotFound(_("Order not found."), code="order_not_found")
    return order


def order_lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).order_by("line_no"))


def _choice(value: str | None, allowed, field: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ValidationFailed(_("Not a valid choice."), code="invalid_filter",
                               details={"field": field, "allowed": list(allowed)})
    return value


def order_list(*, actor: Staff, store_id: int | None = None, status: str | None = None, mode: str | None = None,
               channel: str | None = None, member_id: int | None = None, guide_id: int | None = None,
               number: str | None = None, client_ref: str | None = None, placed_from: datetime | None = None,
               placed_to: datetime | None = None) -> QuerySet[Order]:
    """Orders in scope, newest first. `number` accepts SO0000000042 or 42."""
    qs = order_scope(actor)
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    if (status := _choice(status, OrderStatus.values, "status")) is not None:
        qs = qs.filter(status=status)
    if (mode := _choice(mode, OrderMode.values, "mode")) is not None:
        qs = qs.filter(mode=mode)
    if (channel := _choice(channel, OrderChannel.values, "channel")) is not None:
        qs = qs.filter(channel=channel)
    if member_id is not None:
        qs = qs.filter(member_id=member_id)
    if guide_id is not None:
        qs = qs.filter(pk__in=OrderLine.objects.filter(guide_id=guide_id).values("order_id"))
    if number:
        match = NUMBER_RE.fullmatch(number.strip()) or (re.fullmatch(r"[0-9]{1,12}", number.strip()) and
                                                        NUMBER_RE.fullmatch("SO" + number.strip()))
        qs = qs.filter(pk=int(match.group(1))) if match else qs.none()
    if client_ref:
        qs = qs.filter(client_ref=client_ref)
    if placed_from is not None:
        qs = qs.filter(placed_at__gte=placed_from)
    if placed_to is not None:
        qs = qs.filter(placed_at__lt=placed_to)
    return qs.order_by("-placed_at", "-id")


def return_list(*, actor: Staff, order_id: int | None = None) -> QuerySet[OrderReturn]:
    qs = OrderReturn.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs.order_by("-id")


def return_get(*, actor: Staff, return_id: int) -> OrderReturn:
    doc = return_list(actor=actor).filter(pk=return_id).first()
    if doc is None:
        raise NotFound(_("Return not found."), code="return_not_found")
    return doc


def approval_list(*, actor: Staff, status: str | None = None, store_id: int | None = None) -> QuerySet[ApprovalRequest]:
    qs = ApprovalRequest.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id)
    if (status := _choice(status, ApprovalStatus.values, "status")) is not None:
        qs = qs.filter(status=status)
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    return qs.select_related("store", "requested_by").order_by("-id")


def approval_get(*, actor: Staff, approval_id: int) -> ApprovalRequest:
    approval = approval_list(actor=actor).filter(pk=approval_id).first()
    if approval is None:
        raise NotFound(_("Approval request not found."), code="approval_not_found")
    return approval


def approvals_awaiting(*, actor: Staff) -> QuerySet[ApprovalRequest]:
    """Pending, unexpired requests the actor may decide: order.approve at the request's store, not their own."""
    return (ApprovalRequest.objects.filter(scope_q(actor, Perm.ORDER_APPROVE, "store__path"),
                                           enterprise_id=actor.enterprise_id, status=ApprovalStatus.PENDING,
                                           expires_at__gt=timezone.now())
            .exclude(requested_by=actor).select_related("store", "requested_by").order_by("id"))


def void_approvals_for(*, actor: Staff, order: Order) -> list[ApprovalRequest]:
    """The actor's own requests to void this order that can still be used (waiting, or approved and not expired),
    newest first, with the manager who decided: what the order page offers to pick by the approver's name."""
    return list(ApprovalRequest.objects.filter(
        store_id=order.store_id, kind=ApprovalKind.VOID, requested_by=actor, payload__order_id=order.pk,
        status__in=[ApprovalStatus.PENDING, ApprovalStatus.APPROVED], expires_at__gt=timezone.now(),
    ).select_related("decided_by").order_by("-id")[:10])


def open_shift(*, actor: Staff, store) -> TillShift | None:
    """The actor's open till shift at the store (at most one), or None."""
    return TillShift.objects.filter(store=store, opened_by=actor, status=ShiftStatus.OPEN).first()


__all__ = ["Q"]
