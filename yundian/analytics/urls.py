from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("warehouse/", views.warehouse, name="warehouse"),
    path("warehouse/sync/", views.warehouse_sync_now, name="warehouse_sync"),
]
