"""Racing checkouts on PostgreSQL (real row locks): the last points and the last stored value are spent once."""
import threading

import pytest
from django.db import connection

from yundian.core.errors import Conflict
from yundian.members import services
from yundian.members.models import PointsEntry, StoredValueEntry

from .factories import earn, ledger_mismatches, points, register, stored_value


def _race(n, fn):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", fn(i))
        except Conflict as exc:
            results[i] = ("conflict", exc.code)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            results[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_checkouts_redeeming_the_last_points_succeed_once(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")  # 100 points
    services.points_redeem(actor=chain.guide_a, member_id=member.pk, points=20, store_id=chain.store_a.id,
                           source_type="order", source_id="o-0")  # 80 left

    results = _race(2, lambda i: services.points_redeem(
        actor=[chain.guide_a, chain.guide_b][i], member_id=member.pk, points=80,
        store_id=[chain.store_a, chain.store_b][i].id, source_type="order", source_id=f"o-race-{i}"))

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

    results = _race(2, lambda i: services.stored_value_spend(
        actor=chain.guide_a, member_id=member.pk, amount_fen=4_000, store_id=chain.store_a.id,
        source_type="order", source_id=f"o-race-{i}"))

    assert sorted(r[0] for r in results) == ["conflict", "ok"], results
    assert stored_value(member) == (1_000, 0)
    assert StoredValueEntry.objects.filter(member=member, kind="spend").count() == 1
    assert ledger_mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_order_earning_twice_at_once_posts_once(chain):
    member = register(chain)
    results = _race(2, lambda i: earn(chain, member, 10_000, "o-same").points)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert points(member) == 100
    assert PointsEntry.objects.filter(member=member, kind="earn").count() == 1
    assert ledger_mismatches() == []
