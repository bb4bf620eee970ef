from django.urls import path

from . import views

app_name = "guides"

urlpatterns = [
    path("commission/", views.my_commission, name="my_commission"),
    path("commission/all/", views.store_commission, name="store_commission"),
]
