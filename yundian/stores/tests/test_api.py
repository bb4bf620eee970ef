"""The stores API: the one error shape, scope (404), permissions (403), bad input (4xx) changes nothing."""
import pytest

from yundian.org.tests.utils import assert_error, call, client_for
from yundian.stores.models import StorefrontTheme, StoreProfile

from .factories import SHANGHAI, make_shop
from .utils import state

pytestmark = pytest.mark.django_db

OPEN = "/api/v1/stores/open"


def open_body(shop, chain, **overrides) -> dict:
    body = dict(template_id=shop.template.id, parent_id=chain.east.id, code="SH-020", name="上海徐家汇店",
                address="漕溪北路 1 号", city="上海", latitude=31.1955, longitude=121.4370, phone="",
                client_key="api-open-1")
    body.update(overrides)
    return body


def test_opening_through_the_api_answers_201_once_then_replays_200_without_passwords(chain):
    shop = make_shop(chain)
    admin = client_for(chain.admin)
    first = call(admin, "POST", OPEN, open_body(shop, chain))
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["store"]["code"], body["store"]["slug"], body["store"]["url"], body["replayed"]) == (
        "SH-020", "SH-020", "/s/SH-020/", False)
    assert (body["store"]["latitude"], body["store"]["longitude"]) == (31.1955, 121.437)
    assert [a["username"] for a in body["accounts"]] == ["acme-sh-020-manager", "acme-sh-020-guide-1",
                                                          "acme-sh-020-guide-2"]
    assert all(len(a["password"]) == 16 for a in body["accounts"])
    before = state()
    again = call(admin, "POST", OPEN, open_body(shop, chain))
    assert again.status_code == 200
    assert again.json()["store"] == body["store"]
    assert [a["password"] for a in again.json()["accounts"]] == [None, None, None]
    assert state() == before
    conflict = call(admin, "POST", OPEN, open_body(shop, chain, name="别的店"))
    assert_error(conflict, 409, "idempotency_key_reused")
    assert state() == before


@pytest.mark.parametrize("body, status, code", [
    ("{not json", 400, "malformed_body"),
    ({"latitude": "north"}, 422, "invalid"),
    ({"latitude": 95}, 422, "invalid_coordinate"),
    ({"client_key": ""}, 422, "invalid"),
    ({"template_id": None}, 422, "invalid"),
    ({"code": "x" * 33}, 422, "invalid"),
    ({"extra": 1}, 422, "invalid"),
    ({"template_id": 999999}, 404, "template_not_found"),
    ({"parent_id": 999999}, 404, "org_node_not_found"),
    ({"code": "acme-A"}, 409, "code_taken"),
])
def test_bad_opening_requests_are_4xx_and_open_nothing(chain, body, status, code):
    shop = make_shop(chain)
    before = state()
    payload = body if isinstance(body, str) else open_body(shop, chain, **body)
    assert_error(call(client_for(chain.admin), "POST", OPEN, payload), status, code)
    assert state() == before


def test_only_headquarters_opens_stores_through_the_api(chain):
    shop = make_shop(chain)
    before = state()
    assert_error(call(client_for(chain.east_manager), "POST", OPEN, open_body(shop, chain)), 404, "template_not_found")
    assert_error(call(client_for(chain.manager_a), "POST", OPEN, open_body(shop, chain)), 404, "template_not_found")
    assert_error(call(api_client(), "POST", OPEN, open_body(shop, chain)), 401, "unauthenticated")
    assert state() == before


def api_client():
    from django.test import Client

    return Client()


# --- themes ----------------------------------------------------------------------------------------------------

def test_a_store_manager_cannot_read_or_change_another_store_theme_through_the_api(chain):
    make_shop(chain)
    manager_a = client_for(chain.manager_a)
    before = state()
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_b.id}/theme", {"notice": "x"}), 404,
                 "store_not_found")
    assert_error(call(manager_a, "GET", f"/api/v1/stores/{chain.store_b.id}/theme"), 404, "store_not_found")
    assert_error(call(manager_a, "PATCH", "/api/v1/stores/999999/theme", {"notice": "x"}), 404)
    assert state() == before
    own = call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}/theme", {"notice": "店长推荐", "accent_color": "#13c2c2"})
    assert own.status_code == 200
    assert (own.json()["notice"], own.json()["accent_color"], own.json()["store_id"]) == ("店长推荐", "#13C2C2",
                                                                                          chain.store_a.id)
    assert own.json()["editable_fields"] == ["primary_color", "accent_color", "banner_url", "featured_product_ids",
                                             "notice"]


@pytest.mark.parametrize("body, status, code", [
    ({"primary_color": "#zzzzzz"}, 422, "invalid_colour"),
    ({"primary_color": "#1234567"}, 422, "invalid"),
    ({"logo_url": "https://cdn.example.com/l.png"}, 403, "theme_field_not_editable"),
    ({"font": "serif"}, 422, "invalid"),
    ({"notice": None}, 422, "null_not_allowed"),
    ({"featured_product_ids": ["a"]}, 422, "invalid"),
    ({"featured_product_ids": [999999]}, 404, "product_not_found"),
    ("[1, 2", 400, "malformed_body"),
])
def test_bad_theme_changes_are_4xx_and_change_nothing(chain, body, status, code):
    make_shop(chain)
    before = state()
    assert_error(call(client_for(chain.manager_a), "PATCH", f"/api/v1/stores/{chain.store_a.id}/theme", body),
                 status, code)
    assert state() == before


def test_a_palette_set_by_hq_limits_store_colours_through_the_api(chain):
    make_shop(chain)
    admin = client_for(chain.admin)
    response = call(admin, "PUT", "/api/v1/stores/policy", {"allowed_palette": ["#1677FF", "#52c41a"],
                                                             "editable_fields": ["primary_color", "notice"]})
    assert response.status_code == 200
    assert response.json() == {"allowed_palette": ["#1677FF", "#52C41A"], "editable_fields": ["primary_color", "notice"]}
    before = state()
    manager_a = client_for(chain.manager_a)
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}/theme", {"primary_color": "#FF0000"}),
                 422, "colour_not_in_palette")
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}/theme", {"accent_color": "#52C41A"}),
                 403, "theme_field_not_editable")
    assert state() == before
    assert call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}/theme",
                {"primary_color": "#52C41A"}).json()["primary_color"] == "#52C41A"


@pytest.mark.parametrize("body, status, code", [
    ({"allowed_palette": ["red"], "editable_fields": []}, 422, "invalid_colour"),
    ({"allowed_palette": [], "editable_fields": ["font"]}, 422, "invalid_theme_field"),
    ({"allowed_palette": []}, 422, "invalid"),
])
def test_bad_policy_is_refused(chain, body, status, code):
    make_shop(chain)
    before = state()
    assert_error(call(client_for(chain.admin), "PUT", "/api/v1/stores/policy", body), status, code)
    assert_error(call(client_for(chain.manager_a), "PUT", "/api/v1/stores/policy",
                      {"allowed_palette": [], "editable_fields": []}), 403, "hq_only")
    assert state() == before


# --- templates ----------------------------------------------------------------------------------------------------

def test_templates_are_created_read_and_changed_by_hq_only(chain):
    shop = make_shop(chain)
    admin = client_for(chain.admin)
    created = call(admin, "POST", "/api/v1/stores/templates", {
        "code": "MINI", "name": "社区小店", "product_ids": [shop.catalogue.mug.id], "primary_color": "#722ed1",
        "staff_plan": [{"role": "store_manager", "count": 1}], "opening_hours": {"mon": [["08:00", "20:00"]]},
        "min_days_cover": 3, "max_days_cover": 10})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["code"], body["primary_color"], body["product_ids"], body["staff_plan"], body["opening_hours"]["mon"],
            body["opening_hours"]["tue"]) == ("MINI", "#722ED1", [shop.catalogue.mug.id],
                                              [{"role": "store_manager", "count": 1}], [["08:00", "20:00"]], [])
    changed = call(admin, "PATCH", f"/api/v1/stores/templates/{body['id']}", {"theme_palette": ["#722ED1", "#FAAD14"], "price_list_id": shop.online.id})
    assert (changed.json()["theme_palette"], changed.json()["price_list_id"]) == (["#722ED1", "#FAAD14"],
                                                                                  shop.online.id)
    assert_error(call(admin, "PATCH", f"/api/v1/stores/templates/{body['id']}", {"theme_palette": ["#722ED1"]}), 422,
                 "colour_not_in_palette")
    cleared = call(admin, "PATCH", f"/api/v1/stores/templates/{body['id']}", {"theme_palette": None})
    assert cleared.json()["theme_palette"] is None
    assert [t["code"] for t in call(admin, "GET", "/api/v1/stores/templates").json()] == ["STD", "MINI"]

    manager = client_for(chain.manager_a)
    before = state()
    assert call(manager, "GET", "/api/v1/stores/templates").json() == []
    assert_error(call(manager, "GET", f"/api/v1/stores/templates/{body['id']}"), 404, "template_not_found")
    assert_error(call(manager, "POST", "/api/v1/stores/templates", {"code": "X", "name": "X"}), 403, "hq_only")
    assert_error(call(manager, "PATCH", f"/api/v1/stores/templates/{body['id']}", {"name": "X"}), 403, "hq_only")
    assert state() == before


@pytest.mark.parametrize("body, status, code", [
    ({"code": "BAD", "name": "x", "primary_color": "blue"}, 422, "invalid_colour"),
    ({"code": "BAD", "name": "x", "staff_plan": [{"role": "guide"}]}, 422, "invalid"),
    ({"code": "BAD", "name": "x", "opening_hours": {"mon": [["09:00"]]}}, 422, "invalid_opening_hours"),
    ({"code": "BAD", "name": "x", "min_days_cover": 9, "max_days_cover": 1}, 422, "invalid_cover"),
    ({"code": "BAD", "name": "x", "product_ids": [999999]}, 404, "product_not_found"),
    ({"code": "STD", "name": "x"}, 409, "code_taken"),
    ({"code": "BAD"}, 422, "invalid"),
])
def test_bad_templates_are_refused_and_nothing_is_created(chain, body, status, code):
    make_shop(chain)
    before = state()
    assert_error(call(client_for(chain.admin), "POST", "/api/v1/stores/templates", body), status, code)
    assert state() == before


# --- profiles and lists -------------------------------------------------------------------------------------------

def test_store_lists_and_profiles_are_scoped(chain):
    make_shop(chain)
    listed = call(client_for(chain.manager_a), "GET", "/api/v1/stores").json()
    assert [s["code"] for s in listed["items"]] == ["acme-A"]
    assert [s["code"] for s in call(client_for(chain.admin), "GET", "/api/v1/stores").json()["items"]] == [
        "acme-A", "acme-B"]
    before = state()
    manager_a = client_for(chain.manager_a)
    assert_error(call(manager_a, "GET", f"/api/v1/stores/{chain.store_b.id}"), 404, "store_not_found")
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_b.id}", {"status": "closed"}), 404)
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}", {"status": "gone"}), 422,
                 "invalid_status")
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}", {"latitude": None}), 422,
                 "null_not_allowed")
    assert_error(call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}", {"slug": "mine"}), 422, "invalid")
    assert_error(call(client_for(chain.guide_a), "PATCH", f"/api/v1/stores/{chain.store_a.id}", {"status": "closed"}),
                 403)
    assert_error(call(client_for(chain.admin), "POST", f"/api/v1/stores/{chain.store_a.id}/profile",
                      {"address": "x", "city": "y", "latitude": 1, "longitude": 2}), 409, "profile_exists")
    assert state() == before
    changed = call(manager_a, "PATCH", f"/api/v1/stores/{chain.store_a.id}", {"status": "closed", "phone": "13800138000"})
    assert (changed.status_code, changed.json()["status"], changed.json()["phone"]) == (200, "closed", "13800138000")


# --- nearest (public) ---------------------------------------------------------------------------------------------

def test_nearest_is_public_for_an_enterprise_and_sorted_by_distance(chain, other_chain):
    shop = make_shop(chain)
    make_shop(other_chain)
    anonymous = api_client()
    response = anonymous.get("/api/v1/stores/nearest", {"lat": "31.24", "lng": "121.49", "enterprise": "acme"})
    assert response.status_code == 200
    rows = response.json()
    assert [r["slug"] for r in rows] == [shop.profile_a.slug, shop.profile_b.slug]
    assert 1.8 < rows[0]["distance_km"] < 1.9
    assert rows[0]["url"] == f"/s/{shop.profile_a.slug}/"
    assert set(rows[0]) == {"id", "code", "name", "slug", "url", "address", "city", "latitude", "longitude", "phone",
                            "opening_hours", "status", "pickup_enabled", "delivery_enabled", "distance_km"}
    # signed in: the caller's own enterprise
    own = client_for(chain.manager_b).get("/api/v1/stores/nearest", {"lat": SHANGHAI[0], "lng": SHANGHAI[1], "limit": 1})
    assert [r["slug"] for r in own.json()] == [shop.profile_a.slug]


@pytest.mark.parametrize("params, status, code", [
    ({"lat": "31", "lng": "121"}, 422, "enterprise_required"),
    ({"lat": "31", "lng": "121", "enterprise": "nobody"}, 422, "unknown_enterprise"),
    ({"lat": "abc", "lng": "121", "enterprise": "acme"}, 422, "invalid"),
    ({"lat": "95", "lng": "121", "enterprise": "acme"}, 422, "invalid_coordinate"),
    ({"lat": "nan", "lng": "121", "enterprise": "acme"}, 422, None),
    ({"lng": "121", "enterprise": "acme"}, 422, "invalid"),
    ({"lat": "31", "lng": "121", "limit": "0", "enterprise": "acme"}, 422, "invalid"),
    ({"lat": "31", "lng": "121", "limit": "1000", "enterprise": "acme"}, 422, "invalid"),
    ({"lat": "31", "lng": "121", "max_km": "-1", "enterprise": "acme"}, 422, "invalid"),
    ({"lat": "31", "lng": "121", "enterprise": "a\x00"}, 422, "invalid"),
])
def test_bad_nearest_queries_are_422(chain, params, status, code):
    make_shop(chain)
    assert_error(api_client().get("/api/v1/stores/nearest", params), status, code)


def test_theme_rows_exist_for_every_profile(chain):
    make_shop(chain)
    assert StorefrontTheme.objects.count() == StoreProfile.objects.count() == 2
