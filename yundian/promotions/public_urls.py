"""Shopper-facing promotion pages and endpoints under /p/ (no staff sign-in)."""
from django.urls import path

from . import views

app_name = "promotions_public"

urlpatterns = [
    path("f/<int:flash_sale_id>/", views.flash_page, name="flash"),
    path("f/<int:flash_sale_id>/buy", views.flash_buy, name="flash_buy"),
    path("gb/<int:campaign_id>/open", views.group_open, name="group_open"),
    path("g/<str:token>/", views.group_page, name="group"),
    path("g/<str:token>/join", views.group_join, name="group_join"),
    path("share", views.share, name="share"),
    path("r/<str:code>/", views.share_link, name="share_link"),
]
