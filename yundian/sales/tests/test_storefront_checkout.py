"""The storefront cart and checkout: a shopper fills a cart on a store's cloud storefront, signs in as a member and
places a pickup or delivery order — priced by the one engine, stock held in the store's pool, once per checkout key."""
import re

import pytest
from django.test import Client

from yundian.inventory.models import Reservation
from yundian.members import services as members
from yundian.members.account import SESSION_KEY
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.promotions import services as promo
from yundian.promotions.models import Coupon
from yundian.sales.models import Order, OrderStatus
from yundian.sales.tests.factories import assert_ledgers_clean, level, sales_state, stocked
from yundian.stores.models import StoreProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(chain):
    stock = stocked(chain)
    profile = open_storefront(chain, stock.cat)
    return stock, profile


def signed_in(client: Client, member) -> Client:
    session = client.session
    session[SESSION_KEY] = {"m": member.pk, "e": member.enterprise_id}
    session.save()
    return client


def cart_key(client: Client, slug: str) -> str:
    page = client.get(f"/s/{slug}/cart/").content.decode()
    return re.search(r'name="key" value="([0-9a-f]{32})"', page).group(1)


def fill(client: Client, slug: str, *lines) -> None:
    for sku, quantity in lines:
        assert client.post(f"/s/{slug}/cart/add", {"sku_id": sku.pk}).status_code == 302
        client.post(f"/s/{slug}/cart/", {"action": "set", "sku_id": sku.pk, "quantity": quantity})


def test_a_shopper_fills_a_cart_signs_in_and_places_a_pickup_order_once(chain, shop):
    stock, profile = shop
    slug, tee, mug = profile.slug, stock.cat.tee_s, stock.cat.mug_sku
    client = Client()
    product = client.get(f"/s/{slug}/p/{tee.product_id}/")
    assert f'name="sku_id" value="{tee.pk}"' in product.content.decode()
    fill(client, slug, (tee, 2), (mug, 1))
    page = client.get(f"/s/{slug}/cart/").content.decode()
    assert "¥223.00" in page and 'id="sc-sign-in"' in page and f"next=/s/{slug}/cart/" in page
    refused = client.post(f"/s/{slug}/cart/checkout", {"key": "x", "mode": "pickup"})
    assert refused.status_code == 302 and "/me/sign-in/" in refused["Location"]
    assert not Order.objects.exists()

    member = register(chain)
    signed_in(client, member)
    key = cart_key(client, slug)
    form = {"key": key, "mode": "pickup", "pay": "store", "note": "after 6pm"}
    placed = client.post(f"/s/{slug}/cart/checkout", form)
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/s/{slug}/cart/placed/{order.number}/"
    assert (order.channel, order.mode, order.status, order.member_id, order.clerk_id, order.total, order.paid_total,
            order.note) == ("storefront", "pickup", OrderStatus.OPEN, member.pk, None, 22300, 0, "after 6pm")
    assert level(stock.wh_a, tee) == (10, 2) and level(stock.wh_a, mug) == (10, 1)
    assert Reservation.objects.filter(source_type="order", source_id=str(order.pk), status="active").count() == 2
    # the same form again (a double tap, a resubmit) goes to the same order
    again = client.post(f"/s/{slug}/cart/checkout", form)
    assert again["Location"] == placed["Location"] and Order.objects.count() == 1
    confirmation = client.get(placed["Location"]).content.decode()
    assert order.number in confirmation and "¥223.00" in confirmation
    assert 'id="sc-empty"' in client.get(f"/s/{slug}/cart/").content.decode()  # the cart is emptied
    assert order.number in client.get(f"/s/{slug}/me/orders/").content.decode()
    assert Client().get(placed["Location"]).status_code == 404  # only the member sees their confirmation
    assert_ledgers_clean()


def test_stored_value_pays_at_once_and_a_short_balance_changes_nothing(chain, shop):
    stock, profile = shop
    member = register(chain)
    members.stored_value_topup(actor=chain.manager_a, member_id=member.pk, amount_fen=10000, store_id=chain.store_a.id,
                               payment_ref="topup-1")
    client = signed_in(Client(), member)
    fill(client, profile.slug, (stock.cat.tee_s, 2))  # ¥198, more than the ¥100 balance
    page = client.get(f"/s/{profile.slug}/cart/").content.decode()
    assert re.search(r'value="stored_value"[^>]*disabled', page)
    before = sales_state()
    short = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup",
                                                             "pay": "stored_value"})
    assert short.status_code == 409 and sales_state() == before
    client.post(f"/s/{profile.slug}/cart/", {"action": "set", "sku_id": stock.cat.tee_s.pk, "quantity": 1})
    paid = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup",
                                                            "pay": "stored_value"})
    order = Order.objects.get()
    assert paid.status_code == 302 and (order.status, order.paid_total) == (OrderStatus.PAID, 9900)
    assert order.payments.get().method == "stored_value"
    assert_ledgers_clean()


def test_coupons_in_the_cart_are_priced_with_their_reason_and_redeemed_by_the_order(chain, shop):
    stock, profile = shop
    campaign = promo.coupon_campaign_create(actor=chain.admin, node_id=chain.hq.id, code="WEB", name="满100减20",
                                            kind="threshold_amount", tiers=[{"min": 10000, "off": 2000}])
    code = promo.coupon_issue(actor=chain.admin, campaign_id=campaign.pk, count=1)[0].code
    client = signed_in(Client(), register(chain))
    fill(client, profile.slug, (stock.cat.tee_s, 1))
    client.post(f"/s/{profile.slug}/cart/", {"action": "coupon", "code": code.lower()})
    page = client.get(f"/s/{profile.slug}/cart/").content.decode()
    assert f'data-code="{code}" class="sc-refused"' in page and 'id="sc-total">¥99.00' in page  # below ¥100
    before = sales_state()
    refused = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup"})
    assert refused.status_code == 422 and 'data-code="coupon_not_applicable"' in refused.content.decode()
    assert sales_state() == before
    client.post(f"/s/{profile.slug}/cart/", {"action": "set", "sku_id": stock.cat.tee_s.pk, "quantity": 2})
    assert 'id="sc-total">¥178.00' in client.get(f"/s/{profile.slug}/cart/").content.decode()
    client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup"})
    order = Order.objects.get()
    assert order.total == 17800 and Coupon.objects.get(code=code).status == "redeemed"


def test_delivery_needs_the_store_to_offer_it_and_an_address(chain, shop):
    stock, profile = shop
    client = signed_in(Client(), register(chain))
    fill(client, profile.slug, (stock.cat.mug_sku, 1))
    before = sales_state()
    offered_not = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug),
                                                                    "mode": "delivery", "address": "1 Road"})
    assert offered_not.status_code == 422 and 'data-code="invalid_mode"' in offered_not.content.decode()
    StoreProfile.objects.filter(pk=profile.pk).update(delivery_enabled=True)
    no_address = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug),
                                                                   "mode": "delivery", "address": "  "})
    assert no_address.status_code == 422 and sales_state() == before
    client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "delivery",
                                                     "address": "南京东路 1 号", "phone": "13800000000"})
    order = Order.objects.get()
    assert (order.mode, order.delivery) == ("delivery", {"address": "南京东路 1 号", "phone": "13800000000"})


def test_more_than_the_store_can_hold_is_refused_and_changes_nothing(chain, shop):
    stock, profile = shop
    client = signed_in(Client(), register(chain))
    fill(client, profile.slug, (stock.cat.mug_sku, 11))  # 10 on the shelf
    before = sales_state()
    response = client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug),
                                                                "mode": "pickup"})
    assert response.status_code == 409 and 'data-code="insufficient_stock"' in response.content.decode()
    assert sales_state() == before


def test_a_share_link_cookie_goes_on_the_order_and_an_expired_one_never_blocks_the_sale(chain, shop):
    stock, profile = shop
    promo.referral_rule_set(actor=chain.admin, rate="0.05")
    link = promo.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id)
    client = signed_in(Client(), register(chain))
    assert client.get(f"/p/r/{link.code}/").status_code == 302  # sets the cookie
    fill(client, profile.slug, (stock.cat.mug_sku, 1))
    client.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(client, profile.slug), "mode": "pickup"})
    assert Order.objects.get().share_code == link.code
    other = signed_in(Client(), register(chain))
    other.cookies["yd_share"] = "gone123"
    fill(other, profile.slug, (stock.cat.mug_sku, 1))
    response = other.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(other, profile.slug), "mode": "pickup"})
    assert response.status_code == 302 and response["Location"] == f"/s/{profile.slug}/cart/"
    assert response.cookies["yd_share"].value == "" and Order.objects.count() == 1
    other.post(f"/s/{profile.slug}/cart/checkout", {"key": cart_key(other, profile.slug), "mode": "pickup"})
    assert Order.objects.count() == 2 and Order.objects.order_by("id").last().share_code == ""


def test_a_member_of_another_enterprise_is_signed_out_here_and_bad_cart_input_is_refused(chain, other_chain, shop):
    stock, profile = shop
    foreign = register(other_chain)
    client = signed_in(Client(), foreign)
    fill(client, profile.slug, (stock.cat.mug_sku, 1))
    assert 'id="sc-sign-in"' in client.get(f"/s/{profile.slug}/cart/").content.decode()
    assert client.post(f"/s/{profile.slug}/cart/checkout", {"key": "k", "mode": "pickup"}).status_code == 302
    assert client.post(f"/s/{profile.slug}/cart/add", {"sku_id": "10000000"}).status_code == 404
    assert client.post(f"/s/{profile.slug}/cart/", {"action": "set", "sku_id": stock.cat.mug_sku.pk,
                                                     "quantity": "-3"}).status_code == 422
    assert client.post(f"/s/{profile.slug}/cart/", {"action": "nope"}).status_code == 400
    assert not Order.objects.exists()
