from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from yundian.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("catalog/", include("yundian.catalog.urls")),
    path("inventory/", include("yundian.inventory.urls")),
    path("s/<str:slug>/me/messages/", include("yundian.messaging.storefront_urls")),  # the member's inbox
    path("s/<str:slug>/me/", include("yundian.members.account_urls")),  # a member's own pages on a storefront
    path("s/<str:slug>/cart/", include("yundian.sales.storefront_urls")),  # a storefront's cart and checkout
    path("s/<str:slug>/deals/", include("yundian.promotions.storefront_urls")),  # its flash sales and group buys
    path("", include("yundian.stores.urls")),  # console pages under stores/, public storefronts at s/<slug>/
    path("members/", include("yundian.members.urls")),
    path("messaging/", include("yundian.messaging.urls")),
    path("sales/", include("yundian.sales.urls")),
    path("guides/", include("yundian.guides.urls")),
    path("pos/", include("yundian.pos.urls")),
    path("promotions/", include("yundian.promotions.urls")),
    path("analytics/", include("yundian.analytics.urls")),
    path("staffing/", include("yundian.staffing.urls")),
    path("recommend/", include("yundian.recommend.urls")),
    path("integrations/", include("yundian.integrations.urls")),
    path("cdp/segments/", include("yundian.cdp.segment_urls")),
    path("cdp/segment-actions/", include("yundian.cdp.segment_action_urls")),  # a segment page's actions section
    path("cdp/", include("yundian.cdp.urls")),
    path("journeys/", include("yundian.journeys.urls")),
    path("p/", include("yundian.promotions.public_urls")),  # public promotion pages: flash sales, group buys, shares
    path("j/", include("yundian.guides.public_urls")),  # a member joins a guide's community group
    path("m/", include("yundian.messaging.public_urls")),  # unsubscribe links in marketing messages
    path("", include("yundian.web.urls")),
]
# uploaded media (product images): served by Django in the demo and development; put a web server in front in production
if settings.DEBUG or settings.SERVE_MEDIA:
    from django.urls import re_path
    from django.views.static import serve

    urlpatterns.insert(0, re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))
handler404 = "yundian.web.views.not_found"
