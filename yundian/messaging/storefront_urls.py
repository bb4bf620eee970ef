"""A member's storefront inbox, mounted at /s/<slug>/me/messages/ (config/urls.py)."""
from django.urls import path

from . import public_views as views

app_name = "member_inbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.inbox_read, name="read"),
]
