"""Flash sales, group buys and live sessions on a storefront, mounted at /s/<slug>/deals/ (config/urls.py)."""
from django.urls import path

from . import storefront_views as views

app_name = "storefront_deals"

urlpatterns = [
    path("flash/<int:flash_sale_id>/", views.flash, name="flash"),
    path("group-buy/<int:campaign_id>/", views.group_buy, name="group_buy"),
    path("g/<str:token>/", views.group, name="group"),
    path("live/<int:session_id>/", views.live, name="live"),
]
