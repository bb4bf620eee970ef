from django.urls import path

from . import diagnosis_views, live_views, report_views, schedule_views, views

app_name = "analytics"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("warehouse/", views.warehouse, name="warehouse"),
    path("warehouse/sync/", views.warehouse_sync_now, name="warehouse_sync"),
    path("reports/", report_views.report_hub, name="reports"),
    path("reports/gmv/", report_views.gmv_page, name="gmv"),
    path("reports/schedules/", schedule_views.schedules, name="schedules"),
    path("reports/<slug:slug>/", report_views.report_page, name="report"),
    path("live/<int:session_id>/", live_views.live_report, name="live_report"),
    path("clv/", views.clv, name="clv"),
    path("clv/refit/", views.clv_refit_now, name="clv_refit"),
    path("findings/", diagnosis_views.findings, name="findings"),
    path("findings/buyers/", diagnosis_views.category_buyers, name="category_buyers"),
    path("findings/buyers/save/", diagnosis_views.category_buyer_save, name="category_buyer_save"),
    path("findings/<int:finding_id>/", diagnosis_views.finding, name="finding"),
    path("findings/<int:finding_id>/close/", diagnosis_views.finding_close, name="finding_close"),
]
