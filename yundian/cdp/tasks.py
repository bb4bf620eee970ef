"""Periodic work of the customer-data context (listed in yundian.core.scheduler.SCHEDULE). Idempotent."""
from django.tasks import task

from .inbox import inbox_purge


@task()
def purge_event_inbox() -> int:
    """Nightly: forget inbox events older than 7 days that are already in the warehouse."""
    return inbox_purge()
