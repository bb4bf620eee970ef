from django.urls import path

from . import views

app_name = "recommend"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("train/", views.train_now, name="train"),
    path("experiments/", views.experiment_start, name="experiment_start"),
    path("experiments/<int:experiment_id>/stop/", views.experiment_stop, name="experiment_stop"),
    path("till/<int:member_id>/", views.till_suggestions, name="till"),
    path("members/<int:member_id>/next-best/", views.member_next_best, name="member_next_best"),
]
