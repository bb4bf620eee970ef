"""The nightly audit digest: enqueued on the database queue, run by the db_worker, exact counts, idempotent."""
import datetime
import signal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone

from yundian.core.audit import audit_record
from yundian.core.models import AuditEntry
from yundian.org import services
from yundian.org.models import AuditDigest
from yundian.org.tasks import audit_digest_build, nightly_audit_digest
from yundian.org.tests.factories import make_chain

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime.date(2024, 3, 10)


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


def run_worker():
    """Run the database worker until the queue is empty, leaving the process's signal handlers as they were."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


@pytest.fixture
def two_chains_on_day():
    """acme's 14 setup entries on DAY at 10:00, zeta's 14 on DAY at 23:59:59, plus entries just outside DAY."""
    acme, zeta = make_chain(), make_chain("zeta")
    AuditEntry.objects.filter(enterprise=acme.hq.enterprise).update(at=at(DAY, 10))
    AuditEntry.objects.filter(enterprise=zeta.hq.enterprise).update(at=at(DAY, 23, 59, 59))
    before = audit_record(actor=acme.admin, action="org_node.update", target=acme.store_a, scope_path=acme.store_a.path)
    after = audit_record(actor=acme.admin, action="org_node.update", target=acme.store_a, scope_path=acme.store_a.path)
    AuditEntry.objects.filter(pk=before.pk).update(at=at(DAY - datetime.timedelta(days=1), 23, 59, 59))
    AuditEntry.objects.filter(pk=after.pk).update(at=at(DAY + datetime.timedelta(days=1), 0, 0, 0))
    return acme, zeta


EXPECTED_ACME = {
    "total": 14,
    "by_action": {"enterprise.bootstrap": 1, "org_node.create": 5, "staff.create": 8},
    "by_actor": {"system": 1, "acme-admin": 13},
}
EXPECTED_ZETA = {
    "total": 14,
    "by_action": {"enterprise.bootstrap": 1, "org_node.create": 5, "staff.create": 8},
    "by_actor": {"system": 1, "zeta-admin": 13},
}


def digest(enterprise, day=DAY) -> dict:
    row = AuditDigest.objects.get(enterprise=enterprise, day=day)
    return {"total": row.total, "by_action": row.by_action, "by_actor": row.by_actor}


@pytest.mark.django_db(transaction=True)
def test_nightly_digest_runs_on_the_database_queue_with_exact_counts(two_chains_on_day):
    acme, zeta = two_chains_on_day
    result = nightly_audit_digest.enqueue(DAY.isoformat())
    assert result.status == TaskResultStatus.READY
    assert AuditDigest.objects.count() == 0  # nothing happens until a worker runs
    run_worker()
    result = nightly_audit_digest.get_result(result.id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 2
    assert AuditDigest.objects.count() == 2
    assert digest(acme.hq.enterprise) == EXPECTED_ACME
    assert digest(zeta.hq.enterprise) == EXPECTED_ZETA


@pytest.mark.django_db(transaction=True)
def test_rerunning_the_digest_is_idempotent_and_picks_up_late_entries(two_chains_on_day):
    acme, zeta = two_chains_on_day
    nightly_audit_digest.enqueue(DAY.isoformat())
    run_worker()
    rows = list(AuditDigest.objects.order_by("id").values_list("id", "enterprise_id", "day", "total"))
    nightly_audit_digest.enqueue(DAY.isoformat())
    nightly_audit_digest.enqueue(DAY.isoformat())
    run_worker()
    assert list(AuditDigest.objects.order_by("id").values_list("id", "enterprise_id", "day", "total")) == rows
    assert digest(acme.hq.enterprise) == EXPECTED_ACME
    # an entry that lands in the day later is counted by the next run, still one row per enterprise and day
    late = services.org_node_update(actor=acme.admin, node_id=acme.store_b.id, name="B2")
    AuditEntry.objects.filter(action="org_node.update", target_id=str(late.id)).update(at=at(DAY, 12))
    nightly_audit_digest.enqueue(DAY.isoformat())
    run_worker()
    assert AuditDigest.objects.count() == 2
    assert digest(acme.hq.enterprise) == {
        "total": 15,
        "by_action": {"enterprise.bootstrap": 1, "org_node.create": 5, "staff.create": 8, "org_node.update": 1},
        "by_actor": {"system": 1, "acme-admin": 14},
    }
    assert digest(zeta.hq.enterprise) == EXPECTED_ZETA


@pytest.mark.django_db(transaction=True)
def test_digest_without_a_day_summarises_yesterday():
    chain = make_chain()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    AuditEntry.objects.update(at=at(yesterday, 8))
    result = nightly_audit_digest.enqueue()
    run_worker()
    assert nightly_audit_digest.get_result(result.id).status == TaskResultStatus.SUCCESSFUL
    assert digest(chain.hq.enterprise, day=yesterday)["total"] == 14


def test_a_day_without_entries_gets_a_zero_row(chain):
    assert audit_digest_build(day=datetime.date(2000, 1, 1)) == 1
    assert digest(chain.hq.enterprise, day=datetime.date(2000, 1, 1)) == {"total": 0, "by_action": {}, "by_actor": {}}


def test_day_boundaries_are_local_midnight(chain):
    # 16:00 UTC on the 9th is 00:00 on the 10th in Shanghai: inside DAY; 15:59:59 UTC is the 9th
    AuditEntry.objects.update(at=datetime.datetime(2024, 3, 9, 16, 0, tzinfo=datetime.UTC))
    first = AuditEntry.objects.order_by("id").first()
    AuditEntry.objects.filter(pk=first.pk).update(at=datetime.datetime(2024, 3, 9, 15, 59, 59, tzinfo=datetime.UTC))
    audit_digest_build(day=DAY)
    assert digest(chain.hq.enterprise)["total"] == 13
    audit_digest_build(day=DAY - datetime.timedelta(days=1))
    assert digest(chain.hq.enterprise, day=DAY - datetime.timedelta(days=1))["by_action"] == {"enterprise.bootstrap": 1}
