"""Racing checkouts on PostgreSQL (real row locks): the last points and the last stored value are spent once."""
import pytest

from yundian.core.testing import race_n
from yundian.members import services
from yundian.members.models import PointsEntry, StoredValueEntry

from .factories import earn, ledger_mismatches, points, register, stored_value


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_checkouts_redeeming_the_last_points_succeed_once(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")  # 100 points
    services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=20, store_id=chain.store_a.id,
                           source_type="order", source_id="o-0")  # 80 left

    results = race_n(2, lambda i: services.points_redeem(
        actor=[chain.guide_a, chain.guide_b][i], member_id=member.pk, points=80,
        store_id=[chain.store_a, chain.store_b][i].id, source_type="order", source_id=f"o-race-{i}"),
        conflict_codes=True)

    assert sorted(r[0] for r in results) == ["conflict", "ok"], results
    assert [r[1] for r in results if r[0] == "conflict"] == ["insufficient_points"]
    assert points(member) == 0
    assert PointsEntry.objects.filter(member=member, kind="redeem").count() == 2
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_checkouts_paying_with_the_last_stored_value_succeed_once(chain):
    member = register(chain)
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=5_000, store_id=chain.store_a.id,
                                payment_ref="pay-1")

    results = race_n(2, lambda i: services.stored_value_spend(
        actor=chain.guide_a, member_id=member.pk, amount_fen=4_000, store_id=chain.store_a.id,
        source_type="order", source_id=f"o-race-{i}"), conflict_codes=True)

    assert sorted(r[0] for r in results) == ["conflict", "ok"], results
    assert stored_value(member) == (1_000, 0)
    assert StoredValueEntry.objects.filter(member=member, kind="spend").count() == 1
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_order_earning_twice_at_once_posts_once(chain):
    member = register(chain)
    results = race_n(2, lambda i: earn(chain, member, 10_000, "o-same").points, conflict_codes=True)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert points(member) == 100
    assert PointsEntry.objects.filter(member=member, kind="earn").count() == 1
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_one_gift_code_redeemed_by_two_members_at_once_credits_once(chain):
    [(card, code)] = services.gift_card_issue(actor=chain.admin, value_fen=5_000, count=1)
    members = [register(chain), register(chain)]

    results = race_n(2, lambda i: services.gift_card_redeem(
        actor=[chain.manager_a, chain.guide_a][i], member_id=members[i].pk, code=code, store_id=chain.store_a.id).pk,
        conflict_codes=True)

    assert sorted(r[0] for r in results) == ["conflict", "ok"], results
    assert [r[1] for r in results if r[0] == "conflict"] == ["gift_card_used"]
    winner = members[[r[0] for r in results].index("ok")]
    card.refresh_from_db()
    assert (card.status, card.redeemed_by_id) == ("redeemed", winner.pk)
    assert StoredValueEntry.objects.filter(kind="gift_card").count() == 1
    assert [stored_value(m) for m in members] == [(0, 5_000) if m == winner else (0, 0) for m in members]
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_redemption_key_sent_twice_at_once_posts_one_entry(chain):
    from yundian.org.tests.utils import call, client_for

    member = register(chain)
    earn(chain, member, 10_000, "o-1")  # 100 points
    clients = [client_for(chain.guide_a), client_for(chain.guide_a)]

    results = race_n(2, lambda i: call(clients[i], "post", f"/api/v1/members/{member.pk}/points/redemptions",
                                       {"points": 60, "store_id": chain.store_a.id}, **{"Idempotency-Key": "same-key"}))

    assert [r[0] for r in results] == ["ok", "ok"], results
    assert [r[1].status_code for r in results] == [201, 201]
    assert results[0][1].json() == results[1][1].json()
    assert PointsEntry.objects.filter(member=member, kind="redeem").count() == 1
    assert points(member) == 40 and ledger_mismatches() == []
