"""Which orders a live session (直播) brought: those placed through one of its share links (promotions.ShareLink with
source "live:<id>"; the order keeps the link as its `share_code`, and the link's guide — the host, or the guide
who shared it — is the lines' guide, so commission follows the existing plans and a return takes it back).

The figures here are the OLTP side of the session's report: paid orders not cancelled (as the warehouse's
`is_sale`), their net GMV (paid less refunded), buyers, the top products by net amount and the orders per link's
guide. analytics reads the same from the warehouse and a test reconciles the two."""
from dataclasses import dataclass, field

from django.db.models import Count, F, Sum

from yundian.promotions.selectors import live_session_links

from .models import Order, OrderLine, OrderStatus


@dataclass(frozen=True)
class LiveOrders:
    orders: int = 0
    gmv: int = 0  # fen: paid less refunded
    buyers: int = 0
    top_products: list[dict] = field(default_factory=list)  # {product_id, name, quantity, amount}
    by_guide: list[dict] = field(default_factory=list)  # {staff_id, name, orders, gmv}


def live_session_orders(session):
    """The session's sales: paid, not cancelled orders placed through its links."""
    codes = [link.code for link in live_session_links(session)]
    return (Order.objects.filter(enterprise_id=session.enterprise_id, share_code__in=codes, paid_at__isnull=False)
            .exclude(status=OrderStatus.CANCELLED))


def live_session_figures(session, *, top: int = 5) -> LiveOrders:
    links = {link.code: link for link in live_session_links(session)}
    orders = live_session_orders(session)
    head = orders.aggregate(n=Count("id"), gmv=Sum(F("paid_total") - F("refunded_total")),
                            buyers=Count("member_id", distinct=True))
    lines = (OrderLine.objects.filter(order__in=orders)
             .values("sku__product_id", "sku__product__name")
             .annotate(quantity=Sum(F("quantity") - F("returned_quantity")),
                       amount=Sum(F("line_total") - F("returned_amount")))
             .order_by("-amount", "sku__product_id")[:top])
    by_code = orders.values("share_code").annotate(n=Count("id"), gmv=Sum(F("paid_total") - F("refunded_total")))
    by_guide: dict[int, dict] = {}
    for row in by_code:
        staff = links[row["share_code"]].sharer_staff
        entry = by_guide.setdefault(staff.pk, {"staff_id": staff.pk, "name": staff.display_name, "orders": 0, "gmv": 0})
        entry["orders"] += row["n"]
        entry["gmv"] += row["gmv"] or 0
    return LiveOrders(orders=head["n"] or 0, gmv=head["gmv"] or 0, buyers=head["buyers"] or 0,
                      top_products=[{"product_id": r["sku__product_id"], "name": r["sku__product__name"],
                                     "quantity": r["quantity"] or 0, "amount": r["amount"] or 0} for r in lines],
                      by_guide=sorted(by_guide.values(), key=lambda e: (-e["gmv"], e["staff_id"])))
