"""Through sales: an order is priced by the promotions engine (sales.pricing.cart_price calls it). Test code may
cross the dependency rule; the promotions code itself never imports sales."""
from yundian.sales.pricing import CartLine, cart_price
from yundian.sales.tests.factories import sell, stocked

from .factories import promo


def test_an_order_is_priced_by_the_promotions_engine_and_the_order_discount_spreads_over_what_is_left(chain):
    s = stocked(chain)
    promo(chain, code="MJ", kind="threshold_amount", tiers=[{"min": 20000, "off": 3000}])
    priced = cart_price(store=chain.store_a, channel="pos", order_discount=100,
                        lines=[CartLine(s.cat.tee_s, 2), CartLine(s.cat.mug_sku, 1)])
    assert (priced.subtotal, priced.total) == (22300, 22300 - 3000 - 100)
    assert [a["code"] for a in priced.applied] == ["MJ"] and priced.pricing["total"] == 22300 - 3000
    assert sum(p.line_total for p in priced.lines) == priced.total
    order = sell(chain.manager_a, chain.store_a, [(s.cat.tee_s, 2), (s.cat.mug_sku, 1)])
    assert (order.subtotal, order.discount_total, order.total) == (22300, 3000, 19300)
    assert sum(order.lines.values_list("line_total", flat=True)) == 19300
