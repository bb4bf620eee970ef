from django.urls import path

from . import views

app_name = "promotions"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("new/", views.promotion_create, name="create"),
    path("<int:promotion_id>/", views.detail, name="detail"),
    path("<int:promotion_id>/status/", views.set_status, name="set_status"),
    path("coupons/", views.coupons, name="coupons"),
    path("coupons/new/", views.coupon_campaign_create, name="coupon_campaign_create"),
    path("coupons/<int:campaign_id>/issue/", views.coupon_issue, name="coupon_issue"),
    path("coupons/<int:campaign_id>/codes/", views.coupon_codes, name="coupon_codes"),
    path("flash-and-groups/", views.flash_and_groups, name="flash_groups"),
    path("flash/new/", views.flash_sale_create, name="flash_sale_create"),
    path("groups/new/", views.group_buy_create, name="group_buy_create"),
]
