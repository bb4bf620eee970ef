"""The writes of a POS sale: one statement where one does, balances that refuse to go negative in the UPDATE
itself (whoever else spends them), and a replayed sale that writes nothing twice."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yundian.core.errors import Conflict
from yundian.core.models import OutboxEvent
from yundian.core.testing import race_n
from yundian.guides.models import CommissionBalance, CommissionEntry
from yundian.inventory.models import StockBalance, StockMove
from yundian.members import services as members
from yundian.members.models import (GrowthEntry, Member, PointsBalance, PointsEntry, PointsKind, PointsLot,
                                    StoredValueBalance, StoredValueEntry, StoredValueKind)
from yundian.members.services import points as points_ledger
from yundian.members.services import stored_value as stored_value_ledger
from yundian.members.tests.factories import earn, ledger_mismatches, points, register, stored_value
from yundian.org.tests.factories import fresh
from yundian.sales import services
from yundian.sales.models import Order, OrderLine, Payment
from yundian.sales.tests.factories import assert_ledgers_clean, level, plan, stocked


def _sale(chain, stock, member, client_ref, *, payments=None):
    return services.order_create(
        actor=fresh(chain.guide_a), store_id=chain.store_a.id, client_ref=client_ref, member_id=member.pk,
        guide_id=chain.guide_a.id,
        lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}, {"sku_id": stock.cat.mug_sku.id, "quantity": 2}],
        payments=payments or [{"method": "cash", "client_ref": "cash", "tendered": 20000}])


def _everything() -> tuple:
    """Every row a sale writes, and every balance it moves."""
    return (Order.objects.count(), OrderLine.objects.count(), Payment.objects.count(), StockMove.objects.count(),
            sorted(StockBalance.objects.values_list("pk", "on_hand", "reserved", "value")),
            PointsEntry.objects.count(), PointsLot.objects.count(), GrowthEntry.objects.count(),
            sorted(PointsBalance.objects.values_list("pk", "points")),
            StoredValueEntry.objects.count(), sorted(StoredValueBalance.objects.values_list("pk", "principal", "bonus")),
            CommissionEntry.objects.count(), sorted(CommissionBalance.objects.values_list("pk", "amount")),
            OutboxEvent.objects.count(), sorted(Member.objects.values_list("pk", "tier_id")))


@pytest.mark.django_db
def test_a_sale_writes_each_row_once_with_no_savepoint_and_one_outbox_insert(chain):
    stock = stocked(chain)
    plan(chain, "0.05")
    member = register(chain)
    _sale(chain, stock, member, "warm")  # first sale of the process: caches and balance rows

    last_event = OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as queries:
        order = _sale(chain, stock, member, "till-1-0001").order

    sql = [q["sql"].split()[0].upper() + " " + q["sql"] for q in queries.captured_queries]
    # inside the test's transaction the sale's own atomic block is a savepoint; nothing within it sets another
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1
    assert not [s for s in sql if s.startswith("UPDATE") and '"sales_order"' in s], "the order is written once"
    outbox = [s for s in sql if s.startswith("INSERT") and '"core_outboxevent"' in s]
    assert len(outbox) == 1
    # the order was created in this transaction: it cannot have earned points yet, so that is not asked (fresh=True;
    # the ledgers' unique keys still refuse a second posting)
    assert not [s for s in sql if '"members_pointsentry" "U0"' in s], "a new order is not checked for earlier points"
    assert sorted(OutboxEvent.objects.filter(pk__gt=last_event).values_list("topic", "key")) == [
        ("order.changed", str(order.pk)), ("stock.changed", f"order:{order.pk}")]
    order.refresh_from_db()
    earned = PointsEntry.objects.get(kind=PointsKind.EARN, source_id=str(order.pk))
    assert order.points_earned == earned.points > 0
    assert GrowthEntry.objects.filter(source_id=str(order.pk)).count() == 1
    assert_ledgers_clean()


@pytest.mark.django_db
def test_a_replayed_sale_writes_nothing_twice(chain):
    stock = stocked(chain)
    plan(chain, "0.05")
    member = register(chain)
    first = _sale(chain, stock, member, "till-1-0042")
    before = _everything()

    with CaptureQueriesContext(connection) as queries:
        again = _sale(chain, stock, member, "till-1-0042")

    assert (again.replayed, again.order.pk) == (True, first.order.pk)
    assert _everything() == before
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert_ledgers_clean()


@pytest.mark.django_db
def test_a_quote_made_before_the_member_changed_tier_is_worked_out_again(chain):
    member = register(chain)
    gold = members.tier_create(actor=chain.admin, code="gold", name="Gold", rank=1, min_growth=10**9,
                               points_multiplier="2")
    store = chain.store_a
    quote = members.points_earn_quote(member=Member.objects.get(pk=member.pk), store=store,
                                      lines=[members.EarnLine(10_000)])
    Member.objects.filter(pk=member.pk).update(tier=gold)  # between pricing and the member's lock

    result = earn(chain, member, 10_000, "o-1", quote=quote)

    assert result.points == 2 * quote.points == 200
    assert points(member) == 200
    assert ledger_mismatches() == []


# --- the balance's own UPDATE refuses to go negative ---------------------------------------------------

@pytest.mark.django_db
def test_a_stored_value_posting_beyond_the_balance_is_refused_by_the_update_and_writes_nothing(chain):
    member = register(chain)
    members.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=5_000, store_id=chain.store_a.id,
                               payment_ref="pay-1")
    locked = Member.objects.get(pk=member.pk)

    with pytest.raises(Conflict) as refused, transaction.atomic():  # no balance check before: the UPDATE refuses
        stored_value_ledger.post(locked, kind=StoredValueKind.SPEND, principal=-5_001, bonus=0, source_type="order",
                                 source_id="o-1")

    assert (refused.value.code, refused.value.details) == ("insufficient_stored_value",
                                                           {"available": 5_000, "requested": 5_001})
    assert stored_value(member) == (5_000, 0)
    assert StoredValueEntry.objects.filter(member=member, kind="spend").count() == 0
    assert ledger_mismatches() == []


@pytest.mark.django_db
def test_a_points_debit_beyond_the_balance_is_refused_by_the_update_and_writes_nothing(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")  # 100 points
    locked = Member.objects.get(pk=member.pk)

    with pytest.raises(Conflict) as refused, transaction.atomic():
        points_ledger.debit(locked, kind=PointsKind.REDEEM, points=101, source_type="order", source_id="o-2")

    assert (refused.value.code, refused.value.details) == ("insufficient_points", {"available": 100, "requested": 101})
    assert points(member) == 100
    assert PointsEntry.objects.filter(member=member, kind="redeem").count() == 0
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_six_sales_paying_with_the_same_stored_value_at_once_spend_only_what_is_there(chain):
    stock = stocked(chain)
    member = register(chain)
    members.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=10_000, store_id=chain.store_a.id,
                               payment_ref="pay-1")  # four mugs' worth (2,500 each)

    results = race_n(6, lambda i: services.order_create(
        actor=fresh(chain.guide_a), store_id=chain.store_a.id, client_ref=f"till-{i}", member_id=member.pk,
        lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
        payments=[{"method": "stored_value", "client_ref": "sv"}]), conflict_codes=True)

    assert sorted(kind for kind, _ in results) == ["conflict"] * 2 + ["ok"] * 4, results
    assert [code for kind, code in results if kind == "conflict"] == ["insufficient_stored_value"] * 2
    assert stored_value(member) == (0, 0)
    assert Order.objects.count() == 4 and Payment.objects.count() == 4
    assert StoredValueEntry.objects.filter(member=member, kind="spend").count() == 4
    assert level(stock.wh_a, stock.cat.mug_sku) == (6, 0)
    assert_ledgers_clean()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_stored_value_postings_racing_without_the_member_lock_never_overdraw(chain):
    """The UPDATE alone keeps the balance: five spends of 4,000 from 10,000, none holding the member's lock."""
    member = register(chain)
    members.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=10_000, store_id=chain.store_a.id,
                               payment_ref="pay-1")

    def spend(i):
        with transaction.atomic():
            return stored_value_ledger.post(Member.objects.get(pk=member.pk), kind=StoredValueKind.SPEND,
                                            principal=-4_000, bonus=0, source_type="order", source_id=f"o-{i}")

    results = race_n(5, spend, conflict_codes=True)

    assert sorted(kind for kind, _ in results) == ["conflict"] * 3 + ["ok"] * 2, results
    assert {code for kind, code in results if kind == "conflict"} == {"insufficient_stored_value"}
    assert stored_value(member) == (2_000, 0)
    assert StoredValueEntry.objects.filter(member=member, kind="spend").count() == 2
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_points_debits_racing_without_the_member_lock_never_overdraw(chain):
    """Six redemptions of 30 from 100 points, none holding the member's lock: three pass, the lots agree."""
    member = register(chain)
    earn(chain, member, 10_000, "o-0")  # 100 points

    def redeem(i):
        with transaction.atomic():
            return points_ledger.debit(Member.objects.get(pk=member.pk), kind=PointsKind.REDEEM, points=30,
                                       source_type="order", source_id=f"o-{i + 1}")

    results = race_n(6, redeem, conflict_codes=True)

    assert sorted(kind for kind, _ in results) == ["conflict"] * 3 + ["ok"] * 3, results
    assert {code for kind, code in results if kind == "conflict"} == {"insufficient_points"}
    assert points(member) == 10
    assert PointsEntry.objects.filter(member=member, kind="redeem").count() == 3
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_redemptions_of_the_same_points_at_once_succeed_as_often_as_the_balance_allows(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-0")  # 100 points

    results = race_n(8, lambda i: members.points_redeem(
        actor=fresh(chain.guide_a), member_id=member.pk, points=25, store_id=chain.store_a.id, source_type="order",
        source_id=f"o-{i + 1}"), conflict_codes=True)

    assert sorted(kind for kind, _ in results) == ["conflict"] * 4 + ["ok"] * 4, results
    assert {code for kind, code in results if kind == "conflict"} == {"insufficient_points"}
    assert points(member) == 0
    assert ledger_mismatches() == []
