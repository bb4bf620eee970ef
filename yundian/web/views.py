"""Console pages (Django templates + htmx). Same rule as the API: parse -> one service/selector -> render."""
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.analytics.dashboard import PERIODS
from yundian.core.errors import DomainError, NotFound
from yundian.inventory.reports import low_stock_count
from yundian.ops.security import LoginForm
from yundian.org import selectors, services
from yundian.org.console import console_view
from yundian.org.roles import GRANTABLE, NodeKind, Perm, Role
from yundian.org.selectors import has_perm

from .inbox import inbox_sections
from .pickers import KINDS as PICKER_KINDS, picker_search


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm  # yundian.ops.security: lockout per username + address, audit of every attempt

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked:
            response.status_code = 429
        return response


@console_view()
def home(request: HttpRequest) -> HttpResponse:
    """The actor's cockpit: what waits for them, stock alerts, and their scope's dashboard (analytics), which loads
    as a fragment so the page and its to-dos show at once."""
    actor = request.actor
    sections = inbox_sections(actor=actor, limit=3)
    stock_alerts = low_stock_count(actor) if has_perm(actor, Perm.STOCK_VIEW) else None
    period = request.GET.get("period", "day")
    # the badge's count from these sections: the context processor would count every kind again
    return render(request, "web/home.html", {"waiting": [s for s in sections if s.count],
                                             "inbox_count": sum(s.count for s in sections),
                                             "stock_alerts": stock_alerts, "tasks": _task_figures(actor),
                                             "period": period if period in PERIODS else "day"})


def _task_figures(actor) -> dict | None:
    """Guide tasks on the cockpit: open and overdue in the actor's task.manage scope (a manager, a region, HQ), else
    the actor's own (a guide); None for whom tasks are nothing."""
    from django.urls import reverse
    from django.utils import timezone

    from yundian.guides.models import TaskStatus
    from yundian.guides.task_progress import my_tasks, overdue_by_node

    if has_perm(actor, Perm.TASK_MANAGE):
        rows = overdue_by_node(actor=actor)
        return {"open": sum(r["open"] for r in rows), "overdue": sum(r["overdue"] for r in rows),
                "url": reverse("guides:plans"), "mine": False}
    if has_perm(actor, Perm.TASK_WORK):
        now = timezone.now()
        open_tasks = [t for t in my_tasks(actor=actor) if t.status == TaskStatus.OPEN]
        return {"open": len(open_tasks), "overdue": sum(t.due_at < now for t in open_tasks),
                "url": reverse("guides:home"), "mine": True}
    return None


def _grantable_roles(actor) -> list[tuple[str, str]]:
    allowed = set()
    for held, _path, _id in selectors.actor_roles(actor):
        allowed |= GRANTABLE.get(held, set())
    return [(value, label) for value, label in Role.choices if value in allowed]


def _tree_context(request, *, form_errors=None, open_parent=None, created=None):
    actor = request.actor
    return {
        "tree": selectors.org_tree(actor=actor),
        "kinds": NodeKind.choices,
        "may_manage": has_perm(actor, Perm.ORG_MANAGE),
        "form_errors": form_errors or {},
        "open_parent": open_parent,
        "created": created,
    }


@console_view(Perm.ORG_VIEW)
def org_tree(request: HttpRequest) -> HttpResponse:
    return render(request, "web/org_tree.html", _tree_context(request))


@console_view(Perm.ORG_MANAGE)
@require_http_methods(["POST"])
def org_node_create(request: HttpRequest) -> HttpResponse:
    parent_id = request.POST.get("parent_id", "")
    try:
        node = services.org_node_create(
            actor=request.actor,
            parent_id=int(parent_id) if parent_id.isdigit() else -1,
            kind=request.POST.get("kind", ""),
            name=request.POST.get("name", ""),
            code=request.POST.get("code", ""),
        )
    except NotFound:
        raise
    except DomainError as exc:
        context = _tree_context(request, form_errors={"message": exc.message, "code": exc.code},
                                open_parent=int(parent_id) if parent_id.isdigit() else None)
        status = exc.status
        if request.htmx:
            return render(request, "web/partials/org_tree_body.html", context, status=200 if status < 500 else status)
        return render(request, "web/org_tree.html", context, status=status)
    if request.htmx:
        return render(request, "web/partials/org_tree_body.html", _tree_context(request, created=node))
    return redirect("web:org_tree")


@console_view(Perm.ORG_VIEW)
def org_node_detail(request: HttpRequest, node_id: int) -> HttpResponse:
    actor = request.actor
    node = selectors.org_node_get(actor=actor, node_id=node_id)
    staff = selectors.staff_list(actor=actor, node_id=node.id) if has_perm(actor, Perm.STAFF_VIEW, node) else []
    children = selectors.org_node_list(actor=actor, parent_id=node.id)
    return render(request, "web/org_node.html", {
        "node": node, "staff": staff, "children": children,
        "may_manage_staff": has_perm(actor, Perm.STAFF_MANAGE, node),
        "roles": _grantable_roles(actor),
    })


@console_view(Perm.STAFF_VIEW)
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    query = request.GET.get("q", "")[:64]
    page = Paginator(selectors.staff_list(actor=actor, search=query or None), 50).get_page(request.GET.get("page"))
    return render(request, "web/staff_list.html", {
        "page": page, "q": query,
        "nodes": selectors.org_node_list(actor=actor, include_inactive=False),
        "roles": _grantable_roles(actor),
        "may_manage": has_perm(actor, Perm.STAFF_MANAGE),
    })


@console_view(Perm.STAFF_MANAGE)
@require_http_methods(["POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    home_id = request.POST.get("home_id", "")
    try:
        services.staff_create(
            actor=request.actor,
            home_id=int(home_id) if home_id.isdigit() else -1,
            username=request.POST.get("username", ""),
            display_name=request.POST.get("display_name", ""),
            password=request.POST.get("password", ""),
            role=request.POST.get("role", ""),
            phone=request.POST.get("phone", ""),
        )
    except DomainError as exc:
        actor = request.actor
        page = Paginator(selectors.staff_list(actor=actor), 50).get_page(1)
        return render(request, "web/staff_list.html", {
            "page": page, "q": "", "nodes": selectors.org_node_list(actor=actor, include_inactive=False),
            "roles": _grantable_roles(actor), "may_manage": True,
            "form_errors": {"message": exc.message, "code": exc.code}, "form": request.POST,
        }, status=exc.status)
    return redirect("web:staff_list")


@console_view()
def inbox(request: HttpRequest) -> HttpResponse:
    """What waits for the actor: approvals and to-dos across stock, sales and members, oldest first."""
    sections = inbox_sections(actor=request.actor)
    total = sum(s.count for s in sections)
    return render(request, "web/inbox.html", {"sections": sections, "total": total, "inbox_count": total})


@console_view()
def pick(request: HttpRequest, kind: str) -> HttpResponse:
    """Options for a picker: up to 20 of `kind` matching ?q=, only from the actor's scope (an htmx fragment)."""
    if kind not in PICKER_KINDS:
        raise Http404
    query = request.GET.get("q", "")
    options = picker_search(actor=request.actor, kind=kind, query=query)
    return render(request, "web/widgets/picker_options.html", {"options": options, "query": query.strip()})


@console_view(Perm.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.audit_list(actor=request.actor), 50).get_page(request.GET.get("page"))
    return render(request, "web/audit_list.html", {"page": page})


def not_found(request, exception=None):
    return render(request, "web/404.html", {"message": _("Not found.")}, status=404)
