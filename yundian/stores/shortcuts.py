"""View shortcuts for any context's public storefront pages (stores, members' account, sales' cart, promotions' deals)."""
from django.http import Http404

from yundian.core.errors import NotFound

from .selectors import storefront_get


def storefront_or_404(slug: str):
    """The open storefront (StoreProfile) at /s/<slug>/, or the site's 404 page."""
    try:
        return storefront_get(slug=slug)
    except NotFound:
        raise Http404
