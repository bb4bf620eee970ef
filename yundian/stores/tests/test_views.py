"""Pages: the public storefront (no sign-in), HQ's templates and one-click opening, a store's storefront look."""
import re

import pytest
from django.test import Client

from yundian.catalog import services as catalog_services
from yundian.org.models import OrgNode
from yundian.org.tests.utils import client_for
from yundian.stores.models import StorefrontTheme, StoreProfile, StoreTemplate

from .factories import make_shop
from .utils import state

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


# --- public storefront ----------------------------------------------------------------------------------------------

def test_the_storefront_shows_the_store_theme_and_its_products_with_online_prices(chain):
    shop = make_shop(chain)
    response = Client().get(f"/s/{shop.profile_a.slug}/")
    assert response.status_code == 200
    html = text(response)
    assert "--primary: #1677FF; --accent: #FA8C16; --on-primary: #FFFFFF;" in html
    assert "新店开业，全场九折" in html and "/static/stores/banners/spring.svg" in html
    cards = re.findall(r'data-product="([^"]+)"', html)
    assert cards == ["TEE-001", "TEE-001", "MUG-01"]  # the featured T-shirt, then every product of the assortment
    # online prices: T-shirt S 89.00 from the HQ online list (M stays at its base 99.00), mug 19.90
    assert "¥89.00 <small>" in html and "¥19.90" in html and "苹果" not in html
    assert "Store A" in html and "人民大道 1 号" in html


def test_a_store_theme_change_shows_on_its_storefront_only(chain):
    shop = make_shop(chain)
    StorefrontTheme.objects.filter(store=shop.profile_b).update(primary_color="#FADB14", notice="成都店公告")
    html_b, html_a = text(Client().get(f"/s/{shop.profile_b.slug}/")), text(Client().get(f"/s/{shop.profile_a.slug}/"))
    assert "--primary: #FADB14;" in html_b and "--on-primary: #1F1F1F;" in html_b and "成都店公告" in html_b
    assert "--primary: #1677FF;" in html_a and "成都店公告" not in html_a


def test_the_storefront_search_and_a_price_change_reach_the_page_at_once(chain):
    shop = make_shop(chain)
    catalog_services.price_entry_set(actor=chain.admin, price_list_id=shop.online.id, sku_id=shop.catalogue.mug_sku.id,
                                     price=1500)
    html = text(Client().get(f"/s/{shop.profile_a.slug}/", {"q": "马克"}))
    assert re.findall(r'data-product="([^"]+)"', html) == ["MUG-01"]
    assert "¥15.00" in html


def test_product_detail_shows_media_and_every_option_price(chain):
    shop = make_shop(chain)
    catalog_services.media_add(actor=chain.admin, product_id=shop.catalogue.tee.id,
                               url="https://img.example.com/tee.jpg", alt_text="白色T恤")
    html = text(Client().get(f"/s/{shop.profile_a.slug}/p/{shop.catalogue.tee.id}/"))
    assert 'src="https://img.example.com/tee.jpg" alt="白色T恤"' in html
    assert re.findall(r'data-sku="([^"]+)"><span>[^<]*</span><span class="sf-price">([^<]+)<', html) == [
        ("TEE-001-S", "¥89.00"), ("TEE-001-M", "¥99.00")]
    assert '<p class="sf-price sf-price-large" id="sf-price">¥89.00 – ¥99.00</p>' in html


@pytest.mark.parametrize("path", ["/s/nobody/", "/s/acme-A/p/999999/", "/s/nobody/nearby/"])
def test_unknown_storefronts_and_products_are_404(chain, path):
    make_shop(chain)
    assert Client().get(path).status_code == 404


def test_a_product_outside_the_store_assortment_is_404(chain):
    shop = make_shop(chain)
    assert Client().get(f"/s/{shop.profile_a.slug}/p/{shop.catalogue.apples.id}/").status_code == 404


def test_a_closed_down_store_node_has_no_storefront_and_a_closed_store_says_so(chain):
    shop = make_shop(chain)
    StoreProfile.objects.filter(pk=shop.profile_a.pk).update(status="closed")
    assert "sf-closed" in text(Client().get(f"/s/{shop.profile_a.slug}/"))
    OrgNode.objects.filter(pk=chain.store_a.pk).update(is_active=False)
    assert Client().get(f"/s/{shop.profile_a.slug}/").status_code == 404


def test_the_nearby_page_lists_the_nearest_open_stores_to_switch_to(chain):
    shop = make_shop(chain)
    response = Client().get(f"/s/{shop.profile_b.slug}/nearby/", {"lat": "31.24", "lng": "121.49"})
    assert response.status_code == 200
    html = text(response)
    assert re.findall(r'data-code="([^"]+)"><a href="([^"]+)"', html) == [
        (shop.profile_a.slug, f"/s/{shop.profile_a.slug}/"), (shop.profile_b.slug, f"/s/{shop.profile_b.slug}/")]
    assert "1.9 km" in html or "1.8 km" in html
    assert Client().get(f"/s/{shop.profile_b.slug}/nearby/").status_code == 200


@pytest.mark.parametrize("params", [{"lat": "95", "lng": "1"}, {"lat": "x", "lng": "1"}, {"lat": "1", "lng": ""}])
def test_bad_positions_on_the_nearby_page_are_422(chain, params):
    shop = make_shop(chain)
    response = Client().get(f"/s/{shop.profile_b.slug}/nearby/", params)
    assert response.status_code == 422
    assert 'data-code="invalid_coordinate"' in text(response)


# --- console: storefront look -----------------------------------------------------------------------------------------

def test_a_store_manager_edits_their_storefront_look_on_the_page(chain):
    shop = make_shop(chain)
    manager = client_for(chain.manager_a)
    page = manager.get(f"/stores/{chain.store_a.id}/storefront/")
    assert page.status_code == 200
    assert re.search(r'data-field="logo_url" disabled', text(page))  # the logo is HQ's by default
    assert re.search(r'data-field="banner_url">', text(page))
    response = manager.post(f"/stores/{chain.store_a.id}/storefront/", {
        "primary_color": "#389e0d", "accent_color": "#fa8c16", "banner_url": "/static/stores/banners/forest.svg",
        "notice": "店长说：欢迎", "featured_present": "1", "featured_product_ids": [str(shop.catalogue.mug.id)]})
    assert (response.status_code, response["Location"]) == (302, f"/stores/{chain.store_a.id}/storefront/?saved=1")
    theme = StorefrontTheme.objects.get(store=shop.profile_a)
    assert (theme.primary_color, theme.banner_url, theme.notice, theme.featured_product_ids) == (
        "#389E0D", "/static/stores/banners/forest.svg", "店长说：欢迎", [shop.catalogue.mug.id])


def test_a_store_manager_gets_404_for_another_store_look_page_and_changes_nothing(chain):
    make_shop(chain)
    manager = client_for(chain.manager_a)
    before = state()
    assert manager.get(f"/stores/{chain.store_b.id}/storefront/").status_code == 404
    assert manager.post(f"/stores/{chain.store_b.id}/storefront/", {"notice": "hijack"}).status_code == 404
    assert manager.post("/stores/999999/storefront/", {"notice": "x"}).status_code == 404
    assert client_for(chain.guide_a).get(f"/stores/{chain.store_a.id}/storefront/").status_code == 404
    assert state() == before


@pytest.mark.parametrize("post, status, code", [
    ({"primary_color": "#12"}, 422, "invalid_colour"),
    ({"logo_url": "https://cdn.example.com/x.png"}, 403, "theme_field_not_editable"),
    ({"featured_present": "1", "featured_product_ids": ["abc"]}, 422, "invalid_ids"),
])
def test_bad_looks_are_shown_back_with_the_error_and_change_nothing(chain, post, status, code):
    make_shop(chain)
    before = state()
    response = client_for(chain.manager_a).post(f"/stores/{chain.store_a.id}/storefront/", post)
    assert response.status_code == status
    assert f'data-code="{code}"' in text(response)
    assert state() == before


# --- console: templates and opening ---------------------------------------------------------------------------------------

def test_hq_creates_a_template_on_the_page(chain):
    shop = make_shop(chain)
    admin = client_for(chain.admin)
    assert admin.get("/stores/templates/").status_code == 200
    assert admin.get("/stores/templates/new/").status_code == 200
    response = admin.post("/stores/templates/new/", {
        "code": "OUTLET", "name": "奥莱店", "price_list_id": str(shop.online.id),
        "category_ids": [str(shop.catalogue.household.id)], "primary_color": "#531dab", "accent_color": "#ffc53d",
        "notice": "", "managers": "1", "guides": "3", "hours_mon": "10:00-14:00, 15:00-22:00", "hours_sun": "",
        "pickup_enabled": "1", "min_days_cover": "4", "max_days_cover": "12"})
    template = StoreTemplate.objects.get(code="OUTLET")
    assert (response.status_code, response["Location"]) == (302, f"/stores/templates/{template.id}/")
    assert (template.primary_color, template.price_list_id, template.min_days_cover, template.max_days_cover) == (
        "#531DAB", shop.online.id, 4, 12)
    assert template.staff_plan == [{"role": "store_manager", "count": 1}, {"role": "guide", "count": 3}]
    assert template.opening_hours["mon"] == [["10:00", "14:00"], ["15:00", "22:00"]]
    assert template.opening_hours["sun"] == []
    assert set(template.categories.all()) == {shop.catalogue.household}
    assert admin.get(f"/stores/templates/{template.id}/").status_code == 200


@pytest.mark.parametrize("post, status, code", [
    ({"hours_mon": "nine to five"}, 422, "invalid_opening_hours"),
    ({"primary_color": "purple"}, 422, "invalid_colour"),
    ({"guides": "many"}, 422, "invalid_number"),
    ({"min_days_cover": ""}, 422, "invalid_number"),
    ({"code": "STD"}, 409, "code_taken"),
    ({"product_ids": ["999999"]}, 404, "product_not_found"),
])
def test_bad_templates_on_the_page_create_nothing(chain, post, status, code):
    make_shop(chain)
    before = state()
    base = {"code": "NEW", "name": "新模板", "primary_color": "#531dab", "accent_color": "#ffc53d", "managers": "1",
            "guides": "1", "min_days_cover": "4", "max_days_cover": "12"}
    response = client_for(chain.admin).post("/stores/templates/new/", {**base, **post})
    assert response.status_code == status
    assert f'data-code="{code}"' in text(response)
    assert state() == before


def test_hq_opens_a_store_on_the_page_once_even_if_the_form_is_sent_twice(chain):
    shop = make_shop(chain)
    admin = client_for(chain.admin)
    form = text(admin.get("/stores/open/"))
    key = re.search(r'name="client_key" value="([0-9a-f]{32})"', form).group(1)
    post = {"client_key": key, "template_id": str(shop.template.id), "parent_id": str(chain.west.id), "name": "成都太古里店",
            "code": "CD-002", "city": "成都", "address": "中纱帽街 8 号", "latitude": "30.6528", "longitude": "104.0830"}
    first = admin.post("/stores/open/", post)
    assert first.status_code == 201
    html = text(first)
    passwords = re.findall(r"<td><code>([^<]+)</code></td>", html)
    assert len(passwords) == 3 and all(len(p) == 16 for p in passwords)
    assert 'href="/s/CD-002/"' in html
    assert re.findall(r"<td>([^<]+)</td><td><code>", html) == ["店长", "导购 / 店员", "导购 / 店员"]  # roles by name, not code
    assert "store_manager" not in html
    before = state()
    second = admin.post("/stores/open/", post)
    assert second.status_code == 200
    assert 'id="opening-replayed"' in text(second) and re.findall(r"<td><code>([^<]+)</code></td>", text(second)) == [
        "—", "—", "—"]
    assert state() == before
    assert Client().get("/s/CD-002/").status_code == 200


def test_a_bad_opening_on_the_page_is_shown_back_and_opens_nothing(chain):
    shop = make_shop(chain)
    before = state()
    response = client_for(chain.admin).post("/stores/open/", {
        "client_key": "k", "template_id": str(shop.template.id), "parent_id": str(chain.west.id), "name": "x",
        "code": "CD-003", "city": "成都", "address": "x", "latitude": "300", "longitude": "104"})
    assert response.status_code == 422
    assert 'data-code="invalid_coordinate"' in text(response) and 'value="CD-003"' in text(response)
    assert state() == before


@pytest.mark.parametrize("who, path", [
    ("manager_a", "/stores/open/"), ("manager_a", "/stores/templates/"), ("east_manager", "/stores/templates/new/"),
    ("guide_a", "/stores/"), ("auditor", "/stores/open/"),
])
def test_pages_outside_a_role_are_404(chain, who, path):
    make_shop(chain)
    assert client_for(getattr(chain, who)).get(path).status_code == 404


def test_the_store_list_shows_each_role_its_stores(chain):
    make_shop(chain)
    admin_html = text(client_for(chain.admin).get("/stores/"))
    assert re.findall(r'<tr data-code="([^"]+)"', admin_html) == ["acme-A", "acme-B"]
    assert 'href="/stores/open/"' in admin_html
    manager_html = text(client_for(chain.manager_a).get("/stores/"))
    assert re.findall(r'<tr data-code="([^"]+)"', manager_html) == ["acme-A"]
    assert 'href="/stores/open/"' not in manager_html
    assert f'href="/stores/{chain.store_a.id}/storefront/"' in manager_html
    east_html = text(client_for(chain.east_manager).get("/stores/"))
    assert re.findall(r'<tr data-code="([^"]+)"', east_html) == ["acme-A"]
    assert "/storefront/" not in east_html
