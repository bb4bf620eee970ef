"""Console pages of the outbox: the outbox (filters by channel, status and source, search by member name, masked
phones, a chart of the last 14 days), the template list and the template editor with a live preview (htmx), and
the sending rules. Parse -> one service/selector -> render; a domain error re-renders the form with its translated
message and status, changing nothing."""
from datetime import timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core import charts
from yundian.core.errors import DomainError, ValidationFailed
from yundian.core.numbers import parse_whole
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import rendering, selectors, services
from .models import MessageChannel, MessageStatus, Purpose, source_label
from .preview import template_preview

CHART_DAYS = 14


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "details": exc.details}


def _outbox_chart(qs) -> dict:
    """Messages per day of the last two weeks, stacked by status (what reached members, what was held back)."""
    today = timezone.localdate()
    start = today - timedelta(days=CHART_DAYS - 1)
    counts = {(row["day"], row["status"]): row["n"] for row in
              qs.filter(created_at__date__gte=start).annotate(day=TruncDate("created_at"))
              .values("day", "status").annotate(n=Count("id")).order_by()}
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    shown = [s for s in MessageStatus if any(counts.get((d, s.value)) for d in days)]
    return charts.bar(_("Messages by day and status"), x=[d.strftime("%m-%d") for d in days], stacked=True,
                      series=[charts.series(s.label, [counts.get((d, s.value), 0) for d in days]) for s in shown])


@console_view(Perm.MESSAGE_VIEW)
def outbox(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = {"channel": g.get("channel") if g.get("channel") in MessageChannel.values else None,
               "status": g.get("status") if g.get("status") in MessageStatus.values else None,
               "source": (g.get("source") or "")[:32].strip() or None,
               "search": (g.get("q") or "")[:60].strip() or None}
    qs = selectors.message_list(actor=request.actor, **filters)
    page = Paginator(qs, 50).get_page(g.get("page"))
    members = [m.member for m in page]
    phones = selectors.masked_phones(request.actor, members)
    rows = [{"message": m, "phone": phones.get(m.member_id, "")} for m in page]
    context = {"page": page, "rows": rows, "filters": filters, "channels": MessageChannel.choices,
               "statuses": MessageStatus.choices,
               "sources": [(s, source_label(s)) for s in selectors.message_sources(actor=request.actor)],
               "chart": _outbox_chart(selectors.message_list(actor=request.actor)),
               "may_manage_templates": has_perm(request.actor, Perm.MESSAGE_TEMPLATE_MANAGE)}
    template = "messaging/partials/outbox_rows.html" if request.htmx and request.htmx.target == "outbox-rows" \
        else "messaging/outbox.html"
    return render(request, template, context)


# --- templates ----------------------------------------------------------------------------------------

EDITOR_LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _body_slots(template=None, post=None) -> list[dict]:
    """One slot per channel and language for the editor: what is saved (or was posted)."""
    saved = {(b.channel, b.language): b for b in template.bodies.all()} if template else {}
    slots = []
    for channel, label in MessageChannel.choices:
        for language in EDITOR_LANGUAGES:
            prefix = f"{channel}-{language}"
            if post is not None:
                subject, body = post.get(f"{prefix}-subject", ""), post.get(f"{prefix}-body", "")
                provider_template = post.get(f"{prefix}-provider_template", "")
            else:
                b = saved.get((channel, language))
                subject, body = (b.subject, b.body) if b else ("", "")
                provider_template = b.provider_template if b else ""
            slots.append({"channel": channel, "channel_label": label, "language": language, "prefix": prefix,
                          "language_label": dict(settings.LANGUAGES)[language], "subject": subject, "body": body,
                          "provider_template": provider_template})
    return slots


def _bodies_from_post(post) -> list[dict]:
    bodies = []
    for slot in _body_slots(post=post):
        if slot["body"].strip() or slot["subject"].strip():
            bodies.append({"channel": slot["channel"], "language": slot["language"], "subject": slot["subject"],
                           "body": slot["body"], "provider_template": slot["provider_template"]})
    return bodies


def _variables_from_post(post) -> list[str]:
    return [v for v in (post.get("variables") or "").replace("，", ",").replace(" ", ",").split(",") if v]


def _editor_context(request, template=None, post=None, **extra) -> dict:
    may_edit = (selectors.may_edit_template(request.actor, template) if template
                else has_perm(request.actor, Perm.MESSAGE_TEMPLATE_MANAGE))
    values = post or {}
    return {"template": template, "slots": _body_slots(template, post), "may_edit": may_edit,
            "purposes": Purpose.choices,
            "name": values.get("name", template.name if template else ""),
            "purpose": values.get("purpose", template.purpose if template else Purpose.MARKETING),
            "variables": values.get("variables", ", ".join(template.variables) if template else ""),
            "is_active": (values.get("is_active") == "1") if post is not None else (template.is_active if template
                                                                                    else True),
            "standard": [(k, v) for k, v in {**rendering.STANDARD, **rendering.COMMON}.items()], **extra}


@console_view(Perm.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def template_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        try:
            template = services.template_create(actor=request.actor, name=post.get("name", ""),
                                                purpose=post.get("purpose", ""),
                                                variables=_variables_from_post(post), bodies=_bodies_from_post(post))
        except DomainError as exc:
            return render(request, "messaging/template_edit.html",
                          _editor_context(request, post=post, form_errors=_error(exc)), status=exc.status)
        return redirect("messaging:template_edit", template_id=template.pk)
    search = (request.GET.get("q") or "")[:60].strip() or None
    templates = list(selectors.template_list(actor=request.actor, search=search))
    used = dict(selectors.message_list(actor=request.actor).filter(template__in=templates).values("template")
                .annotate(n=Count("id")).values_list("template", "n"))
    return render(request, "messaging/template_list.html", {
        "rows": [{"template": t, "channels": sorted({b.get_channel_display() for b in t.bodies.all()}),
                  "sent": used.get(t.pk, 0), "may_edit": selectors.may_edit_template(request.actor, t)}
                 for t in templates],
        "search": search or "", "may_create": has_perm(request.actor, Perm.MESSAGE_TEMPLATE_MANAGE)})


@console_view(Perm.MESSAGE_TEMPLATE_MANAGE)
def template_new(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/template_edit.html", _editor_context(request))


@console_view(Perm.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = selectors.template_get(actor=request.actor, template_id=template_id)
    if request.method == "POST":
        post = request.POST
        try:
            if post.get("action") == "delete":
                services.template_delete(actor=request.actor, template_id=template.pk)
                return redirect("messaging:templates")
            services.template_update(actor=request.actor, template_id=template.pk, name=post.get("name", ""),
                                     purpose=post.get("purpose", ""), variables=_variables_from_post(post),
                                     bodies=_bodies_from_post(post), is_active=post.get("is_active") == "1")
        except DomainError as exc:
            return render(request, "messaging/template_edit.html",
                          _editor_context(request, template, post=post, form_errors=_error(exc)), status=exc.status)
        return redirect("messaging:template_edit", template_id=template.pk)
    return render(request, "messaging/template_edit.html", _editor_context(request, template))


@console_view(Perm.MEMBER_VIEW)
@require_POST
def template_preview_partial(request: HttpRequest) -> HttpResponse:
    """The editor's live preview (htmx): each filled body as the sample member would read it."""
    post = request.POST
    try:
        bodies = _bodies_from_post(post)
        if not bodies:
            raise ValidationFailed(_("Write a text for at least one channel to see it here."), code="required")
        rows = template_preview(actor=request.actor, bodies=bodies, variables=_variables_from_post(post),
                                purpose=post.get("purpose", Purpose.MARKETING),
                                member_id=parse_whole(post.get("member_id")))
    except DomainError as exc:
        return render(request, "messaging/partials/preview.html", {"form_errors": _error(exc)})
    labels = dict(MessageChannel.choices)
    languages = dict(settings.LANGUAGES)
    return render(request, "messaging/partials/preview.html", {
        "rows": [{**r, "channel_label": labels[r["channel"]], "language_label": languages[r["language"]]}
                 for r in rows]})


# --- sending rules ------------------------------------------------------------------------------------

@console_view(Perm.MESSAGE_VIEW)
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    current = services.policy_get(request.actor.enterprise_id)
    may_edit = request.actor.home.parent_id is None and has_perm(request.actor, Perm.MESSAGE_TEMPLATE_MANAGE)
    if request.method == "POST":
        post = request.POST
        try:
            start, end = parse_time(post.get("quiet_start", "")[:8]), parse_time(post.get("quiet_end", "")[:8])
            if start is None or end is None:
                raise ValidationFailed(_("Enter quiet hours as HH:MM."), code="invalid_time",
                                       details={"field": "quiet_start" if start is None else "quiet_end"})
            services.policy_update(actor=request.actor, daily_cap=parse_whole(post.get("daily_cap")),
                                   weekly_cap=parse_whole(post.get("weekly_cap")), quiet_start=start,
                                   quiet_end=end, language=post.get("language", ""))
        except (DomainError, ValueError) as exc:
            if not isinstance(exc, DomainError):
                exc = ValidationFailed()
            return render(request, "messaging/policy.html", {"policy": current, "may_edit": may_edit,
                                                             "languages": settings.LANGUAGES,
                                                             "form_errors": _error(exc)}, status=exc.status)
        return redirect("messaging:policy")
    return render(request, "messaging/policy.html", {"policy": current, "may_edit": may_edit,
                                                     "languages": settings.LANGUAGES})


@console_view(Perm.MEMBER_VIEW)
def member_panel(request: HttpRequest, member_id: int) -> HttpResponse:
    """The message history section of a member's 360° page (htmx): every message with its decision."""
    from yundian.members.selectors import member_get

    from .member_pages import member_message_rows

    member = member_get(actor=request.actor, member_id=member_id)
    rows, count_all = member_message_rows(member)
    return render(request, "messaging/partials/member_panel.html", {"member": member, "rows": rows,
                                                                   "count_all": count_all})
