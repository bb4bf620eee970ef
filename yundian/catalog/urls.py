from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("products/<int:product_id>/actions/", views.product_action, name="product_action"),
    path("prices/", views.price_list_list, name="price_list_list"),
    path("prices/<int:price_list_id>/", views.price_list_detail, name="price_list_detail"),
    path("import/", views.import_page, name="import"),
    path("import/<int:run_id>/", views.import_detail, name="import_detail"),
    path("export/", views.export, name="export"),
]
