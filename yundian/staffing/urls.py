from django.urls import path

from . import setup_views, views

app_name = "staffing"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.me, name="me"),
    path("me/sign/", views.sign, name="sign"),
    path("<int:store_id>/setup/", setup_views.page, name="setup"),
    path("<int:store_id>/setup/standard/", setup_views.standard, name="setup_standard"),
    path("<int:store_id>/setup/person/", setup_views.person, name="setup_person"),
    path("<int:store_id>/setup/time-off/", setup_views.time_off_add, name="setup_time_off"),
    path("<int:store_id>/setup/time-off/<int:time_off_id>/delete/", setup_views.time_off_delete,
         name="setup_time_off_delete"),
    path("<int:store_id>/<str:week>/", views.week, name="week"),
    path("<int:store_id>/<str:week>/plan/", views.plan, name="plan"),
    path("<int:store_id>/<str:week>/shift/", views.shift_save, name="shift_save"),
    path("<int:store_id>/<str:week>/shift/<int:shift_id>/delete/", views.shift_delete, name="shift_delete"),
]
