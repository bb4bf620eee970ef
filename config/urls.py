from django.conf.urls.i18n import i18n_patterns  # noqa: F401  (language is chosen by cookie, not URL prefix)
from django.contrib import admin
from django.urls import include, path

from yundian.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("catalog/", include("yundian.catalog.urls")),
    path("inventory/", include("yundian.inventory.urls")),
    path("members/", include("yundian.members.urls")),
    path("", include("yundian.stores.urls")),  # console pages under stores/, public storefronts at s/<slug>/
    path("sales/", include("yundian.sales.urls")),
    path("guides/", include("yundian.guides.urls")),
    path("pos/", include("yundian.pos.urls")),
    path("promotions/", include("yundian.promotions.urls")),
    path("p/", include("yundian.promotions.public_urls")),  # public promotion pages: flash sales, group buys, shares
    path("", include("yundian.web.urls")),
]
handler404 = "yundian.web.views.not_found"
