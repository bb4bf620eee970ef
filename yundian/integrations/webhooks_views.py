"""Console pages of webhooks (HQ admins): subscriptions (list, create, edit, enable/disable, the secret shown and
rotated, replay of a range) and the delivery log (filters, one delivery's attempts and body, retry of a dead
letter). Parse -> one service/selector -> render; a domain error re-renders with its translated message and status,
changing nothing."""
import json
from datetime import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core.errors import DomainError, ValidationFailed
from yundian.org.console import console_view
from yundian.org.roles import Perm

from . import webhooks_selectors as selectors
from . import webhooks_services as services
from .webhook_models import DeliveryStatus
from .webhooks_events import EVENT_HELP, EVENT_TYPES, event_label
from .webhooks_services import GRACE_HOURS_MAX


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "details": exc.details}


def _catalogue(chosen) -> list[dict]:
    return [{"name": n, "label": label, "help": EVENT_HELP[n], "checked": n in chosen} for n, label in
            EVENT_TYPES.items()]


def _labelled(deliveries):
    deliveries = list(deliveries) if not hasattr(deliveries, "object_list") else deliveries
    for d in deliveries:
        d.event_label = event_label(d.event.type)
    return deliveries


def _when(value: str) -> datetime | None:
    """A datetime-local field ("2026-12-07T10:30") in the active time zone; empty: None; nonsense: 422."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationFailed(code="invalid_time")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@console_view(Perm.WEBHOOK_MANAGE)
def subscription_list(request: HttpRequest) -> HttpResponse:
    subs = list(selectors.webhook_subscription_list(actor=request.actor))
    for sub in subs:
        sub.event_labels = [event_label(e) for e in sub.events]
    return render(request, "integrations/webhooks/list.html", {"subscriptions": subs})


@console_view(Perm.WEBHOOK_MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_new(request: HttpRequest) -> HttpResponse:
    form, error, status = {"name": "", "url": "", "events": []}, None, 200
    if request.method == "POST":
        form = {"name": request.POST.get("name", ""), "url": request.POST.get("url", ""),
                "events": request.POST.getlist("events")}
        try:
            sub = services.webhook_subscription_create(actor=request.actor, **form)
            return redirect("integrations:webhook_edit", subscription_id=sub.pk)
        except DomainError as exc:
            error, status = _error(exc), exc.status
    return render(request, "integrations/webhooks/form.html",
                  {"form": form, "catalogue": _catalogue(form["events"]), "form_errors": error, "sub": None},
                  status=status)


@console_view(Perm.WEBHOOK_MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    sub = selectors.webhook_subscription_get(actor=request.actor, subscription_id=subscription_id)
    form = {"name": sub.name, "url": sub.url, "events": sub.events, "is_active": sub.is_active}
    error, status, notice = None, 200, request.GET.get("done", "")
    action = request.POST.get("action", "save") if request.method == "POST" else None
    try:
        if action == "save":
            form = {"name": request.POST.get("name", ""), "url": request.POST.get("url", ""),
                    "events": request.POST.getlist("events"), "is_active": request.POST.get("is_active") == "on"}
            services.webhook_subscription_update(actor=request.actor, subscription_id=sub.pk, **form)
            return redirect(f"{request.path}?done=saved")
        if action == "rotate":
            raw = request.POST.get("grace_hours", "24")
            grace = int(raw) if raw.isdigit() else -1
            services.webhook_subscription_rotate(actor=request.actor, subscription_id=sub.pk, grace_hours=grace)
            return redirect(f"{request.path}?done=rotated")
        if action == "replay":
            replay = services.webhook_replay(
                actor=request.actor, subscription_id=sub.pk, since=_when(request.POST.get("since")),
                until=_when(request.POST.get("until")), from_event=request.POST.get("from_event") or None,
                to_event=request.POST.get("to_event") or None)
            return redirect(f"{request.path}?done=replayed&n={replay.events}")
    except DomainError as exc:
        error, status = _error(exc), exc.status
        error["action"] = action
    sub.refresh_from_db()
    recent = _labelled(selectors.webhook_delivery_list(actor=request.actor, subscription_id=sub.pk)[:10])
    return render(request, "integrations/webhooks/form.html", {
        "sub": sub, "form": form, "catalogue": _catalogue(form["events"]), "form_errors": error, "notice": notice,
        "replayed": request.GET.get("n", ""), "recent": recent, "grace_choices": [0, 1, 24, 72, GRACE_HOURS_MAX],
        "rotating": sub.previous_secret and sub.previous_secret_expires_at
        and sub.previous_secret_expires_at > timezone.now(),
        "post": request.POST if request.method == "POST" else {}}, status=status)


@console_view(Perm.WEBHOOK_MANAGE)
def delivery_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    subs = list(selectors.webhook_subscription_list(actor=request.actor))
    filters = {"subscription_id": int(g["subscription"]) if g.get("subscription", "").isdigit() else None,
               "status": g.get("status") if g.get("status") in DeliveryStatus.values else None,
               "event_type": g.get("type") if g.get("type") in EVENT_TYPES else None,
               "event": (g.get("event") or "").strip()[:24] or None}
    error = None
    try:
        qs = selectors.webhook_delivery_list(actor=request.actor, **filters)
        page = Paginator(qs, 50).get_page(g.get("page"))
        _labelled(page)
    except ValidationFailed as exc:
        error, page = _error(exc), Paginator([], 50).get_page(1)
    context = {"page": page, "filters": filters, "subscriptions": subs, "statuses": DeliveryStatus.choices,
               "types": list(EVENT_TYPES.items()), "form_errors": error}
    template = "integrations/webhooks/partials/delivery_rows.html" \
        if request.htmx and request.htmx.target == "delivery-rows" else "integrations/webhooks/deliveries.html"
    return render(request, template, context, status=422 if error else 200)


@console_view(Perm.WEBHOOK_MANAGE)
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.webhook_delivery_get(actor=request.actor, delivery_id=delivery_id)
    try:
        body = json.dumps(json.loads(delivery.event.body), ensure_ascii=False, indent=2)
    except ValueError:
        body = delivery.event.body
    return render(request, "integrations/webhooks/delivery.html",
                  {"d": delivery, "body": body, "label": EVENT_TYPES.get(delivery.event.type, delivery.event.type)})


@console_view(Perm.WEBHOOK_MANAGE)
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        services.webhook_delivery_retry(actor=request.actor, delivery_id=delivery_id)
    except ValidationFailed:
        pass  # not a dead letter (any more): the page shows where it stands
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/integrations/") else "integrations:webhook_deliveries")
