from django.urls import path

from . import segment_action_views as views

app_name = "segment_actions"

urlpatterns = [
    path("<int:segment_id>/", views.panel, name="panel"),
    path("<int:segment_id>/issue-coupons/", views.issue_coupons, name="issue_coupons"),
    path("<int:segment_id>/tag/", views.tag_members, name="tag_members"),
    path("<int:segment_id>/call-list/", views.call_list, name="call_list"),
    path("<int:segment_id>/export/", views.export, name="export"),
]
