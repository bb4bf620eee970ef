"""Guide tasks: progress, the system's own completion, and the scoped reads (a guide's today, a manager's board).

Progress per kind (`refresh`, run by the worker every 5 minutes and after a guide's own action on a page):
- follow-up of one member: followed up (a contact logged) 0/1; done by the system when the member paid an order
  within 7 days after the follow-up (`converted`);
- follow-up of a list (a plan's call list): entries followed up of the person's entries; `converted` counts those
  whose member paid within 7 days after their call; done by the system when every member on it bought;
- share a material: opens of the guide's share links of the plan's material within the plan's dates (counted
  by the materials library once it lands; until then only the guide's note closes it);
- sell a focus product: units of the plan's SKU the guide sold within the plan's dates, net of returns;
- recruit: active members the guide registered within the plan's dates.
Target kinds are done by the system when progress reaches the target. A node's achieved figure is the sum of its
parts (a store's: its guides'; an unsplit node's: counted over its subtree).
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import Forbidden
from yundian.members.models import Member, MemberStatus
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q
from yundian.sales.models import Order, OrderLine

from .guide_tasks import FOLLOW_UP_WINDOW
from .models import CallListEntry, CallOutcome, DoneBy, GuideTask, TaskKind, TaskPlan, TaskStatus, TaskTarget
from .task_follow_up import PAID_STATUSES, paid_orders

BATCH = 500
ROLLUP_AFTER_DUE = timedelta(days=1)  # late sales and returns still count a day after the deadline


def _bought_after(member_id: int, since: datetime) -> bool:
    return Order.objects.filter(paid_orders(), member_id=member_id, paid_at__gte=since,
                                paid_at__lt=since + FOLLOW_UP_WINDOW).exists()


def _sold(plan: TaskPlan, q: Q) -> int:
    lines = OrderLine.objects.filter(q, sku_id=plan.sku_id, order__paid_at__gte=plan.starts_at,
                                     order__paid_at__lt=plan.due_at, order__status__in=PAID_STATUSES + ["returned"])
    return lines.aggregate(n=Sum(F("quantity") - F("returned_quantity")))["n"] or 0


def _recruited(plan: TaskPlan, q: Q) -> int:
    return Member.objects.filter(q, enterprise_id=plan.enterprise_id, status=MemberStatus.ACTIVE,
                                 created_at__gte=plan.starts_at, created_at__lt=plan.due_at).count()


def _opened(plan: TaskPlan, guide_id: int | None, path: str | None) -> int:
    """Opens of the plan material's share links (the materials library's count), or 0 before it exists."""
    counter = share_opens_counter()
    if counter is None or getattr(plan, "material_id", None) is None:
        return 0
    return counter(material_id=plan.material_id, guide_id=guide_id, path=path, since=plan.starts_at,
                   until=plan.due_at)


def share_opens_counter():
    """The materials library's `share_opens(material_id, guide_id, path, since, until)` when it has landed."""
    try:
        from . import materials  # noqa: F401  (landed by the materials library)
    except ImportError:
        return None
    return getattr(materials, "share_opens", None)


def _measure(plan: TaskPlan, *, guide_id: int | None = None, path: str | None = None) -> int:
    if plan.kind == TaskKind.SELL:
        return _sold(plan, Q(guide_id=guide_id) if guide_id else Q(order__store__path__startswith=path))
    if plan.kind == TaskKind.RECRUIT:
        return _recruited(plan, Q(registered_by_id=guide_id) if guide_id else Q(home__path__startswith=path))
    if plan.kind == TaskKind.SHARE:
        return _opened(plan, guide_id, path)
    return 0


def _entries_of(task: GuideTask):
    entries = CallListEntry.objects.filter(call_list_id=task.plan.call_list_id)
    mine = Q(guide_id=task.guide_id)
    if _is_manager_task(task):  # the store manager's task also holds the members without a guide
        mine |= Q(guide__isnull=True, store_id=task.store_id)
    return entries.filter(mine)


def _is_manager_task(task: GuideTask) -> bool:
    return has_perm(task.guide, Perm.TASK_MANAGE, task.store)


def refresh(tasks) -> int:
    """Recompute progress of open tasks and close those the system sees done. Returns how many it closed.
    Idempotent: a second run changes nothing."""
    closed = 0
    now = timezone.now()
    for task in tasks:
        progress, converted, done = task.progress, task.converted, False
        if task.kind == TaskKind.FOLLOW_UP and task.member_id:
            progress = 1 if task.followed_up_at else 0
            converted = 1 if task.followed_up_at and _bought_after(task.member_id, task.followed_up_at) else 0
            done = converted == 1
        elif task.kind == TaskKind.FOLLOW_UP and task.plan_id and task.plan.call_list_id:
            entries = list(_entries_of(task).values_list("member_id", "called_at", "outcome"))
            called = [(m, at) for m, at, outcome in entries if outcome != CallOutcome.PENDING and at]
            progress = len(called)
            converted = sum(1 for m, at in called if _bought_after(m, at))
            done = bool(entries) and converted == len(entries)
        elif task.plan_id:
            progress = _measure(task.plan, guide_id=task.guide_id)
            done = progress >= task.target > 0
        changes = {}
        if (progress, converted) != (task.progress, task.converted):
            changes.update(progress=progress, converted=converted)
        if done:
            changes.update(status=TaskStatus.DONE, done_at=now, done_by=DoneBy.SYSTEM)
        if changes:
            updated = GuideTask.objects.filter(pk=task.pk, status=TaskStatus.OPEN).update(updated_at=now, **changes)
            closed += 1 if done and updated else 0
    return closed


def refresh_open(*, enterprise_id: int | None = None, guide_id: int | None = None) -> int:
    """Refresh every open task (of an enterprise or a guide), then the plans' node targets."""
    qs = GuideTask.objects.filter(status=TaskStatus.OPEN).select_related("plan", "guide", "store")
    if enterprise_id is not None:
        qs = qs.filter(enterprise_id=enterprise_id)
    if guide_id is not None:
        qs = qs.filter(guide_id=guide_id)
    closed = refresh(qs.iterator(chunk_size=BATCH))
    plans = TaskPlan.objects.filter(due_at__gte=timezone.now() - ROLLUP_AFTER_DUE).exclude(kind=TaskKind.FOLLOW_UP)
    if enterprise_id is not None:
        plans = plans.filter(enterprise_id=enterprise_id)
    if guide_id is not None:
        plans = plans.filter(tasks__guide_id=guide_id).distinct()
    for plan in plans.select_related("node"):
        targets_rollup(plan)
    return closed


def targets_rollup(plan: TaskPlan) -> None:
    """achieved of every target row of a plan: a guide's = their task's progress; a node's = the sum of its parts,
    or counted over its subtree when not split."""
    rows = list(TaskTarget.objects.filter(plan=plan).select_related("node"))
    children = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    progress = dict(GuideTask.objects.filter(plan=plan).values_list("guide_id", "progress"))

    def achieved(row: TaskTarget) -> int:
        if row.guide_id:
            value = progress.get(row.guide_id, 0)
        elif children[row.pk]:
            value = sum(achieved(child) for child in children[row.pk])
        else:
            value = _measure(plan, path=row.node.path)
        if value != row.achieved:
            TaskTarget.objects.filter(pk=row.pk).update(achieved=value)
            row.achieved = value
        return value

    for root in children[None]:
        achieved(root)


# --- reads ----------------------------------------------------------------------------------------------------

def my_tasks(*, actor: Staff, include_done_since: datetime | None = None) -> list[GuideTask]:
    """The actor's own tasks: open ones by deadline (overdue first), then those closed since the given moment."""
    if not has_perm(actor, Perm.TASK_WORK):
        raise Forbidden()
    qs = GuideTask.objects.filter(guide=actor, enterprise_id=actor.enterprise_id).select_related("member", "plan")
    since = include_done_since or timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = list(qs.filter(Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.DONE, done_at__gte=since))[:300])
    rows.sort(key=lambda t: (t.status != TaskStatus.OPEN, t.due_at, t.pk))
    return rows


def task_get(*, actor: Staff, task_id: int) -> GuideTask:
    from .guide_tasks import _own_task

    return _own_task(actor, task_id)


@dataclass
class Row:
    """One line of a progress view: a plan's node or guide with its target, achieved, tasks open/done/overdue."""

    label: str
    depth: int
    target: int
    achieved: int
    open: int = 0
    done: int = 0
    overdue: int = 0
    node_id: int | None = None
    target_id: int | None = None

    @property
    def percent(self) -> int:
        return min(100, self.achieved * 100 // self.target) if self.target else 0


def plan_list(*, actor: Staff) -> list[TaskPlan]:
    """Plans with a task or a target inside the actor's task.manage scope, newest first."""
    if not has_perm(actor, Perm.TASK_MANAGE):
        raise Forbidden()
    scope = scope_q(actor, Perm.TASK_MANAGE, "node__path")
    ids = set(TaskTarget.objects.filter(scope, plan__enterprise_id=actor.enterprise_id).values_list("plan_id",
                                                                                                     flat=True))
    ids |= set(GuideTask.objects.filter(scope_q(actor, Perm.TASK_MANAGE, "store__path"),
                                        plan__isnull=False, enterprise_id=actor.enterprise_id)
               .values_list("plan_id", flat=True))
    ids |= set(TaskPlan.objects.filter(scope, enterprise_id=actor.enterprise_id).values_list("pk", flat=True))
    return list(TaskPlan.objects.filter(pk__in=ids).select_related("node", "sku").order_by("-due_at", "-id")[:100])


def plan_progress(*, actor: Staff, plan_id: int) -> tuple[TaskPlan, list[Row]]:
    """A plan's progress at every level the actor may see: target rows as a tree (node, its parts, guides), with
    each node's tasks open / done / overdue below it. 404 outside the actor's scope."""
    from yundian.core.errors import NotFound

    if not has_perm(actor, Perm.TASK_MANAGE):
        raise NotFound(_("Task not found."), code="task_not_found")
    plan = next((p for p in plan_list(actor=actor) if p.pk == plan_id), None)
    if plan is None:
        raise NotFound(_("Task not found."), code="task_not_found")
    now = timezone.now()
    tasks = list(GuideTask.objects.filter(scope_q(actor, Perm.TASK_MANAGE, "store__path"), plan=plan)
                 .select_related("guide", "store"))
    rows: list[Row] = []
    if plan.kind == TaskKind.FOLLOW_UP:
        for task in sorted(tasks, key=lambda t: (t.store.path, t.guide.display_name)):
            rows.append(Row(f"{task.store.name} · {task.guide.display_name}", 1, task.target, task.progress,
                            open=int(task.status == TaskStatus.OPEN), done=int(task.status == TaskStatus.DONE),
                            overdue=int(task.status == TaskStatus.OPEN and task.due_at < now)))
        return plan, rows
    targets = list(TaskTarget.objects.filter(plan=plan).select_related("node", "guide"))
    children = defaultdict(list)
    for t in targets:
        children[t.parent_id].append(t)

    def counts(path: str, guide_id: int | None) -> tuple[int, int, int]:
        mine = [t for t in tasks if (t.guide_id == guide_id if guide_id else t.store.path.startswith(path))]
        return (sum(t.status == TaskStatus.OPEN for t in mine), sum(t.status == TaskStatus.DONE for t in mine),
                sum(t.status == TaskStatus.OPEN and t.due_at < now for t in mine))

    def walk(row: TaskTarget, depth: int) -> None:
        visible = has_perm(actor, Perm.TASK_MANAGE, row.node)
        if visible:
            label = row.guide.display_name if row.guide_id else row.node.name
            o, d, late = counts(row.node.path, row.guide_id)
            rows.append(Row(label, depth, row.target, row.achieved, o, d, late, row.node_id,
                            None if row.guide_id else row.pk))
        for child in sorted(children[row.pk], key=lambda c: c.pk):
            walk(child, depth + 1 if visible else depth)

    for root in children[None]:
        walk(root, 0)
    return plan, rows


def overdue_by_node(*, actor: Staff) -> list[dict]:
    """Open and overdue tasks per store in the actor's task.manage scope (the manager's overdue view)."""
    now = timezone.now()
    qs = GuideTask.objects.filter(scope_q(actor, Perm.TASK_MANAGE, "store__path"), status=TaskStatus.OPEN,
                                  enterprise_id=actor.enterprise_id)
    out = defaultdict(lambda: {"open": 0, "overdue": 0})
    for store_id, store_name, due in qs.values_list("store_id", "store__name", "due_at"):
        out[(store_id, store_name)]["open"] += 1
        out[(store_id, store_name)]["overdue"] += int(due < now)
    return [{"store_id": k[0], "store": k[1], **v} for k, v in sorted(out.items(), key=lambda kv: -kv[1]["overdue"])]


def split_choices(*, actor: Staff, plan: TaskPlan) -> list[dict]:
    """For each node target of the plan the actor manages: the parts it may be split over (the active child nodes
    of a region or dealer, the guides of a store) with their current part."""
    from yundian.org.models import OrgNode
    from yundian.org.roles import NodeKind

    from .people import guides_of

    out = []
    for row in TaskTarget.objects.filter(plan=plan, guide__isnull=True).select_related("node"):
        if not has_perm(actor, Perm.TASK_MANAGE, row.node):
            continue
        current = {(c.guide_id or c.node_id): c.target for c in row.children.all()}
        if row.node.kind == NodeKind.STORE:
            parts = [("guide", g.pk, g.display_name, current.get(g.pk, "")) for g in guides_of(row.node)]
        else:
            below = OrgNode.objects.filter(Q(parent=row.node, is_active=True) | Q(pk__in=list(current)))
            parts = [("node", n.pk, n.name, current.get(n.pk, "")) for n in below.order_by("path")]
        out.append({"target": row, "parts": parts})
    return out
