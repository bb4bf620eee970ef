from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "yundian.promotions"
    label = "promotions"
    verbose_name = _("Promotions")

    def ready(self) -> None:
        # the per-process caches of the sale's reads (core.cache) reload when these change
        from yundian.core.cache import PROMOTIONS, watch
        from .models import FlashSale, GroupBuyCampaign, LiveSession, LiveSessionItem, PriceFloor, Promotion
        for model in (Promotion, PriceFloor, FlashSale, GroupBuyCampaign, LiveSession, LiveSessionItem):
            watch(model, PROMOTIONS)
        # promotions sits above members: it provides the coupons of a member's own storefront pages
        from . import member_pages  # noqa: F401
        # ... and the live deals on a store's storefront home page
        from . import storefront_deals  # noqa: F401
        # ... and which share link brought a new member in (the link's cookie at sign-up)
        from .views import record_share_sign_up
        from yundian.members.hooks import on_storefront_sign_up
        on_storefront_sign_up(record_share_sign_up)
