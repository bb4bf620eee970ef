from django.urls import path

from . import views

app_name = "pos"

urlpatterns = [
    path("", views.pos_home, name="home"),
    path("sw.js", views.service_worker, name="sw"),
    path("<int:store_id>/", views.till, name="till"),
    path("<int:store_id>/snapshot.json", views.snapshot, name="snapshot"),
    path("<int:store_id>/quote", views.quote, name="quote"),
    path("<int:store_id>/orders/", views.order_lookup, name="order_lookup"),
]
