"""View shortcuts for any context's public storefront pages (stores, members' account, sales' cart, promotions' deals)."""
from contextvars import ContextVar

from django.http import Http404

from yundian.core.errors import NotFound

from .selectors import storefront_get

# the storefront the request's middleware already read (StorefrontTimeZoneMiddleware), so the view doesn't read it
# again; set and reset around each storefront request
current_storefront: ContextVar = ContextVar("current_storefront", default=None)


def storefront_or_404(slug: str):
    """The open storefront (StoreProfile) at /s/<slug>/, or the site's 404 page."""
    profile = current_storefront.get()
    if profile is not None and profile.slug == slug:
        return profile
    try:
        return storefront_get(slug=slug)
    except NotFound:
        raise Http404
