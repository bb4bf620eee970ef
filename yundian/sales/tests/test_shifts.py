"""Till shifts: the drawer adds up to the float and the shift's own payments, refunds and cash moves; a blind close
computes over/short once; the day's settlement adds up the closed shifts; bad input changes nothing."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, IdempotencyConflict, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.sales import services
from yundian.sales.models import CashMove, DailySettlement, Payment, Refund, ShiftStatus, TillShift
from yundian.sales.shifts import shift_report
from yundian.sales.tests.factories import next_ref, sell, stocked


@pytest.fixture
def stock(chain):
    return stocked(chain)


def open_shift(actor, store, counts=None, ref=None):
    return services.shift_open(actor=actor, store_id=store.id, float_count=counts or {"10000": 1, "1000": 5},
                               client_ref=ref or next_ref("shift")).shift


def shift_state() -> tuple:
    return (list(TillShift.objects.order_by("id").values_list("id", "status", "counted_cash", "over_short")),
            CashMove.objects.count(), DailySettlement.objects.count(),
            AuditEntry.objects.filter(action__startswith="sales.").count())


def test_shift_totals_equal_the_payments_taken_in_the_shift(chain, stock):
    before = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])  # before the shift: not in it
    shift = open_shift(chain.guide_a, chain.store_a)
    assert (shift.opening_float, shift.opening_count) == (15000, {"10000": 1, "1000": 5})
    cash = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                 lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                                 payments=[{"method": "cash", "client_ref": "c", "tendered": 10000}]).order
    card = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 2)], pay="card")
    split = services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                                  lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 2}],
                                  payments=[{"method": "wallet", "client_ref": "w", "amount": 3000},
                                            {"method": "cash", "client_ref": "c", "tendered": 5000}]).order
    sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 1)])  # another store, no shift there
    services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_in", amount=5000, reason="找零备用金",
                           client_ref="in-1")
    services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_out", amount=2000, reason="交银行",
                           client_ref="out-1")
    line = cash.lines.get()
    services.return_create(actor=chain.guide_a, order_id=cash.id, client_ref="r1",
                           lines=[{"order_line_id": line.id, "quantity": 1}])

    report = shift_report(TillShift.objects.get(pk=shift.pk))

    in_shift = Payment.objects.filter(shift=shift)
    assert sorted(in_shift.values_list("order_id", "method", "amount")) == sorted([
        (cash.id, "cash", 9900), (card.id, "card", 19800), (split.id, "wallet", 3000), (split.id, "cash", 2000)])
    assert Payment.objects.filter(order=before).get().shift_id is None
    assert list(Refund.objects.filter(shift=shift).values_list("amount", flat=True)) == [9900]
    methods = {m["method"]: (m["payments"], m["taken"], m["refunds"], m["refunded"], m["net"]) for m in report["methods"]}
    assert methods == {"cash": (2, 11900, 1, 9900, 2000), "card": (1, 19800, 0, 0, 19800),
                       "wallet": (1, 3000, 0, 0, 3000), "stored_value": (0, 0, 0, 0, 0)}
    assert (report["orders"], report["returns"], report["sales_total"], report["refunds_total"], report["net_total"]) \
        == (3, 1, 34700, 9900, 24800)
    assert report["cash"] == {"float": 15000, "sales": 11900, "refunds": 9900, "cash_in": 5000, "cash_in_count": 1,
                              "cash_out": 2000, "cash_out_count": 1, "expected": 15000 + 11900 - 9900 + 5000 - 2000}


def test_a_blind_close_computes_over_short_and_a_second_close_is_refused(chain, stock):
    shift = open_shift(chain.guide_a, chain.store_a)  # float 150.00
    services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                          lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
                          payments=[{"method": "cash", "client_ref": "c", "tendered": 5000}])  # +25.00 in the drawer
    # the drawer should hold 175.00; the clerk counts 174.50: 100 + 50 + 20 + 1x4 + 0.5
    counts = {"10000": 1, "5000": 1, "2000": 1, "100": 4, "50": 1, "1000": 0}
    closed = services.shift_close(actor=chain.guide_a, shift_id=shift.id, counts=counts, client_ref="close-1")
    shift.refresh_from_db()
    assert not closed.replayed
    assert (shift.status, shift.expected_cash, shift.counted_cash, shift.over_short) == ("closed", 17500, 17450, -50)
    assert shift.closing_count == {"10000": 1, "5000": 1, "2000": 1, "100": 4, "50": 1}
    assert (shift.report["counted"], shift.report["over_short"], shift.report["cash"]["expected"]) == (17450, -50, 17500)
    audit = AuditEntry.objects.get(action="sales.shift.closed", target_id=str(shift.pk))
    assert (audit.before, audit.after["over_short"], audit.after["counted_cash"]) == ({"expected_cash": 17500}, -50, 17450)

    again = services.shift_close(actor=chain.guide_a, shift_id=shift.id, counts=counts, client_ref="close-1")
    assert (again.replayed, again.shift.over_short) == (True, -50)
    frozen = shift_state()
    with pytest.raises(Conflict) as exc:
        services.shift_close(actor=chain.guide_a, shift_id=shift.id, counts={"10000": 2}, client_ref="close-2")
    assert exc.value.code == "shift_closed"
    with pytest.raises(Conflict) as exc:
        services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_in", amount=100, reason="x",
                               client_ref="late")
    assert exc.value.code == "shift_closed"
    # a sale after the close belongs to no shift
    late = sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])
    assert late.payments.get().shift_id is None
    assert shift_state() == frozen


def test_bad_input_to_a_shift_changes_nothing(chain, stock):
    shift = open_shift(chain.guide_a, chain.store_a, ref="open-1")
    frozen = shift_state()
    bad = [
        (lambda: services.shift_open(actor=chain.guide_a, store_id=chain.store_a.id, float_count={"10000": 1},
                                     client_ref="open-2"), Conflict, "shift_already_open"),
        (lambda: services.shift_open(actor=chain.guide_a, store_id=chain.store_a.id, float_count={"2000": 1},
                                     client_ref="open-1"), IdempotencyConflict, "idempotency_key_reused"),
        (lambda: services.shift_open(actor=chain.manager_a, store_id=chain.store_a.id, float_count={"300": 1},
                                     client_ref="m-1"), ValidationFailed, "invalid_denomination"),
        (lambda: services.shift_open(actor=chain.manager_a, store_id=chain.store_a.id, float_count={"100": -1},
                                     client_ref="m-1"), ValidationFailed, "invalid_count"),
        (lambda: services.shift_open(actor=chain.manager_a, store_id=chain.store_a.id, float_count=[100],
                                     client_ref="m-1"), ValidationFailed, "invalid_count"),
        (lambda: services.shift_open(actor=chain.guide_b, store_id=chain.store_a.id, float_count={},
                                     client_ref="b-1"), NotFound, "not_found"),
        (lambda: services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_out", amount=15001,
                                        reason="too much", client_ref="o"), Conflict, "cash_out_exceeds_drawer"),
        (lambda: services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_in", amount=100,
                                        reason=" ", client_ref="o"), ValidationFailed, "required"),
        (lambda: services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="gift", amount=100,
                                        reason="x", client_ref="o"), ValidationFailed, "invalid_kind"),
        (lambda: services.cash_move_add(actor=chain.guide_a, shift_id=shift.id, kind="cash_in", amount=0,
                                        reason="x", client_ref="o"), ValidationFailed, "invalid_amount"),
        (lambda: services.shift_close(actor=chain.guide_a, shift_id=shift.id, counts={"10000": True},
                                      client_ref="c"), ValidationFailed, "invalid_count"),
        (lambda: services.shift_close(actor=chain.guide_b, shift_id=shift.id, counts={}, client_ref="c"),
         NotFound, "shift_not_found"),
        (lambda: services.settlement_create(actor=chain.guide_a, store_id=chain.store_a.id,
                                            business_date=timezone.localdate().isoformat()), Forbidden, "forbidden"),
        (lambda: services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id,
                                            business_date="yesterday"), ValidationFailed, "invalid_date"),
        (lambda: services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id,
                                            business_date=timezone.localdate().isoformat()), Conflict,
         "shifts_still_open"),
    ]
    for call, error, code in bad:
        with pytest.raises(error) as exc:
            call()
        assert exc.value.code == code
        assert shift_state() == frozen
    # another clerk of the store (no order.manage) cannot close it; the store manager can
    other = services.shift_open(actor=chain.manager_a, store_id=chain.store_a.id, float_count={}, client_ref="m-2").shift
    with pytest.raises(Forbidden):
        services.shift_close(actor=chain.guide_a, shift_id=other.id, counts={}, client_ref="c")
    assert TillShift.objects.get(pk=other.pk).status == ShiftStatus.OPEN


def test_the_day_is_settled_once_from_the_closed_shifts(chain, stock):
    a = open_shift(chain.guide_a, chain.store_a, {"1000": 10})  # 100.00
    m = open_shift(chain.manager_a, chain.store_a, {"5000": 1})  # 50.00
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 2)])  # cash 50.00
    sell(chain.manager_a, chain.store_a, [(stock.cat.tee_s, 1)], pay="card")  # card 99.00
    yesterday = TillShift.objects.create(
        enterprise_id=chain.store_a.enterprise_id, store=chain.store_a, opened_by=chain.guide_b,
        opened_at=timezone.now() - timedelta(days=1), opening_float=0, client_ref="y", status="closed",
        closed_at=timezone.now() - timedelta(days=1), counted_cash=0, expected_cash=0, over_short=0,
        report={"orders": 9})  # another day: never part of today's settlement
    services.shift_close(actor=chain.guide_a, shift_id=a.id, counts={"1000": 15}, client_ref="ca")  # exact
    services.shift_close(actor=chain.manager_a, shift_id=m.id, counts={"5000": 1, "1000": 1}, client_ref="cm")  # +10
    today = timezone.localdate().isoformat()

    settlement = services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id, business_date=today,
                                            client_ref="day-1")

    assert (settlement.shift_count, settlement.expected_cash, settlement.counted_cash, settlement.over_short) == \
        (2, 20000, 21000, 1000)
    assert sorted(settlement.shifts.values_list("id", flat=True)) == sorted([a.id, m.id])
    assert yesterday.id not in settlement.shifts.values_list("id", flat=True)
    report = settlement.report
    assert (report["orders"], report["sales_total"], report["cash"]["float"], report["cash"]["sales"]) == \
        (2, 14900, 15000, 5000)
    assert {r["method"]: r["taken"] for r in report["methods"]} == {"cash": 5000, "card": 9900, "wallet": 0,
                                                                    "stored_value": 0}
    assert services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id, business_date=today,
                                      client_ref="day-1").pk == settlement.pk
    frozen = shift_state()
    with pytest.raises(Conflict) as exc:
        services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id, business_date=today)
    assert exc.value.code == "already_settled"
    with pytest.raises(Conflict) as exc:
        services.settlement_create(actor=chain.manager_a, store_id=chain.store_a.id,
                                   business_date=(timezone.localdate() + timedelta(days=3)).isoformat())
    assert exc.value.code == "no_shifts"
    assert shift_state() == frozen
