"""Exchanges at the till: the return reverses stock, money, points, commission and coupons exactly and the new sale
books its own, in one transaction; a retry replays; a failing new sale leaves everything as it was."""
import pytest

from yundian.core.errors import Conflict
from yundian.guides.models import CommissionEntry
from yundian.inventory.models import StockMove
from yundian.members.models import PointsEntry
from yundian.members.tests.factories import points, register
from yundian.promotions import services as promo
from yundian.promotions.models import Coupon, CouponStatus
from yundian.sales import services
from yundian.sales.models import Order, OrderReturn, OrderStatus, Refund
from yundian.sales.tests.factories import (assert_ledgers_clean, commission_of, level, next_ref, plan, sales_state,
                                           stocked)


@pytest.fixture
def stock(chain):
    return stocked(chain)


def coupon(chain, off: int) -> str:
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="XCH", name="Coupon",
                                            kind="threshold_amount", tiers=[{"min": 0, "off": off}])
    return promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code


def ledgers(member, stock, chain) -> dict:
    return {
        "stock": {sku.code: level(stock.wh_a, sku) for sku in (stock.cat.tee_s, stock.cat.tee_m, stock.cat.mug_sku)},
        "points": points(member), "commission": commission_of(chain.guide_a),
        "points_entries": list(PointsEntry.objects.filter(member=member).order_by("id").values_list("kind", "points")),
        "commission_entries": list(CommissionEntry.objects.order_by("id").values_list("order_id", "kind", "amount")),
        "stock_moves": StockMove.objects.count(), "refunds": list(Refund.objects.values_list("amount", flat=True)),
    }


def test_an_exchange_reverses_stock_points_commission_and_coupons_exactly_and_books_the_new_sale(chain, stock):
    plan(chain, "0.05")
    member = register(chain)
    code = coupon(chain, off=1000)
    order = services.order_create(
        actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.id, coupon_codes=[code],
        lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}, {"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
        payments=[{"method": "cash", "client_ref": "c", "tendered": 20000}]).order
    assert (order.subtotal, order.total) == (12400, 11400)
    before = ledgers(member, stock, chain)
    assert before["stock"] == {"TEE-001-S": (9, 0), "TEE-001-M": (10, 0), "MUG-01": (9, 0)}
    assert (before["points"], before["commission"]) == (114, 570)
    assert Coupon.objects.get(code=code).status == CouponStatus.REDEEMED

    result = services.exchange_create(
        actor=chain.guide_a, order_id=order.id, client_ref="x-1", reason="换尺码",
        lines=[{"order_line_id": line.id, "quantity": 1} for line in order.lines.all()],
        new_lines=[{"sku_id": stock.cat.tee_m.id, "quantity": 1}],
        payments=[{"method": "cash", "client_ref": "p", "tendered": 9900}])

    sale, doc = result.order, result.order_return
    after = ledgers(member, stock, chain)
    assert (doc.refund_total, sale.total, result.difference) == (11400, 9900, -1500)
    assert (doc.exchange_order_id, sale.member_id, sale.status) == (sale.id, member.id, OrderStatus.COMPLETED)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RETURNED
    # stock: both returned units back on the shelf, the new one issued
    assert after["stock"] == {"TEE-001-S": (10, 0), "TEE-001-M": (9, 0), "MUG-01": (10, 0)}
    assert after["stock_moves"] == before["stock_moves"] + 3
    # money: the whole 114.00 back to the cash tender, the new sale paid 99.00
    assert after["refunds"] == [11400]
    # points: 114 earned, 114 taken back, 99 earned on the new sale
    assert after["points_entries"] == before["points_entries"] + [("reverse", -114), ("earn", 99)]
    assert after["points"] == 99
    # commission: 5 % of 114.00 reversed in full, line by line (tee 91.02 and mug 22.98 after the coupon's share),
    # and 5 % of 99.00 earned on the new sale
    assert sorted(order.lines.values_list("sku_code", "line_total")) == [("MUG-01", 2298), ("TEE-001-S", 9102)]
    assert after["commission_entries"] == before["commission_entries"] + [
        (order.id, "reverse", -455), (order.id, "reverse", -115), (sale.id, "earn", 495)]
    assert after["commission"] == 495
    # the coupon came back with the full return
    assert Coupon.objects.get(code=code).status == CouponStatus.AVAILABLE
    assert_ledgers_clean()

    again = services.exchange_create(
        actor=chain.guide_a, order_id=order.id, client_ref="x-1", reason="换尺码",
        lines=[{"order_line_id": line.id, "quantity": 1} for line in order.lines.all()],
        new_lines=[{"sku_id": stock.cat.tee_m.id, "quantity": 1}],
        payments=[{"method": "cash", "client_ref": "p", "tendered": 9900}])
    assert (again.replayed, again.order_return.pk, again.order.pk) == (True, doc.pk, sale.pk)
    assert ledgers(member, stock, chain) == after


def test_an_exchange_whose_new_sale_fails_returns_nothing(chain, stock):
    member = register(chain)
    order = services.order_create(
        actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.id,
        lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}], payments=[{"method": "card", "client_ref": "c"}]).order
    before = (sales_state(), ledgers(member, stock, chain), OrderReturn.objects.count())
    with pytest.raises(Conflict) as exc:
        services.exchange_create(actor=chain.guide_a, order_id=order.id, client_ref="x-2",
                                 lines=[{"order_line_id": order.lines.get().id, "quantity": 1}],
                                 new_lines=[{"sku_id": stock.cat.tee_m.id, "quantity": 11}],
                                 payments=[{"method": "card", "client_ref": "p"}])
    assert exc.value.code == "insufficient_stock"
    assert exc.value.details["lines"][0]["available"] == 10
    assert (sales_state(), ledgers(member, stock, chain), OrderReturn.objects.count()) == before
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_a_return_after_the_window_needs_a_manager_and_passes_with_their_pin(chain, stock):
    from datetime import timedelta

    from django.utils import timezone

    from yundian.core.errors import Forbidden
    from yundian.sales.models import ApprovalRequest

    order = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                                  payments=[{"method": "card", "client_ref": "c"}]).order
    Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=31))  # the window is 30 days
    services.manager_pin_set(actor=chain.manager_a, store_id=chain.store_a.id, pin="2468")
    args = dict(actor=chain.guide_a, order_id=order.id, client_ref="late-1",
                lines=[{"order_line_id": order.lines.get().id, "quantity": 1}],
                new_lines=[{"sku_id": stock.cat.tee_m.id, "quantity": 1}], payments=[{"method": "card", "client_ref": "p"}])
    before = (sales_state(), OrderReturn.objects.count())
    with pytest.raises(Forbidden) as exc:
        services.exchange_create(**args)
    assert (exc.value.code, exc.value.details["kind"], exc.value.details["approval_request_id"]) == \
        ("approval_required", "late_return", None)
    with pytest.raises(Forbidden) as exc:
        services.return_create(actor=chain.guide_a, order_id=order.id, client_ref="late-2",
                               lines=[{"order_line_id": order.lines.get().id, "quantity": 1}])
    assert ApprovalRequest.objects.get(pk=exc.value.details["approval_request_id"]).kind == "late_return"
    assert (sales_state(), OrderReturn.objects.count()) == before

    done = services.exchange_create(**args, approval={"manager_id": chain.manager_a.id, "pin": "2468"})
    assert (done.order_return.refund_total, done.order.total, done.difference) == (9900, 9900, 0)
    assert done.order_return.approval.kind == "late_return" and done.order_return.approval.via == "pin"
    assert level(stock.wh_a, stock.cat.tee_s) == (10, 0)
