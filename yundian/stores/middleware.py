"""A public storefront (/s/<slug>/…) is read in its store's time zone: order times, points and stored-value
history, deal end times — whichever context's view serves the page. The storefront read here is the one the view
gets from `storefront_or_404` (one read per request, not two)."""
from zoneinfo import ZoneInfo

from django.utils import timezone

from yundian.core.errors import NotFound

from .selectors import storefront_get
from .shortcuts import current_storefront


class StorefrontTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_storefront_token", None)
            if token is not None:
                current_storefront.reset(token)
                timezone.deactivate()  # the thread serves the next request in the site's zone again

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("slug")
        if not slug or not request.path_info.startswith("/s/") or not isinstance(slug, str) or len(slug) > 80:
            return None
        try:
            profile = storefront_get(slug=slug)
        except NotFound:
            return None  # the view answers its own 404
        request._storefront_token = current_storefront.set(profile)
        if profile.time_zone:
            timezone.activate(ZoneInfo(profile.time_zone))
        return None
