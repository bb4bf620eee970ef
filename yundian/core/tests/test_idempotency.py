import pytest

from yundian.core.errors import DomainError, IdempotencyConflict, ValidationFailed
from yundian.core.idempotency import request_fingerprint, run_idempotent
from yundian.core.models import IdempotencyRecord
from yundian.org import services
from yundian.org.models import OrgNode
from yundian.org.roles import NodeKind


def make_work(chain, code, calls):
    def work():
        calls.append(code)
        node = services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind=NodeKind.STORE,
                                        name=f"Store {code}", code=code)
        return 201, {"id": node.id, "code": node.code}

    return work


def test_same_key_replays_the_first_result_and_creates_nothing_twice(chain):
    calls = []
    nodes_before = OrgNode.objects.count()
    first = run_idempotent(scope="test", owner="staff:1", key="k-1", payload={"code": "S1"},
                           work=make_work(chain, "S1", calls))
    second = run_idempotent(scope="test", owner="staff:1", key="k-1", payload={"code": "S1"},
                            work=make_work(chain, "S1", calls))
    node = OrgNode.objects.get(code="S1")
    assert first == (201, {"id": node.id, "code": "S1"}, False)
    assert second == (201, {"id": node.id, "code": "S1"}, True)
    assert calls == ["S1"]
    assert OrgNode.objects.count() == nodes_before + 1
    record = IdempotencyRecord.objects.get()
    assert (record.scope, record.owner, record.key) == ("test", "staff:1", "k-1")
    assert record.request_hash == request_fingerprint({"code": "S1"})
    assert (record.response_status, record.response_body) == (201, {"id": node.id, "code": "S1"})


def test_fingerprint_ignores_key_order_but_not_values():
    assert request_fingerprint({"a": 1, "b": 2}) == request_fingerprint({"b": 2, "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_same_key_with_another_payload_is_a_409_and_changes_nothing(chain):
    calls = []
    run_idempotent(scope="test", owner="staff:1", key="k-1", payload={"code": "S1"}, work=make_work(chain, "S1", calls))
    nodes, records = OrgNode.objects.count(), IdempotencyRecord.objects.count()
    with pytest.raises(IdempotencyConflict) as exc:
        run_idempotent(scope="test", owner="staff:1", key="k-1", payload={"code": "S2"},
                       work=make_work(chain, "S2", calls))
    assert exc.value.status == 409
    assert exc.value.code == "idempotency_key_reused"
    assert calls == ["S1"]
    assert OrgNode.objects.count() == nodes
    assert IdempotencyRecord.objects.count() == records
    assert not OrgNode.objects.filter(code="S2").exists()


@pytest.mark.parametrize("key", ["", "x" * 129, "a\x00b", "line\nbreak", "tab\there", "\u200b"])
def test_invalid_key_is_a_422_and_nothing_runs(chain, key):
    calls = []
    nodes = OrgNode.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        run_idempotent(scope="test", owner="staff:1", key=key, payload={}, work=make_work(chain, "S1", calls))
    assert exc.value.status == 422
    assert exc.value.code == "invalid_idempotency_key"
    assert calls == []
    assert OrgNode.objects.count() == nodes
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("key", ["k", "x" * 128, "订单-42", "7f0c5d9e-3d2b-4a8e-9c1f-0b6a2d1e4f55"])
def test_any_printable_key_up_to_128_characters_is_accepted(chain, key):
    status, _body, replayed = run_idempotent(scope="test", owner="staff:1", key=key, payload={},
                                             work=make_work(chain, "S1", []))
    assert (status, replayed) == (201, False)
    assert IdempotencyRecord.objects.get().key == key


def test_keys_are_scoped_per_owner_and_per_scope(chain):
    calls = []
    run_idempotent(scope="test", owner="staff:1", key="same", payload={}, work=make_work(chain, "S1", calls))
    run_idempotent(scope="test", owner="staff:2", key="same", payload={}, work=make_work(chain, "S2", calls))
    run_idempotent(scope="other", owner="staff:1", key="same", payload={}, work=make_work(chain, "S3", calls))
    assert calls == ["S1", "S2", "S3"]
    assert IdempotencyRecord.objects.count() == 3
    assert set(OrgNode.objects.filter(code__in=["S1", "S2", "S3"]).values_list("code", flat=True)) == {"S1", "S2", "S3"}


def test_without_a_key_the_work_simply_runs_every_time(chain):
    calls = []
    assert run_idempotent(scope="test", owner="o", key=None, payload={}, work=make_work(chain, "S1", calls))[2] is False
    assert run_idempotent(scope="test", owner="o", key=None, payload={}, work=make_work(chain, "S2", calls))[2] is False
    assert calls == ["S1", "S2"]
    assert IdempotencyRecord.objects.count() == 0


def test_a_failed_attempt_keeps_no_key_so_a_corrected_retry_runs(chain):
    nodes = OrgNode.objects.count()

    def failing():
        OrgNode.objects.filter(pk=chain.store_b.pk).update(name="half-done")
        raise DomainError("boom", code="boom")

    with pytest.raises(DomainError):
        run_idempotent(scope="test", owner="o", key="retry-me", payload={}, work=failing)
    assert IdempotencyRecord.objects.count() == 0
    assert OrgNode.objects.get(pk=chain.store_b.pk).name == "Store B"  # the work's writes rolled back with it
    status, body, replayed = run_idempotent(scope="test", owner="o", key="retry-me", payload={},
                                            work=make_work(chain, "S1", []))
    assert (status, replayed) == (201, False)
    assert OrgNode.objects.count() == nodes + 1


def test_replayed_body_is_the_stored_json_form(chain):
    import datetime

    def work():
        return 200, {"at": datetime.date(2024, 2, 29), "n": 1}

    first = run_idempotent(scope="test", owner="o", key="k", payload={}, work=work)
    second = run_idempotent(scope="test", owner="o", key="k", payload={}, work=work)
    assert first[1] == second[1] == {"at": "2024-02-29", "n": 1}
