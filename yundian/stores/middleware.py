"""A public storefront (/s/<slug>/…) is read in its store's time zone: order times, points and stored-value
history, deal end times — whichever context's view serves the page."""
from zoneinfo import ZoneInfo

from django.utils import timezone

from .models import StoreProfile


class StorefrontTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            if getattr(request, "_storefront_time_zone", None):
                timezone.deactivate()  # the thread serves the next request in the site's zone again

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("slug")
        if not slug or not request.path_info.startswith("/s/") or not isinstance(slug, str) or len(slug) > 80:
            return None
        zone = StoreProfile.objects.filter(slug=slug).values_list("time_zone", flat=True).first()
        if zone:
            timezone.activate(ZoneInfo(zone))
            request._storefront_time_zone = zone
        return None
