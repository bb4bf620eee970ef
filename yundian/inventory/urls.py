from django.urls import path

from . import views, views_cycle_counts, views_documents, views_suppliers

app_name = "inventory"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("balances/", views.balances, name="balances"),
    path("moves/", views.moves, name="moves"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/new/", views_documents.transfer_create, name="transfer_create"),
    path("transfers/<int:transfer_id>/", views_documents.transfer, name="transfer"),
    path("transfers/<int:transfer_id>/<slug:action>/", views.transfer_action, name="transfer_action"),
    path("purchase-orders/", views_documents.purchase_orders, name="purchase_orders"),
    path("purchase-orders/new/", views_documents.purchase_order_create, name="purchase_order_create"),
    path("purchase-orders/line-price/", views_documents.purchase_line_price, name="purchase_line_price"),
    path("purchase-orders/<int:order_id>/", views_documents.purchase_order, name="purchase_order"),
    path("suppliers/", views_suppliers.supplier_list, name="suppliers"),
    path("suppliers/new/", views_suppliers.supplier_create, name="supplier_create"),
    path("suppliers/<int:supplier_id>/", views_suppliers.supplier_detail, name="supplier"),
    path("suppliers/<int:supplier_id>/prices/", views_suppliers.supplier_price_save, name="supplier_price_save"),
    path("suppliers/<int:supplier_id>/prices/<int:sku_id>/remove/", views_suppliers.supplier_price_remove,
         name="supplier_price_remove"),
    path("allocations/", views_documents.allocations, name="allocations"),
    path("allocations/new/", views_documents.allocation_create, name="allocation_create"),
    path("allocations/<int:allocation_id>/", views_documents.allocation, name="allocation"),
    path("stocktakes/", views.stocktakes, name="stocktakes"),
    path("stocktakes/<int:stocktake_id>/", views.stocktake, name="stocktake"),
    path("cycle-counts/", views_cycle_counts.cycle_counts, name="cycle_counts"),
    path("cycle-counts/<int:stocktake_id>/", views_cycle_counts.cycle_count, name="cycle_count"),
    path("adjustments/", views.adjustments, name="adjustments"),
    path("adjustments/new/", views_documents.adjustment_create, name="adjustment_create"),
    path("adjustments/<int:adjustment_id>/", views_documents.adjustment, name="adjustment"),
    path("adjustments/<int:adjustment_id>/<slug:action>/", views.adjustment_decide, name="adjustment_decide"),
    path("lines/row/", views_documents.line_row, name="line_row"),
    path("replenishment/", views.replenishment, name="replenishment"),
    path("reports/<slug:name>/", views.report, name="report"),
]
