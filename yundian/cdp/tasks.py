"""Periodic work of the customer-data context (listed in yundian.core.scheduler.SCHEDULE). Idempotent.

A request that queues a task lives here, beside the task, so the services never import tasks."""
from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from yundian.core.errors import Forbidden
from yundian.org.models import Enterprise, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_paths

from .inbox import inbox_purge
from .models import RefreshStatus, TagRefreshRun
from .tag_refresh import tags_refresh_run


@task()
def purge_event_inbox() -> int:
    """Nightly: forget inbox events older than 7 days that are already in the warehouse."""
    return inbox_purge()


@task()
def tags_refresh(enterprise_id: int, run_id: int | None = None) -> int:
    """On demand (the tags page, the API, with the run the page follows): refresh one enterprise's rule and
    computed tags; returns the members refreshed."""
    return tags_refresh_run(enterprise_id, run_id=run_id).members


@task()
def tags_refresh_nightly() -> int:
    """Nightly: refresh every enterprise's rule and computed tags, RFM scores and lifecycle stages."""
    return sum(tags_refresh_run(enterprise_id).members
               for enterprise_id in Enterprise.objects.values_list("id", flat=True))


@task()
def segments_refresh_nightly() -> int:
    """Nightly, after the tags: re-evaluate every live dynamic segment and record its size for the day."""
    from .segments import segments_refresh_all

    return segments_refresh_all()


@transaction.atomic
def tags_refresh_request(*, actor: Staff):
    """Queue a refresh of the actor's enterprise's rule and computed tags (HQ and regions); the TagRefreshRun the
    page follows. A refresh already queued or running is returned instead of queueing a second."""
    if not scope_paths(actor, Perm.TAG_MANAGE):
        raise Forbidden()
    busy = TagRefreshRun.objects.filter(enterprise_id=actor.enterprise_id,
                                        status__in=[RefreshStatus.QUEUED, RefreshStatus.RUNNING]).order_by("-id").first()
    if busy is not None and busy.created_at > timezone.now() - timedelta(hours=2):
        return busy
    run = TagRefreshRun.objects.create(enterprise_id=actor.enterprise_id, requested_by=actor)
    transaction.on_commit(lambda: tags_refresh.enqueue(actor.enterprise_id, run.id))
    return run
