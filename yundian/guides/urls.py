from django.urls import path

from . import views

app_name = "guides"

urlpatterns = [
    path("commission/", views.my_commission, name="my_commission"),
    path("commission/all/", views.store_commission, name="store_commission"),
    path("calls/", views.my_calls, name="my_calls"),
    path("calls/<int:entry_id>/outcome/", views.call_outcome, name="call_outcome"),
    path("calls/<int:entry_id>/dial/", views.call_dial, name="call_dial"),
    path("call-lists/", views.call_lists, name="call_lists"),
    path("call-lists/<int:call_list_id>/", views.call_list_detail, name="call_list_detail"),
]
