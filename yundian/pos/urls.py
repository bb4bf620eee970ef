from django.urls import path

from . import shift_views, views

app_name = "pos"

urlpatterns = [
    path("", views.pos_home, name="home"),
    path("sw.js", views.service_worker, name="sw"),
    path("<int:store_id>/", views.till, name="till"),
    path("<int:store_id>/snapshot.json", views.snapshot, name="snapshot"),
    path("<int:store_id>/quote", views.quote, name="quote"),
    path("<int:store_id>/orders/", views.order_lookup, name="order_lookup"),
    path("<int:store_id>/receipt", views.receipt_lookup, name="receipt_lookup"),
    path("<int:store_id>/return-quote", views.return_quote, name="return_quote"),
    path("<int:store_id>/exchange", views.exchange, name="exchange"),
    path("<int:store_id>/shift/", shift_views.shift_page, name="shift"),
    path("<int:store_id>/settlement/", shift_views.settlement_page, name="settlement"),
    path("shifts/<int:shift_id>/", shift_views.shift_report_page, name="shift_report"),
]
