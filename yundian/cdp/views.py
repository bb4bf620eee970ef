"""Tag pages: the tags page (groups, tags, kinds, holders, refresh with progress, import), the lifecycle
thresholds, and the CDP panel of a member's 360° (an htmx fragment the members page and the till load from here:
members sits below cdp and carries only this URL). Parse -> one service/selector -> render; a domain error
re-renders with its translated message and changes nothing."""
from __future__ import annotations

import json
from datetime import UTC, timedelta

from django.db.models import Count

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.org.console import console_view
from yundian.org.models import OrgNode
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths

from . import tags as svc
from . import tasks
from .models import ComputedKey, LifecycleStage, MemberScore, TagKind, TagSource
from .tag_refresh import GROUP_DESCRIPTIONS, RFM_GROUP_LABELS, tag_label

KIND_HELP = {
    TagKind.MANUAL: _("Staff put it on members by hand, in bulk or from a file."),
    TagKind.RULE: _("Members who meet its condition hold it; refreshed with the warehouse."),
    TagKind.COMPUTED: _("Kept by the system from members' purchases (RFM, lifecycle, preferences)."),
}
EVENT_LABELS = {
    "page_view": pgettext_lazy("event", "Visited a page"), "product_view": pgettext_lazy("event", "Viewed goods"),
    "search": pgettext_lazy("event", "Searched"), "add_to_cart": pgettext_lazy("event", "Added to cart"),
    "remove_from_cart": pgettext_lazy("event", "Removed from cart"), "share": pgettext_lazy("event", "Shared"),
    "coupon_view": pgettext_lazy("event", "Looked at a coupon"), "store_visit": pgettext_lazy("event", "Visited the store"),
    "scan": pgettext_lazy("event", "Scanned at the till"), "member_identified": pgettext_lazy("event", "Signed in"),
    "custom": pgettext_lazy("event", "Other"),
    "recommendation_view": pgettext_lazy("event", "Was shown recommendations"),
    "recommendation_click": pgettext_lazy("event", "Opened a recommendation"),
}
TIMELINE_KINDS = tuple(EVENT_LABELS)
TIMELINE_ROWS = 30


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "field": exc.details.get("field", "")}


def _int(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def _manage_nodes(actor) -> list[OrgNode]:
    """The nodes the actor may define tags on: HQ and regions (and dealers) within their tag.manage scope."""
    paths = scope_paths(actor, Perm.TAG_MANAGE)
    nodes = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, is_active=True).exclude(kind="store")
    return [n for n in nodes.order_by("depth", "id") if any(n.path.startswith(p) for p in paths)]


def _tags_context(request: HttpRequest, **extra) -> dict:
    actor = request.actor
    groups = list(svc.tag_group_list(actor=actor))
    tags = list(svc.tag_list(actor=actor, include_inactive=True))
    counts = svc.tag_holder_counts([t.id for t in tags], actor=actor)
    by_group: dict[int, list] = {}
    for tag in tags:
        by_group.setdefault(tag.group_id, []).append({
            "tag": tag, "label": tag_label(tag), "kind_label": tag.get_kind_display(), "holders": counts.get(tag.id, 0),
            "may_edit": tag.kind != TagKind.COMPUTED and has_perm(actor, Perm.TAG_MANAGE, tag.node)})
    # the system's groups are named in the reader's language (the stored name is the language of the first refresh)
    sections = [{"group": g, "rows": by_group.get(g.id, []), "computed_label": (
        ComputedKey(g.computed_key).label if g.computed_key else ""),
        "name": ComputedKey(g.computed_key).label if g.computed_key else g.name,
        "description": GROUP_DESCRIPTIONS.get(g.computed_key, g.description) if g.computed_key else g.description,
        "may_add": not g.computed_key and has_perm(actor, Perm.TAG_MANAGE, g.node)} for g in groups]
    nodes = _manage_nodes(actor)
    return {"sections": sections, "kinds": [(k, label, KIND_HELP[k]) for k, label in TagKind.choices],
            "may_manage": bool(nodes), "nodes": nodes, "manual_groups": [s["group"] for s in sections if s["may_add"]],
            "run": svc.tag_refresh_latest(actor.enterprise_id), "may_tag": has_perm(actor, Perm.MEMBER_MANAGE),
            "manual_tags": [t for t in tags if t.kind == TagKind.MANUAL and t.is_active], **extra}


@console_view(Perm.MEMBER_VIEW)
def tags_page(request: HttpRequest) -> HttpResponse:
    return render(request, "cdp/tags.html", _tags_context(request))


@console_view(Perm.MEMBER_VIEW)
@require_POST
def tags_action(request: HttpRequest) -> HttpResponse:
    """One form per action: new_group, new_tag, toggle (activate / deactivate a tag)."""
    actor, post = request.actor, request.POST
    action = post.get("action", "")
    try:
        if action == "new_group":
            svc.tag_group_create(actor=actor, name=post.get("name", ""), code=post.get("code", ""),
                                 description=post.get("description", ""), node_id=_int(post.get("node_id")))
        elif action == "new_tag":
            kind = post.get("kind", TagKind.MANUAL)
            rule = None
            if kind == TagKind.RULE:
                try:
                    rule = json.loads(post.get("rule") or "null")
                except ValueError:
                    raise ValidationFailed(_("The condition is not valid JSON."), code="invalid_rule",
                                           details={"field": "rule"})
            svc.tag_create(actor=actor, group_id=_int(post.get("group_id")) or -1, name=post.get("name", ""),
                           code=post.get("code", ""), kind=kind, description=post.get("description", ""), rule=rule)
        elif action == "toggle":
            tag = svc.tag_get(actor=actor, tag_id=_int(post.get("tag_id")) or -1)
            svc.tag_update(actor=actor, tag_id=tag.id, is_active=not tag.is_active)
        else:
            raise ValidationFailed(_("Unknown action."), code="invalid_action")
    except DomainError as exc:
        return render(request, "cdp/tags.html", _tags_context(request, form_errors=_error(exc), form=post,
                                                               form_action=action), status=exc.status)
    return redirect("cdp:tags")


@console_view(Perm.MEMBER_VIEW)
@require_POST
def tags_refresh(request: HttpRequest) -> HttpResponse:
    try:
        tasks.tags_refresh_request(actor=request.actor)
    except DomainError as exc:
        return render(request, "cdp/tags.html", _tags_context(request, form_errors=_error(exc)), status=exc.status)
    if request.htmx:
        return tags_refresh_status(request)
    return redirect("cdp:tags")


@console_view(Perm.MEMBER_VIEW)
def tags_refresh_status(request: HttpRequest) -> HttpResponse:
    """The refresh box: the latest run's progress (polled while it runs)."""
    return render(request, "cdp/partials/refresh.html", {
        "run": svc.tag_refresh_latest(request.actor.enterprise_id),
        "may_manage": bool(scope_paths(request.actor, Perm.TAG_MANAGE))})


@console_view(Perm.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def lifecycle_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    settings = svc.lifecycle_settings_get(actor.enterprise_id)
    root = OrgNode.objects.filter(enterprise_id=actor.enterprise_id, parent__isnull=True).first()
    may_edit = root is not None and has_perm(actor, Perm.TAG_MANAGE, root)
    counts = dict(MemberScore.objects.filter(enterprise_id=actor.enterprise_id)
                  .filter(svc._member_scope(actor, "member__home__path"))
                  .values_list("lifecycle").annotate(n=Count("member_id")).values_list("lifecycle", "n"))
    context = {"settings": settings, "may_edit": may_edit,
               "stage_rows": [{"code": c, "label": label, "count": counts.get(c, 0)} for c, label in LifecycleStage.choices]}
    if request.method == "POST":
        values = {}
        try:
            for name in svc.LIFECYCLE_FIELDS:
                raw = (request.POST.get(name) or "").strip()
                if not raw.isdigit() or len(raw) > 6:
                    raise ValidationFailed(_("Enter a number of days from 1 to 3650."), code="invalid_days",
                                           details={"field": name})
                values[name] = int(raw)
            svc.lifecycle_settings_update(actor=actor, **values)
        except DomainError as exc:
            return render(request, "cdp/lifecycle.html", {**context, "form_errors": _error(exc),
                                                          "form": request.POST}, status=exc.status)
        return redirect("cdp:lifecycle")
    return render(request, "cdp/lifecycle.html", context)


# --- the member's CDP panel (an htmx fragment) --------------------------------------------------------------------------

def _timeline(member, days: int = 90) -> list[dict]:
    """The member's latest behaviour events (storefront visits, views, carts, scans) from the warehouse."""
    from yundian.core.warehouse import warehouse_path, warehouse_read

    if not warehouse_path().exists():
        return []
    since = (timezone.now() - timedelta(days=days)).replace(tzinfo=None)
    with warehouse_read() as wh:
        events, members = wh.table("fact_event"), wh.table("dim_member")
        linked = members.filter(members.canonical_member_id == member.id).select(linked_id=members.member_id)
        ids = set(linked.to_pyarrow().column("linked_id").to_pylist()) | {member.id}
        rows = (events.filter((events.enterprise_id == member.enterprise_id) & events.member_id.isin(list(ids))
                              & events.kind.isin(list(TIMELINE_KINDS)) & (events.occurred_at >= since))
                .order_by([events.occurred_at.desc(), events.event_key.desc()])
                .select("kind", "name", "occurred_at", "store_id", "sku_id", "channel").limit(TIMELINE_ROWS)
                .to_pyarrow().to_pylist())
    from yundian.catalog.models import Sku

    skus = {s.id: s for s in Sku.objects.filter(pk__in={r["sku_id"] for r in rows if r["sku_id"]}).select_related("product")}
    stores = dict(OrgNode.objects.filter(pk__in={r["store_id"] for r in rows if r["store_id"]}).values_list("id", "name"))
    return [{"label": EVENT_LABELS.get(r["kind"], r["kind"]), "kind": r["kind"], "name": r["name"],
             "at": r["occurred_at"].replace(tzinfo=UTC) if r["occurred_at"] else None,
             "store": stores.get(r["store_id"], ""), "sku": skus[r["sku_id"]].label if r["sku_id"] in skus else ""}
            for r in rows]


def _panel_context(request: HttpRequest, member_id: int, **extra) -> dict:
    from yundian.members.selectors import member_get
    from yundian.promotions.member_pages import member_coupons

    actor = request.actor
    member = member_get(actor=actor, member_id=member_id)
    rows = svc.member_tag_list(actor=actor, member_id=member.id)
    held = {r["tag"].id for r in rows}
    may_tag = has_perm(actor, Perm.MEMBER_MANAGE, member.home)
    offer = []
    if may_tag:
        offer = [t for t in svc.tag_list(actor=actor, kind=TagKind.MANUAL)
                 if t.id not in held and member.home.path.startswith(t.node.path)]
    score = MemberScore.objects.filter(member_id=member.id).first()
    # what each coupon gives is a sentence from promotions ("¥10.00 off"), not an amount
    coupons = [{"campaign": c["campaign"], "worth": c["value"], "valid_to": c["valid_to"]}
               for c in member_coupons(member) if c["status"] == "available"]
    return {"member": member, "rows": [{**r, "label": tag_label(r["tag"]),
                                        "source_label": TagSource(r["source"]).label} for r in rows],
            "offer": offer, "may_tag": may_tag, "score": score,
            "rfm_label": RFM_GROUP_LABELS.get(score.rfm_group, "") if score else "",
            "lifecycle_label": LifecycleStage(score.lifecycle).label if score and score.lifecycle else "",
            "timeline": _timeline(member), "coupons": coupons, "compact": request.GET.get("compact") == "1",
            "changes": [{"change": c, "label": tag_label(c.tag)}
                        for c in svc.tag_change_list(actor=actor, member_id=member.id, limit=10)], **extra}


@console_view(Perm.MEMBER_VIEW)
@require_http_methods(["GET", "POST"])
def member_panel(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET: the panel. POST: add (tag_id) or remove (remove=tag_id) a manual tag, then the panel again."""
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                svc.member_tag_remove(actor=request.actor, member_id=member_id,
                                      tag_id=_int(request.POST.get("remove")) or -1,
                                      reason=request.POST.get("reason", ""))
            else:
                svc.member_tag_add(actor=request.actor, member_id=member_id,
                                   tag_id=_int(request.POST.get("tag_id")) or -1,
                                   reason=request.POST.get("reason", ""))
        except NotFound:
            raise
        except DomainError as exc:
            return render(request, "cdp/partials/member_panel.html",
                          _panel_context(request, member_id, form_errors=_error(exc)), status=exc.status)
    return render(request, "cdp/partials/member_panel.html", _panel_context(request, member_id))


@console_view(Perm.MEMBER_MANAGE)
@require_POST
def tags_import(request: HttpRequest) -> HttpResponse:
    """Upload a sheet of (member, tag) rows; the page shows the per-row report (nothing written when refused)."""
    from .tag_import import member_tags_import

    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed(_("Choose a file to upload."), code="file_required", details={"field": "file"})
        report = member_tags_import(actor=request.actor, filename=upload.name, data=upload.read())
    except DomainError as exc:
        return render(request, "cdp/tags.html", _tags_context(request, form_errors=_error(exc), form_action="import"),
                      status=exc.status)
    return render(request, "cdp/tags.html", _tags_context(request, report=report),
                  status=422 if report.refused else 200)
