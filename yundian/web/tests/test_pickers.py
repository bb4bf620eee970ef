"""Pickers: the search behind each kind is the actor's scope (a store manager never finds another store's members,
stores or warehouses), shows a name with a code (a member's phone masked), and the forms that used typed ids take
the picked ids."""
import pytest

from yundian.catalog.tests.factories import make_catalogue
from yundian.inventory.tests.factories import make_stock
from yundian.members.tests.factories import register
from yundian.org.tests.factories import fresh
from yundian.org.tests.utils import client_for
from yundian.promotions.models import Coupon, Promotion
from yundian.promotions.tests.factories import campaign
from yundian.web.pickers import picker_labels, picker_search

pytestmark = pytest.mark.django_db


def found(actor, kind, query="") -> list[tuple[str, str]]:
    return [(o.label, o.code) for o in picker_search(actor=fresh(actor), kind=kind, query=query)]


def test_a_store_manager_finds_only_their_own_stores_members_with_the_phone_masked(chain):
    ours = register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    theirs = register(chain, phone="13833334444", name="王强", store=chain.store_b)
    assert found(chain.manager_a, "member", "王") == [("王芳", "138****2222")]
    assert found(chain.manager_b, "member", "王") == [("王强", "138****4444")]
    assert found(chain.manager_a, "member", "13833334444") == []  # not even by the exact phone
    assert sorted(found(chain.admin, "member", "王")) == [("王强", "138****4444"), ("王芳", "138****2222")]
    # ids typed or posted from elsewhere are not labelled either
    assert [o.id for o in picker_labels(actor=fresh(chain.manager_a), kind="member", ids=[theirs.id, ours.id])] == [
        ours.id]


def test_the_member_search_endpoint_answers_a_fragment_scoped_to_the_actor(chain):
    register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    register(chain, phone="13833334444", name="王强", store=chain.store_b)
    html = client_for(chain.manager_a).get("/pick/member/", {"q": "王"}).content.decode()
    assert 'role="option"' in html and "王芳" in html and "138****2222" in html
    assert "王强" not in html and "13811112222" not in html
    assert client_for(chain.manager_a).get("/pick/nonsense/", {"q": "x"}).status_code == 404
    assert client_for(chain.manager_a).get("/pick/member/", {"q": "无此人"}).content.decode().count('role="option"') == 0


def test_stores_warehouses_and_staff_are_scoped_too(chain):
    stock = make_stock(chain)
    assert found(chain.manager_a, "store") == [("Store A", "acme-A")]
    assert found(chain.east_manager, "store") == [("Store A", "acme-A")]
    assert sorted(found(chain.admin, "store")) == [("Store A", "acme-A"), ("Store B", "acme-B")]
    assert found(chain.manager_a, "warehouse") == [("Store A", "WH-A")]
    assert sorted(c for _, c in found(chain.admin, "warehouse", "W")) == ["CW-1", "VW-1", "WH-A", "WH-B"]
    assert {label for label, _ in found(chain.manager_a, "staff")} == {"manager-a", "guide-a"}
    assert stock.wh_b.id not in [o.id for o in picker_labels(actor=fresh(chain.manager_a), kind="warehouse",
                                                             ids=[stock.wh_b.id])]


def test_skus_products_and_categories_are_found_by_name_code_or_barcode(chain):
    cat = make_catalogue(chain)
    assert found(chain.guide_a, "sku", "TEE-001") == [("纯棉T恤 S", "TEE-001-S"), ("纯棉T恤 M", "TEE-001-M")]
    assert found(chain.guide_a, "sku", cat.mug_sku.barcodes.first().code) == [("马克杯", "MUG-01")]
    assert found(chain.guide_a, "product", "马克") == [("马克杯", "MUG-01")]
    assert found(chain.guide_a, "category", "APP") == [("服装", "APP"), ("T恤", "APP-TEE")]


def test_another_enterprise_sees_none_of_it(chain, other_chain):
    make_catalogue(chain)
    register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    assert found(other_chain.admin, "sku", "TEE") == [] and found(other_chain.admin, "member", "王") == []
    assert found(other_chain.admin, "store", "acme") == []


def test_the_promotion_form_takes_picked_skus_categories_and_bundle_rows(chain):
    cat = make_catalogue(chain)
    client = client_for(chain.admin)
    response = client.post("/promotions/new/", {
        "node_id": chain.hq.id, "code": "P-PICK", "name": "挑选", "kind": "percent_off", "rate": "0.9",
        "sku_ids": [str(cat.tee_s.id), str(cat.mug_sku.id)], "category_ids": [str(cat.tees.id)]})
    assert response.status_code == 302, response.content.decode()[:500]
    promotion = Promotion.objects.get(code="P-PICK")
    assert (sorted(promotion.sku_ids), promotion.category_ids) == (sorted([cat.tee_s.id, cat.mug_sku.id]),
                                                                   [cat.tees.id])
    response = client.post("/promotions/new/", {
        "node_id": chain.hq.id, "code": "P-BUNDLE", "name": "套装", "kind": "bundle", "bundle_price": "100",
        "bundle_sku_1": "", "bundle_quantity_1": "", "bundle_sku_2": str(cat.mug_sku.id), "bundle_quantity_2": "2",
        "bundle_sku_3": str(cat.tee_s.id), "bundle_quantity_3": ""})
    assert response.status_code == 302, response.content.decode()[:500]
    bundle = Promotion.objects.get(code="P-BUNDLE")
    assert sorted((i["sku_id"], i["quantity"]) for i in bundle.bundle_items) == sorted(
        [(cat.mug_sku.id, 2), (cat.tee_s.id, 1)])
    form = client.get("/promotions/").content.decode()
    assert 'hx-get="/pick/sku/"' in form and 'hx-get="/pick/category/"' in form and "逗号" not in form


def test_a_refused_promotion_form_shows_the_picked_skus_again_by_name(chain):
    cat = make_catalogue(chain)
    before = Promotion.objects.count()
    response = client_for(chain.admin).post("/promotions/new/", {
        "node_id": chain.hq.id, "code": "", "name": "", "kind": "percent_off", "rate": "0.9",
        "sku_ids": [str(cat.tee_s.id)]})
    html = response.content.decode()
    assert response.status_code == 422 and Promotion.objects.count() == before
    assert f'name="sku_ids" value="{cat.tee_s.id}"' in html and "TEE-001-S" in html


def test_coupons_issued_to_picked_members_can_be_seen_again_and_exported(chain):
    make_catalogue(chain)
    ours = register(chain, phone="13811112222", name="王芳", store=chain.store_a)
    theirs = register(chain, phone="13833334444", name="王强", store=chain.store_b)
    coupon_campaign = campaign(chain, code_mode="unique")
    admin = client_for(chain.admin)
    response = admin.post(f"/promotions/coupons/{coupon_campaign.id}/issue/",
                          {"member_ids": [str(ours.id), str(theirs.id)]})
    assert response.status_code == 200
    codes = dict(Coupon.objects.values_list("member_id", "code"))
    assert set(codes) == {ours.id, theirs.id}
    page = admin.get(f"/promotions/coupons/{coupon_campaign.id}/codes/").content.decode()
    assert codes[ours.id] in page and codes[theirs.id] in page and "138****2222" in page
    assert page.count('data-status="available"') == 2
    export = admin.get(f"/promotions/coupons/{coupon_campaign.id}/codes/", {"format": "csv"})
    lines = export.content.decode("utf-8-sig").strip().splitlines()
    assert export["Content-Type"].startswith("text/csv") and len(lines) == 3
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(codes.values())
    # store A's manager sees their own member's code again, not store B's
    mine = client_for(chain.manager_a).get(f"/promotions/coupons/{coupon_campaign.id}/codes/").content.decode()
    assert codes[ours.id] in mine and codes[theirs.id] not in mine
    # the member's 360° page lists it with its status
    profile = admin.get(f"/members/{ours.id}/").content.decode()
    assert f'data-code="{codes[ours.id]}" data-status="available"' in profile


def test_a_store_manager_cannot_issue_to_another_stores_member_and_nothing_is_issued(chain):
    make_catalogue(chain)
    theirs = register(chain, phone="13833334444", name="王强", store=chain.store_b)
    coupon_campaign = campaign(chain, code_mode="unique")
    response = client_for(chain.manager_a).post(f"/promotions/coupons/{coupon_campaign.id}/issue/",
                                                {"member_ids": [str(theirs.id)]})
    assert response.status_code == 404 and Coupon.objects.count() == 0


def test_message_templates_are_found_by_name_with_their_channels_and_only_within_reach(chain, other_chain):
    from django.utils import translation

    from yundian.messaging.services import template_create

    body = [{"channel": "inapp", "subject": "新品", "body": "新品到店"}, {"channel": "sms", "body": "新品到店"}]
    hq = template_create(actor=chain.admin, name="总部新品", node_id=chain.hq.id, bodies=body)
    template_create(actor=chain.admin, name="西区新品", node_id=chain.west.id, bodies=body[:1])
    template_create(actor=other_chain.admin, name="别家新品", bodies=body)
    # a store manager in the East finds HQ's template (above them), not the West's nor another enterprise's
    with translation.override("zh-hans"):
        assert found(chain.manager_a, "message_template", "新品") == [("总部新品", "短信 · 店铺消息")]
        assert sorted(found(chain.admin, "message_template", "新品")) == [
            ("总部新品", "短信 · 店铺消息"), ("西区新品", "店铺消息")]
    assert [o.id for o in picker_labels(actor=fresh(chain.manager_a), kind="message_template", ids=[hq.id])] == [hq.id]
