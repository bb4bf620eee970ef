"""Periodic work of the guides context (listed in yundian.core.scheduler.SCHEDULE). Idempotent: a second run in
the same period finds nothing left to do."""
from datetime import timedelta

from django.tasks import task
from django.utils import timezone

from .models import GuideTask, TaskStatus

REMIND_BEFORE = timedelta(hours=24)


@task()
def tasks_progress_refresh() -> int:
    """Progress of every open guide task and the system's completion (bought after a follow-up, target met)."""
    from .task_progress import refresh_open

    return refresh_open()


@task()
def tasks_remind() -> int:
    """Remind each guide once of every open task due within 24 hours (or overdue): the in-app notice on the
    guide's home (reminded_at set; the page lists them on top). Returns how many were reminded."""
    now = timezone.now()
    return GuideTask.objects.filter(status=TaskStatus.OPEN, reminded_at__isnull=True,
                                    due_at__lte=now + REMIND_BEFORE).update(reminded_at=now)
