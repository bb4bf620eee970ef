"""Console pages of the outbox, mounted at /messaging/ (config/urls.py)."""
from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/preview/", views.template_preview_partial, name="template_preview"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("rules/", views.policy, name="policy"),
    path("members/<int:member_id>/panel/", views.member_panel, name="member_panel"),
]
