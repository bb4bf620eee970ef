"""Flash sales and group buys bought on a store's storefront by its signed-in member, all the way through the
storefront checkout: the claim or group place gives the special price, the order redeems it once."""
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yundian.members import services as members
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.promotions import services as promo
from yundian.promotions.models import FlashSale, FlashSaleClaim, GroupBuyGroup, GroupBuyMember
from yundian.sales.models import Order
from yundian.sales.tests.factories import assert_ledgers_clean, stocked

from .test_storefront_checkout import cart_key, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(chain):
    stock = stocked(chain)
    return stock, open_storefront(chain, stock.cat)


def flash_sale(chain, sku, *, cap=2, node=None):
    now = timezone.now()
    return promo.flash_sale_create(actor=chain.admin, node_id=(node or chain.hq).id, code=f"FS{cap}", name="秒杀",
                                   sku_id=sku.pk, price=990, cap=cap, per_member_limit=1,
                                   starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=1))


def test_a_member_secures_a_flash_sale_unit_and_checks_it_out_at_the_flash_price(chain, shop):
    stock, profile = shop
    sale = flash_sale(chain, stock.cat.tee_s)
    url = f"/s/{profile.slug}/deals/flash/{sale.pk}/"
    anonymous = Client().get(url).content.decode()
    assert 'id="sd-sign-in"' in anonymous and "¥9.90" in anonymous
    assert Client().post(url, {"key": "k"}).status_code == 302 and not FlashSaleClaim.objects.exists()

    member = register(chain)
    client = signed_in(Client(), member)
    key = re.search(r'name="key" value="([0-9a-f]{32})"', client.get(url).content.decode()).group(1)
    assert client.post(url, {"key": key}).status_code == 302
    assert client.post(url, {"key": key}).status_code == 302  # a double tap: the same claim
    claim = FlashSaleClaim.objects.get()
    assert (claim.member_id, claim.status, FlashSale.objects.get().sold) == (member.pk, "held", 1)
    page = client.get(url).content.decode()
    assert 'id="sd-claim"' in page and 'id="sd-to-cart"' in page
    client.post(f"/s/{profile.slug}/cart/add", {"sku_id": stock.cat.tee_s.pk, "quantity": claim.quantity})
    assert 'id="sc-total">¥9.90' in client.get(f"/s/{profile.slug}/cart/").content.decode()
    client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup"})
    order = Order.objects.get()
    claim.refresh_from_db()
    assert (order.total, claim.status, claim.order_ref) == (990, "ordered", str(order.pk))
    # another member cannot buy past the member limit; the second unit goes to someone else, then it is sold out
    other = signed_in(Client(), register(chain))
    other.post(url, {"key": "o-1"})
    third = signed_in(Client(), register(chain))
    refused = third.post(url, {"key": "t-1"})
    assert refused.status_code == 409 and 'data-code="sold_out"' in refused.content.decode()
    assert FlashSaleClaim.objects.count() == 2
    assert_ledgers_clean()


def test_a_deal_of_another_region_or_enterprise_is_not_found_here(chain, other_chain, shop):
    stock, profile = shop
    west_only = flash_sale(chain, stock.cat.tee_s, node=chain.west)  # Store A is in the east
    assert Client().get(f"/s/{profile.slug}/deals/flash/{west_only.pk}/").status_code == 404
    assert Client().get(f"/s/{profile.slug}/deals/flash/{10**9}/").status_code == 404


def test_two_members_fill_a_group_on_the_storefront_and_both_pay_at_the_group_price(chain, shop):
    stock, profile = shop
    now = timezone.now()
    campaign = promo.group_buy_create(actor=chain.admin, node_id=chain.hq.id, code="GB1", name="拼团",
                                      sku_id=stock.cat.tee_s.pk, price_tiers=[{"size": 2, "price": 8900}], cap=10,
                                      starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=1),
                                      window_minutes=60)
    leader, friend = register(chain), register(chain)
    lead = signed_in(Client(), leader)
    opened = lead.post(f"/s/{profile.slug}/deals/group-buy/{campaign.pk}/", {"size": "2"})
    group = GroupBuyGroup.objects.get()
    assert opened.status_code == 302 and opened["Location"] == f"/s/{profile.slug}/deals/g/{group.token}/"
    page = lead.get(opened["Location"]).content.decode()
    assert 'id="sd-share"' in page and 'id="sd-to-cart"' in page
    buddy = signed_in(Client(), friend)
    assert buddy.post(opened["Location"]).status_code == 302
    assert GroupBuyMember.objects.filter(group=group).count() == 2
    for client, pay in ((lead, "stored_value"), (buddy, "stored_value")):
        member = leader if client is lead else friend
        members.stored_value_topup(actor=chain.manager_a, member_id=member.pk, amount_fen=20000,
                                   store_id=chain.store_a.id, payment_ref=f"top-{member.pk}")
        client.post(f"/s/{profile.slug}/cart/add", {"sku_id": stock.cat.tee_s.pk})
        client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup",
                                                         "pay": pay})
    orders = list(Order.objects.order_by("id"))
    assert [(o.total, o.paid_total) for o in orders] == [(8900, 8900), (8900, 8900)]
    group.refresh_from_db()
    assert (group.status, group.paid_count) == ("succeeded", 2)
    # a third member finds the group full
    late = signed_in(Client(), register(chain))
    assert late.post(opened["Location"]).status_code == 409
    assert_ledgers_clean()


def test_the_storefront_home_lists_the_deals_live_at_this_store(chain, shop):
    stock, profile = shop
    flash_sale(chain, stock.cat.tee_s, cap=3)
    west = flash_sale(chain, stock.cat.mug_sku, cap=4, node=chain.west)
    page = Client().get(f"/s/{profile.slug}/").content.decode()
    deals = page[page.index('id="sf-deals"'):]
    assert f"/s/{profile.slug}/deals/flash/" in deals and "¥9.90" in deals
    assert f"/deals/flash/{west.pk}/" not in page
    FlashSale.objects.update(is_active=False)
    assert 'id="sf-deals"' not in Client().get(f"/s/{profile.slug}/").content.decode()
