from django.urls import path

from . import webhooks_views

app_name = "integrations"

# each part of the context (webhooks, ERP sync, channels) adds its pages here
urlpatterns: list = [
    path("webhooks/", webhooks_views.subscription_list, name="webhooks"),
    path("webhooks/new/", webhooks_views.subscription_new, name="webhook_new"),
    path("webhooks/<int:subscription_id>/", webhooks_views.subscription_edit, name="webhook_edit"),
    path("webhooks/deliveries/", webhooks_views.delivery_list, name="webhook_deliveries"),
    path("webhooks/deliveries/<int:delivery_id>/", webhooks_views.delivery_detail, name="webhook_delivery"),
    path("webhooks/deliveries/<int:delivery_id>/retry/", webhooks_views.delivery_retry, name="webhook_retry"),
]
