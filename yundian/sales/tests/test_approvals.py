"""Manager approval (审批): each sensitive action fails with 403 approval_required until a manager approves it
(PIN on the device or remotely); approvals are bound to the exact action, used once, and audited."""
import pytest

from yundian.core.errors import Conflict, Forbidden
from yundian.core.models import AuditEntry
from yundian.sales import services
from yundian.sales.models import ApprovalRequest, Order, OrderReturn
from yundian.sales.tests.factories import level, next_ref, sales_state, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain)


def cheap_tee(chain, stock, price=5000, **extra):
    return dict(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="till-1-77",
                lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1, "unit_price": price}],
                payments=[{"method": "cash", "client_ref": "c"}], **extra)


def test_price_below_the_floor_needs_approval_then_remote_approval_lets_the_same_sale_through(chain, stock):
    before = sales_state()
    with pytest.raises(Forbidden) as exc:
        services.order_create(**cheap_tee(chain, stock))
    assert exc.value.code == "approval_required" and exc.value.details["kind"] == "price_override"
    assert sales_state() == before
    approval_id = exc.value.details["approval_request_id"]
    with pytest.raises(Forbidden) as again:  # retried before the decision: the same pending request
        services.order_create(**cheap_tee(chain, stock))
    assert again.value.details["approval_request_id"] == approval_id
    assert ApprovalRequest.objects.filter(status="pending").count() == 1
    with pytest.raises(Forbidden) as pending:
        services.order_create(**cheap_tee(chain, stock, approval={"approval_id": approval_id}))
    assert pending.value.code == "approval_pending"
    with pytest.raises(Forbidden):  # a guide cannot approve; nobody approves their own
        services.approval_decide(actor=chain.guide_a, approval_id=approval_id, approve=True)
    services.approval_decide(actor=chain.manager_a, approval_id=approval_id, approve=True, reason="damaged box")
    with pytest.raises(Conflict) as other:  # the approval covers that exact sale, not another price
        services.order_create(**cheap_tee(chain, stock, price=4000, approval={"approval_id": approval_id}))
    assert other.value.code == "approval_mismatch"
    order = services.order_create(**cheap_tee(chain, stock, approval={"approval_id": approval_id})).order
    assert (order.total, level(stock.wh_a, stock.cat.tee_s)) == (5000, (9, 0))
    assert ApprovalRequest.objects.get(pk=approval_id).status == "used"
    actions = list(AuditEntry.objects.filter(action__startswith="sales.approval").values_list("action", flat=True))
    assert sorted(actions) == ["sales.approval.approved", "sales.approval.requested", "sales.approval.used"]
    with pytest.raises(Conflict) as used:
        services.order_create(**{**cheap_tee(chain, stock, approval={"approval_id": approval_id}), "client_ref": "n"})
    assert used.value.code == "approval_unusable"


def test_a_price_within_the_floor_needs_no_approval(chain, stock):
    order = services.order_create(**cheap_tee(chain, stock, price=8910)).order  # 90% of 99.00
    assert order.total == 8910 and not ApprovalRequest.objects.exists()


def test_manager_pin_on_the_device_approves_and_a_wrong_pin_is_refused_and_audited(chain, stock):
    services.manager_pin_set(actor=chain.manager_a, store_id=chain.store_a.id, pin="2468")
    before = sales_state()
    with pytest.raises(Forbidden) as wrong:
        services.order_create(**cheap_tee(chain, stock, approval={"manager_id": chain.manager_a.id, "pin": "1111"}))
    assert wrong.value.code == "invalid_pin" and sales_state() == before
    assert AuditEntry.objects.filter(action="sales.approval.pin_failed").count() == 1
    with pytest.raises(Forbidden) as not_a_manager:
        services.order_create(**cheap_tee(chain, stock, approval={"manager_id": chain.manager_b.id, "pin": "2468"}))
    assert not_a_manager.value.code == "invalid_pin"
    order = services.order_create(**cheap_tee(chain, stock, approval={"manager_id": chain.manager_a.id,
                                                                       "pin": "2468"})).order
    approval = ApprovalRequest.objects.get()
    assert (approval.status, approval.via, approval.decided_by_id, approval.requested_by_id) == (
        "used", "pin", chain.manager_a.id, chain.guide_a.id)
    entry = AuditEntry.objects.get(action="sales.approval.price_override")
    assert entry.actor_user_id == chain.manager_a.user_id and entry.after["via"] == "pin"
    assert order.total == 5000


def test_pin_locks_after_five_misses(chain, stock):
    services.manager_pin_set(actor=chain.manager_a, store_id=chain.store_a.id, pin="2468")
    for _ in range(5):
        with pytest.raises(Forbidden):
            services.order_create(**cheap_tee(chain, stock, approval={"manager_id": chain.manager_a.id, "pin": "9999"}))
    with pytest.raises(Forbidden) as locked:
        services.order_create(**cheap_tee(chain, stock, approval={"manager_id": chain.manager_a.id, "pin": "2468"}))
    assert locked.value.code == "pin_locked" and not Order.objects.exists()


def test_a_store_manager_selling_below_the_floor_approves_themselves_audited(chain, stock):
    order = services.order_create(**{**cheap_tee(chain, stock), "actor": chain.manager_a}).order
    assert order.total == 5000
    entry = AuditEntry.objects.get(action="sales.approval.price_override")
    assert entry.after["via"] == "self" and entry.actor_user_id == chain.manager_a.user_id


def test_a_discount_beyond_the_clerks_limit_needs_approval(chain, stock):
    args = dict(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), order_discount=2000,
                lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}])
    before = sales_state()
    with pytest.raises(Forbidden) as exc:
        services.order_create(**args)
    assert exc.value.details["kind"] == "discount" and sales_state() == before
    small = services.order_create(**{**args, "order_discount": 990, "client_ref": next_ref()}).order  # 10%
    assert small.total == 8910
    services.approval_decide(actor=chain.manager_a, approval_id=exc.value.details["approval_request_id"], approve=True)
    order = services.order_create(**args, approval={"approval_id": exc.value.details["approval_request_id"]}).order
    assert order.total == 7900 and order.discount_total == 2000


def test_a_return_without_receipt_needs_approval_and_restocks_the_store(chain, stock):
    args = dict(actor=chain.guide_a, store_id=chain.store_a.id, client_ref="nr-1",
                lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1, "amount": 2500}])
    before = sales_state()
    with pytest.raises(Forbidden) as exc:
        services.return_create(**args)
    assert exc.value.details["kind"] == "return_no_receipt" and sales_state() == before
    assert not OrderReturn.objects.exists()
    approval_id = exc.value.details["approval_request_id"]
    services.approval_decide(actor=chain.manager_a, approval_id=approval_id, approve=True)
    doc = services.return_create(**args, approval={"approval_id": approval_id}).order_return
    assert (doc.refund_total, doc.approval_id, level(stock.wh_a, stock.cat.mug_sku)) == (2500, approval_id, (11, 0))


def test_a_rejected_request_cannot_be_used(chain, stock):
    with pytest.raises(Forbidden) as exc:
        services.order_create(**cheap_tee(chain, stock))
    approval_id = exc.value.details["approval_request_id"]
    services.approval_decide(actor=chain.manager_a, approval_id=approval_id, approve=False, reason="no")
    with pytest.raises(Conflict) as rejected:
        services.order_create(**cheap_tee(chain, stock, approval={"approval_id": approval_id}))
    assert rejected.value.code == "approval_unusable"
    assert AuditEntry.objects.filter(action="sales.approval.rejected").count() == 1


def test_a_manager_of_another_store_cannot_see_or_approve(chain, stock):
    from yundian.core.errors import NotFound

    with pytest.raises(Forbidden) as exc:
        services.order_create(**cheap_tee(chain, stock))
    with pytest.raises(NotFound):
        services.approval_decide(actor=chain.manager_b, approval_id=exc.value.details["approval_request_id"],
                                 approve=True)


def test_an_order_edit_of_a_price_needs_approval_and_is_audited_before_and_after(chain, stock):
    order = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                  lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 2}]).order
    line = order.lines.get()
    edit = dict(actor=chain.guide_a, order_id=order.id, lines=[{"order_line_id": line.id, "unit_price": 9000}])
    before = sales_state()
    with pytest.raises(Forbidden) as exc:
        services.order_edit(**edit)
    assert exc.value.details["kind"] == "order_edit" and sales_state() == before
    order.refresh_from_db()
    assert order.total == 19800
    services.approval_decide(actor=chain.manager_a, approval_id=exc.value.details["approval_request_id"], approve=True)
    edited = services.order_edit(**edit, approval={"approval_id": exc.value.details["approval_request_id"]})
    assert edited.total == 18000 and edited.discount_total == 1800
    entry = AuditEntry.objects.get(action="sales.order.edited")
    assert (entry.before["total"], entry.after["total"]) == (19800, 18000)
    assert entry.after["lines"][str(line.id)]["unit_price"] == 9000
    services.order_edit(actor=chain.guide_a, order_id=order.id, note="gift wrap")  # no approval for a note
    services.payment_add(actor=chain.guide_a, order_id=order.id, payment={"method": "card", "client_ref": "c"})
    with pytest.raises(Conflict) as paid:
        services.order_edit(actor=chain.manager_a, order_id=order.id, note="late")
    assert paid.value.code == "order_not_editable"
