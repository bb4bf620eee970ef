"""Sales console pages: order lookup (search, filter), order detail, the 80 mm receipt print view, approvals.
Parse -> one service/selector -> render. The POS page itself lives in its own module (built on the API)."""
from uuid import uuid4

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, ValidationFailed
from yundian.core.money import Money
from yundian.core.numbers import parse_whole
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.stores.selectors import store_time_zone

from . import selectors, services
from .models import ApprovalStatus, OrderChannel, OrderMode, OrderStatus, PaymentMethod


@console_view(Perm.ORDER_VIEW)
def order_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = {"store_id": parse_whole(g.get("store")), "number": (g.get("q") or "")[:20].strip() or None,
               "status": g.get("status") if g.get("status") in OrderStatus.values else None,
               "mode": g.get("mode") if g.get("mode") in OrderMode.values else None,
               "channel": g.get("channel") if g.get("channel") in OrderChannel.values else None}
    day = parse_date((g.get("day") or "")[:10]) if g.get("day") else None
    qs = selectors.order_list(actor=request.actor, **filters).select_related("store__store_profile", "member")
    if day:
        qs = qs.filter(placed_at__date=day)
    page = Paginator(qs, 50).get_page(g.get("page"))
    return render(request, "sales/order_list.html", {
        "page": page, "filters": filters, "day": g.get("day", "")[:10], "statuses": OrderStatus.choices,
        "modes": OrderMode.choices, "channels": OrderChannel.choices})


def _approval_from_post(post) -> dict | None:
    """The approval a void form carries: the manager on site picked by name with their PIN, or a manager's remote
    approval picked from the list (by the approver's name); None when neither was given."""
    manager_id = parse_whole(post.get("manager_id"))
    if manager_id:  # a manager picked on the spot wins over an approval ticked in the list
        return {"manager_id": manager_id, "pin": post.get("pin", "")[:16]}
    if (post.get("manager_id") or "").strip():
        raise ValidationFailed(_("Pick the manager from the list."), code="invalid_manager",
                               details={"field": "manager_id"})
    approval_id = parse_whole(post.get("approval_id"))
    return {"approval_id": approval_id} if approval_id else None


def _order_action(request: HttpRequest, order) -> DomainError | None:
    """Run the posted action on the order (take a payment, hand over / ship what is outstanding, cancel or void);
    each is once per form key. Returns the domain error to show, or None."""
    post, key = request.POST, (request.POST.get("key") or "")[:64] or None
    action = post.get("action")
    try:
        if action == "pay":
            amount = Money.parse(post.get("amount", "")[:20], order.currency).amount
            if amount <= 0:
                raise ValidationFailed(_("Type the amount in yuan, like 12.50."), code="invalid_amount",
                                       details={"field": "amount"})
            services.payment_add(actor=request.actor, order_id=order.pk, payment={
                "method": post.get("method"), "client_ref": key, "amount": amount})
        elif action == "ship":
            services.shipment_create(actor=request.actor, order_id=order.pk, client_ref=key,
                                     carrier=post.get("carrier", "")[:40], tracking_no=post.get("tracking_no", "")[:64])
        elif action == "cancel":
            services.order_cancel(actor=request.actor, order_id=order.pk, reason=post.get("reason", "")[:255],
                                  approval=_approval_from_post(post))
        else:
            raise ValidationFailed(_("Unknown action."), code="invalid_action")
    except DomainError as exc:
        return exc
    return None


@console_view(Perm.ORDER_VIEW)
@require_http_methods(["GET", "POST"])
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """The order, and for whoever sells at its store the next steps: take a payment (a storefront order paid at
    the counter), hand over or ship what is outstanding, cancel (a paid order is voided: a manager approves)."""
    order = selectors.order_get(actor=request.actor, order_id=order_id)
    error, status = None, 200
    if request.method == "POST":
        error = _order_action(request, order)
        if error is None:
            return redirect("sales:order_detail", order.pk)
        status = error.status
        order = selectors.order_get(actor=request.actor, order_id=order_id)
    may_sell = has_perm(request.actor, Perm.ORDER_SELL, order.store)
    lines = selectors.order_lines(order)
    outstanding = any(l.quantity - l.shipped_quantity - l.returned_quantity > 0 for l in lines)
    may_cancel = may_sell and order.status in (OrderStatus.OPEN, OrderStatus.PAID, OrderStatus.COMPLETED)
    with timezone.override(store_time_zone(order.store_id)):  # the order's times as its store reads them
        return render(request, "sales/order_detail.html", {
        "order": order, "lines": lines, "payments": order.payments.order_by("id"),
        "returns": selectors.return_list(actor=request.actor, order_id=order.pk),
        "may_sell": may_sell,
        "may_pay": may_sell and order.status == OrderStatus.OPEN and order.due > 0,
        "may_ship": may_sell and order.status == OrderStatus.PAID and order.mode != OrderMode.TAKE_NOW and outstanding,
        "may_cancel": may_cancel,
        "needs_approval": may_cancel and order.paid_total > 0 and not has_perm(request.actor, Perm.ORDER_APPROVE,
                                                                                order.store),
        "void_approvals": selectors.void_approvals_for(actor=request.actor, order=order) if may_cancel else [],
        "methods": [(v, l) for v, l in PaymentMethod.choices if v != PaymentMethod.STORED_VALUE],
        "due_yuan": Money(order.due, order.currency).plain(), "key": uuid4().hex,
        "error": {"message": error.message, "code": error.code, "details": error.details} if error else None,
        }, status=status)


@console_view(Perm.ORDER_SELL)
def receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    """The 80 mm print view; printing it counts, and the second and later prints say REPRINT."""
    slip = services.receipt_print(actor=request.actor, order_id=order_id)
    return render(request, "sales/receipt.html", {"receipt": slip})


@console_view(Perm.ORDER_VIEW)
@require_http_methods(["GET", "POST"])
def approval_list(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            services.approval_decide(actor=request.actor, approval_id=parse_whole(request.POST.get("approval_id")) or 0,
                                     approve=request.POST.get("decision") == "approve",
                                     reason=request.POST.get("reason", "")[:255])
            if not request.htmx:
                return redirect("sales:approval_list")
        except DomainError as exc:
            error = {"message": exc.message, "code": exc.code}
    status = request.GET.get("status", ApprovalStatus.PENDING)
    approvals = selectors.approval_list(actor=request.actor, status=status if status in ApprovalStatus.values else None)[:200]
    template = "sales/partials/approvals.html" if request.htmx else "sales/approval_list.html"
    return render(request, template, {"approvals": approvals, "error": error, "status": status,
                                      "statuses": ApprovalStatus.choices})
