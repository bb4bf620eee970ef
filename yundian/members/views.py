"""Members console pages: the member list with registration, and the 360° profile with its actions (consent,
top-up, points adjustment, guide binding). Parse -> one service/selector -> render; domain errors re-render the
page with the translated message and change nothing."""
from datetime import date

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from yundian.core.errors import DomainError, NotFound, ValidationFailed
from yundian.core.money import Money
from yundian.org import selectors as org_selectors
from yundian.org.console import console_view
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm

from . import selectors, services
from .models import Channel, ConsentChannel


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "field": exc.details.get("field", "")}


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.lstrip("-").isdigit() and len(value) < 19 else None


def _list_context(request: HttpRequest, **extra) -> dict:
    actor = request.actor
    query = request.GET.get("q", "")[:64]
    members = selectors.member_list(actor=actor, search=query or None).prefetch_related("identities")
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    rows = [{"member": m, "phone": selectors.phone_display(actor, m)} for m in page]
    stores = [n for n in org_selectors.org_node_list(actor=actor, kind=NodeKind.STORE, include_inactive=False)
              if has_perm(actor, Perm.MEMBER_MANAGE, n)]
    return {"page": page, "rows": rows, "q": query, "stores": stores, "may_register": bool(stores),
            "consent_channels": ConsentChannel.choices, **extra}


@console_view(Perm.MEMBER_VIEW)
def member_list(request: HttpRequest) -> HttpResponse:
    return render(request, "members/member_list.html", _list_context(request))


@console_view(Perm.MEMBER_MANAGE)
@require_http_methods(["POST"])
def member_register(request: HttpRequest) -> HttpResponse:
    post = request.POST
    try:
        birthday = None
        if post.get("birthday"):
            try:
                birthday = date.fromisoformat(post["birthday"][:10])
            except ValueError:
                raise ValidationFailed(_("Not a valid birthday."), code="invalid_birthday", details={"field": "birthday"})
        member = services.member_register(
            actor=request.actor, store_id=_int(post.get("store_id")) or -1, channel=Channel.POS
            if post.get("channel") == Channel.POS else Channel.CONSOLE, phone=post.get("phone", ""),
            name=post.get("name", ""), gender=post.get("gender", ""), birthday=birthday,
            consents={c: True for c in post.getlist("consent") if c in ConsentChannel.values},
        )
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, "members/member_list.html",
                      _list_context(request, form_errors=_error(exc), form=post), status=exc.status)
    return redirect("members:member_detail", member_id=member.pk)


def _profile_context(request: HttpRequest, member_id: int, **extra) -> dict:
    profile = selectors.member_profile(actor=request.actor, member_id=member_id)
    guides = selectors.guides_for(profile["member"]) if profile["may_manage"] else []
    return {**profile, "guides": guides, "consent_channels": ConsentChannel.choices, **extra}


@console_view(Perm.MEMBER_VIEW)
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    return render(request, "members/member_detail.html", _profile_context(request, member_id))


@console_view(Perm.MEMBER_VIEW)
@require_http_methods(["POST"])
def member_action(request: HttpRequest, member_id: int) -> HttpResponse:
    """One form post per action: consent, top_up, adjust, approve or reject a pending adjustment, bind_guide."""
    actor, post = request.actor, request.POST
    action = post.get("action", "")
    try:
        if action == "consent":
            services.consent_set(actor=actor, member_id=member_id, channel=post.get("channel", ""),
                                 granted=post.get("granted") == "1")
        elif action == "top_up":
            member = selectors.member_get(actor=actor, member_id=member_id, perm=Perm.STORED_VALUE_MANAGE)
            amount = Money.parse((post.get("amount") or "").strip(), member.enterprise.currency).amount
            services.stored_value_topup(actor=actor, member_id=member_id, amount_fen=amount,
                                        store_id=_int(post.get("store_id")) or member.home_id,
                                        payment_ref=post.get("payment_ref", ""))
        elif action == "adjust":
            points = _int(post.get("points"))
            if points is None:
                raise ValidationFailed(_("An adjustment is a non-zero whole number of points."),
                                       code="invalid_number", details={"field": "points"})
            services.points_adjust(actor=actor, member_id=member_id, points=points, reason=post.get("reason", ""))
        elif action in ("approve_adjustment", "reject_adjustment"):
            adjustment_id = _int(post.get("adjustment_id")) or -1
            if action == "approve_adjustment":
                services.points_adjustment_approve(actor=actor, adjustment_id=adjustment_id)
            else:
                services.points_adjustment_reject(actor=actor, adjustment_id=adjustment_id,
                                                  reason=post.get("reason", ""))
        elif action == "bind_guide":
            services.guide_bind(actor=actor, member_id=member_id, guide_id=_int(post.get("guide_id")) or -1,
                                reason=post.get("reason", ""))
        else:
            raise ValidationFailed(_("Unknown action."), code="invalid_action")
    except NotFound:
        raise
    except DomainError as exc:
        return render(request, "members/member_detail.html",
                      _profile_context(request, member_id, form_errors=_error(exc), action=action),
                      status=exc.status)
    return redirect("members:member_detail", member_id=member_id)
