"""A rule tag's condition is built on the segment builder (the same rows, pickers, words and live count of
cdp.conditions): a page to define a new rule tag and one to change a rule tag's condition. The count shows how many
members the tag would be put on at the next refresh."""
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yundian.core.errors import DomainError
from yundian.org.console import console_view
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm

from . import tags as svc
from .models import TagKind
from .segment_views import _builder_context, _definition


def _page(request, *, definition, tag=None, groups=None, status=200) -> HttpResponse:
    context = _builder_context(request, definition=definition)
    context.update({"tag": tag, "groups": groups or [], "form": request.POST if request.method == "POST" else {},
                    "builder_node_id": tag.node_id if tag else None})
    return render(request, "cdp/tag_rule.html", context, status=status)


@console_view(Perm.TAG_MANAGE)
def tag_rule_new(request: HttpRequest) -> HttpResponse:
    groups = [g for g in svc.tag_group_list(actor=request.actor)
              if not g.computed_key and has_perm(request.actor, Perm.TAG_MANAGE, g.node)]
    definition = None
    if request.method == "POST":
        definition = _definition(request.POST.get("definition"))
        group_id = request.POST.get("group_id", "")
        try:
            tag = svc.tag_create(actor=request.actor, group_id=int(group_id) if group_id.isdigit() else -1,
                                 name=request.POST.get("name", ""), code=request.POST.get("code", ""),
                                 kind=TagKind.RULE, description=request.POST.get("description", ""),
                                 rule=definition)
        except DomainError as error:
            messages.error(request, error.message)
            return _page(request, definition=definition, groups=groups, status=error.status)
        messages.success(request, _("Rule tag %(name)s saved; members get it at the next refresh.") % {"name": tag.name})
        return redirect("cdp:tags")
    return _page(request, definition=definition, groups=groups)


@console_view(Perm.TAG_MANAGE)
def tag_rule_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    try:
        tag = svc.tag_get(actor=request.actor, tag_id=tag_id)
    except DomainError:
        raise Http404
    if tag.kind != TagKind.RULE:
        raise Http404
    if request.method == "POST":
        definition = _definition(request.POST.get("definition"))
        try:
            # unreadable JSON is no condition (refused), not "leave the rule as it is"
            svc.tag_update(actor=request.actor, tag_id=tag.pk, rule=definition if definition is not None else {})
        except DomainError as error:
            messages.error(request, error.message)
            return _page(request, definition=definition, tag=tag, status=error.status)
        messages.success(request, _("Rule tag %(name)s saved; members get it at the next refresh.") % {"name": tag.name})
        return redirect("cdp:tags")
    return _page(request, definition=tag.rule, tag=tag)
