"""Member lists (audiences): named lists of members that promotions (pricing, coupon issuing) and guides (call
lists) check by id without knowing where the list came from. A higher context owns the list's meaning: a cdp
segment keeps one list per segment and replaces its entries on every refresh; permission to act on the source
is checked there, so these services take the enterprise rather than an actor.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode

from .. import locks
from ..models import Member, Audience, AudienceMember, MemberStatus

BATCH = 5_000
SOURCE_MAX = 16


@dataclass(frozen=True)
class AudienceChange:
    audience: Audience
    added: int
    removed: int
    count: int


def audience_ensure(*, enterprise_id: int, node_id: int, source: str, source_id: int, name: str) -> Audience:
    """The one list of (source, source_id) in the enterprise, created on first use (a unique constraint keeps it
    one under a race); an existing list follows the source's name and owner node."""
    if not isinstance(source, str) or not source or len(source) > SOURCE_MAX or not source.isidentifier():
        raise ValidationFailed(_("Unknown source."), code="invalid_source", details={"field": "source"})
    if not OrgNode.objects.filter(pk=node_id, enterprise_id=enterprise_id).exists():
        raise NotFound(_("Node not found."), code="node_not_found")
    name = (name or "").strip()[:120] or f"{source} {source_id}"
    found = Audience.objects.filter(enterprise_id=enterprise_id, source=source, source_id=source_id).first()
    if found is None:
        try:
            with transaction.atomic():
                return Audience.objects.create(enterprise_id=enterprise_id, node_id=node_id, source=source,
                                                 source_id=source_id, name=name)
        except IntegrityError:
            found = Audience.objects.get(enterprise_id=enterprise_id, source=source, source_id=source_id)
    if found.name != name or found.node_id != node_id:
        Audience.objects.filter(pk=found.pk).update(name=name, node_id=node_id, updated_at=timezone.now())
        found.name, found.node_id = name, node_id
    return found


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), BATCH):
        yield values[start:start + BATCH]


@transaction.atomic
def audience_replace(*, enterprise_id: int, audience_id: int, member_ids: Iterable[int],
                        at: datetime | None = None) -> AudienceChange:
    """Make the list hold exactly `member_ids` (active members of its enterprise; any other id is left out): the
    new ones inserted, the gone ones deleted, in batches; `member_count` and `refreshed_at` move in the same
    transaction, so a reader sees the old list or the new one. Locks: the list row."""
    at = at or timezone.now()
    audience = locks.lock_audience(audience_id, enterprise_id=enterprise_id)
    if audience is None:
        raise NotFound(_("Member list not found."), code="audience_not_found")
    wanted = sorted({int(m) for m in member_ids})
    kept: set[int] = set()
    for chunk in _chunks(wanted):
        kept.update(Member.objects.filter(enterprise_id=enterprise_id, status=MemberStatus.ACTIVE, pk__in=chunk)
                    .values_list("pk", flat=True))
    current = set(AudienceMember.objects.filter(audience_id=audience.pk).values_list("member_id", flat=True))
    gone = sorted(current - kept)
    new = sorted(kept - current)
    for chunk in _chunks(gone):
        AudienceMember.objects.filter(audience_id=audience.pk, member_id__in=chunk).delete()
    for chunk in _chunks(new):
        AudienceMember.objects.bulk_create(
            [AudienceMember(audience_id=audience.pk, member_id=m, added_at=at) for m in chunk],
            batch_size=1_000)
    Audience.objects.filter(pk=audience.pk).update(member_count=len(kept), refreshed_at=at, updated_at=at)
    audience.member_count, audience.refreshed_at = len(kept), at
    return AudienceChange(audience, len(new), len(gone), len(kept))
