"""The member's own pages on a store's storefront, under /s/<store code>/me/: sign-in with a one-time code, then
overview, points, stored value, coupons and orders. They carry the store's theme (they extend the storefront's
base). Parse -> one service/selector -> render; a domain error re-renders the form with the translated message
and its status, and changes nothing else. Pages hold personal data, so they are never cached."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core.errors import DomainError
from yundian.stores.shortcuts import storefront_or_404

from . import account, services
from .hooks import run_storefront_sign_up
from .models import ConsentChannel
from .normalize import mask_phone

# the marketing channels a new member chooses on sign-up (unticked: recorded as refused)
SIGN_UP_CONSENTS = [(ConsentChannel.SMS, _("Offers by SMS")), (ConsentChannel.WECHAT, _("Offers on WeChat"))]
TABS = account.TABS
_context = account.page_context


def _error(exc: DomainError) -> dict:
    return {"message": exc.message, "code": exc.code, "details": exc.details}


def _next_url(request: HttpRequest, slug: str) -> str:
    """Where to go after signing in: a page of this store's storefront (its account, its cart; never another store
    or site), else the account overview."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    storefront = reverse("stores:storefront", args=[slug])
    if target.startswith(storefront) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("member_account:overview", args=[slug])


def _member_page(request: HttpRequest, slug: str, tab: str, template: str, build) -> HttpResponse:
    profile = storefront_or_404(slug)
    member = account.signed_in_member(request, enterprise_id=profile.enterprise_id)
    if member is None:
        return redirect(f"{reverse('member_account:sign_in', args=[slug])}?next={request.path}")
    return render(request, template, _context(profile, member=member, tab=tab, **build(member)))


@never_cache
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    return _member_page(request, slug, "overview", "members/account/overview.html", account.account_overview)


@never_cache
def points(request: HttpRequest, slug: str) -> HttpResponse:
    return _member_page(request, slug, "points", "members/account/points.html",
                        lambda m: account.points_history(m, request.GET.get("page")))


@never_cache
def stored_value(request: HttpRequest, slug: str) -> HttpResponse:
    return _member_page(request, slug, "stored_value", "members/account/stored_value.html",
                        lambda m: account.stored_value_history(m, request.GET.get("page")))


@never_cache
def coupons(request: HttpRequest, slug: str) -> HttpResponse:
    return _member_page(request, slug, "coupons", "members/account/coupons.html", account.coupons)


@never_cache
def orders(request: HttpRequest, slug: str) -> HttpResponse:
    return _member_page(request, slug, "orders", "members/account/orders.html", account.orders)


def _sign_in_page(request, profile, *, step: str, phone: str = "", error=None, status: int = 200, sent=False):
    return render(request, "members/account/sign_in.html", _context(
        profile, step=step, phone=phone, phone_masked=mask_phone(phone) if step == "code" else "",
        form_errors=error, sent=sent, consent_choices=SIGN_UP_CONSENTS, next=_next_url(request, profile.slug),
        chosen=set(request.POST.getlist("consent"))), status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the phone form. POST step=send: send a code (also "send again"); POST step=verify: check the code and
    sign in (a new phone joins the store's membership with the consents ticked)."""
    profile = storefront_or_404(slug)
    if request.method == "GET":
        if account.signed_in_member(request, enterprise_id=profile.enterprise_id) is not None:
            return redirect(_next_url(request, slug))
        return _sign_in_page(request, profile, step="phone")
    post = request.POST
    phone = post.get("phone", "")[:40]
    step = post.get("step", "")
    if step == "send":
        try:
            sent = services.login_code_send(store=profile.node, phone=phone, ip=request.META.get("REMOTE_ADDR"))
        except DomainError as exc:
            back = "code" if post.get("resend") and exc.code != "invalid_phone" else "phone"
            return _sign_in_page(request, profile, step=back, phone=phone, error=_error(exc), status=exc.status)
        return _sign_in_page(request, profile, step="code", phone=sent.phone, sent=True)
    if step == "verify":
        chosen = set(post.getlist("consent"))
        consents = {channel.value: channel.value in chosen for channel, _label in SIGN_UP_CONSENTS}
        try:
            result = services.login_code_verify(store=profile.node, phone=phone, code=post.get("code", "")[:16],
                                                consents=consents)
        except DomainError as exc:
            back = "phone" if exc.code == "invalid_phone" else "code"
            return _sign_in_page(request, profile, step=back, phone=phone, error=_error(exc), status=exc.status)
        account.session_sign_in(request, result.member)
        if result.created:
            run_storefront_sign_up(request, result.member)
        return redirect(_next_url(request, slug))
    return _sign_in_page(request, profile, step="phone", status=400,
                         error={"message": _("Unknown action."), "code": "invalid_action", "details": {}})


@require_POST
def sign_out(request: HttpRequest, slug: str) -> HttpResponse:
    profile = storefront_or_404(slug)
    account.session_sign_out(request)
    return redirect("stores:storefront", profile.slug)
