"""Templates, the storefront policy, store profiles and themes: validation, scope, audit, nothing changed on failure."""
from decimal import Decimal

import pytest

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.org import services as org_services
from yundian.org.tests.factories import fresh
from yundian.stores import selectors, services
from yundian.stores.models import StorefrontTheme, StoreTemplate

from .factories import HOURS, make_shop, make_template
from .utils import state

pytestmark = pytest.mark.django_db


# --- templates -----------------------------------------------------------------------------------------------

def test_a_template_keeps_what_hq_gave_it_and_is_audited(chain):
    shop = make_shop(chain)
    template = StoreTemplate.objects.get(pk=shop.template.pk)
    assert (template.code, template.name, template.price_list_id, template.primary_color, template.accent_color) == (
        "STD", "标准店", shop.online.id, "#1677FF", "#FA8C16")
    assert set(template.products.all()) == {shop.catalogue.mug}
    assert set(template.categories.all()) == {shop.catalogue.apparel}
    assert template.staff_plan == [{"role": "store_manager", "count": 1}, {"role": "guide", "count": 2}]
    assert (template.opening_hours, template.min_days_cover, template.max_days_cover) == (HOURS, 5, 14)
    assert (template.theme_palette, template.theme_editable_fields) == (None, None)
    entry = AuditEntry.objects.get(action="store_template.create")
    assert (entry.target_id, entry.scope_path, entry.after["code"]) == (str(template.id), chain.hq.path, "STD")


def test_missing_weekdays_are_closed_and_intervals_are_sorted(chain):
    shop = make_shop(chain)
    template = make_template(chain, shop.catalogue, code="T2",
                             opening_hours={"sat": [["14:00", "20:00"], ["09:00", "12:00"]]})
    assert template.opening_hours == {"mon": [], "tue": [], "wed": [], "thu": [], "fri": [], "sun": [],
                                      "sat": [["09:00", "12:00"], ["14:00", "20:00"]]}


@pytest.mark.parametrize("overrides, error, code", [
    ({"primary_color": "red"}, ValidationFailed, "invalid_colour"),
    ({"accent_color": "#12345"}, ValidationFailed, "invalid_colour"),
    ({"primary_color": "#GGGGGG"}, ValidationFailed, "invalid_colour"),
    ({"theme_palette": ["#1677FF", "blue"]}, ValidationFailed, "invalid_colour"),
    ({"theme_palette": ["#000000"]}, ValidationFailed, "colour_not_in_palette"),
    ({"theme_editable_fields": ["font"]}, ValidationFailed, "invalid_theme_field"),
    ({"banner_url": "javascript:alert(1)"}, ValidationFailed, "invalid_url"),
    ({"logo_url": "http://example.com/logo.png"}, ValidationFailed, "invalid_url"),
    ({"logo_url": "//evil.example/logo.png"}, ValidationFailed, "invalid_url"),
    ({"product_ids": [999999]}, NotFound, "product_not_found"),
    ({"category_ids": [999999]}, NotFound, "category_not_found"),
    ({"featured_product_ids": [1, "2"]}, ValidationFailed, "invalid_ids"),
    ({"price_list_id": 999999}, NotFound, "price_list_not_found"),
    ({"staff_plan": [{"role": "hq_admin", "count": 1}]}, ValidationFailed, "invalid_staff_plan"),
    ({"staff_plan": [{"role": "guide", "count": 21}]}, ValidationFailed, "invalid_number"),
    ({"staff_plan": [{"role": "guide", "count": 1}, {"role": "guide", "count": 1}]}, ValidationFailed,
     "invalid_staff_plan"),
    ({"opening_hours": {"mon": [["22:00", "09:00"]]}}, ValidationFailed, "invalid_opening_hours"),
    ({"opening_hours": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, ValidationFailed, "invalid_opening_hours"),
    ({"opening_hours": {"monday": []}}, ValidationFailed, "invalid_opening_hours"),
    ({"opening_hours": {"mon": [["9:00", "18:00"]]}}, ValidationFailed, "invalid_opening_hours"),
    ({"min_days_cover": 20, "max_days_cover": 10}, ValidationFailed, "invalid_cover"),
    ({"min_days_cover": -1}, ValidationFailed, "invalid_number"),
    ({"notice": "x" * 281}, ValidationFailed, "too_long"),
    ({"code": "has space"}, ValidationFailed, "invalid_code"),
    ({"code": "STD"}, Conflict, "code_taken"),
    ({"colour": "#000000"}, ValidationFailed, "unknown_field"),
])
def test_bad_template_input_creates_nothing(chain, overrides, error, code):
    shop = make_shop(chain)
    before = state()
    with pytest.raises(error) as caught:
        make_template(chain, shop.catalogue, **{"code": "NEW", **overrides})
    assert caught.value.code == code
    assert state() == before


@pytest.mark.parametrize("who", ["east_manager", "dealer_staff", "manager_a", "guide_a", "auditor"])
def test_only_headquarters_writes_templates_and_the_policy(chain, who):
    shop = make_shop(chain)
    actor = fresh(getattr(chain, who))
    before = state()
    with pytest.raises(Forbidden):
        services.store_template_create(actor=actor, code="X", name="X")
    with pytest.raises(Forbidden):
        services.store_template_update(actor=actor, template_id=shop.template.id, name="X")
    with pytest.raises(Forbidden):
        services.storefront_policy_set(actor=actor, allowed_palette=[], editable_fields=["notice"])
    assert state() == before
    assert list(selectors.store_template_list(actor=actor)) == []


def test_updating_a_template_changes_it_not_the_stores_opened_from_it(chain):
    shop = make_shop(chain)
    services.store_template_update(actor=chain.admin, template_id=shop.template.id, primary_color="#52C41A",
                                   product_ids=[], notice="")
    template = StoreTemplate.objects.get(pk=shop.template.pk)
    assert (template.primary_color, list(template.products.all()), template.notice) == ("#52C41A", [], "")
    assert StorefrontTheme.objects.get(store=shop.profile_a).primary_color == "#1677FF"
    entry = AuditEntry.objects.get(action="store_template.update")
    assert (entry.before["theme"]["primary_color"], entry.after["theme"]["primary_color"]) == ("#1677FF", "#52C41A")


def test_a_template_of_another_enterprise_is_not_found(chain, other_chain):
    shop = make_shop(chain)
    before = state()
    with pytest.raises(NotFound):
        services.store_template_update(actor=other_chain.admin, template_id=shop.template.id, name="X")
    assert state() == before


# --- storefront themes within the policy ---------------------------------------------------------------------------

def test_a_store_manager_changes_their_own_storefront_within_the_default_policy(chain):
    shop = make_shop(chain)
    theme = services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, primary_color="#eb2f96",
                                             notice="周末满减", banner_url="https://cdn.example.com/b.png",
                                             featured_product_ids=[shop.catalogue.mug.id, shop.catalogue.tee.id])
    theme = StorefrontTheme.objects.get(pk=theme.pk)
    assert (theme.primary_color, theme.notice, theme.banner_url, theme.featured_product_ids) == (
        "#EB2F96", "周末满减", "https://cdn.example.com/b.png", [shop.catalogue.mug.id, shop.catalogue.tee.id])
    entry = AuditEntry.objects.get(action="storefront_theme.update")
    assert (entry.scope_path, entry.before["primary_color"], entry.after["primary_color"]) == (
        chain.store_a.path, "#1677FF", "#EB2F96")
    assert StorefrontTheme.objects.get(store=shop.profile_b).primary_color == "#1677FF"


@pytest.mark.parametrize("who", ["manager_a", "guide_a"])
def test_nobody_at_store_a_can_change_store_b_theme(chain, who):
    make_shop(chain)
    before = state()
    with pytest.raises(NotFound):
        services.storefront_theme_update(actor=fresh(getattr(chain, who)), store_id=chain.store_b.id, notice="hijack")
    assert state() == before


@pytest.mark.parametrize("who", ["guide_a", "east_manager", "dealer_staff", "auditor"])
def test_who_sees_a_store_without_storefront_edit_is_forbidden(chain, who):
    make_shop(chain)
    before = state()
    with pytest.raises(Forbidden):
        services.storefront_theme_update(actor=fresh(getattr(chain, who)), store_id=chain.store_a.id, notice="x")
    assert state() == before


def test_the_logo_is_headquarters_unless_the_policy_lets_stores_change_it(chain):
    make_shop(chain)
    before = state()
    with pytest.raises(Forbidden) as caught:
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id,
                                         logo_url="https://cdn.example.com/mine.png", notice="ok")
    assert (caught.value.code, caught.value.details) == ("theme_field_not_editable", {"fields": ["logo_url"]})
    assert state() == before
    services.storefront_policy_set(actor=chain.admin, allowed_palette=[], editable_fields=["logo_url"])
    theme = services.storefront_theme_update(actor=fresh(chain.manager_a), store_id=chain.store_a.id,
                                             logo_url="https://cdn.example.com/mine.png")
    assert theme.logo_url == "https://cdn.example.com/mine.png"


def test_sending_an_unchanged_field_the_store_may_not_edit_is_no_change(chain):
    make_shop(chain)
    theme = services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, logo_url="",
                                             notice="只改公告")
    assert (theme.logo_url, theme.notice) == ("", "只改公告")


def test_stores_pick_colours_only_from_the_hq_palette(chain):
    make_shop(chain)
    services.storefront_policy_set(actor=chain.admin, allowed_palette=["#1677ff", "#52C41A", "#FA8C16"],
                                   editable_fields=["primary_color", "accent_color", "notice"])
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, primary_color="#FF0000")
    assert (caught.value.code, caught.value.details["field"]) == ("colour_not_in_palette", "primary_color")
    with pytest.raises(Forbidden):
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id,
                                         banner_url="/static/stores/banners/ocean.svg")
    assert state() == before
    theme = services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, primary_color="#52c41a")
    assert theme.primary_color == "#52C41A"


def test_headquarters_is_not_bound_by_the_store_policy(chain):
    make_shop(chain)
    services.storefront_policy_set(actor=chain.admin, allowed_palette=["#1677FF"], editable_fields=[])
    theme = services.storefront_theme_update(actor=chain.admin, store_id=chain.store_b.id, primary_color="#000000",
                                             logo_url="/static/stores/logo.svg")
    assert (theme.primary_color, theme.logo_url) == ("#000000", "/static/stores/logo.svg")


def test_the_template_policy_overrides_the_enterprise_policy_live(chain):
    shop = make_shop(chain)
    services.store_template_update(actor=chain.admin, template_id=shop.template.id, theme_editable_fields=["notice"])
    before = state()
    with pytest.raises(Forbidden) as caught:
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, primary_color="#52C41A")
    assert caught.value.details == {"fields": ["primary_color"]}
    assert state() == before
    policy = selectors.theme_policy_for(selectors.store_get(actor=chain.admin, store_id=chain.store_a.id))
    assert (policy.editable_fields, policy.allowed_palette, policy.source) == (["notice"], [], "template")


@pytest.mark.parametrize("changes, code", [
    ({"primary_color": "#12345"}, "invalid_colour"),
    ({"accent_color": "rgb(0,0,0)"}, "invalid_colour"),
    ({"primary_color": None}, "invalid_colour"),
    ({"banner_url": "javascript:alert(1)"}, "invalid_url"),
    ({"banner_url": "/static/x.svg\" onerror=\"alert(1)"}, "invalid_url"),
    ({"notice": "a\x00b"}, "invalid_text"),
    ({"featured_product_ids": "1,2"}, "invalid_ids"),
    ({"featured_product_ids": list(range(1, 14))}, "invalid_ids"),
    ({"font": "serif"}, "invalid_theme_field"),
])
def test_bad_theme_input_changes_nothing(chain, changes, code):
    make_shop(chain)
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id, **changes)
    assert caught.value.code == code
    assert state() == before


def test_featured_products_come_from_the_store_assortment(chain):
    shop = make_shop(chain)
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.storefront_theme_update(actor=chain.manager_a, store_id=chain.store_a.id,
                                         featured_product_ids=[shop.catalogue.apples.id])
    assert (caught.value.code, caught.value.details["ids"]) == ("product_not_in_assortment", [shop.catalogue.apples.id])
    assert state() == before


# --- profiles -----------------------------------------------------------------------------------------------------

def test_a_store_manager_updates_their_store_hours_and_status(chain):
    make_shop(chain)
    profile = services.store_profile_update(actor=chain.manager_a, store_id=chain.store_a.id, status="closed",
                                            opening_hours={"sun": [["10:00", "18:00"]]}, delivery_enabled=True,
                                            latitude="31.2", min_days_cover=3)
    assert (profile.status, profile.opening_hours["sun"], profile.opening_hours["mon"], profile.delivery_enabled,
            profile.latitude, profile.min_days_cover) == ("closed", [["10:00", "18:00"]], [], True, Decimal("31.200000"), 3)
    assert AuditEntry.objects.filter(action="store_profile.update", target_id=str(profile.pk)).count() == 1


@pytest.mark.parametrize("changes, error, code", [
    ({"status": "gone"}, ValidationFailed, "invalid_status"),
    ({"latitude": "-90.5"}, ValidationFailed, "invalid_coordinate"),
    ({"longitude": True}, ValidationFailed, "invalid_coordinate"),
    ({"min_days_cover": 30}, ValidationFailed, "invalid_cover"),
    ({"pickup_enabled": "yes"}, ValidationFailed, "invalid_boolean"),
    ({"slug": "mine"}, ValidationFailed, "unknown_field"),
])
def test_bad_profile_input_changes_nothing(chain, changes, error, code):
    make_shop(chain)
    before = state()
    with pytest.raises(error) as caught:
        services.store_profile_update(actor=chain.manager_a, store_id=chain.store_a.id, **changes)
    assert caught.value.code == code
    assert state() == before


def test_profiles_are_scoped_like_the_org_tree(chain):
    make_shop(chain)
    before = state()
    with pytest.raises(NotFound):
        services.store_profile_update(actor=chain.manager_a, store_id=chain.store_b.id, status="closed")
    with pytest.raises(NotFound):
        services.store_profile_update(actor=chain.east_manager, store_id=chain.store_b.id, status="closed")
    with pytest.raises(Forbidden):
        services.store_profile_update(actor=chain.guide_a, store_id=chain.store_a.id, status="closed")
    assert state() == before
    assert services.store_profile_update(actor=chain.west_manager, store_id=chain.store_b.id,
                                         status="closed").status == "closed"


def test_a_profile_is_only_for_a_store_node_without_one(chain):
    shop = make_shop(chain)
    before = state()
    fields = dict(address="x", city="y", latitude="1", longitude="2")
    with pytest.raises(ValidationFailed) as caught:
        services.store_profile_create(actor=chain.admin, store_id=chain.east.id, **fields)
    assert caught.value.code == "not_a_store"
    with pytest.raises(Conflict) as caught:
        services.store_profile_create(actor=chain.admin, store_id=chain.store_a.id, **fields)
    assert caught.value.code == "profile_exists"
    with pytest.raises(Forbidden):
        services.store_profile_create(actor=chain.manager_a, store_id=chain.store_a.id, **fields)
    node = org_services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind="store", name="C", code="acme-C")
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.store_profile_create(actor=chain.admin, store_id=node.id, address="x", city="y", latitude="1")
    assert (caught.value.code, caught.value.details) == ("required", {"field": "longitude"})
    assert state() == before
    profile = services.store_profile_create(actor=chain.admin, store_id=node.id, **fields)
    # without a template: default hours and theme, an empty assortment
    assert (profile.slug, profile.theme.primary_color, profile.assortment.count()) == ("acme-C", "#D4380D", 0)
    assert shop.profile_a.slug == "acme-A"
