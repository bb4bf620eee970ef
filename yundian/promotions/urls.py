from django.urls import path

from . import live_views, views

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
    path("live/", live_views.live_list, name="live"),
    path("live/new/", live_views.live_create, name="live_create"),
    path("live/<int:session_id>/", live_views.live_detail, name="live_detail"),
    path("live/<int:session_id>/edit/", live_views.live_edit, name="live_edit"),
    path("live/<int:session_id>/close/", live_views.live_close, name="live_close"),
    path("live/<int:session_id>/share/", live_views.live_share, name="live_share"),
    path("live/<int:session_id>/qr/<str:code>.png", live_views.live_qr, name="live_qr"),
]
