"""The nightly purge of sign-in attempts: attempts older than the retention go, newer ones and every audit entry
stay, and the lockout still holds because the retention never drops below its window."""
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from yundian.core.models import AuditEntry
from yundian.ops.models import LoginAttempt, LoginOutcome
from yundian.ops.security import login_locked
from yundian.ops.tasks import login_attempt_retention, login_attempts_purge, purge_login_attempts
from yundian.org.tests.factories import PASSWORD


def login(username: str, password: str, ip: str = "10.4.4.4"):
    return Client().post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def age(ids, **delta) -> None:
    LoginAttempt.objects.filter(pk__in=ids).update(at=timezone.now() - timedelta(**delta))


def test_the_purge_is_scheduled_daily_and_importable():
    from yundian.core.scheduler import SCHEDULE

    entries = [(name, period) for name, period, _at in SCHEDULE if name.startswith("yundian.ops.")]
    assert entries == [("yundian.ops.tasks.purge_login_attempts", "daily")]
    assert import_string(entries[0][0]) is purge_login_attempts
    assert callable(purge_login_attempts.enqueue)


def test_attempts_older_than_the_retention_are_deleted_and_the_audit_entries_stay(chain, settings):
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 30
    username = chain.guide_a.user.username
    login(username, "wrong-password")
    login(username, PASSWORD)
    login("nobody-at-all", "wrong-password")
    pks = list(LoginAttempt.objects.order_by("pk").values_list("pk", flat=True))
    assert len(pks) == 3
    old, edge, fresh = pks[:1], pks[1:2], pks[2:]
    age(old, days=30, seconds=1)
    age(edge, days=29, hours=23)
    audit_before = list(AuditEntry.objects.filter(action__startswith="auth.").order_by("pk").values_list("pk", "action"))
    assert len(audit_before) == 3

    assert purge_login_attempts.call() == 1

    assert list(LoginAttempt.objects.order_by("pk").values_list("pk", flat=True)) == edge + fresh
    assert list(AuditEntry.objects.filter(action__startswith="auth.").order_by("pk").values_list("pk", "action")) \
        == audit_before
    # idempotent: nothing older is left
    assert purge_login_attempts.call() == 0
    assert LoginAttempt.objects.count() == 2


def test_a_retention_shorter_than_the_lockout_window_keeps_the_window_and_the_lock(chain, settings):
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 0
    settings.LOGIN_LOCKOUT_SECONDS = 900
    assert login_attempt_retention() == timedelta(seconds=900)
    username = chain.guide_a.user.username
    for _ in range(5):
        login(username, "wrong-password", ip="10.5.5.5")
    login(username, "wrong-password", ip="10.5.5.6")
    stale = list(LoginAttempt.objects.filter(ip="10.5.5.6").values_list("pk", flat=True))
    age(stale, minutes=15, seconds=1)
    assert login_locked(username, "10.5.5.5")

    assert login_attempts_purge() == 1

    assert LoginAttempt.objects.filter(ip="10.5.5.5", outcome=LoginOutcome.FAILED).count() == 5
    assert login_locked(username, "10.5.5.5")
    assert login(username, PASSWORD, ip="10.5.5.5").status_code == 429


def test_the_purge_deletes_in_batches_until_nothing_old_is_left(chain, settings):
    settings.LOGIN_ATTEMPT_RETENTION_DAYS = 7
    for i in range(5):
        login(f"user-{i}", "wrong-password")
    login("kept", "wrong-password")
    old = list(LoginAttempt.objects.exclude(username="kept").values_list("pk", flat=True))
    age(old, days=8)

    assert login_attempts_purge(batch_size=2) == 5

    assert list(LoginAttempt.objects.values_list("username", flat=True)) == ["kept"]
