"""Guide tasks (导购任务): the writes. Who does what, by when, and how it is known to be done.

- `guide_follow_up_create`: one follow-up of one member for their bound guide (the store manager when none), asked
  by another context (a journey step, a browse-abandon rescue, a diagnosis); idempotent on `key`.
- `task_plan_create`: HQ, a region or a store sets a task for guides. A follow-up plan (a segment's members or a
  system list: dormant, points expiring, birthdays this week, new members not yet bought twice) becomes a call list
  (yundian.guides.calls) and one task per guide over their part of it. A target plan (share a material, sell a
  focus product, recruit N members) holds its target at the plan's node.
- `task_target_split`: a node splits its target over nodes below it, a store over its guides; the parts add up to
  the whole (else nothing is written). Each guide's part is their task.
- `contact_record`: a guide's call, message or visit with a member (the contact log of customer care); it is the
  follow-up of the member's open follow-up tasks and call-list entries.
- `task_done`: the guide closes a task with a note, where the system cannot see it done.
Progress and the system's own completion are in `task_progress`.
"""
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.text import clean_text
from yundian.members import selectors as member_selectors
from yundian.members.models import Member, MemberStatus
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm

from . import task_follow_up
from .models import (CallListEntry, CallOutcome, ContactChannel, ContactLog, ContactOutcome, DoneBy, GuideTask,
                     Material, TaskKind, TaskPlan, TaskStatus, TaskTarget)
from .people import guides_of, store_manager_of

KEY_MAX = 128
FOLLOW_UP_WINDOW = timedelta(days=7)  # a purchase within 7 days of the follow-up completes it


def owner_of(member: Member) -> Staff | None:
    """Who follows a member up: their bound guide while active, else their home store's manager."""
    if member.guide_id and member.guide.is_active:
        return member.guide
    return store_manager_of(member.home)


def _key(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > KEY_MAX or not value.isprintable():
        raise ValidationFailed(_("A task key of up to 128 characters is required."), code="invalid_key",
                               details={"field": "key"})
    return value.strip()


def _when(value, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationFailed(_("Give a date and time."), code="invalid_datetime", details={"field": field})
    return value


def guide_follow_up_create(*, member: Member, title: str, note: str, due_at: datetime, key: str,
                           actor: Staff | None = None) -> GuideTask | None:
    """A follow-up task of `member` for their bound guide (their store's manager when none), due at `due_at`.

    Idempotent on `key` (unique per enterprise): the same key returns the first task, whatever else is passed, so
    a retried journey step or a second worker makes nothing twice. A merged member's task goes to the member that
    absorbed them. Returns None when the member is not active or nobody can follow them up (no active bound
    guide and no store manager). `actor` (optional, a person asking) must see the member. Locks: none; the unique
    key decides a race."""
    key = _key(key)
    found = GuideTask.objects.filter(enterprise_id=member.enterprise_id, key=key).first()
    if found is not None:
        return found
    title = clean_text(title, "title", 120, required=True)
    note = clean_text(note or "", "note", 500, required=False, multiline=True)
    due_at = _when(due_at, "due_at")
    member = member_selectors.resolve_active(
        Member.objects.select_related("home", "guide").get(pk=member.pk))
    if actor is not None and (actor.enterprise_id != member.enterprise_id
                              or not has_perm(actor, Perm.MEMBER_VIEW, member.home)):
        raise NotFound(_("Member not found."), code="member_not_found")
    if member.status != MemberStatus.ACTIVE:
        return None
    owner = owner_of(member)
    if owner is None:
        return None
    try:
        with transaction.atomic():
            return GuideTask.objects.create(
                enterprise_id=member.enterprise_id, guide=owner, store=member.home, kind=TaskKind.FOLLOW_UP,
                title=title, note=note, member=member, target=1, due_at=due_at, key=key, created_by=actor)
    except IntegrityError:
        return GuideTask.objects.get(enterprise_id=member.enterprise_id, key=key)


# --- plans and cascading targets ---------------------------------------------------------------------------

def _plan_node(actor: Staff, node_id) -> OrgNode:
    node = OrgNode.objects.filter(pk=node_id if isinstance(node_id, int) else 0,
                                  enterprise_id=actor.enterprise_id).first()
    if node is None or not has_perm(actor, Perm.ORG_VIEW, node):
        raise NotFound(_("Node not found."), code="node_not_found")
    if not has_perm(actor, Perm.TASK_MANAGE, node):
        raise Forbidden()
    return node


def _count(value, field: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10_000_000:
        raise ValidationFailed(_("Give a whole number from %(min)s.") % {"min": minimum}, code="invalid_number",
                               details={"field": field})
    return value


@transaction.atomic
def task_plan_create(*, actor: Staff, node_id: int, kind: str, title: str, starts_at: datetime, due_at: datetime,
                     target: int = 0, description: str = "", sku_id: int | None = None,
                     material_id: int | None = None, follow_up_list: str = "", audience_id: int | None = None,
                     key: str = "") -> TaskPlan:
    """Set a task for the guides under `node_id` (task.manage there). Follow-up plans make their call list and
    the guides' tasks at once (see task_follow_up); target plans hold `target` at the node, split later. With a
    `key`, a retry returns the first plan. Audited."""
    if key:
        key = _key(key)
        found = TaskPlan.objects.filter(enterprise_id=actor.enterprise_id, key=key).first()
        if found is not None:
            return found
    node = _plan_node(actor, node_id)
    if kind not in TaskKind.values:
        raise ValidationFailed(_("Choose what kind of task this is."), code="invalid_kind", details={"field": "kind"})
    title = clean_text(title, "title", 120, required=True)
    description = clean_text(description or "", "description", 500, required=False, multiline=True)
    starts_at, due_at = _when(starts_at, "starts_at"), _when(due_at, "due_at")
    if due_at <= starts_at:
        raise ValidationFailed(_("The deadline must come after the start."), code="due_before_start",
                               details={"field": "due_at"})
    plan = TaskPlan(enterprise_id=actor.enterprise_id, node=node, kind=kind, title=title, description=description,
                    starts_at=starts_at, due_at=due_at, created_by=actor, key=key)
    if kind == TaskKind.FOLLOW_UP:
        task_follow_up.prepare(actor=actor, plan=plan, follow_up_list=follow_up_list, audience_id=audience_id)
    else:
        plan.target = _count(target, "target", minimum=1)
        if kind == TaskKind.SELL:
            from yundian.catalog.models import Sku

            plan.sku = Sku.objects.filter(pk=sku_id if isinstance(sku_id, int) else 0,
                                          product__enterprise_id=actor.enterprise_id).first()
            if plan.sku is None:
                raise ValidationFailed(_("Pick the focus product."), code="invalid_sku", details={"field": "sku_id"})
        if kind == TaskKind.SHARE:
            _attach_material(actor, plan, material_id)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        return TaskPlan.objects.get(enterprise_id=actor.enterprise_id, key=key)
    if kind == TaskKind.FOLLOW_UP:
        task_follow_up.fill(actor=actor, plan=plan)
    else:
        TaskTarget.objects.create(plan=plan, node=node, target=plan.target)
    audit_record(actor=actor, action="guide_task.plan", target=plan, scope_path=node.path,
                 after={"kind": kind, "title": title, "target": plan.target, "due_at": due_at.isoformat()})
    return plan


def _attach_material(actor: Staff, plan: TaskPlan, material_id) -> None:
    """A share plan names an active material of the library that the guides under the plan's node can share: one
    owned by the node, an ancestor of it, or a node below it (then only the guides under that node share it)."""
    material = Material.objects.filter(pk=material_id if isinstance(material_id, int) else 0,
                                       enterprise_id=actor.enterprise_id, is_active=True).select_related("node").first()
    if material is None or not (plan.node.path.startswith(material.node.path)
                                or material.node.path.startswith(plan.node.path)):
        raise ValidationFailed(_("Pick the material to share."), code="invalid_material",
                               details={"field": "material_id"})
    plan.material = material


def _part_key(part: dict) -> tuple[str, int]:
    if not isinstance(part, dict):
        raise ValidationFailed(_("Each part names a node or a guide and its target."), code="invalid_part")
    if part.get("guide_id") is not None:
        return "guide", part["guide_id"]
    return "node", part.get("node_id")


@transaction.atomic
def task_target_split(*, actor: Staff, target_id: int, parts: list[dict]) -> list[TaskTarget]:
    """Split a node's target over nodes below it (`{"node_id", "target"}`), or a store's over its guides
    (`{"guide_id", "target"}`); the parts must add up to the node's target exactly, else nothing changes. Splitting
    again replaces the parts (each guide's task follows; a guide left out has their task cancelled) unless a part
    was split further. task.manage at the node. Audited. Locks: the node's target row."""
    row = TaskTarget.objects.filter(pk=target_id if isinstance(target_id, int) else 0, guide__isnull=True,
                                    plan__enterprise_id=actor.enterprise_id).select_related("node", "plan").first()
    if row is None or not has_perm(actor, Perm.ORG_VIEW, row.node):
        raise NotFound(_("Target not found."), code="target_not_found")
    if not has_perm(actor, Perm.TASK_MANAGE, row.node):
        raise Forbidden()
    if not isinstance(parts, list) or not parts:
        raise ValidationFailed(_("Give at least one part."), code="no_parts", details={"field": "parts"})
    row = lock_one(TaskTarget.objects.filter(pk=row.pk).select_related("node", "plan"))
    plan, node = row.plan, row.node
    is_store = node.kind == NodeKind.STORE
    wanted: dict[int, int] = {}
    for index, part in enumerate(parts):
        kind, ident = _part_key(part)
        if (kind == "guide") != is_store:
            raise ValidationFailed(_("A store splits over its guides, any other node over the nodes below it."),
                                   code="invalid_part", details={"field": f"parts[{index}]"})
        if isinstance(ident, bool) or not isinstance(ident, int) or ident in wanted:
            raise ValidationFailed(_("Each part names a node or a guide once."), code="invalid_part",
                                   details={"field": f"parts[{index}]"})
        wanted[ident] = _count(part.get("target"), f"parts[{index}].target")
    total = sum(wanted.values())
    if total != row.target:
        raise ValidationFailed(_("The parts add up to %(sum)s, not %(target)s.") % {"sum": total, "target": row.target},
                               code="targets_do_not_add_up", details={"sum": total, "target": row.target})
    if is_store:
        allowed = {g.pk: g for g in guides_of(node)}
    else:
        allowed = {n.pk: n for n in OrgNode.objects.filter(path__startswith=node.path, is_active=True,
                                                           pk__in=list(wanted)).exclude(pk=node.pk)}
    missing = [i for i in wanted if i not in allowed]
    if missing:
        raise ValidationFailed(_("This part is not below the node being split."), code="part_outside_node",
                               details={"ids": missing})
    children = list(row.children.all())
    if any(TaskTarget.objects.filter(parent=child).exists() for child in children):
        raise Conflict(_("A part was already split further; split it back first."), code="already_split_further")
    before = {(c.guide_id or c.node_id): c.target for c in children}
    TaskTarget.objects.filter(parent=row).delete()
    made = []
    for ident, amount in wanted.items():
        if is_store:
            made.append(TaskTarget(plan=plan, parent=row, node=node, guide_id=ident, target=amount))
        else:
            made.append(TaskTarget(plan=plan, parent=row, node_id=ident, target=amount))
    TaskTarget.objects.bulk_create(made)
    if is_store:
        _guide_tasks_follow(plan, node, wanted)
    audit_record(actor=actor, action="guide_task.split", target=plan, scope_path=node.path,
                 before={"node": node.pk, "parts": before}, after={"node": node.pk, "parts": wanted})
    return list(TaskTarget.objects.filter(parent=row).order_by("id"))


def _guide_tasks_follow(plan: TaskPlan, store: OrgNode, wanted: dict[int, int]) -> None:
    """Each guide's part is their task: made, re-targeted, or cancelled when the guide was left out."""
    have = {t.guide_id: t for t in GuideTask.objects.filter(plan=plan, store=store)}
    for guide_id, amount in wanted.items():
        task = have.get(guide_id)
        if task is None:
            GuideTask.objects.create(enterprise_id=plan.enterprise_id, plan=plan, guide_id=guide_id, store=store,
                                     kind=plan.kind, title=plan.title, note=plan.description, target=amount,
                                     due_at=plan.due_at, created_by=plan.created_by)
        else:
            GuideTask.objects.filter(pk=task.pk).update(target=amount, status=TaskStatus.OPEN if task.status ==
                                                        TaskStatus.CANCELLED else task.status,
                                                        updated_at=timezone.now())
    GuideTask.objects.filter(plan=plan, store=store, status=TaskStatus.OPEN).exclude(
        guide_id__in=list(wanted)).update(status=TaskStatus.CANCELLED, updated_at=timezone.now())


# --- the guide's side ----------------------------------------------------------------------------------------

def _own_task(actor: Staff, task_id: int) -> GuideTask:
    task = GuideTask.objects.filter(pk=task_id if isinstance(task_id, int) else 0,
                                    enterprise_id=actor.enterprise_id).select_related("store").first()
    if task is None or not (task.guide_id == actor.pk or has_perm(actor, Perm.TASK_MANAGE, task.store)):
        raise NotFound(_("Task not found."), code="task_not_found")
    return task


@transaction.atomic
def task_done(*, actor: Staff, task_id: int, note: str) -> GuideTask:
    """The guide (or a manager of the task's store) closes an open task with a note saying how it went. Locks:
    the task row."""
    task = _own_task(actor, task_id)
    note = clean_text(note, "note", 500, required=True, multiline=True)
    task = lock_one(GuideTask.objects.filter(pk=task.pk))
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("This task is already closed."), code="task_closed")
    now = timezone.now()
    GuideTask.objects.filter(pk=task.pk).update(status=TaskStatus.DONE, done_at=now, done_by=DoneBy.GUIDE,
                                                done_note=note, updated_at=now)
    task.status, task.done_at, task.done_by, task.done_note = TaskStatus.DONE, now, DoneBy.GUIDE, note
    return task


_CALL_OUTCOME = {ContactOutcome.REACHED: CallOutcome.REACHED, ContactOutcome.INTERESTED: CallOutcome.REACHED,
                 ContactOutcome.WILL_VISIT: CallOutcome.REACHED, ContactOutcome.NO_ANSWER: CallOutcome.NO_ANSWER,
                 ContactOutcome.NOT_INTERESTED: CallOutcome.NOT_INTERESTED}


@transaction.atomic
def contact_record(*, actor: Staff, member_id: int, channel: str, outcome: str, note: str = "",
                   task_id: int | None = None, at: datetime | None = None) -> ContactLog:
    """Log a guide's call, message or visit with a member they serve (their bound member, or any member of a
    store they manage) with its outcome. It is the follow-up of the member's open follow-up tasks of this guide
    and of the guide's pending call-list entries for the member."""
    member = Member.objects.filter(pk=member_id if isinstance(member_id, int) else 0,
                                   enterprise_id=actor.enterprise_id).select_related("home").first()
    if member is None or not (member.guide_id == actor.pk or has_perm(actor, Perm.TASK_MANAGE, member.home)):
        raise NotFound(_("Member not found."), code="member_not_found")
    if channel not in ContactChannel.values:
        raise ValidationFailed(_("Say how you were in touch."), code="invalid_channel", details={"field": "channel"})
    if outcome not in ContactOutcome.values:
        raise ValidationFailed(_("Say how it went."), code="invalid_outcome", details={"field": "outcome"})
    note = clean_text(note or "", "note", 255, required=False)
    task = _own_task(actor, task_id) if task_id is not None else None
    now = at or timezone.now()
    log = ContactLog.objects.create(enterprise_id=actor.enterprise_id, member=member, guide=actor,
                                    store=member.home, task=task, channel=channel, outcome=outcome, note=note, at=now)
    GuideTask.objects.filter(Q(pk=task.pk) if task else Q(member=member, guide=actor), kind=TaskKind.FOLLOW_UP,
                             status=TaskStatus.OPEN, followed_up_at__isnull=True).update(
        followed_up_at=now, progress=1, updated_at=now)
    mine = Q(guide=actor)
    if has_perm(actor, Perm.TASK_MANAGE, member.home):
        mine |= Q(guide__isnull=True, store=member.home)
    CallListEntry.objects.filter(mine, member=member, outcome=CallOutcome.PENDING).update(
        outcome=_CALL_OUTCOME[outcome], note=note, called_at=now, called_by=actor, updated_at=now)
    return log
