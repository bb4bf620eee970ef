"""Segment pages (/cdp/segments/): the list with sizes, the builder (nested AND/OR groups of conditions chosen with
pickers and translated words, a live count from the warehouse while editing, a masked preview), a segment's page
with its size over time as a chart. Each view parses the request, calls one service or selector (cdp.segments),
renders; the builder's script (static/cdp/segment_builder.js) turns the rows into the JSON tree of cdp.conditions.
"""
import json

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from yundian.core import charts
from yundian.core.errors import DomainError
from yundian.core.money import MINOR_UNITS, SYMBOLS
from yundian.members.models import Channel, ConsentChannel, Gender
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q

from . import conditions as C
from . import segments as svc
from .models import SegmentKind

KIND_LABELS = {
    "tier": gettext_lazy("Tier"), "birthday_month": gettext_lazy("Birthday month"),
    "home_store": gettext_lazy("Home store"), "guide": gettext_lazy("Bound guide"),
    "registered_via": gettext_lazy("Registered via"), "gender": gettext_lazy("Gender"), "tag": gettext_lazy("Tag"),
    "orders": gettext_lazy("Orders"), "event": gettext_lazy("Behaviour"), "points": gettext_lazy("Points balance"),
    "coupons": gettext_lazy("Coupons held"), "consent": gettext_lazy("Marketing consent"),
}
OP_LABELS = {">=": gettext_lazy("at least"), ">": gettext_lazy("more than"), "<=": gettext_lazy("at most"),
             "<": gettext_lazy("less than"), "==": gettext_lazy("exactly"), "!=": gettext_lazy("not")}
EVENT_LABELS = {
    "page_view": gettext_lazy("Viewed a page"), "product_view": gettext_lazy("Viewed a product"),
    "search": gettext_lazy("Searched"), "add_to_cart": gettext_lazy("Added to cart"),
    "remove_from_cart": gettext_lazy("Removed from cart"), "share": gettext_lazy("Shared"),
    "coupon_view": gettext_lazy("Viewed a coupon"), "store_visit": gettext_lazy("Visited a store"),
    "scan": gettext_lazy("Scanned at the till"), "member_identified": gettext_lazy("Identified at the till"),
    "custom": gettext_lazy("Custom event"),
    "recommendation_view": gettext_lazy("Was shown recommendations"),
    "recommendation_click": gettext_lazy("Opened a recommendation"),
}
ORDER_CHANNEL_LABELS = {"pos": gettext_lazy("In store (POS)"), "storefront": gettext_lazy("Cloud storefront"),
                        "miniprogram": gettext_lazy("Mini program"), "api": gettext_lazy("API")}
MONTHS = [pgettext_lazy("month", "Jan"), pgettext_lazy("month", "Feb"), pgettext_lazy("month", "Mar"),
          pgettext_lazy("month", "Apr"), pgettext_lazy("month", "May"), pgettext_lazy("month", "Jun"),
          pgettext_lazy("month", "Jul"), pgettext_lazy("month", "Aug"), pgettext_lazy("month", "Sep"),
          pgettext_lazy("month", "Oct"), pgettext_lazy("month", "Nov"), pgettext_lazy("month", "Dec")]
PICKER_KINDS = {"home_store": "store", "guide": "staff", "category_ids": "category", "sku_ids": "sku"}


def _words() -> dict:
    return {
        "and": _("All of these"), "or": _("Any of these"), "addCondition": _("Add condition"),
        "addGroup": _("Add group"), "remove": _("Remove"), "within": _("within the last"), "days": _("days"),
        "ever": _("ever (leave empty)"), "times": _("times"), "has": _("has"), "hasNot": _("does not have"),
        "did": _("did"), "didNot": _("did not"), "spent": _("spent (¥)"), "count": _("orders"),
        "inCategories": _("in categories"), "ofSkus": _("of SKUs"), "throughChannels": _("through"),
        "anyCampaign": _("of any campaign, or of"), "granted": _("granted"), "notGranted": _("not granted"),
        "members": _("members"), "counting": _("Counting…"), "failed": _("Could not count"),
    }


def _chosen_labels(actor, chosen: dict) -> dict:
    """Names and codes of the stores, guides, categories and SKUs a saved definition names (for its chips)."""
    from yundian.catalog.models import Category, Sku
    from yundian.org.models import OrgNode, Staff

    enterprise = actor.enterprise_id
    stores = OrgNode.objects.filter(enterprise_id=enterprise, pk__in=chosen.get("store", ()))
    staff = Staff.objects.filter(enterprise_id=enterprise, pk__in=chosen.get("staff", ())).select_related("user")
    categories = Category.objects.filter(enterprise_id=enterprise, pk__in=chosen.get("category", ()))
    skus = Sku.objects.filter(enterprise_id=enterprise, pk__in=chosen.get("sku", ())).select_related("product")
    return {
        "store": {n.pk: {"label": n.name, "code": n.code} for n in stores},
        "staff": {s.pk: {"label": s.display_name, "code": s.user.username} for s in staff},
        "category": {c.pk: {"label": c.name, "code": c.code} for c in categories},
        "sku": {s.pk: {"label": s.label, "code": s.code} for s in skus},
    }


def _vocabulary(actor, definition: dict | None) -> dict:
    """Everything the builder offers, as translated words and names (never a bare code or id)."""
    from yundian.members.selectors import tier_list
    from yundian.promotions.models import CouponCampaign

    from .tag_refresh import tag_label
    from .tags import tag_list

    try:  # a tree sent back with an error may be malformed: name what a valid one names, else nothing
        labels = _chosen_labels(actor, C.condition_ids(C.condition_validate(definition)) if definition else {})
    except DomainError:
        labels = _chosen_labels(actor, {})
    campaigns = (CouponCampaign.objects.filter(scope_q(actor, Perm.PROMOTION_VIEW, "node__path"),
                                               enterprise_id=actor.enterprise_id)
                 .select_related("promotion").order_by("-id")[:100])
    return {
        "kinds": [{"key": k, "label": str(v)} for k, v in KIND_LABELS.items()],
        "ops": [{"key": k, "label": str(v)} for k, v in OP_LABELS.items()],
        "tiers": [{"key": t.pk, "label": t.name} for t in tier_list(actor=actor)],
        "tags": [{"key": t.pk, "label": f"{t.group.name} · {tag_label(t)}"}
                 for t in tag_list(actor=actor).select_related("group")[:300]],
        "campaigns": [{"key": c.pk, "label": c.promotion.name} for c in campaigns],
        "events": [{"key": k, "label": str(EVENT_LABELS[k])} for k in C.EVENT_KINDS],
        "registered_via": [{"key": k, "label": str(Channel(k).label)} for k in C.REGISTRATION_CHANNELS],
        "order_channels": [{"key": k, "label": str(ORDER_CHANNEL_LABELS[k])} for k in C.ORDER_CHANNELS],
        "genders": [{"key": k, "label": str(Gender(k).label)} for k in C.GENDERS],
        "consent": [{"key": k, "label": str(ConsentChannel(k).label)} for k in C.CONSENT_CHANNELS],
        "months": [{"key": i + 1, "label": str(m)} for i, m in enumerate(MONTHS)],
        "pickers": {kind: {"url": reverse("web:pick", args=[kind])} for kind in ("store", "staff", "category", "sku")},
        "labels": labels,
        "money": {"symbol": SYMBOLS["CNY"], "minor": MINOR_UNITS["CNY"]},
        "words": _words(),
    }


def _definition(text: str):
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def _builder_context(request, *, definition, segment=None, node=None) -> dict:
    return {
        "segment": segment, "definition_json": definition or {"group": "and", "conditions": []},
        "vocabulary": _vocabulary(request.actor, definition if isinstance(definition, dict) else None),
        "kinds": SegmentKind.choices, "node": node,
    }


@console_view(Perm.MEMBER_VIEW)
def segment_list(request: HttpRequest) -> HttpResponse:
    segments = list(svc.segment_list(actor=request.actor)[:200])
    return render(request, "cdp/segment_list.html", {
        "segments": segments, "may_build": has_perm(request.actor, Perm.SEGMENT_MANAGE)})


@console_view(Perm.SEGMENT_MANAGE)
def segment_new(request: HttpRequest) -> HttpResponse:
    definition = None
    if request.method == "POST":
        definition = _definition(request.POST.get("definition"))
        node_id = request.POST.get("node")
        try:
            result = svc.segment_create(actor=request.actor, name=request.POST.get("name"), definition=definition,
                                        node_id=int(node_id) if node_id and node_id.isdigit() else None,
                                        kind=request.POST.get("kind") or SegmentKind.DYNAMIC)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Segment saved: %(n)s members.") % {"n": result.size})
            return redirect("segments:detail", segment_id=result.segment.pk)
    context = _builder_context(request, definition=definition)
    context["name"] = request.POST.get("name", "")
    return render(request, "cdp/segment_builder.html", context, status=422 if request.method == "POST" else 200)


@console_view(Perm.MEMBER_VIEW)
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    try:
        segment = svc.segment_get(actor=request.actor, segment_id=segment_id)
    except DomainError:
        raise Http404
    sizes = svc.segment_sizes(segment=segment)
    size_chart = charts.line(_("Members in the segment"), x=[s.day.isoformat() for s in sizes],
                             series=[charts.series(_("Members"), [s.size for s in sizes])])
    count, rows = svc.segment_preview(actor=request.actor, segment_id=segment.pk)
    may_manage = has_perm(request.actor, Perm.SEGMENT_MANAGE, segment.node)
    context = {"segment": segment, "sizes": sizes, "size_chart": size_chart, "preview": rows, "count": count,
               "may_manage": may_manage, "is_snapshot": segment.kind == SegmentKind.SNAPSHOT}
    if may_manage:
        context.update(_builder_context(request, definition=segment.definition, segment=segment))
    return render(request, "cdp/segment_detail.html", context)


@require_POST
@console_view(Perm.SEGMENT_MANAGE)
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    definition = _definition(request.POST.get("definition"))
    try:
        svc.segment_update(actor=request.actor, segment_id=segment_id, name=request.POST.get("name"),
                           definition=definition if "definition" in request.POST else None)
    except DomainError as error:
        if error.status == 404:
            raise Http404
        messages.error(request, error.message)
    else:
        messages.success(request, _("Segment saved."))
    return redirect("segments:detail", segment_id=segment_id)


@require_POST
@console_view(Perm.SEGMENT_MANAGE)
def segment_refresh(request: HttpRequest, segment_id: int) -> HttpResponse:
    try:
        result = svc.segment_refresh(actor=request.actor, segment_id=segment_id)
    except DomainError as error:
        if error.status == 404:
            raise Http404
        messages.error(request, error.message)
    else:
        messages.success(request, _("Refreshed: %(n)s members (%(added)s joined, %(removed)s left).")
                         % {"n": result.size, "added": result.added, "removed": result.removed})
    return redirect("segments:detail", segment_id=segment_id)


@require_POST
@console_view(Perm.SEGMENT_MANAGE)
def segment_archive(request: HttpRequest, segment_id: int) -> HttpResponse:
    try:
        svc.segment_archive(actor=request.actor, segment_id=segment_id)
    except DomainError as error:
        if error.status == 404:
            raise Http404
        messages.error(request, error.message)
        return redirect("segments:detail", segment_id=segment_id)
    messages.success(request, _("Segment archived."))
    return redirect("segments:list")


def _body(request) -> tuple[object, int | None]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return None, None
    node_id = body.get("node_id")
    return body.get("definition"), node_id if isinstance(node_id, int) and not isinstance(node_id, bool) else None


@require_POST
@console_view(Perm.SEGMENT_MANAGE)
def segment_count(request: HttpRequest) -> HttpResponse:
    """The builder's live count: {"count": n}, or the one error shape (translated) with the bad node's path."""
    definition, node_id = _body(request)
    try:
        count = svc.definition_count(actor=request.actor, definition=definition, node_id=node_id)
    except DomainError as error:
        return JsonResponse({"error": error.as_dict()}, status=error.status)
    return JsonResponse({"count": count})


@require_POST
@console_view(Perm.SEGMENT_MANAGE)
def segment_preview(request: HttpRequest) -> HttpResponse:
    """A fragment: the newest matching members of the definition being built, phones masked per role."""
    definition, node_id = _body(request)
    try:
        count, rows = svc.definition_preview(actor=request.actor, definition=definition, node_id=node_id)
    except DomainError as error:
        return render(request, "cdp/partials/segment_preview.html", {"error": error.message}, status=error.status)
    return render(request, "cdp/partials/segment_preview.html", {"rows": rows, "count": count})
