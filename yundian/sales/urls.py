from django.urls import path

from . import views

app_name = "sales"

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/receipt/", views.receipt, name="receipt"),
    path("approvals/", views.approval_list, name="approval_list"),
]
