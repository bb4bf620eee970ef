"""What sales shows of a member's orders elsewhere, registered with members' hooks when sales is ready:

- the orders section of the staff 360° profile: the member's orders across channels that the actor may see (their
  order scope); orders in stores outside that scope are only counted, never shown;
- the member's own "my orders" page on the storefront: all their orders, every channel and store, newest first.
"""
from django.db.models import Sum
from django.urls import reverse

from yundian.core.money import Money
from yundian.members.hooks import register_member_orders, register_profile_section
from yundian.org.models import Staff

from .models import Order, OrderLine
from .selectors import order_scope

PROFILE_ORDER_ROWS = 20
MEMBER_ORDER_ROWS = 50


@register_profile_section("orders")
def member_orders_section(actor: Staff, member) -> dict:
    all_orders = Order.objects.filter(enterprise_id=member.enterprise_id, member=member)
    visible = order_scope(actor).filter(member=member).select_related("store").order_by("-placed_at", "-id")
    rows = list(visible[:PROFILE_ORDER_ROWS])
    guides: dict[int, set[str]] = {}
    for order_id, name in (OrderLine.objects.filter(order__in=rows, guide__isnull=False)
                           .values_list("order_id", "guide__display_name")):
        guides.setdefault(order_id, set()).add(name)
    currency = member.enterprise.currency
    count_all = all_orders.count()
    paid = all_orders.aggregate(paid=Sum("paid_total"), refunded=Sum("refunded_total"))
    return {
        "rows": [{
            "number": o.number,
            "url": reverse("sales:order_detail", args=[o.pk]),
            "placed_at": o.placed_at,
            "store": o.store.name,
            "channel": o.get_channel_display(),
            "status": o.get_status_display(),
            "guides": "、".join(sorted(guides.get(o.pk, ()))),
            "total": Money(o.total, currency),
        } for o in rows],
        "count_all": count_all,
        "outside_scope": count_all - visible.count(),
        "paid_total": Money((paid["paid"] or 0) - (paid["refunded"] or 0), currency),
    }


@register_member_orders
def member_own_orders(member) -> list[dict]:
    """The member's own orders (the storefront account page): no staff scope, no console links."""
    currency = member.enterprise.currency
    rows = (Order.objects.filter(enterprise_id=member.enterprise_id, member=member).select_related("store")
            .order_by("-placed_at", "-id")[:MEMBER_ORDER_ROWS])
    return [{
        "number": o.number,
        "placed_at": o.placed_at,
        "store": o.store.name,
        "channel": o.get_channel_display(),
        "status": o.get_status_display(),
        "total": Money(o.total - o.refunded_total, currency),
        "points": o.points_earned,
    } for o in rows]
