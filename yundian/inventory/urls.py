from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("balances/", views.balances, name="balances"),
    path("moves/", views.moves, name="moves"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<int:transfer_id>/<slug:action>/", views.transfer_action, name="transfer_action"),
    path("stocktakes/", views.stocktakes, name="stocktakes"),
    path("stocktakes/<int:stocktake_id>/", views.stocktake, name="stocktake"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path("adjustments/<int:adjustment_id>/<slug:action>/", views.adjustment_decide, name="adjustment_decide"),
    path("replenishment/", views.replenishment, name="replenishment"),
    path("reports/<slug:name>/", views.report, name="report"),
]
