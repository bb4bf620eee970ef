"""Periodic work of the ops context (listed in yundian.core.scheduler.SCHEDULE). Idempotent: a second run finds
nothing left to do."""
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from .models import LoginAttempt
from .security import lockout_seconds

PURGE_BATCH = 5000


def login_attempt_retention() -> timedelta:
    """How long sign-in attempts are kept: LOGIN_ATTEMPT_RETENTION_DAYS, never less than the lockout window.

    The lockout reads only attempts inside its window (yundian.ops.security.login_failures); the sign-in audit is
    its own AuditEntry rows ("auth.login" / "auth.login_failed"), which are not touched here."""
    days = int(getattr(settings, "LOGIN_ATTEMPT_RETENTION_DAYS", 30))
    return max(timedelta(days=max(days, 0)), timedelta(seconds=lockout_seconds()))


def login_attempts_purge(*, now: datetime | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete sign-in attempts older than the retention, in batches of `batch_size` by pk. Returns rows deleted."""
    cutoff = (now or timezone.now()) - login_attempt_retention()
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(LoginAttempt.objects.filter(at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += LoginAttempt.objects.filter(pk__in=ids).delete()[0]


@task()
def purge_login_attempts() -> int:
    """Nightly: forget sign-in attempts older than LOGIN_ATTEMPT_RETENTION_DAYS (the audit entries stay)."""
    return login_attempts_purge()
