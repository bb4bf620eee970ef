"""The guide's phone pages (today's tasks, a task, ranking, my month) under one home with a bottom tab bar, and the
managers' pages (plans with their progress at every level and the split of a target, overdue per store, a guide's
handover). Each view: parse -> one service/selector -> render."""
from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import accounting, customers, guide_tasks, handover, materials, selectors, task_progress
from .models import ContactChannel, ContactOutcome, FollowUpList, TaskKind, TaskStatus


def _month(request: HttpRequest):
    try:
        return selectors.parse_month((request.GET.get("month") or "")[:7] or None)
    except ValidationFailed:
        return selectors.parse_month(None)


@console_view(Perm.TASK_WORK)
def guide_home(request: HttpRequest) -> HttpResponse:
    """Today: open tasks (overdue and due within a day on top, reminded), the ones closed today."""
    task_progress.refresh_open(guide_id=request.actor.pk)
    tasks = task_progress.my_tasks(actor=request.actor)
    now = timezone.now()
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    return render(request, "guides/phone/today.html", {
        "tab": "today", "open_tasks": open_tasks, "done_tasks": [t for t in tasks if t.status == TaskStatus.DONE],
        "urgent": sum(1 for t in open_tasks if t.due_at <= now + timedelta(days=1)), "now": now,
        "soon": now + timedelta(days=1)})


def _task_context(request: HttpRequest, task, **extra) -> dict:
    entries = []
    if task.plan_id and task.plan.call_list_id:
        entries = list(task_progress._entries_of(task).select_related("member")[:200])
    share = None
    if task.plan_id and task.plan.material_id and task.guide_id == request.actor.pk:
        share = materials.my_shares(actor=request.actor).get(task.plan.material_id)
    return {"tab": "today", "task": task, "entries": entries, "channels": ContactChannel.choices,
            "outcomes": ContactOutcome.choices, "share": share, **extra}


@console_view(Perm.TASK_WORK)
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """A task; its progress refreshed first (an open of the guide's share link shows at once)."""
    task = task_progress.task_get(actor=request.actor, task_id=task_id)
    if task.status == TaskStatus.OPEN:
        task_progress.refresh([task])
        task = task_progress.task_get(actor=request.actor, task_id=task_id)
    return render(request, "guides/phone/task.html", _task_context(request, task))


@console_view(Perm.TASK_WORK)
@require_http_methods(["POST"])
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    try:
        guide_tasks.task_done(actor=request.actor, task_id=task_id, note=request.POST.get("note", ""))
    except DomainError as exc:
        if exc.status == 404:
            raise
        task = task_progress.task_get(actor=request.actor, task_id=task_id)
        return render(request, "guides/phone/task.html", _task_context(request, task, error=exc), status=exc.status)
    return redirect("guides:home")


@console_view(Perm.TASK_WORK)
@require_http_methods(["POST"])
def contact_add(request: HttpRequest, member_id: int) -> HttpResponse:
    """Log a call / message / visit (from a task or the customer page) and go back there."""
    task_id = request.POST.get("task_id") or ""
    try:
        guide_tasks.contact_record(actor=request.actor, member_id=member_id, channel=request.POST.get("channel", ""),
                                   outcome=request.POST.get("outcome", ""), note=request.POST.get("note", ""),
                                   task_id=int(task_id) if task_id.isdigit() else None)
    except DomainError as exc:
        if exc.status == 404:
            raise
        customer, logs = customers.customer_get(actor=request.actor, member_id=member_id)
        return render(request, "guides/phone/customer.html", {
            "tab": "customers", "c": customer, "logs": logs, "channels": ContactChannel.choices,
            "outcomes": ContactOutcome.choices, "error": exc}, status=exc.status)
    if task_id.isdigit():
        return redirect("guides:task", task_id=int(task_id))
    return redirect(reverse("guides:customer", args=[member_id]))


@console_view(Perm.TASK_WORK)
def customer_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    customer, logs = customers.customer_get(actor=request.actor, member_id=member_id)
    return render(request, "guides/phone/customer.html", {
        "tab": "customers", "c": customer, "logs": logs, "channels": ContactChannel.choices,
        "outcomes": ContactOutcome.choices})


@console_view(Perm.COMMISSION_VIEW_OWN)
def my_money(request: HttpRequest) -> HttpResponse:
    """My commission (live) and my month (single-person accounting) on one phone page."""
    month = _month(request)
    overview = selectors.commission_overview(actor=request.actor)
    mine = accounting.guide_month(actor=request.actor, month=month, guide_ids=[request.actor.pk])
    return render(request, "guides/phone/money.html", {"tab": "money", "o": overview, "me": mine[0] if mine else None,
                                                       "month": month})


# --- managers --------------------------------------------------------------------------------------------------

@console_view(Perm.COMMISSION_VIEW_ALL)
def guide_accounting(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    rows = accounting.guide_month(actor=request.actor, month=month)
    return render(request, "guides/accounting.html", {"rows": rows, "month": month})


def _aware(text: str, end: bool = False):
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@console_view(Perm.TASK_MANAGE)
def plans(request: HttpRequest) -> HttpResponse:
    """Plans with progress, the overdue view per store, and the form to set a new task."""
    error, status = None, 200
    if request.method == "POST":
        p = request.POST
        try:
            plan = guide_tasks.task_plan_create(
                actor=request.actor, node_id=int(p.get("node_id") or 0), kind=p.get("kind", ""),
                title=p.get("title", ""), description=p.get("description", ""),
                target=int(p["target"]) if (p.get("target") or "").isdigit() else 0,
                sku_id=int(p["sku_id"]) if (p.get("sku_id") or "").isdigit() else None,
                material_id=int(p["material_id"]) if (p.get("material_id") or "").isdigit() else None,
                follow_up_list=p.get("follow_up_list", ""),
                audience_id=int(p["audience_id"]) if (p.get("audience_id") or "").isdigit() else None,
                starts_at=_aware(p.get("start_day", "")) or timezone.now(),
                due_at=_aware(p.get("deadline", ""), end=True),
                key=(p.get("key") or "")[:128])
            return redirect("guides:plan", plan_id=plan.pk)
        except DomainError as exc:
            error, status = exc, exc.status
    rows = []
    for plan in task_progress.plan_list(actor=request.actor):
        _plan, levels = task_progress.plan_progress(actor=request.actor, plan_id=plan.pk)
        top = levels[0] if levels else None
        if plan.kind == TaskKind.FOLLOW_UP:
            target, achieved = sum(r.target for r in levels), sum(r.achieved for r in levels)
        else:
            target, achieved = (top.target, top.achieved) if top else (plan.target, 0)
        rows.append({"plan": plan, "target": target, "achieved": achieved,
                     "percent": min(100, achieved * 100 // target) if target else 0,
                     "overdue": sum(r.overdue for r in levels if r.depth == (levels[0].depth if levels else 0)
                                    or plan.kind == TaskKind.FOLLOW_UP)})
    today = timezone.localdate()
    return render(request, "guides/plans.html", {
        "rows": rows, "overdue": task_progress.overdue_by_node(actor=request.actor), "error": error,
        "kinds": TaskKind.choices, "lists": FollowUpList.choices,
        "materials": materials.materials_for_plans(actor=request.actor), "post": request.POST if error else {},
        "default_start": today.isoformat(), "default_deadline": (today + timedelta(days=7)).isoformat(),
        "now": timezone.now()}, status=status)


@console_view(Perm.TASK_MANAGE)
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    """A plan's progress at every level; a node the actor manages splits its target here."""
    error, status = None, 200
    if request.method == "POST":
        target_id = int(request.POST.get("target_id") or 0)
        parts = []
        for key, value in request.POST.items():
            kind, _sep, ident = key.partition(":")
            if kind in ("node", "guide") and ident.isdigit() and value.strip():
                try:
                    amount = int(value)
                except ValueError:
                    amount = -1
                parts.append({f"{kind}_id": int(ident), "target": amount})
        try:
            guide_tasks.task_target_split(actor=request.actor, target_id=target_id, parts=parts)
            task_progress.refresh_open(enterprise_id=request.actor.enterprise_id)
            return redirect("guides:plan", plan_id=plan_id)
        except DomainError as exc:
            error, status = exc, exc.status
    plan, rows = task_progress.plan_progress(actor=request.actor, plan_id=plan_id)
    splits = task_progress.split_choices(actor=request.actor, plan=plan)
    return render(request, "guides/plan_detail.html", {"plan": plan, "rows": rows, "splits": splits, "error": error,
                                                       "now": timezone.now()}, status=status)


@console_view(Perm.TASK_MANAGE)
def handover_page(request: HttpRequest) -> HttpResponse:
    """A store manager hands a leaving guide's work to others (spread evenly or to one) and disables them."""
    from yundian.org.models import Staff
    from .models import Handover
    from .people import guides_of

    error, status, done = None, 200, None
    stores = {s.home_id: s.home for s in Staff.objects.filter(pk=request.actor.pk).select_related("home")}
    guides = [g for store in stores.values() if store.kind == "store" for g in guides_of(store)
              if g.pk != request.actor.pk and has_perm(request.actor, Perm.STAFF_MANAGE, store)]
    if request.method == "POST":
        try:
            to = [int(v) for v in request.POST.getlist("to") if v.isdigit()]
            done = handover.guide_handover_all(actor=request.actor, guide_id=int(request.POST.get("guide") or 0),
                                               to_guide_ids=to, reason=request.POST.get("reason", ""))
            return redirect(f"{reverse('guides:handover')}?done={done.pk}")
        except DomainError as exc:
            error, status = exc, exc.status
    handovers = Handover.objects.filter(store__in=list(stores.values())).select_related("guide")
    if (request.GET.get("done") or "").isdigit():
        handovers = handovers.filter(pk=int(request.GET["done"]))
    last = handovers.order_by("-id").first()  # the one just made, else the store's latest
    counts = {g.pk: handover.left_behind(g) for g in guides}
    names = {str(g.pk): g.display_name for g in guides}
    if last is not None:
        names.update({str(s.pk): s.display_name for s in Staff.objects.filter(
            pk__in=[int(k) for kind in last.moved.values() for k in kind])})
    return render(request, "guides/handover.html", {"guides": guides, "counts": counts, "error": error,
                                                    "last": last, "names": names}, status=status)

