"""Handover (交接): when a guide leaves or moves, a manager of their store hands all their work to other guides of
the store in one audited transaction, and (leaving) their account is disabled.

What moves, each spread evenly over the chosen guides (or all to one):
- bound members (members.guide_handover_spread: one binding event per member, cool-down ignored);
- open orders (awaiting payment): the guide on their lines becomes the member's new guide, or the next receiver
  (paid orders keep their guide: the commission was earned and a return reverses it from the one who earned it);
- open tasks: a follow-up of one member goes to that member's new guide; a plan's task (and the guide's part of
  the plan's target) to the next receiver, added to theirs when they already have one on that plan;
- pending call-list entries: to the member's new guide;
- community groups (groups.groups_reassign): each to the next receiver, with a share link of theirs.
Nothing open is left pointing to the leaving guide (tested); history (paid orders, commission, contacts, done
tasks) keeps its author.
"""
from collections import Counter
from itertools import cycle

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one, lock_rows
from yundian.core.text import clean_text
from yundian.members.models import Member
from yundian.members.services import guide_handover_spread
from yundian.org import services as org_services
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.sales.models import Order, OrderLine, OrderStatus

from .groups import groups_reassign
from .models import CallListEntry, CallOutcome, CommunityGroup, GuideTask, Handover, TaskStatus, TaskTarget
from .people import guides_of


def _leaving(actor: Staff, guide_id: int) -> Staff:
    guide = Staff.objects.filter(pk=guide_id if isinstance(guide_id, int) else 0,
                                 enterprise_id=actor.enterprise_id).select_related("home").first()
    if guide is None or not has_perm(actor, Perm.ORG_VIEW, guide.home):
        raise NotFound(_("Staff member not found."), code="staff_not_found")
    for perm in (Perm.TASK_MANAGE, Perm.MEMBER_REBIND, Perm.STAFF_MANAGE):
        if not has_perm(actor, perm, guide.home):
            raise Forbidden()
    if guide.pk == actor.pk:
        raise ValidationFailed(_("You cannot hand over your own work."), code="own_handover")
    return guide


def handover_receivers(*, actor: Staff, guide_id: int) -> list[Staff]:
    """Who may take over a guide's work: the other active guides of their store."""
    guide = _leaving(actor, guide_id)
    return [g for g in guides_of(guide.home) if g.pk != guide.pk]


@transaction.atomic
def guide_handover_all(*, actor: Staff, guide_id: int, to_guide_ids: list[int], reason: str,
                       disable: bool = True) -> Handover:
    """Hand every open piece of a guide's work to `to_guide_ids` (other active guides of their store; several:
    spread evenly), then disable their account (`disable`). One audit entry and one Handover row (once per guide:
    a second handover of the same guide is a 409). Locks: the guide's row, their members (pk order), open orders
    (pk order), tasks, groups."""
    guide = _leaving(actor, guide_id)
    reason = clean_text(reason, "reason", 255, required=True)
    if not isinstance(to_guide_ids, list) or not to_guide_ids:
        raise ValidationFailed(_("Choose who takes over."), code="required", details={"field": "to_guide_ids"})
    receivers = {g.pk: g for g in handover_receivers(actor=actor, guide_id=guide_id)}
    if any(not isinstance(g, int) or g not in receivers for g in to_guide_ids) or len(set(to_guide_ids)) != len(
            to_guide_ids):
        raise ValidationFailed(_("This person is not an active guide of the member's store."), code="not_a_guide",
                               details={"field": "to_guide_ids"})
    lock_one(Staff.objects.filter(pk=guide.pk))
    if Handover.objects.filter(guide=guide).exists():
        raise Conflict(_("This guide's work was already handed over."), code="already_handed_over")
    moved: dict[str, Counter] = {}
    turn = cycle(to_guide_ids)

    # bound members
    members = Member.objects.filter(guide=guide).count()
    spread = guide_handover_spread(actor=actor, from_guide_id=guide.pk, to_guide_ids=to_guide_ids,
                                   reason=reason) if members else {}
    moved["members"] = Counter({g: n for g, n in spread.items() if n})
    new_guide = {}  # member id -> guide id, for what follows the member

    def guide_of(member_id: int | None) -> int:
        if member_id is not None:
            if member_id not in new_guide:
                new_guide[member_id] = Member.objects.filter(pk=member_id).values_list("guide_id", flat=True).first()
            if new_guide[member_id] in receivers:
                return new_guide[member_id]
        return next(turn)

    # open orders
    orders = lock_rows(Order.objects.filter(
        status=OrderStatus.OPEN, enterprise_id=actor.enterprise_id,
        pk__in=OrderLine.objects.filter(guide=guide, order__status=OrderStatus.OPEN).values("order_id")))
    moved["orders"] = Counter()
    for order in orders:
        to = guide_of(order.member_id)
        OrderLine.objects.filter(order=order, guide=guide).update(guide_id=to)
        moved["orders"][to] += 1

    # open tasks and their parts of the targets
    moved["tasks"] = Counter()
    now = timezone.now()
    for task in lock_rows(GuideTask.objects.filter(guide=guide, status=TaskStatus.OPEN)):
        to = guide_of(task.member_id)
        theirs = GuideTask.objects.filter(plan_id=task.plan_id, guide_id=to).first() if task.plan_id else None
        if theirs is not None:
            GuideTask.objects.filter(pk=theirs.pk).update(target=theirs.target + task.target,
                                                          status=TaskStatus.OPEN, updated_at=now)
            GuideTask.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED, updated_at=now,
                                                        done_note=f"handover -> {to}"[:500])
        else:
            GuideTask.objects.filter(pk=task.pk).update(guide_id=to, updated_at=now, reminded_at=None)
        part = TaskTarget.objects.filter(plan_id=task.plan_id, guide=guide).first() if task.plan_id else None
        if part is not None:
            other = TaskTarget.objects.filter(plan_id=task.plan_id, guide_id=to).first()
            if other is not None:
                TaskTarget.objects.filter(pk=other.pk).update(target=other.target + part.target)
                part.delete()
            else:
                try:
                    with transaction.atomic():
                        TaskTarget.objects.filter(pk=part.pk).update(guide_id=to)
                except IntegrityError:  # pragma: no cover - the unique (plan, guide) was checked just above
                    raise Conflict(_("Try again."), code="retry")
        moved["tasks"][to] += 1

    # pending call-list entries
    moved["calls"] = Counter()
    for entry in CallListEntry.objects.filter(guide=guide, outcome=CallOutcome.PENDING):
        to = guide_of(entry.member_id)
        CallListEntry.objects.filter(pk=entry.pk).update(guide_id=to, updated_at=now)
        moved["calls"][to] += 1

    moved["groups"] = Counter(groups_reassign(actor=actor, from_guide=guide, to_guide_ids=to_guide_ids))

    if disable:
        org_services.staff_update(actor=actor, staff_id=guide.pk, is_active=False)
    summary = {kind: {str(g): n for g, n in counts.items()} for kind, counts in moved.items()}
    handover = Handover.objects.create(enterprise_id=actor.enterprise_id, store=guide.home, guide=guide, actor=actor,
                                       reason=reason, moved=summary)
    audit_record(actor=actor, action="guide.handover", target=guide, reason=reason, scope_path=guide.home.path,
                 before={"guide": guide.pk, "active": True},
                 after={"to": to_guide_ids, "moved": summary, "active": not disable})
    return handover


def left_behind(guide: Staff) -> dict[str, int]:
    """What still points to a guide: bound members, open orders, open tasks and target parts of open plans,
    pending calls, active community groups (all zero after a handover)."""
    return {
        "members": Member.objects.filter(guide=guide).count(),
        "orders": Order.objects.filter(status=OrderStatus.OPEN, lines__guide=guide).distinct().count(),
        "tasks": GuideTask.objects.filter(guide=guide, status=TaskStatus.OPEN).count(),
        "targets": TaskTarget.objects.filter(guide=guide, plan__tasks__status=TaskStatus.OPEN).distinct().count(),
        "calls": CallListEntry.objects.filter(guide=guide, outcome=CallOutcome.PENDING).count(),
        "groups": CommunityGroup.objects.filter(guide=guide, is_active=True).count(),
    }
