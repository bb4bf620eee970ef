from django.urls import path

from . import channels_views, erp_views, webhooks_views

app_name = "integrations"

# each part of the context (webhooks, ERP sync, channels) adds its pages here
urlpatterns: list = [
    path("webhooks/", webhooks_views.subscription_list, name="webhooks"),
    path("webhooks/new/", webhooks_views.subscription_new, name="webhook_new"),
    path("webhooks/<int:subscription_id>/", webhooks_views.subscription_edit, name="webhook_edit"),
    path("webhooks/deliveries/", webhooks_views.delivery_list, name="webhook_deliveries"),
    path("webhooks/deliveries/<int:delivery_id>/", webhooks_views.delivery_detail, name="webhook_delivery"),
    path("webhooks/deliveries/<int:delivery_id>/retry/", webhooks_views.delivery_retry, name="webhook_retry"),
    path("erp/", erp_views.erp_home, name="erp"),
    path("erp/import/", erp_views.erp_import, name="erp_import"),
    path("erp/export/", erp_views.erp_export, name="erp_export"),
    path("erp/jobs/<int:job_id>/errors/", erp_views.erp_job_errors, name="erp_job_errors"),
    path("erp/jobs/<int:job_id>/file/", erp_views.erp_job_file, name="erp_job_file"),
    path("channels/", channels_views.channel_list, name="channels"),
    path("channels/<int:connection_id>/sync/", channels_views.channel_sync_now, name="channel_sync"),
]
