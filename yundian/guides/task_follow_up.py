"""Follow-up plans: the members to follow up become a call list (yundian.guides.calls, one entry per member, to
their bound guide or, without one, their store's manager) and one task per person over their part of it.

The members come from a segment (its audience, members.Audience) or from a system list evaluated when the plan is
made, over the plan node's subtree (the list is kept as an audience of source "guide_list", so the call list
machinery, its masking and its progress pages serve both):
- dormant: bought before, nothing in the last 90 days;
- points_expiring: points that expire within 30 days;
- birthdays: a birthday within the next 7 days;
- new_not_repeat: joined within 90 days and fewer than two paid orders.
These read the OLTP tables in one query each (fine for a store or a region; for a 10 M-member chain use a
segment, evaluated on the warehouse).
"""
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed
from yundian.members import selectors as member_selectors
from yundian.members.models import Member, MemberStatus, PointsLot
from yundian.members.services import audience_ensure, audience_replace
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q
from yundian.sales.models import Order, OrderStatus

from . import calls
from .models import CallListEntry, FollowUpList, GuideTask, TaskPlan
from .people import store_manager_of

AUDIENCE_SOURCE = "guide_list"
DORMANT_DAYS, EXPIRING_DAYS, BIRTHDAY_DAYS, NEW_DAYS = 90, 30, 7, 90
PAID_STATUSES = [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_RETURNED]


def prepare(*, actor: Staff, plan: TaskPlan, follow_up_list: str, audience_id: int | None) -> None:
    """Check what a follow-up plan's members are (before it is saved)."""
    if follow_up_list not in FollowUpList.values:
        raise ValidationFailed(_("Choose whom to follow up."), code="invalid_list", details={"field": "follow_up_list"})
    plan.follow_up_list = follow_up_list
    if follow_up_list == FollowUpList.SEGMENT:
        if not isinstance(audience_id, int):
            raise ValidationFailed(_("Pick the segment."), code="required", details={"field": "audience_id"})
        plan.audience = member_selectors.audience_get(actor=actor, audience_id=audience_id)


def paid_orders() -> Q:
    return Q(paid_at__isnull=False, status__in=PAID_STATUSES)


def system_list_members(*, enterprise_id: int, path: str, kind: str, today: date | None = None) -> list[int]:
    """Ids of the active members of a subtree on a system list (see the module docstring)."""
    now = timezone.now()
    today = today or timezone.localdate()
    members = Member.objects.filter(enterprise_id=enterprise_id, status=MemberStatus.ACTIVE,
                                    home__path__startswith=path)
    orders = Order.objects.filter(paid_orders(), member=OuterRef("pk"))
    if kind == FollowUpList.DORMANT:
        members = members.filter(Exists(orders)).exclude(
            Exists(orders.filter(paid_at__gte=now - timedelta(days=DORMANT_DAYS))))
    elif kind == FollowUpList.POINTS_EXPIRING:
        members = members.filter(Exists(PointsLot.objects.filter(
            member=OuterRef("pk"), remaining__gt=0, expires_at__gt=now,
            expires_at__lte=now + timedelta(days=EXPIRING_DAYS))))
    elif kind == FollowUpList.BIRTHDAYS:
        days = [today + timedelta(days=i) for i in range(BIRTHDAY_DAYS)]
        within = Q(pk__in=[])
        for day in days:
            within |= Q(birthday__month=day.month, birthday__day=day.day)
        members = members.filter(within)
    elif kind == FollowUpList.NEW_NOT_REPEAT:
        members = (members.filter(created_at__gte=now - timedelta(days=NEW_DAYS))
                   .annotate(paid=Count("orders", filter=Q(orders__paid_at__isnull=False,
                                                           orders__status__in=PAID_STATUSES)))
                   .filter(paid__lt=2))
    else:
        return []
    return list(members.order_by("pk").values_list("pk", flat=True))


def fill(*, actor: Staff, plan: TaskPlan) -> None:
    """Make the plan's call list and each person's task over their entries (one per person, unique per plan)."""
    audience = plan.audience
    if plan.follow_up_list != FollowUpList.SEGMENT:
        audience = audience_ensure(enterprise_id=plan.enterprise_id, node_id=plan.node_id, source=AUDIENCE_SOURCE,
                                   source_id=plan.pk, name=plan.title)
        audience_replace(enterprise_id=plan.enterprise_id, audience_id=audience.pk,
                         member_ids=system_list_members(enterprise_id=plan.enterprise_id, path=plan.node.path,
                                                        kind=plan.follow_up_list))
    call_list, _added = calls.call_list_create(actor=actor, audience_id=audience.pk, name=f"{plan.title} #{plan.pk}")
    TaskPlan.objects.filter(pk=plan.pk).update(call_list=call_list, audience=audience)
    plan.call_list, plan.audience = call_list, audience
    entries = CallListEntry.objects.filter(call_list=call_list).filter(
        scope_q(actor, Perm.TASK_MANAGE, "store__path")).select_related("store")
    owners: dict[int, tuple[Staff | int, int, int]] = {}  # person -> (store id, entries)
    managers: dict[int, Staff | None] = {}
    for entry in entries.iterator(chunk_size=2_000):
        person = entry.guide_id
        if person is None:
            if entry.store_id not in managers:
                managers[entry.store_id] = store_manager_of(entry.store)
            manager = managers[entry.store_id]
            if manager is None:
                continue
            person = manager.pk
        store_id, size = owners.get(person, (entry.store_id, 0))
        owners[person] = (store_id, size + 1)
    GuideTask.objects.bulk_create([
        GuideTask(enterprise_id=plan.enterprise_id, plan=plan, guide_id=person, store_id=store_id,
                  kind=plan.kind, title=plan.title, note=plan.description, target=size, due_at=plan.due_at,
                  created_by=actor)
        for person, (store_id, size) in sorted(owners.items())])
