from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("", views.journey_list, name="list"),
    path("new/", views.journey_new, name="new"),
    path("panel/", views.node_panel, name="panel"),
    path("<int:journey_id>/", views.journey_canvas, name="canvas"),
    path("<int:journey_id>/validate/", views.journey_validate, name="validate"),
    path("<int:journey_id>/save/", views.journey_save, name="save"),
    path("<int:journey_id>/publish/", views.journey_publish, name="publish"),
    path("<int:journey_id>/pause/", views.journey_pause, name="pause"),
    path("<int:journey_id>/resume/", views.journey_resume, name="resume"),
    path("<int:journey_id>/stop/", views.journey_stop, name="stop"),
]
