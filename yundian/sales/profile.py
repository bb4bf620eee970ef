"""The orders section of a member's 360° profile, registered with members' profile hooks when sales is ready.

The rows are the member's orders across channels that the actor may see (their order scope); orders in stores
outside that scope are only counted, never shown.
"""
from django.db.models import Sum
from django.urls import reverse

from yundian.core.money import Money
from yundian.members.hooks import register_profile_section
from yundian.org.models import Staff

from .models import Order, OrderLine
from .selectors import order_scope

PROFILE_ORDER_ROWS = 20


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
            "total": Money(o.total, currency).format(),
        } for o in rows],
        "count_all": count_all,
        "outside_scope": count_all - visible.count(),
        "paid_total": Money((paid["paid"] or 0) - (paid["refunded"] or 0), currency).format(),
    }
