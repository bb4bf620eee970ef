"""Background work for analytics. Idempotent: a second run (or two at once) leaves the warehouse the same."""
from django.tasks import task

from .sync import sync_run


@task()
def warehouse_sync() -> int:
    """Bring the warehouse up to date with the OLTP database (every minute); returns the rows written."""
    return sync_run().total
