"""Cycle-count tasks (动态盘点): the blind counts the diagnosis asks for, as the store counts them on a tablet or a
phone. The counter types what is on the shelf for each SKU; the system quantity is never shown while counting."""
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy

from yundian.core.errors import DomainError
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import selectors, services
from .models import Stocktake

REASONS = {
    "stopped_selling": gettext_lazy("stopped selling here"),
    "negative_adjustments": gettext_lazy("written off again and again"),
    "count_disagrees": gettext_lazy("counts often disagree"),
}


@console_view(Perm.STOCK_VIEW)
def cycle_counts(request: HttpRequest) -> HttpResponse:
    counts = (selectors.stocktake_list(actor=request.actor).filter(origin="diagnosis")
              .filter(status__in=[Stocktake.Status.COUNTING, Stocktake.Status.REVIEW])
              .select_related("warehouse__node").order_by("-id")[:50])
    done = (selectors.stocktake_list(actor=request.actor).filter(origin="diagnosis", status=Stocktake.Status.POSTED)
            .select_related("warehouse__node").order_by("-id")[:10])
    return render(request, "inventory/cycle_counts.html", {"counts": counts, "done": done})


@console_view(Perm.STOCK_VIEW)
def cycle_count(request: HttpRequest, stocktake_id: int) -> HttpResponse:
    try:
        count = selectors.stocktake_get(actor=request.actor, stocktake_id=stocktake_id)
    except DomainError:
        raise Http404 from None
    if count.origin != "diagnosis":
        return redirect("inventory:stocktake", count.id)
    lines = list(selectors.stocktake_lines(stocktake=count))
    if request.method == "POST" and count.status == Stocktake.Status.COUNTING:
        entered = []
        for line in lines:
            raw = request.POST.get(f"sku-{line.sku_id}", "").strip()
            if raw:
                if not raw.isdigit() or len(raw) > 9:
                    messages.error(request, _("Type the number of units you counted (0 or more)."))
                    return redirect("inventory:cycle_count", count.id)
                entered.append({"sku_id": line.sku_id, "quantity": int(raw)})
        try:
            if entered:
                services.stocktake_count(actor=request.actor, stocktake_id=count.id, lines=entered, mode="set")
            if request.POST.get("action") == "finish":
                services.stocktake_submit(actor=request.actor, stocktake_id=count.id)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("inventory:cycle_count", count.id)
        messages.success(request, _("Counts saved.") if request.POST.get("action") != "finish"
                         else _("Count finished: it goes to review."))
        return redirect("inventory:cycle_count", count.id)
    blind = count.is_blind and count.status == Stocktake.Status.COUNTING
    rows = [{"line": line, "reason": REASONS.get(line.reason, "")} for line in lines]
    return render(request, "inventory/cycle_count.html", {"count": count, "rows": rows, "blind": blind,
                                                          "counted": sum(1 for l in lines if l.counted is not None)})
