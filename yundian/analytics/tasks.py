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


@task()
def clv_refit(enterprise_id: int, actor_id: int | None = None) -> int:
    """On demand (the CLV page, `yundian clv refit`): refit one enterprise's CLV model; returns the new version."""
    from yundian.org.models import Staff

    from .clv_services import clv_refit as refit

    actor = Staff.objects.filter(pk=actor_id).first() if actor_id else None
    return refit(enterprise_id=enterprise_id, actor=actor).version


@task()
def clv_refit_weekly() -> int:
    """Weekly: refit every enterprise's CLV model (a new version each, bands as tags); returns the models fitted."""
    from yundian.org.models import Enterprise

    from .clv_services import clv_refit as refit
    from .models import ClvModelStatus

    return sum(refit(enterprise_id=enterprise_id).status == ClvModelStatus.FITTED
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))


@task()
def diagnosis_nightly() -> int:
    """Nightly: diagnose every enterprise for the 14 days up to yesterday (findings routed, earlier ones followed
    up); returns the new findings. A rerun the same night finds the same findings and adds none."""
    from yundian.org.models import Enterprise

    from .diagnosis_services import diagnosis_run

    return sum(len(diagnosis_run(enterprise_id=enterprise_id).created)
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))
