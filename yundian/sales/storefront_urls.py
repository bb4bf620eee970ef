"""A storefront's cart and checkout, mounted at /s/<slug>/cart/ (config/urls.py)."""
from django.urls import path

from . import storefront_views as views

app_name = "storefront_cart"

urlpatterns = [
    path("", views.cart, name="cart"),
    path("add", views.add, name="add"),
    path("checkout", views.checkout, name="checkout"),
    path("placed/<str:number>/", views.placed, name="placed"),
]
