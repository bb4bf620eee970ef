"""One-click opening: everything the template says, in one transaction, once per client key."""
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from yundian.catalog import services as catalog_services
from yundian.core.errors import Conflict, Forbidden, IdempotencyConflict, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.inventory.models import Warehouse
from yundian.org.models import OrgNode, RoleAssignment, Staff
from yundian.org.tests.factories import fresh
from yundian.stores import selectors, services
from yundian.stores.models import StoreAssortment, StorefrontTheme, StoreProfile
from yundian.stores.services import opening as opening_module

from .factories import HOURS, make_shop, make_template
from .utils import counts, state

pytestmark = pytest.mark.django_db


def open_args(shop, chain, **overrides) -> dict:
    args = dict(template_id=shop.template.id, parent_id=chain.east.id, code="SH-009", name="上海南京路店",
                address="南京东路 300 号", city="上海", latitude="31.238000", longitude="121.480000",
                phone="021-63500000", client_key="open-sh-009")
    args.update(overrides)
    return args


def test_opening_creates_the_store_profile_warehouse_staff_assortment_and_theme_from_the_template(chain):
    shop = make_shop(chain)
    opening = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))

    node = OrgNode.objects.get(code="SH-009")
    assert (node.kind, node.parent_id, node.name, node.path) == ("store", chain.east.id, "上海南京路店",
                                                                f"{chain.east.path}{node.id}/")
    assert opening.store == node and opening.replayed is False
    profile = StoreProfile.objects.get(node=node)
    assert (profile.slug, profile.address, profile.city, profile.latitude, profile.longitude, profile.phone) == (
        "SH-009", "南京东路 300 号", "上海", Decimal("31.238000"), Decimal("121.480000"), "021-63500000")
    assert (profile.template_id, profile.opening_hours, profile.min_days_cover, profile.max_days_cover) == (
        shop.template.id, HOURS, 5, 14)
    assert (profile.status, profile.pickup_enabled, profile.delivery_enabled) == ("open", True, False)

    warehouse = Warehouse.objects.get(node=node)
    assert (warehouse.kind, warehouse.code, warehouse.is_active) == ("store", "WH-SH-009", True)
    assert opening.warehouse == warehouse

    staff = list(Staff.objects.filter(home=node).order_by("id"))
    assert [(s.user.username, list(s.roles.values_list("role", "node_id"))) for s in staff] == [
        ("acme-sh-009-manager", [("store_manager", node.id)]),
        ("acme-sh-009-guide-1", [("guide", node.id)]),
        ("acme-sh-009-guide-2", [("guide", node.id)]),
    ]
    assert [(a["username"], a["role"]) for a in opening.accounts] == [
        ("acme-sh-009-manager", "store_manager"), ("acme-sh-009-guide-1", "guide"), ("acme-sh-009-guide-2", "guide")]
    for account, member in zip(opening.accounts, staff):
        assert len(account["password"]) == 16
        assert member.user.check_password(account["password"])
    assert len({a["password"] for a in opening.accounts}) == 3

    rules = StoreAssortment.objects.filter(store=profile)
    assert {(r.product_id, r.category_id) for r in rules} == {(shop.catalogue.mug.id, None),
                                                              (None, shop.catalogue.apparel.id)}
    # the apparel category brings its sub-category's T-shirt; the mug is listed by itself; apples are not carried
    assert set(selectors.assortment_products(profile)) == {shop.catalogue.tee, shop.catalogue.mug}

    theme = StorefrontTheme.objects.get(store=profile)
    assert (theme.primary_color, theme.accent_color, theme.banner_url, theme.featured_product_ids, theme.notice) == (
        "#1677FF", "#FA8C16", "/static/stores/banners/spring.svg", [shop.catalogue.tee.id], "新店开业，全场九折")

    entry = AuditEntry.objects.get(action="store.open")
    assert (entry.target_id, entry.scope_path, entry.actor_label) == (str(node.id), node.path, "acme-admin")
    assert entry.after["accounts"] == ["acme-sh-009-manager", "acme-sh-009-guide-1", "acme-sh-009-guide-2"]
    assert entry.after["warehouse"] == "WH-SH-009"


def test_the_new_store_manager_can_sign_in_and_edit_only_their_own_storefront(chain):
    shop = make_shop(chain)
    opening = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    manager = Staff.objects.get(user__username="acme-sh-009-manager")
    theme = services.storefront_theme_update(actor=manager, store_id=opening.store.id, notice="欢迎光临")
    assert theme.notice == "欢迎光临"
    with pytest.raises(NotFound):
        services.storefront_theme_update(actor=fresh(manager), store_id=chain.store_a.id, notice="x")


def test_repeating_the_opening_with_the_same_client_key_returns_the_same_store_and_no_passwords(chain):
    shop = make_shop(chain)
    first = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    before = counts()

    again = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))

    assert counts() == before
    assert (again.store.id, again.profile.id, again.warehouse.id, again.replayed) == (
        first.store.id, first.profile.id, first.warehouse.id, True)
    assert [(a["staff_id"], a["username"], a["password"]) for a in again.accounts] == [
        (a["staff_id"], a["username"], None) for a in first.accounts]
    assert OrgNode.objects.filter(code="SH-009").count() == 1


def test_the_same_client_key_with_another_request_is_a_conflict_and_opens_nothing(chain):
    shop = make_shop(chain)
    services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    before = state()
    with pytest.raises(IdempotencyConflict) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, code="SH-010", name="另一家店"))
    assert caught.value.status == 409
    assert state() == before
    assert not OrgNode.objects.filter(code="SH-010").exists()


def test_another_client_key_for_the_same_code_is_refused_as_a_taken_code(chain):
    shop = make_shop(chain)
    services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    before = state()
    with pytest.raises(Conflict) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, client_key="another-key"))
    assert caught.value.code == "code_taken"
    assert state() == before


def test_a_failure_in_the_last_step_leaves_nothing_of_the_store(chain, monkeypatch):
    shop = make_shop(chain)
    before = state()

    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(opening_module, "audit_record", broken_audit)
    with pytest.raises(RuntimeError):
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))

    assert state() == before
    assert not OrgNode.objects.filter(code="SH-009").exists()
    assert not Warehouse.objects.filter(code="WH-SH-009").exists()
    assert not get_user_model().objects.filter(username__startswith="acme-sh-009").exists()
    # and the key was not used up: the same request goes through once the failure is gone
    monkeypatch.undo()
    opening = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    assert opening.replayed is False and len(opening.accounts) == 3


def test_a_taken_username_for_the_last_guide_rolls_back_the_whole_opening(chain):
    shop = make_shop(chain)
    get_user_model().objects.create_user(username="acme-sh-009-guide-2", password="whatever-123")
    before = state()
    with pytest.raises(Conflict) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    assert (caught.value.code, caught.value.details) == ("username_taken", {"field": "username"})
    assert state() == before
    assert not OrgNode.objects.filter(code="SH-009").exists()


def test_a_store_warehouse_code_already_taken_rolls_back_the_whole_opening(chain):
    shop = make_shop(chain)
    from yundian.inventory.services import warehouse_create

    warehouse_create(actor=chain.admin, node_id=chain.hq.id, kind="central", code="WH-SH-009", name="总仓")
    before = state()
    with pytest.raises(Conflict) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    assert caught.value.code == "warehouse_code_taken"
    assert state() == before


@pytest.mark.parametrize("overrides, error, code", [
    ({"latitude": "91"}, ValidationFailed, "invalid_coordinate"),
    ({"longitude": "east"}, ValidationFailed, "invalid_coordinate"),
    ({"latitude": float("nan")}, ValidationFailed, "invalid_coordinate"),
    ({"code": "bad code!"}, ValidationFailed, "invalid_code"),
    ({"name": ""}, ValidationFailed, "required"),
    ({"address": "  "}, ValidationFailed, "required"),
    ({"city": "上海\x00"}, ValidationFailed, "invalid_text"),
    ({"phone": "call me"}, ValidationFailed, "invalid_phone"),
    ({"client_key": ""}, ValidationFailed, "client_key_required"),
    ({"client_key": "x" * 129}, ValidationFailed, "invalid_idempotency_key"),
    ({"template_id": 999999}, NotFound, "template_not_found"),
    ({"template_id": "1"}, ValidationFailed, "invalid_ids"),
    ({"parent_id": 999999}, NotFound, "org_node_not_found"),
])
def test_bad_input_opens_nothing(chain, overrides, error, code):
    shop = make_shop(chain)
    before = state()
    with pytest.raises(error) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, **overrides))
    assert caught.value.code == code
    assert state() == before


def test_a_store_cannot_open_under_a_store(chain):
    shop = make_shop(chain)
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, parent_id=chain.store_a.id))
    assert caught.value.code == "kind_not_allowed_here"
    assert state() == before


def test_a_retired_template_opens_nothing(chain):
    shop = make_shop(chain)
    services.store_template_update(actor=chain.admin, template_id=shop.template.id, is_active=False)
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    assert caught.value.code == "template_inactive"
    assert state() == before


def test_the_template_price_list_must_apply_where_the_store_opens(chain):
    shop = make_shop(chain)
    west_list = catalog_services.price_list_create(actor=chain.admin, node_id=chain.west.id, channel="online",
                                                   code="WEST-ONLINE", name="西区线上价")
    template = make_template(chain, shop.catalogue, code="WEST", price_list_id=west_list.id)
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, template_id=template.id))
    assert caught.value.code == "price_list_not_applicable"
    assert state() == before
    opening = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, template_id=template.id,
                                                                                 parent_id=chain.west.id))
    assert opening.store.parent_id == chain.west.id


@pytest.mark.parametrize("who", ["east_manager", "dealer_staff", "manager_a", "guide_a", "auditor"])
def test_only_headquarters_opens_stores(chain, who):
    shop = make_shop(chain)
    before = state()
    with pytest.raises((NotFound, Forbidden)):
        services.store_open_from_template(actor=fresh(getattr(chain, who)), **open_args(shop, chain))
    assert state() == before


def test_another_enterprise_cannot_use_the_template_or_the_parent(chain, other_chain):
    shop = make_shop(chain)
    other_shop_template = make_template(other_chain, make_shop(other_chain).catalogue, code="OTHER")
    before = state()
    with pytest.raises(NotFound) as caught:
        services.store_open_from_template(actor=other_chain.admin, **open_args(shop, chain))
    assert caught.value.code == "template_not_found"
    with pytest.raises(NotFound) as caught:
        services.store_open_from_template(actor=other_chain.admin, **open_args(
            shop, chain, template_id=other_shop_template.id))
    assert caught.value.code == "org_node_not_found"
    assert state() == before


def test_the_same_store_code_in_two_enterprises_gets_two_storefront_addresses(chain, other_chain):
    shop = make_shop(chain)
    other = make_shop(other_chain)
    first = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain))
    second = services.store_open_from_template(actor=other_chain.admin, **open_args(
        other, other_chain, parent_id=other_chain.east.id, template_id=other.template.id))
    assert (first.profile.slug, second.profile.slug) == ("SH-009", "zeta-SH-009")


def test_a_template_without_staff_opens_a_store_without_accounts(chain):
    shop = make_shop(chain)
    template = make_template(chain, shop.catalogue, code="NOSTAFF", staff_plan=[])
    opening = services.store_open_from_template(actor=chain.admin, **open_args(shop, chain, template_id=template.id))
    assert opening.accounts == []
    assert not RoleAssignment.objects.filter(node=opening.store).exists()
