"""The console order page's next steps for whoever sells at the store: take the payment of a storefront pickup
order at the counter, hand it over, cancel or void (with a manager's approval) — each once per form key, bad input
refused with nothing changed, other stores' orders out of reach."""
import pytest

from yundian.members.tests.factories import register
from yundian.org.tests.utils import client_for
from yundian.sales.models import ApprovalRequest, Order, OrderStatus, Payment, Shipment
from yundian.sales.services.storefront import storefront_order_create
from yundian.sales.tests.factories import assert_ledgers_clean, level, sales_state, sell, stocked
from yundian.members.tests.storefront import plain_storefront

pytestmark = pytest.mark.django_db


@pytest.fixture
def pickup(chain):
    stock = stocked(chain)
    plain_storefront(chain)
    order = storefront_order_create(store_id=chain.store_a.id, member=register(chain), client_ref="sf-1",
                                    lines=[{"sku_id": stock.cat.tee_s.pk, "quantity": 2}], mode="pickup").order
    return stock, order


def test_a_clerk_takes_the_payment_at_the_counter_and_hands_the_order_over_once(chain, pickup):
    stock, order = pickup
    clerk = client_for(chain.guide_a)
    url = f"/sales/orders/{order.pk}/"
    page = clerk.get(url).content.decode()
    assert 'id="order-pay"' in page and 'value="198.00"' in page and 'id="order-ship"' not in page
    pay = {"action": "pay", "key": "k1-pay", "method": "cash", "amount": "198"}
    assert clerk.post(url, pay).status_code == 302
    assert clerk.post(url, pay).status_code == 302  # the same form again: one payment
    order.refresh_from_db()
    assert (order.status, order.paid_total, Payment.objects.count()) == (OrderStatus.PAID, 19800, 1)
    assert 'id="order-ship"' in clerk.get(url).content.decode()
    ship = {"action": "ship", "key": "k1-ship"}
    assert clerk.post(url, ship).status_code == 302 and clerk.post(url, ship).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and Shipment.objects.count() == 1
    assert level(stock.wh_a, stock.cat.tee_s) == (8, 0)
    assert_ledgers_clean()


def test_bad_amounts_and_actions_are_refused_and_change_nothing(chain, pickup):
    _stock, order = pickup
    clerk = client_for(chain.guide_a)
    url = f"/sales/orders/{order.pk}/"
    before = sales_state()
    for data, status, code in (({"action": "pay", "key": "a", "method": "cash", "amount": "abc"}, 422, "invalid_amount"),
                               ({"action": "pay", "key": "b", "method": "cash", "amount": "-5"}, 422, "invalid_amount"),
                               ({"action": "pay", "key": "c", "method": "cash", "amount": "999"}, 409, "overpayment"),
                               ({"action": "pay", "key": "d", "method": "gold", "amount": "1"}, 422,
                                "invalid_payment_method"),
                               ({"action": "ship", "key": "e"}, 409, None),
                               ({"action": "explode"}, 422, "invalid_action")):
        response = client_for(chain.guide_a).post(url, data)
        assert response.status_code == status, (data, response.status_code)
        if code:
            assert f'data-code="{code}"' in response.content.decode()
    assert sales_state() == before
    assert client_for(chain.guide_b).post(url, {"action": "pay", "key": "x", "method": "cash",
                                                "amount": "1"}).status_code == 404
    assert sales_state() == before
    assert clerk.get(url).status_code == 200


def test_cancelling_releases_the_stock_and_voiding_a_paid_order_waits_for_a_manager(chain, pickup):
    stock, order = pickup
    clerk = client_for(chain.guide_a)
    url = f"/sales/orders/{order.pk}/"
    assert clerk.post(url, {"action": "cancel", "reason": "customer called"}).status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and level(stock.wh_a, stock.cat.tee_s) == (10, 0)

    paid = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])
    paid_url = f"/sales/orders/{paid.pk}/"
    refused = clerk.post(paid_url, {"action": "cancel", "reason": "wrong item"})
    assert refused.status_code == 403 and 'data-code="approval_required"' in refused.content.decode()
    request_id = ApprovalRequest.objects.get().pk
    client_for(chain.manager_a).post("/sales/approvals/", {"approval_id": request_id, "decision": "approve"})
    assert clerk.post(paid_url, {"action": "cancel", "reason": "wrong item",
                                 "approval_id": str(request_id)}).status_code == 302
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_total) == (OrderStatus.CANCELLED, 2500)
    assert Order.objects.filter(status=OrderStatus.CANCELLED).count() == 2
    assert_ledgers_clean()


def test_a_void_is_approved_by_a_manager_picked_by_name_never_by_a_typed_id(chain, pickup):
    from yundian.sales.services import manager_pin_set

    stock, _order = pickup
    clerk = client_for(chain.guide_a)
    first, second = (sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)]) for _ in range(2))
    url = f"/sales/orders/{first.pk}/"
    page = clerk.get(url).content.decode()
    # the manager on site is picked by name (the staff picker) with a PIN; no box for a request number
    assert 'data-picker data-name="manager_id"' in page and 'name="pin"' in page and 'inputmode="numeric" value=' not in page
    assert clerk.post(url, {"action": "cancel", "reason": "wrong item"}).status_code == 403
    assert 'data-status="pending"' in clerk.get(url).content.decode()  # asked, waiting in the managers' inbox
    request = ApprovalRequest.objects.get()
    client_for(chain.manager_a).post("/sales/approvals/", {"approval_id": request.pk, "decision": "approve"})
    page = clerk.get(url).content.decode()
    # the approval is offered by the approver's name; the other order's page does not offer it
    assert f'name="approval_id" value="{request.pk}" checked> {chain.manager_a.display_name} 于 ' in page
    assert 'name="approval_id"' not in clerk.get(f"/sales/orders/{second.pk}/").content.decode()
    assert clerk.post(url, {"action": "cancel", "reason": "wrong item", "approval_id": str(request.pk)}).status_code == 302
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED

    # the manager on site, picked by name, approves the second void with their PIN; a wrong PIN or a manager typed
    # by hand changes nothing
    manager_pin_set(actor=chain.manager_a, store_id=chain.store_a.id, pin="2468")
    url = f"/sales/orders/{second.pk}/"
    before = sales_state()
    wrong = clerk.post(url, {"action": "cancel", "reason": "x", "manager_id": str(chain.manager_a.pk), "pin": "1357"})
    assert wrong.status_code == 403 and 'data-code="invalid_pin"' in wrong.content.decode()
    typed = clerk.post(url, {"action": "cancel", "reason": "x", "manager_id": "王店长", "pin": "2468"})
    assert typed.status_code == 422 and 'data-code="invalid_manager"' in typed.content.decode()
    assert sales_state() == before
    done = clerk.post(url, {"action": "cancel", "reason": "x", "manager_id": str(chain.manager_a.pk), "pin": "2468"})
    assert done.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.refunded_total) == (OrderStatus.CANCELLED, 2500)
    pin_approval = ApprovalRequest.objects.filter(via="pin").get()
    assert (pin_approval.decided_by_id, pin_approval.requested_by_id) == (chain.manager_a.pk, chain.guide_a.pk)
    assert_ledgers_clean()
