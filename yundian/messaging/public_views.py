"""Pages a member reaches without staff sign-in: the unsubscribe link of a marketing message, and their storefront
inbox under /s/<slug>/me/messages/ (signed in as a member, their own messages only).

Unsubscribe: the link opens a page with one button (POST withdraws the consent); mail clients that support
RFC 8058 POST to the same address straight from the List-Unsubscribe header, without the page. A plain GET never
changes anything, because mail scanners and link previews fetch links nobody clicked."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from yundian.core.errors import NotFound
from yundian.members.account import page_context, signed_in_member
from yundian.members.models import ConsentState
from yundian.stores.shortcuts import storefront_or_404

from . import selectors, services
from .models import MessageChannel


@never_cache
@csrf_exempt  # the signed token is the credential; RFC 8058 one-click posts come without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            member, channel = services.unsubscribe(token)
            done = True
        else:
            member, channel = services.unsubscribe_read(token)
            done = (ConsentState.objects.filter(member=member, channel=services.CONSENT_CHANNEL[channel])
                    .values_list("granted", flat=True).first() is False)
    except NotFound as exc:
        return render(request, "messaging/unsubscribe.html", {"error": exc}, status=404)
    return render(request, "messaging/unsubscribe.html", {
        "member": member, "channel_label": MessageChannel(channel).label, "done": done, "token": token,
        "enterprise": member.enterprise})


def _inbox_context(request, slug):
    profile = storefront_or_404(slug)
    member = signed_in_member(request, enterprise_id=profile.enterprise_id)
    return profile, member


@never_cache
def inbox(request: HttpRequest, slug: str) -> HttpResponse:
    profile, member = _inbox_context(request, slug)
    if member is None:
        return redirect(f"{reverse('member_account:sign_in', args=[slug])}?next={request.path}")
    messages = selectors.inbox_list(member)
    return render(request, "messaging/storefront/inbox.html",
                  page_context(profile, member=member, tab="messages", messages=messages))


@require_POST
def inbox_read(request: HttpRequest, slug: str) -> HttpResponse:
    profile, member = _inbox_context(request, slug)
    if member is None:
        return redirect(f"{reverse('member_account:sign_in', args=[slug])}?next={request.path}")
    raw = request.POST.get("message", "")
    services.inbox_mark_read(member=member, message_id=int(raw) if raw.isdigit() else None)
    return redirect("member_inbox:inbox", slug)

