"""The live flash sales and group buys of a store, for its storefront's home page (stores.hooks)."""
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.catalog.pricing import ancestor_ids
from yundian.core.money import Money
from yundian.stores.hooks import register_storefront_deals

from .models import FlashSale, GroupBuyCampaign

MAX_DEALS = 6


@register_storefront_deals
def live_deals(profile) -> list[dict]:
    now = timezone.now()
    nodes = ancestor_ids(profile.node)
    currency = profile.node.enterprise.currency
    cards = []
    for sale in (FlashSale.objects.filter(enterprise_id=profile.enterprise_id, node_id__in=nodes, is_active=True,
                                          is_sold_out=False, starts_at__lte=now, ends_at__gt=now)
                 .select_related("sku__product").order_by("ends_at")[:MAX_DEALS]):
        cards.append({"kind": "flash", "badge": _("Flash sale"), "title": sale.name,
                      "subtitle": f"{sale.sku.product.name} {sale.sku.name}".strip(),
                      "price": Money(sale.price, currency),
                      "url": reverse("storefront_deals:flash", args=[profile.slug, sale.pk])})
    for campaign in (GroupBuyCampaign.objects.filter(enterprise_id=profile.enterprise_id, node_id__in=nodes,
                                                     is_active=True, starts_at__lte=now, ends_at__gt=now, sold__lt=F("cap"))
                     .select_related("sku__product").order_by("ends_at")[:MAX_DEALS]):
        lowest = min(int(t["price"]) for t in campaign.price_tiers)
        cards.append({"kind": "group", "badge": _("Group buy"), "title": campaign.name,
                      "subtitle": f"{campaign.sku.product.name} {campaign.sku.name}".strip(),
                      "price": Money(lowest, currency),
                      "url": reverse("storefront_deals:group_buy", args=[profile.slug, campaign.pk])})
    return cards[:MAX_DEALS]
