"""The storefront's recommendation blocks, registered with stores' hooks (stores and sales sit below recommend):
"goes with" on the product page and in the cart, "for you" on the home page. Each block is rendered in process
from the serving model (selectors.recommendations) and carries its slot, variant and experiment for the tracker's
impression and click events (cdp/static/cdp/track.js)."""
from uuid import uuid4

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from yundian.members.account import signed_in_member
from yundian.stores import selectors as store_selectors
from yundian.stores.hooks import register_storefront_block

from .models import Slot
from .selectors import recommendations

SESSION_UNIT = "recommend.unit"


def _unit(request) -> str:
    """A visitor's stable id for the A/B assignment while not signed in (kept in their session)."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    unit = session.get(SESSION_UNIT)
    if not unit:
        unit = session[SESSION_UNIT] = "s" + uuid4().hex[:16]
    return unit


def storefront_block(request, profile, *, slot: str, title: str, product_ids: list[int] = (), k: int = 6) -> str:
    member = signed_in_member(request, enterprise_id=profile.enterprise_id)
    assortment = set(store_selectors.storefront_products(profile).values_list("pk", flat=True))
    block = recommendations(store=profile.node, slot=slot, member=member, product_ids=list(product_ids),
                            unit=_unit(request), k=k, assortment=assortment)
    if not block.items and block.experiment_id is None:
        return ""
    products = {p.pk: p for p in store_selectors.storefront_products(profile).filter(
        pk__in=[i.product_id for i in block.items])}
    prices = store_selectors.storefront_prices(profile, list(products.values()))
    cards = []
    for item in block.items:
        product = products.get(item.product_id)
        if product is not None:
            product.sf_price = prices[product.pk]
            cards.append((item, product, product.live_skus[0].pk if product.live_skus else ""))
    return render_to_string("recommend/storefront_block.html", {
        "block": block, "cards": cards, "title": title, "store": profile,
        "rec": f"{block.slot}.{block.variant}.{block.experiment_id or 0}"}, request=request)


@register_storefront_block("product")
def product_goes_with(request, profile, *, product) -> str:
    return storefront_block(request, profile, slot=Slot.GOES_WITH, title=_("Goes with"), product_ids=[product.pk])


@register_storefront_block("cart")
def cart_goes_with(request, profile, *, product_ids) -> str:
    if not product_ids:
        return ""
    return storefront_block(request, profile, slot=Slot.GOES_WITH, title=_("Goes with your cart"),
                            product_ids=product_ids)


@register_storefront_block("home")
def home_for_you(request, profile) -> str:
    return storefront_block(request, profile, slot=Slot.FOR_YOU, title=_("For you"), k=8)
