"""Console pages of recommendations: the models (versions with their offline evaluation) and the A/B experiments of
each slot with their figures (HQ), and the fragments the till and the guides' pages load for a member."""
from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yundian.core.errors import DomainError
from yundian.members.selectors import member_get
from yundian.org.console import console_view
from yundian.org.models import OrgNode
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .figures import experiment_figures, model_rows, variant_label
from .models import Experiment, RecommendModelVersion, Slot


def _hq_only(actor) -> None:
    """Models and experiments are the whole chain's: readable by those who read analytics at HQ."""
    if not has_perm(actor, Perm.ANALYTICS_VIEW, services.enterprise_root(actor.enterprise_id)):
        raise Http404


@console_view(Perm.ANALYTICS_VIEW)
def overview(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    _hq_only(actor)
    versions = list(RecommendModelVersion.objects.filter(enterprise_id=actor.enterprise_id).defer("artifact")[:8])
    serving = selectors.serving_version(actor.enterprise_id)
    experiments = list(Experiment.objects.filter(enterprise_id=actor.enterprise_id)[:6])
    figures = [experiment_figures(e) for e in experiments]
    root = services.enterprise_root(actor.enterprise_id)
    return render(request, "recommend/overview.html", {
        "versions": versions, "serving": serving, "evaluation": model_rows(serving) if serving else [],
        "experiments": figures, "slots": Slot.choices, "variant_choices": [(k, variant_label(k)) for k in services.VARIANT_KEYS],
        "may_train": has_perm(actor, Perm.WAREHOUSE_RUN, root),
        "may_experiment": has_perm(actor, Perm.PROMOTION_MANAGE, root),
    })


@require_POST
@console_view(Perm.WAREHOUSE_RUN)
def train_now(request: HttpRequest) -> HttpResponse:
    from .tasks import recommend_train_one

    _hq_only(request.actor)
    enterprise_id, actor_id = request.actor.enterprise_id, request.actor.pk
    transaction.on_commit(lambda: recommend_train_one.enqueue(enterprise_id, actor_id))
    messages.success(request, _("Training was queued; the page shows the new version when it is done."))
    return redirect("recommend:overview")


@require_POST
@console_view(Perm.PROMOTION_MANAGE)
def experiment_start(request: HttpRequest) -> HttpResponse:
    variants = []
    for key in services.VARIANT_KEYS:
        raw = request.POST.get(f"share_{key}", "").strip()
        if raw:
            variants.append({"key": key, "share": int(raw) if raw.isdigit() else -1})
    try:
        services.experiment_start(actor=request.actor, slot=request.POST.get("slot", ""),
                                  name=request.POST.get("name", ""), variants=variants)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("recommend:overview")
    messages.success(request, _("The experiment started."))
    return redirect("recommend:overview")


@require_POST
@console_view(Perm.PROMOTION_MANAGE)
def experiment_stop(request: HttpRequest, experiment_id: int) -> HttpResponse:
    services.experiment_stop(actor=request.actor, experiment_id=experiment_id)
    messages.success(request, _("The experiment stopped; its figures stay here."))
    return redirect("recommend:overview")


def _fragment(request, member, store: OrgNode, *, slot: str, shelf_only: bool, k: int,
              channel: str = "") -> HttpResponse:
    """The suggestion box; it carries the member, store, slot and variant for its recommendation_view and
    recommendation_click events (static/recommend/staff_track.js), and each suggestion the SKU a pick means."""
    block = selectors.recommendations(store=store, slot=slot, member=member, k=k, shelf_only=shelf_only)
    products = selectors.products_named([i.product_id for i in block.items])
    skus = selectors.sku_to_offer(store, list(products), shelf_only=shelf_only)
    rows = [(item, products[item.product_id], skus.get(item.product_id, ""))
            for item in block.items if item.product_id in products]
    return render(request, "recommend/partials/member_suggestions.html", {
        "block": block, "rows": rows, "member": member, "store": store, "channel": channel})


@console_view(Perm.ORDER_SELL)
def till_suggestions(request: HttpRequest, member_id: int) -> HttpResponse:
    """Suggestions for the member at the till: what this store has on its own shelf now."""
    store = OrgNode.objects.filter(pk=_int(request.GET.get("store")), enterprise_id=request.actor.enterprise_id).first()
    if store is None or not has_perm(request.actor, Perm.ORDER_SELL, store):
        raise Http404
    member = member_get(actor=request.actor, member_id=member_id)
    return _fragment(request, member, store, slot=Slot.TILL, shelf_only=True, k=5, channel="pos")


@console_view(Perm.MEMBER_VIEW)
def member_next_best(request: HttpRequest, member_id: int) -> HttpResponse:
    """Next-best products for a member (a guide's customer page), at the member's home store."""
    member = member_get(actor=request.actor, member_id=member_id)
    if member.home_id is None:
        raise Http404
    return _fragment(request, member, member.home, slot=Slot.GUIDE, shelf_only=False, k=5)


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 19 else 0
