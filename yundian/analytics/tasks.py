"""Background work for analytics. Idempotent: a second run (or two at once) leaves the warehouse the same."""
from django.conf import settings
from django.tasks import task

from .export import warehouse_export
from .sync import sync_run


@task()
def warehouse_sync() -> int:
    """Bring the warehouse up to date with the OLTP database (every minute); returns the rows written. With
    WAREHOUSE_PARQUET_DIR set, the warehouse is then exported there as Parquet for a Spark cluster to read."""
    written = sync_run().total
    target = getattr(settings, "WAREHOUSE_PARQUET_DIR", None)
    if target and written:
        warehouse_export(target)
    return written


@task()
def reports_mail() -> int:
    """Mail the scheduled reports whose period has ended (each schedule once per period); recipients mailed."""
    from .schedules import schedules_mail_due

    return schedules_mail_due()
