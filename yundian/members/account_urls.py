"""The member's own pages on a storefront, mounted at /s/<slug>/me/ (config/urls.py)."""
from django.urls import path

from . import account_views as views

app_name = "member_account"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("points/", views.points, name="points"),
    path("stored-value/", views.stored_value, name="stored_value"),
    path("coupons/", views.coupons, name="coupons"),
    path("orders/", views.orders, name="orders"),
]
