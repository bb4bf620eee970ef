from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from yundian.core import scheduler
from yundian.core.models import ScheduledRun
from yundian.core.testing import race_n
from yundian.org.models import AuditDigest
from yundian.org.tasks import nightly_audit_digest
from yundian.org.tests.factories import make_chain

DIGEST = "yundian.org.tasks.nightly_audit_digest"
TZ = ZoneInfo(settings.TIME_ZONE)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def digest_only(monkeypatch):
    """Other contexts add their own periodic tasks; these tests watch one."""
    monkeypatch.setattr(scheduler, "SCHEDULE", [(DIGEST, "daily", "02:00")])


def test_the_nightly_audit_digest_is_scheduled_daily_at_two():
    assert (DIGEST, "daily", "02:00") in scheduler.SCHEDULE


def test_every_scheduled_entry_names_a_task_and_a_valid_time():
    for task_name, period, at in scheduler.SCHEDULE:
        assert callable(getattr(import_string(task_name), "enqueue", None)), task_name
        scheduler.due_period(period, at, local(2026, 3, 10, 12, 0))  # raises ValueError when malformed


def test_due_period_keys_and_times():
    assert scheduler.due_period("daily", "02:00", local(2026, 3, 10, 1, 59)) is None
    assert scheduler.due_period("daily", "02:00", local(2026, 3, 10, 2, 0)) == ("2026-03-10", local(2026, 3, 10, 2, 0))
    assert scheduler.due_period("daily", "02:00", local(2026, 3, 10, 23, 59))[0] == "2026-03-10"
    assert scheduler.due_period("hourly", ":15", local(2026, 3, 10, 7, 14)) is None
    assert scheduler.due_period("hourly", ":15", local(2026, 3, 10, 7, 15)) == ("2026-03-10T07", local(2026, 3, 10, 7, 15))
    # 2026-03-10 is the Tuesday of ISO week 11
    assert scheduler.due_period("weekly", "mon 03:00", local(2026, 3, 10, 0, 0)) == ("2026-W11", local(2026, 3, 9, 3, 0))
    assert scheduler.due_period("weekly", "wed 03:00", local(2026, 3, 10, 23, 0)) is None
    with pytest.raises(ValueError):
        scheduler.due_period("monthly", "02:00", local(2026, 3, 10))


def test_a_minutes_period_is_due_at_each_step_of_the_hour_once():
    assert scheduler.due_period("minutes", "5", local(2026, 3, 10, 7, 14, 59)) == (
        "2026-03-10T07:10", local(2026, 3, 10, 7, 10))
    assert scheduler.due_period("minutes", "5", local(2026, 3, 10, 7, 15)) == ("2026-03-10T07:15",
                                                                               local(2026, 3, 10, 7, 15))
    assert scheduler.due_period("minutes", "15", local(2026, 3, 10, 23, 59)) == ("2026-03-10T23:45",
                                                                                 local(2026, 3, 10, 23, 45))
    keys = {scheduler.due_period("minutes", "5", local(2026, 3, 10, 7, m))[0] for m in range(60)}
    assert len(keys) == 12
    for bad in ("7", "0", "90", "x"):
        with pytest.raises(ValueError):
            scheduler.due_period("minutes", bad, local(2026, 3, 10))


def test_daily_task_is_enqueued_once_per_day_even_when_the_scheduler_runs_twice(digest_only, db, django_capture_on_commit_callbacks):
    def tick(now: datetime) -> list[ScheduledRun]:
        with django_capture_on_commit_callbacks(execute=True):  # each tick commits on its own
            return scheduler.run_due(now=now)

    before_two = tick(local(2026, 3, 10, 1, 30))
    first = tick(local(2026, 3, 10, 3, 0))
    again = tick(local(2026, 3, 10, 3, 0, 30))
    restarted_later = tick(local(2026, 3, 10, 22, 0))

    assert before_two == [] and again == [] and restarted_later == []
    assert [(r.task_name, r.period_key) for r in first] == [(DIGEST, "2026-03-10")]
    run = ScheduledRun.objects.get()
    results = DBTaskResult.objects.filter(task_path=DIGEST)
    assert results.count() == 1
    assert run.enqueued_at is not None and run.task_result_id == str(results.get().id)
    assert results.get().queue_name == "reports"

    next_day = tick(local(2026, 3, 11, 2, 0))

    assert [r.period_key for r in next_day] == ["2026-03-11"]
    assert ScheduledRun.objects.count() == 2 and results.count() == 2


def test_a_second_claim_of_the_same_period_loses_on_the_unique_constraint(db, django_capture_on_commit_callbacks):
    due = scheduler.Due(DIGEST, "2026-03-10", local(2026, 3, 10, 2, 0))

    with django_capture_on_commit_callbacks(execute=True):
        winner = scheduler.claim(due, task=nightly_audit_digest, now=local(2026, 3, 10, 3, 0))
        loser = scheduler.claim(due, task=nightly_audit_digest, now=local(2026, 3, 10, 3, 0))

    assert winner is not None and loser is None
    assert ScheduledRun.objects.count() == 1
    assert DBTaskResult.objects.filter(task_path=DIGEST).count() == 1


def test_two_schedulers_racing_enqueue_the_period_once(digest_only, transactional_db):
    now = local(2026, 3, 10, 3, 0)

    results = race_n(2, lambda _i: len(scheduler.run_due(now=now)))

    assert sorted(results) == [("ok", 0), ("ok", 1)]
    assert ScheduledRun.objects.filter(task_name=DIGEST, period_key="2026-03-10").count() == 1
    assert DBTaskResult.objects.filter(task_path=DIGEST).count() == 1


def test_a_claim_whose_enqueue_never_happened_is_retried_once(digest_only, db, django_capture_on_commit_callbacks):
    now = local(2026, 3, 10, 3, 0)
    ScheduledRun.objects.create(task_name=DIGEST, period_key="2026-03-10", due_at=local(2026, 3, 10, 2, 0),
                                attempted_at=now - scheduler.RETRY_AFTER - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        retried = scheduler.run_due(now=now)
    with django_capture_on_commit_callbacks(execute=True):
        again = scheduler.run_due(now=now + timedelta(minutes=10))

    assert [r.period_key for r in retried] == ["2026-03-10"] and again == []
    run = ScheduledRun.objects.get()
    assert run.enqueued_at is not None and run.attempted_at == now
    assert DBTaskResult.objects.filter(task_path=DIGEST).count() == 1


def test_a_recent_unenqueued_claim_is_left_alone(digest_only, db, django_capture_on_commit_callbacks):
    now = local(2026, 3, 10, 3, 0)
    ScheduledRun.objects.create(task_name=DIGEST, period_key="2026-03-10", due_at=local(2026, 3, 10, 2, 0),
                                attempted_at=now - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler.run_due(now=now) == []

    assert DBTaskResult.objects.count() == 0


def test_a_task_that_cannot_be_imported_is_skipped_without_a_claim(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        claimed = scheduler.run_due(now=local(2026, 3, 10, 3, 0), schedule=[("yundian.nowhere.tasks.x", "daily", "02:00")])

    assert claimed == [] and ScheduledRun.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_scheduler_once_then_worker_builds_the_digest(transactional_db, monkeypatch):
    make_chain()
    # an hourly entry at minute 00 is due whatever the wall clock says
    monkeypatch.setattr(scheduler, "SCHEDULE", [(DIGEST, "hourly", ":00")])
    first, second = StringIO(), StringIO()

    call_command("scheduler", "--once", stdout=first)
    call_command("scheduler", "--once", stdout=second)
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-reload", "--no-startup-delay", verbosity=0)

    assert DIGEST in first.getvalue() and second.getvalue() == ""
    result = DBTaskResult.objects.get(task_path=DIGEST)
    assert result.status == "SUCCESSFUL"
    assert AuditDigest.objects.count() == 1
