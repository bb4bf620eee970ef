"""The live sessions (running, or starting within a day), flash sales and group buys of a store, for its storefront's
home page (stores.hooks)."""
from datetime import timedelta

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yundian.catalog.pricing import ancestor_ids
from yundian.core.money import Money
from yundian.stores.hooks import register_storefront_deals

from .models import FlashSale, GroupBuyCampaign, LiveSession, LiveStatus

MAX_DEALS = 6


@register_storefront_deals
def live_deals(profile) -> list[dict]:
    now = timezone.now()
    nodes = ancestor_ids(profile.node)
    currency = profile.node.enterprise.currency
    cards = []
    for session in (LiveSession.objects.filter(store=profile.node, status=LiveStatus.SCHEDULED,
                                               starts_at__lte=now + timedelta(days=1), ends_at__gt=now)
                    .select_related("host").order_by("starts_at")[:2]):
        prices = [i.live_price if i.flash_sale_id is None else i.flash_sale.price
                  for i in session.items.select_related("flash_sale")]
        if not prices:
            continue
        running = session.starts_at <= now
        cards.append({"kind": "live", "badge": _("Live now") if running else _("Live soon"), "title": session.title,
                      "subtitle": _("Hosted by %(host)s") % {"host": session.host.display_name}
                      + ("" if running else " · " + timezone.localtime(session.starts_at).strftime("%m-%d %H:%M")),
                      "price": Money(min(prices), currency),
                      "url": reverse("storefront_deals:live", args=[profile.slug, session.pk])})
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
