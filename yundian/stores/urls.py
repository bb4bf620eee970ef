from django.urls import path

from . import views

app_name = "stores"

urlpatterns = [
    path("stores/", views.store_list, name="store_list"),
    path("stores/open/", views.store_open, name="store_open"),
    path("stores/templates/", views.template_list, name="template_list"),
    path("stores/templates/new/", views.template_create, name="template_create"),
    path("stores/templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("stores/policy/", views.policy_set, name="policy_set"),
    path("stores/<int:store_id>/storefront/", views.theme_edit, name="theme_edit"),
    path("stores/<int:store_id>/edit/", views.store_edit, name="store_edit"),
    # the public storefront: no sign-in
    path("s/<str:slug>/", views.storefront, name="storefront"),
    path("s/<str:slug>/p/<int:product_id>/", views.storefront_product, name="storefront_product"),
    path("s/<str:slug>/nearby/", views.storefront_nearby, name="storefront_nearby"),
]
