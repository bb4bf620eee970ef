"""The unsubscribe link of marketing messages, mounted at /m/ (config/urls.py)."""
from django.urls import path

from . import public_views as views

app_name = "messaging_public"

urlpatterns = [path("u/<str:token>/", views.unsubscribe, name="unsubscribe")]
