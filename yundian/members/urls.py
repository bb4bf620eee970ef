from django.urls import path

from . import views

app_name = "members"

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("new/", views.member_register, name="member_register"),
    path("<int:member_id>/", views.member_detail, name="member_detail"),
    path("<int:member_id>/actions/", views.member_action, name="member_action"),
]
