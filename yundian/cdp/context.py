"""Template context for storefront pages: what the first-party tracker (static/cdp/track.js) needs.

`tracking` is lazy: only a page that uses it (the storefront's base template) pays for its two small queries.
    tracking.enabled        False when the signed-in member withdrew tracking consent (the page then loads no tracker)
    tracking.member_token   a signed token naming the signed-in member of this storefront's enterprise, else ""
The storefront's base template reads these without importing anything from this context.
"""
from django.utils.functional import SimpleLazyObject

from yundian.members.account import SESSION_KEY, signed_in_member
from yundian.members.models import ConsentChannel, ConsentState
from yundian.stores.models import StoreProfile

from .tokens import member_token_issue


def _tracking(request) -> dict:
    kwargs = request.resolver_match.kwargs if getattr(request, "resolver_match", None) else {}
    slug = kwargs.get("slug")
    session = getattr(request, "session", None)
    data = session.get(SESSION_KEY) if session is not None else None
    if not slug or not isinstance(data, dict):
        return {"enabled": True, "member_token": ""}
    enterprise_id = StoreProfile.objects.filter(slug=slug).values_list("enterprise_id", flat=True).first()
    member = signed_in_member(request, enterprise_id=enterprise_id) if enterprise_id else None
    if member is None:
        return {"enabled": True, "member_token": ""}
    withdrawn = ConsentState.objects.filter(member=member, channel=ConsentChannel.TRACKING, granted=False).exists()
    if withdrawn:
        return {"enabled": False, "member_token": ""}
    return {"enabled": True, "member_token": member_token_issue(enterprise_id=enterprise_id, member_id=member.pk)}


def tracking(request) -> dict:
    return {"tracking": SimpleLazyObject(lambda: _tracking(request))}
