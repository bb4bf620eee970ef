"""The warehouse status page: how fresh the warehouse is (the lag a dashboard reader must know), what waits, what
each source has read, and what the actor's own subtree looks like there."""
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from .dashboard import PERIODS, home_dashboard
from .selectors import scope_summary
from .sync import sync_status

SOURCE_LABELS = {
    "sales.order": gettext_lazy("Orders"), "members.member": gettext_lazy("Members"),
    "inventory.stock_move": gettext_lazy("Stock moves"), "members.points_entry": gettext_lazy("Points entries"),
    "guides.commission_entry": gettext_lazy("Commission entries"),
    "core.outbox": gettext_lazy("Business changes (outbox)"), "org.node": gettext_lazy("Organisation"),
    "catalog.sku": gettext_lazy("Goods"), "org.staff": gettext_lazy("Staff"),
    "promotions.coupon_redemption": gettext_lazy("Coupon redemptions"), "cdp.inbox": gettext_lazy("Behaviour events"),
    "cdp.tag_change": gettext_lazy("Member tag changes"),
    "promotions.coupon": gettext_lazy("Coupons issued to members"), "members.consent": gettext_lazy("Marketing consent"),
}


@console_view(Perm.ANALYTICS_VIEW)
def warehouse(request: HttpRequest) -> HttpResponse:
    status = sync_status()
    now = timezone.now()
    lag = None
    if status["oldest_pending"] is not None:
        lag = (now - status["oldest_pending"]).total_seconds()
    elif status["last_run"] is not None:
        lag = 0
    order = list(SOURCE_LABELS)
    sources = sorted(({**s, "label": SOURCE_LABELS.get(s["source"], s["source"])} for s in status["sources"]),
                     key=lambda s: order.index(s["source"]) if s["source"] in order else len(order))
    context = {
        "status": status, "lag_seconds": lag, "sources": sources,
        "since_run": (now - status["last_run"]).total_seconds() if status["last_run"] else None,
        "summary": scope_summary(actor=request.actor) if status["last_run"] else None,
        "may_run": has_perm(request.actor, Perm.WAREHOUSE_RUN),
    }
    return render(request, "analytics/warehouse.html", context)


@require_POST
@console_view(Perm.WAREHOUSE_RUN)
def warehouse_sync_now(request: HttpRequest) -> HttpResponse:
    from django.db import transaction

    from .tasks import warehouse_sync

    transaction.on_commit(lambda: warehouse_sync.enqueue())
    messages.success(request, _("A sync was queued; the page shows its result within a minute."))
    return redirect("analytics:warehouse")


@console_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    """The actor's dashboard (scoped: HQ the chain, a region its stores, a store itself, a guide their own sales):
    a fragment the console home loads, or a page of its own."""
    period = request.GET.get("period", "day")
    if period not in PERIODS:
        period = "day"
    status = sync_status()
    context = {"synced": status["last_run"] is not None, "last_run": status["last_run"], "period": period,
               "periods": PERIODS}
    if context["synced"]:
        context.update(home_dashboard(actor=request.actor, period=period))
    template = "analytics/partials/dashboard.html" if request.htmx else "analytics/dashboard.html"
    return render(request, template, context)


@console_view(Perm.ANALYTICS_VIEW)
def clv(request: HttpRequest) -> HttpResponse:
    """Customer lifetime value: the enterprise's current model, and its members in the actor's scope by band, by
    month of joining, P(alive) by repeat purchases and the top members (masked)."""
    from .clv_selectors import clv_overview

    context = {**clv_overview(request.actor), "may_refit": has_perm(request.actor, Perm.WAREHOUSE_RUN)}
    return render(request, "analytics/clv.html", context)


@require_POST
@console_view(Perm.WAREHOUSE_RUN)
def clv_refit_now(request: HttpRequest) -> HttpResponse:
    from django.db import transaction

    from .tasks import clv_refit

    enterprise_id, actor_id = request.actor.enterprise_id, request.actor.pk
    transaction.on_commit(lambda: clv_refit.enqueue(enterprise_id, actor_id))
    messages.success(request, _("A refit of the CLV model was queued; the page shows the new version when it is done."))
    return redirect("analytics:clv")
