from django.urls import path

from . import views

app_name = "staffing"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.me, name="me"),
    path("me/sign/", views.sign, name="sign"),
    path("<int:store_id>/<str:week>/", views.week, name="week"),
    path("<int:store_id>/<str:week>/plan/", views.plan, name="plan"),
    path("<int:store_id>/<str:week>/shift/", views.shift_save, name="shift_save"),
    path("<int:store_id>/<str:week>/shift/<int:shift_id>/delete/", views.shift_delete, name="shift_delete"),
]
