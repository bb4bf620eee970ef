"""A task for one named guide that another context asks for without a member (the diagnosis: "your sales fell,
follow up your customers"). Idempotent on `key`, like `guide_tasks.guide_follow_up_create`."""
from datetime import datetime

from django.db import IntegrityError, transaction

from yundian.core.text import clean_text
from yundian.org.models import OrgNode, Staff

from .guide_tasks import _key, _when
from .models import GuideTask, TaskKind


def guide_task_ask(*, guide: Staff, store: OrgNode, title: str, note: str, due_at: datetime, key: str) -> GuideTask | None:
    """A follow-up task for `guide` at `store`, due at `due_at`; the same `key` returns the first task (a rerun
    makes nothing twice). None when the guide is not active. Locks: none; the unique key decides a race."""
    key = _key(key)
    found = GuideTask.objects.filter(enterprise_id=guide.enterprise_id, key=key).first()
    if found is not None:
        return found
    if not guide.is_active:
        return None
    try:
        with transaction.atomic():
            return GuideTask.objects.create(
                enterprise_id=guide.enterprise_id, guide=guide, store=store, kind=TaskKind.FOLLOW_UP,
                title=clean_text(title, "title", 120, required=True),
                note=clean_text(note or "", "note", 500, required=False, multiline=True), target=1,
                due_at=_when(due_at, "due_at"), key=key)
    except IntegrityError:
        return GuideTask.objects.get(enterprise_id=guide.enterprise_id, key=key)
