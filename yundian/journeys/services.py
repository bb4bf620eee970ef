"""Writing journeys: create, save the draft, publish (a new version), pause, resume, stop. Scoped and audited.

A journey lives on an org node; it is seen where the actor holds journey.view there and changed where they hold
journey.manage. Publishing validates the draft (422 `journey_invalid` with the graph's issues in details),
freezes it as JourneyVersion n+1 and points new entries at it; members already in the journey finish on the
version they entered on. Pausing holds every enrolment where it is (nothing steps, nobody enters); resuming
lets them go on; stopping ends every enrolment still in (status exited) and cannot be undone.
"""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yundian.core import when
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.text import clean_text
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, node_to_manage, scope_q

from . import graph as graphs
from .runner import enrol
from .triggers import initial_watermark
from .models import Enrolment, EnrolmentStatus, Journey, JourneyStatus, JourneyVersion, TriggerState

GOAL_KINDS = ("order", "event")


# --- reads ----------------------------------------------------------------------------------------------------

def journey_list(*, actor: Staff, status: str | None = None):
    """The journeys on nodes inside the actor's journey.view scope, newest first."""
    qs = Journey.objects.filter(scope_q(actor, Perm.JOURNEY_VIEW, "node__path"), enterprise_id=actor.enterprise_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("node", "live_version").order_by("-id")


def journey_get(*, actor: Staff, journey_id: int) -> Journey:
    """One journey the actor may see (404 otherwise)."""
    journey = (Journey.objects.select_related("node", "live_version")
               .filter(pk=journey_id, enterprise_id=actor.enterprise_id).first()
               if isinstance(journey_id, int) and not isinstance(journey_id, bool) else None)
    if journey is None or not has_perm(actor, Perm.JOURNEY_VIEW, journey.node):
        raise NotFound(_("Journey not found."), code="journey_not_found")
    return journey


def journey_versions(*, actor: Staff, journey_id: int) -> list[JourneyVersion]:
    journey = journey_get(actor=actor, journey_id=journey_id)
    return list(journey.versions.order_by("-number"))


def _managed(actor: Staff, journey_id: int) -> Journey:
    journey = journey_get(actor=actor, journey_id=journey_id)
    if not has_perm(actor, Perm.JOURNEY_MANAGE, journey.node):
        raise Forbidden(_("You may not change this journey."), code="journey_forbidden")
    return journey


def _locked(journey: Journey) -> Journey:
    # not live_version: it may be null, and PostgreSQL refuses FOR UPDATE on the nullable side of an outer join
    return lock_one(Journey.objects.filter(pk=journey.pk).select_related("node"))


# --- writes ---------------------------------------------------------------------------------------------------

def _node(actor: Staff, node_id: int | None) -> OrgNode:
    return node_to_manage(actor, node_id, view=Perm.JOURNEY_VIEW, manage=Perm.JOURNEY_MANAGE, messages={
        "missing": (_("You may not build journeys."), "journey_scope_missing"),
        "invalid": (_("Choose whose members the journey is for."), "invalid_node"),
        "outside": (_("You may build journeys only for your own part of the organisation."),
                    "journey_scope_outside")})


def _clean_graph(graph) -> dict:
    """Shape only (a draft may be unfinished): a dict of node and edge lists, each node with id, kind, config."""
    if graph is None:
        return {"nodes": [], "edges": []}
    shape = [i for i in graphs.validate(graph) if i["code"] in ("graph_invalid", "node_invalid", "edge_invalid",
                                                              "node_duplicate", "graph_too_large")]
    if shape:
        raise ValidationFailed(_("The journey could not be read."), code="journey_graph_invalid",
                               details={"issues": shape})
    nodes = [{"id": n["id"], "kind": n.get("kind"), "config": n.get("config") or {},
              "x": n.get("x", 0) if isinstance(n.get("x", 0), int | float) else 0,
              "y": n.get("y", 0) if isinstance(n.get("y", 0), int | float) else 0} for n in graph["nodes"]]
    edges = [{"source": e["source"], "port": e["port"], "target": e["target"]} for e in graph["edges"]]
    return {"nodes": nodes, "edges": edges}


def _clean_goal(goal) -> dict:
    if goal is None:
        return {"kind": "order", "days": 7}
    from yundian.cdp.warehouse_tables import EVENT_KINDS

    days = goal.get("days") if isinstance(goal, dict) else None
    ok = (isinstance(goal, dict) and goal.get("kind") in GOAL_KINDS and isinstance(days, int)
          and not isinstance(days, bool) and 1 <= days <= 365
          and (goal["kind"] == "order" or goal.get("event") in EVENT_KINDS))
    if not ok:
        raise ValidationFailed(_("Choose the goal: an order, or an event, within 1 to 365 days."),
                               code="journey_goal_invalid", details={"field": "goal"})
    return {"kind": goal["kind"], "days": days, **({"event": goal["event"]} if goal["kind"] == "event" else {})}


def _state(journey: Journey) -> dict:
    return {"name": journey.name, "status": journey.status, "goal": journey.goal,
            "version": journey.live_version.number if journey.live_version_id else None}


@transaction.atomic
def journey_create(*, actor: Staff, name, node_id: int | None = None, description="", graph=None,
                   goal=None) -> Journey:
    """A new draft journey on a node where the actor holds journey.manage. Audited."""
    node = _node(actor, node_id)
    journey = Journey.objects.create(
        enterprise_id=actor.enterprise_id, node=node, name=clean_text(name, "name", 80, required=True),
        description=clean_text(description, "description", 255, required=False), draft=_clean_graph(graph),
        goal=_clean_goal(goal), created_by=actor)
    audit_record(actor=actor, action="journey.create", target=journey, scope_path=node.path, after=_state(journey))
    return journey


@transaction.atomic
def journey_draft_save(*, actor: Staff, journey_id: int, graph=None, name=None, description=None,
                       goal=None) -> Journey:
    """Save the draft graph (unfinished is fine: only its shape is checked), name, description or goal. A stopped
    journey is closed (409 journey_stopped). Locks: the journey row."""
    journey = _locked(_managed(actor, journey_id))
    if journey.status == JourneyStatus.STOPPED:
        raise Conflict(_("This journey was stopped."), code="journey_stopped")
    before = _state(journey)
    fields = ["updated_at"]
    if graph is not None:
        journey.draft = _clean_graph(graph)
        fields.append("draft")
    if name is not None:
        journey.name = clean_text(name, "name", 80, required=True)
        fields.append("name")
    if description is not None:
        journey.description = clean_text(description, "description", 255, required=False)
        fields.append("description")
    if goal is not None:
        journey.goal = _clean_goal(goal)
        fields.append("goal")
    journey.save(update_fields=fields)
    if len(fields) > 2 or "draft" not in fields:
        audit_record(actor=actor, action="journey.edit", target=journey, scope_path=journey.node.path,
                     before=before, after=_state(journey))
    return journey


@transaction.atomic
def journey_publish(*, actor: Staff, journey_id: int) -> JourneyVersion:
    """Validate the draft against the enterprise (422 journey_invalid with every issue) and publish it as the next
    version; new entries go to it, members already in finish on theirs. A draft or paused journey goes live; a
    stopped one cannot be published (409). Audited. Locks: the journey row."""
    journey = _locked(_managed(actor, journey_id))
    if journey.status == JourneyStatus.STOPPED:
        raise Conflict(_("This journey was stopped."), code="journey_stopped")
    issues = graphs.validate(journey.draft, enterprise_id=journey.enterprise_id)
    if issues:
        raise ValidationFailed(_("The journey is not ready to publish."), code="journey_invalid",
                               details={"issues": issues})
    before = _state(journey)
    last = journey.versions.order_by("-number").values_list("number", flat=True).first() or 0
    now = when.now()
    version = JourneyVersion.objects.create(journey=journey, number=last + 1, graph=journey.draft,
                                            published_at=now, published_by=actor)
    entry = graphs.entry_of(journey.draft)
    trigger = entry["config"]["trigger"]
    old = journey.live_version.graph if journey.live_version_id else None
    if old is None or graphs.entry_of(old)["config"] != entry["config"]:
        # another trigger (or the same over another source) starts from the source's present end
        TriggerState.objects.update_or_create(journey=journey, defaults={
            "watermark": initial_watermark(journey, entry["config"], now), "scanned_at": None})
    journey.live_version, journey.trigger, journey.published_at = version, trigger, now
    journey.status = JourneyStatus.LIVE
    journey.save(update_fields=["live_version", "trigger", "published_at", "status", "updated_at"])
    audit_record(actor=actor, action="journey.publish", target=journey, scope_path=journey.node.path,
                 before=before, after=_state(journey))
    return version


def _set_status(actor: Staff, journey_id: int, *, allowed: tuple[str, ...], to: str, action: str) -> Journey:
    journey = _locked(_managed(actor, journey_id))
    if journey.status not in allowed:
        raise Conflict(_("The journey cannot do this in its present state."), code="journey_state",
                       details={"status": journey.status})
    before = _state(journey)
    journey.status = to
    fields = ["status", "updated_at"]
    if to == JourneyStatus.STOPPED:
        journey.stopped_at = when.now()
        fields.append("stopped_at")
    journey.save(update_fields=fields)
    audit_record(actor=actor, action=f"journey.{action}", target=journey, scope_path=journey.node.path,
                 before=before, after=_state(journey))
    return journey


@transaction.atomic
def journey_pause(*, actor: Staff, journey_id: int) -> Journey:
    """Hold a live journey: its enrolments stay where they are and nobody enters until it is resumed. Audited."""
    return _set_status(actor, journey_id, allowed=(JourneyStatus.LIVE,), to=JourneyStatus.PAUSED, action="pause")


@transaction.atomic
def journey_resume(*, actor: Staff, journey_id: int) -> Journey:
    """Let a paused journey go on: waits that ended meanwhile run at once. Audited."""
    return _set_status(actor, journey_id, allowed=(JourneyStatus.PAUSED,), to=JourneyStatus.LIVE, action="resume")


@transaction.atomic
def journey_stop(*, actor: Staff, journey_id: int) -> Journey:
    """End a live or paused journey for good: every enrolment still in is exited where it stands. Audited."""
    journey = _set_status(actor, journey_id, allowed=(JourneyStatus.LIVE, JourneyStatus.PAUSED),
                          to=JourneyStatus.STOPPED, action="stop")
    Enrolment.objects.filter(journey=journey, status=EnrolmentStatus.ACTIVE).update(
        status=EnrolmentStatus.EXITED, ended_at=journey.stopped_at, due_at=None, lease_token="", lease_until=None)
    return journey


# --- the API's enrol --------------------------------------------------------------------------------------------

def journey_enrol_api(*, actor, journey_id: int, member_id: int, key: str, context: dict | None = None):
    """Enrol one member in a live journey whose entry is "api" (journey.manage over it), the client's key being
    the trigger's (the API wraps this in core.idempotency, so a retried request replays the first answer). The
    member must be one the actor sees. Returns (the member's enrolment, or None when the re-entry rule or the
    journey's subtree keeps them out; whether this call enrolled them)."""
    from yundian.members.models import Member

    journey = journey_get(actor=actor, journey_id=journey_id)
    if not has_perm(actor, Perm.JOURNEY_MANAGE, journey.node):
        raise Forbidden(_("You may not enrol members in this journey."), code="journey_forbidden")
    if journey.status != JourneyStatus.LIVE or journey.trigger != "api":
        raise Conflict(_("This journey does not take members through the API."), code="journey_not_enrollable")
    if not isinstance(key, str) or not 1 <= len(key) <= 64:
        raise ValidationFailed(_("Give a key of 1 to 64 characters."), code="invalid_key", details={"field": "key"})
    member = (Member.objects.select_related("home").filter(pk=member_id, enterprise_id=actor.enterprise_id).first()
              if isinstance(member_id, int) and not isinstance(member_id, bool) else None)
    if member is None or not has_perm(actor, Perm.MEMBER_VIEW, member.home):
        raise NotFound(_("Member not found."), code="member_not_found")
    trigger_key = f"api:{key}"
    entry = graphs.entry_of(journey.live_version.graph)["config"]
    stored_key = f"m{member.pk}" if entry.get("reentry", "never") == "never" else f"m{member.pk}:{trigger_key}"[:96]
    with transaction.atomic():
        added = enrol(journey=journey, candidates=[(member.pk, trigger_key, {"api_key": key, **(context or {})})])
    found = Enrolment.objects.filter(journey=journey, key=stored_key).first()
    return found, bool(added)
