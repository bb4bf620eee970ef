"""Background work for the org context. Idempotent: running a task twice gives the same result."""
from collections import Counter
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from yundian.core.models import AuditEntry

from .models import AuditDigest, Enterprise


def audit_digest_build(*, day: date) -> int:
    """Summarise one day's audit entries per enterprise into AuditDigest rows (upsert). Returns rows written."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = start + timedelta(days=1)
    written = 0
    for enterprise in Enterprise.objects.order_by("id"):
        entries = AuditEntry.objects.filter(enterprise=enterprise, at__gte=start, at__lt=end)
        by_action = Counter(entries.values_list("action", flat=True))
        by_actor = Counter(entries.values_list("actor_label", flat=True))
        with transaction.atomic():
            AuditDigest.objects.update_or_create(
                enterprise=enterprise, day=day,
                defaults={"total": sum(by_action.values()), "by_action": dict(by_action), "by_actor": dict(by_actor)},
            )
        written += 1
    return written


@task(queue_name="reports")
def nightly_audit_digest(day_iso: str | None = None) -> int:
    """The nightly audit digest for `day_iso` (default: yesterday in the enterprise time zone)."""
    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate() - timedelta(days=1)
    return audit_digest_build(day=day)
