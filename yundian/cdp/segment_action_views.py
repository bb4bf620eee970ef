"""The actions section of a segment's page (an htmx fragment the segment page loads): issue a coupon campaign to
the segment (with the progress of its runs), make a guide call list, export its members. Each POST answers the
section again, with the result or the translated error at the error's status (nothing changed)."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm
from yundian.promotions import selectors as promotion_selectors
from yundian.promotions.models import CodeMode, IssueRunStatus, PromotionStatus

from . import segment_actions
from .models import Tag, TagKind
from .tags import tag_visible_q


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _context(request: HttpRequest, segment_id: int, **extra) -> dict:
    actor = request.actor
    segment = segment_actions.segment_for_action(actor=actor, segment_id=segment_id)
    may_issue = has_perm(actor, Perm.COUPON_ISSUE)
    campaigns = []
    if may_issue:
        campaigns = list(promotion_selectors.campaign_list(actor=actor).filter(code_mode=CodeMode.UNIQUE)
                         .exclude(promotion__status=PromotionStatus.ENDED)[:100])
    runs = segment_actions.segment_issue_runs(actor=actor, segment_id=segment.pk)
    return {"segment": segment, "audience": segment_actions.segment_audience(segment=segment),
            "campaigns": campaigns, "may_issue": may_issue, "runs": runs,
            "running": any(r.status == IssueRunStatus.RUNNING for r in runs),
            "may_call": has_perm(actor, Perm.CALL_LIST_MANAGE),
            "manual_tags": (list(Tag.objects.filter(tag_visible_q(actor), enterprise_id=actor.enterprise_id,
                                                    kind=TagKind.MANUAL, is_active=True)
                                 .select_related("group").order_by("group__name", "name")[:200])
                            if has_perm(actor, Perm.MEMBER_MANAGE) else []),
            "may_export": has_perm(actor, Perm.SEGMENT_EXPORT, segment.node), **extra}


def _answer(request, segment_id, work, done_key: str) -> HttpResponse:
    try:
        result = work()
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, "cdp/segment_actions.html",
                      _context(request, segment_id, error={"message": exc.message, "code": exc.code}),
                      status=exc.status)
    return render(request, "cdp/segment_actions.html", _context(request, segment_id, **{done_key: result}))


@console_view(Perm.MEMBER_VIEW)
def panel(request: HttpRequest, segment_id: int) -> HttpResponse:
    return render(request, "cdp/segment_actions.html", _context(request, segment_id))


@console_view(Perm.COUPON_ISSUE)
@require_http_methods(["POST"])
def issue_coupons(request: HttpRequest, segment_id: int) -> HttpResponse:
    return _answer(request, segment_id, lambda: segment_actions.segment_issue_coupons(
        actor=request.actor, segment_id=segment_id, campaign_id=_int(request.POST.get("campaign_id")) or -1),
        "issued")


@console_view(Perm.MEMBER_MANAGE)
@require_http_methods(["POST"])
def tag_members(request: HttpRequest, segment_id: int) -> HttpResponse:
    return _answer(request, segment_id, lambda: segment_actions.segment_tag_members(
        actor=request.actor, segment_id=segment_id, tag_id=_int(request.POST.get("tag_id")) or -1,
        remove=request.POST.get("remove") == "1", reason=request.POST.get("reason", "")), "tagged")


@console_view(Perm.CALL_LIST_MANAGE)
@require_http_methods(["POST"])
def call_list(request: HttpRequest, segment_id: int) -> HttpResponse:
    return _answer(request, segment_id, lambda: segment_actions.segment_call_list(
        actor=request.actor, segment_id=segment_id, name=request.POST.get("name", "")), "called")


@console_view(Perm.SEGMENT_EXPORT)
def export(request: HttpRequest, segment_id: int) -> HttpResponse:
    try:
        content_type, data, filename = segment_actions.segment_export(
            actor=request.actor, segment_id=segment_id, fmt=request.GET.get("format", "csv"))
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, "cdp/segment_actions.html",
                      _context(request, segment_id, error={"message": exc.message, "code": exc.code}),
                      status=exc.status)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
