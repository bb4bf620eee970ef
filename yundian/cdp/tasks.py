"""Periodic work of the customer-data context (listed in yundian.core.scheduler.SCHEDULE). Idempotent."""
from django.tasks import task

from .inbox import inbox_purge


@task()
def purge_event_inbox() -> int:
    """Nightly: forget inbox events older than 7 days that are already in the warehouse."""
    return inbox_purge()


@task()
def tags_refresh(enterprise_id: int, run_id: int | None = None) -> int:
    """On demand (the tags page, the API, with the run the page follows): refresh one enterprise's rule and
    computed tags; returns the members refreshed."""
    from .tag_refresh import tags_refresh_run

    return tags_refresh_run(enterprise_id, run_id=run_id).members


@task()
def tags_refresh_nightly() -> int:
    """Nightly: refresh every enterprise's rule and computed tags, RFM scores and lifecycle stages."""
    from yundian.org.models import Enterprise

    from .tag_refresh import tags_refresh_run

    return sum(tags_refresh_run(enterprise_id).members
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))


@task()
def segments_refresh_nightly() -> int:
    """Nightly, after the tags: re-evaluate every live dynamic segment and record its size for the day."""
    from .segments import segments_refresh_all

    return segments_refresh_all()
