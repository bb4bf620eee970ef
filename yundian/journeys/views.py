"""Journey pages (/journeys/): the list (status in words, members entered and converted), "new" blank or from a
template, and the canvas: a palette of node kinds dragged onto a drawflow editor, a side panel per node
(`palette.py`, real pickers), validate / save draft / publish / pause / resume / stop, the versions, and the
results drawn on the canvas (badges per node, the journey's conversion and uplift in a panel). A live journey
opens read-only on its live version; "edit → new version" opens the draft, whose publishing makes the next
version. Each view parses, calls one service or selector, renders; the canvas script is static/journeys/canvas.js.
"""
import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yundian.core.errors import DomainError
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import graph as graphs
from . import palette, services, starters
from .models import JourneyStatus

MAX_BODY = 512 * 1024


def _json_body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY:
        raise DomainError(_("The journey is too large."), code="payload_too_large")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise DomainError(_("The request could not be read."), code="bad_json")
    if not isinstance(body, dict):
        raise DomainError(_("The request could not be read."), code="bad_json")
    return body


def _error(e: DomainError) -> JsonResponse:
    issues = e.details.get("issues") if isinstance(e.details, dict) else None
    return JsonResponse({**e.as_dict(), "errors": issues or []}, status=e.status)


def _may_manage(actor, journey) -> bool:
    return has_perm(actor, Perm.JOURNEY_MANAGE, journey.node)


# --- the list ---------------------------------------------------------------------------------------------------

@console_view(Perm.JOURNEY_VIEW)
def journey_list(request: HttpRequest) -> HttpResponse:
    journeys = list(services.journey_list(actor=request.actor)[:200])
    counts = _list_counts(journeys)
    rows = [{"journey": j, "entered": counts.get(j.pk, {}).get("entered", 0),
             "converted": counts.get(j.pk, {}).get("converted")} for j in journeys]
    return render(request, "journeys/list.html", {
        "rows": rows, "may_manage": has_perm(request.actor, Perm.JOURNEY_MANAGE),
        "starters": starters.STARTERS.values(),
    })


def _list_counts(journeys) -> dict[int, dict]:
    """Members entered per journey, and (once published) how many reached its goal."""
    from django.db.models import Count

    from .models import Enrolment

    ids = [j.pk for j in journeys]
    out = {row["journey_id"]: {"entered": row["n"]} for row in
           Enrolment.objects.filter(journey_id__in=ids).values("journey_id").annotate(n=Count("id"))}
    module = _results_module()
    if module is not None:
        published = [j.pk for j in journeys if j.pk in out]
        for journey_id, n in module.converted_counts(published).items():
            out[journey_id]["converted"] = n
    return out


def _results_module():
    try:
        from . import results
    except ImportError:  # the results land with the engine
        return None
    return results


@console_view(Perm.JOURNEY_MANAGE)
@require_POST
def journey_new(request: HttpRequest) -> HttpResponse:
    """A new draft: blank (an entry and an end) or filled from a template."""
    key = request.POST.get("template", "")
    starter = starters.STARTERS.get(key)
    name = (request.POST.get("name") or "").strip() or (str(starter.name) if starter else _("New journey"))
    try:
        journey = services.journey_create(actor=request.actor, name=name,
                                          description=str(starter.description) if starter else "",
                                          graph=starters.graph_of(key), goal=starter.goal if starter else None)
    except DomainError as e:
        messages.error(request, e.message)
        return redirect("journeys:list")
    return redirect("journeys:canvas", journey_id=journey.pk)


# --- the canvas -------------------------------------------------------------------------------------------------

@console_view(Perm.JOURNEY_VIEW)
def journey_canvas(request: HttpRequest, journey_id: int) -> HttpResponse:
    actor = request.actor
    journey = services.journey_get(actor=actor, journey_id=journey_id)
    versions = services.journey_versions(actor=actor, journey_id=journey_id)
    may_manage = _may_manage(actor, journey)
    shown = None
    wanted = request.GET.get("version", "")
    if wanted.isdigit():
        shown = next((v for v in versions if v.number == int(wanted)), None)
    editing = shown is None and may_manage and journey.status != JourneyStatus.STOPPED and (
        journey.status == JourneyStatus.DRAFT or request.GET.get("edit") == "1")
    if shown is None and not editing:
        shown = next((v for v in versions if v.pk == journey.live_version_id), versions[0] if versions else None)
    graph = shown.graph if shown is not None else journey.draft
    results = _results(actor, journey, shown) if shown is not None else None
    return render(request, "journeys/canvas.html", {
        "journey": journey, "versions": versions, "shown": shown, "editing": editing, "may_manage": may_manage,
        "graph": graph, "summaries": palette.summaries(actor, graph), "palette": palette.palette_json(),
        "groups": palette.groups(), "results": results,
        "draft_differs": bool(versions) and journey.draft != versions[0].graph,
    })


def _results(actor, journey, version) -> dict | None:
    """The results drawn on the canvas: counts per node (badges) and the journey's goal, uplift and money."""
    module = _results_module()
    if module is None:
        return None
    return palette.results_view(module.journey_results(actor=actor, journey_id=journey.pk))


@console_view(Perm.JOURNEY_VIEW)
@require_POST
def node_panel(request: HttpRequest) -> HttpResponse:
    """The side panel for one node: its kind's fields filled from its config, pickers showing chosen names."""
    try:
        body = _json_body(request)
    except DomainError as e:
        return HttpResponse(str(e.message), status=e.status)
    kind = body.get("kind")
    if kind not in palette.KINDS:
        return HttpResponse(_("This kind of step is unknown."), status=400)
    config = body.get("config") if isinstance(body.get("config"), dict) else {}
    return render(request, "journeys/partials/panel.html", {
        "kind": palette.KINDS[kind], "node_id": str(body.get("id", ""))[:40],
        "fields": palette.panel_fields(request.actor, kind, config), "readonly": bool(body.get("readonly")),
    })


@console_view(Perm.JOURNEY_VIEW)
@require_POST
def journey_validate(request: HttpRequest, journey_id: int) -> JsonResponse:
    """The graph's issues (each on its node), in the reader's language; nothing is saved."""
    try:
        journey = services.journey_get(actor=request.actor, journey_id=journey_id)
        body = _json_body(request)
    except DomainError as e:
        return _error(e)
    return JsonResponse({"errors": graphs.validate(body.get("graph"), enterprise_id=journey.enterprise_id)})


@console_view(Perm.JOURNEY_MANAGE)
@require_POST
def journey_save(request: HttpRequest, journey_id: int) -> JsonResponse:
    """Save the draft (unfinished is fine); the answer carries the issues publishing would meet."""
    try:
        body = _json_body(request)
        name = body.get("name")
        if name is not None and name == services.journey_get(actor=request.actor, journey_id=journey_id).name:
            name = None  # unchanged: the save is not an edit worth an audit entry
        journey = services.journey_draft_save(actor=request.actor, journey_id=journey_id, graph=body.get("graph"),
                                              name=name)
    except DomainError as e:
        return _error(e)
    return JsonResponse({"saved": True, "errors": graphs.validate(journey.draft, enterprise_id=journey.enterprise_id)})


def _status_action(service, done_message):
    @console_view(Perm.JOURNEY_MANAGE)
    @require_POST
    def view(request: HttpRequest, journey_id: int) -> HttpResponse:
        try:
            service(actor=request.actor, journey_id=journey_id)
        except DomainError as e:
            if e.status == 404:  # not theirs (another store's, another enterprise's): no page names it
                raise
            issues = e.details.get("issues") if isinstance(e.details, dict) else None
            messages.error(request, e.message)
            for issue in issues or []:
                messages.error(request, issue["message"])
            return redirect(reverse("journeys:canvas", args=[journey_id]) + ("?edit=1" if issues else ""))
        messages.success(request, done_message())
        return redirect("journeys:canvas", journey_id=journey_id)
    return view


journey_publish = _status_action(services.journey_publish, lambda: _("Published: new members enter this version."))
journey_pause = _status_action(services.journey_pause, lambda: _("Paused: members wait where they are."))
journey_resume = _status_action(services.journey_resume, lambda: _("Resumed."))
journey_stop = _status_action(services.journey_stop, lambda: _("Stopped: every member still in has left."))
