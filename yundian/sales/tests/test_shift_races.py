"""Shifts on PostgreSQL with real threads: a close racing the clerk's cash sales never loses one (each payment is in
the Z report or in no shift, never tied to a closed shift after its count), and eight closes at once close it once."""
import pytest

from yundian.core.testing import race, race_n
from yundian.org.tests.factories import fresh
from yundian.sales import services
from yundian.sales.models import Payment, TillShift
from yundian.sales.tests.factories import stocked

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_a_close_racing_cash_sales_counts_exactly_the_payments_tied_to_the_shift(chain):
    stock = stocked(chain, units=50)
    shift = services.shift_open(actor=chain.guide_a, store_id=chain.store_a.id, float_count={"1000": 10},
                                client_ref="open").shift

    def sale(i: int):
        return services.order_create(actor=fresh(chain.guide_a), store_id=chain.store_a.id, client_ref=f"s-{i}",
                                     lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
                                     payments=[{"method": "cash", "client_ref": "c", "tendered": 2500}])

    def close():
        return services.shift_close(actor=fresh(chain.guide_a), shift_id=shift.id, counts={"1000": 10},
                                    client_ref="close")

    results = race(*(lambda i=i: sale(i) for i in range(6)), close)
    assert [kind for kind, _ in results] == ["ok"] * 7, [r for r in results if r[0] == "error"]
    shift.refresh_from_db()
    tied = list(Payment.objects.filter(shift=shift).values_list("amount", flat=True))
    # every sale was paid; those the close did not see belong to no shift, none to the closed one after the fact
    assert Payment.objects.count() == 6
    assert Payment.objects.filter(shift__isnull=True).count() == 6 - len(tied)
    assert shift.report["cash"]["sales"] == sum(tied) == 2500 * len(tied)
    assert shift.expected_cash == 10000 + 2500 * len(tied)
    assert shift.over_short == 10000 - shift.expected_cash


def test_eight_closes_at_once_close_the_shift_once(chain):
    stocked(chain)
    shift = services.shift_open(actor=chain.guide_a, store_id=chain.store_a.id, float_count={"1000": 3},
                                client_ref="open").shift
    results = race_n(8, lambda i: services.shift_close(actor=fresh(chain.guide_a), shift_id=shift.id,
                                                       counts={"1000": 3 + i % 2}, client_ref=f"close-{i % 2}"),
                     conflict_codes=True)
    kinds = sorted(kind if kind == "ok" else value for kind, value in results)
    assert kinds == ["ok"] * 4 + ["shift_closed"] * 4, results
    winners = {value.shift.close_ref for kind, value in results if kind == "ok"}
    assert len(winners) == 1  # the replays of the winning key; the other key hears shift_closed
    assert TillShift.objects.get().status == "closed"
