from django.urls import path  # noqa: F401

app_name = "integrations"

# each part of the context (webhooks, ERP sync, channels) adds its pages here
urlpatterns: list = []
