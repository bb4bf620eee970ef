from django.urls import path

from . import guide_customer_views, tag_rule_views, views

app_name = "cdp"

urlpatterns = [
    path("tags/", views.tags_page, name="tags"),
    path("my-customers/", guide_customer_views.my_customers, name="my_customers"),
    path("tags/action/", views.tags_action, name="tags_action"),
    path("tags/refresh/", views.tags_refresh, name="tags_refresh"),
    path("tags/refresh/status/", views.tags_refresh_status, name="tags_refresh_status"),
    path("tags/new-rule/", tag_rule_views.tag_rule_new, name="tag_rule_new"),
    path("tags/<int:tag_id>/rule/", tag_rule_views.tag_rule_edit, name="tag_rule_edit"),
    path("tags/import/", views.tags_import, name="tags_import"),
    path("tags/lifecycle/", views.lifecycle_page, name="lifecycle"),
    path("members/<int:member_id>/panel/", views.member_panel, name="member_panel"),
]
