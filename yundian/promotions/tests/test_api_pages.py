"""The promotions API, the console pages and the public /p/ endpoints: happy paths, scoping (404 out of scope, 403
without the permission), bad input (4xx, nothing changed), idempotent creates."""
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from yundian.core.models import IdempotencyRecord
from yundian.org.tests.utils import assert_error, call, client_for
from yundian.promotions import services
from yundian.promotions.member_tokens import member_token
from yundian.promotions.models import (
    CouponCampaign, FlashSale, FlashSaleClaim, GroupBuyGroup, GroupBuyMember, Promotion, ShareLink,
)

from .factories import flash, group_campaign, make_catalogue, promo, register

URL = "/api/v1/promotions"


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def body(**kw):
    return {"node_id": kw.pop("node_id"), "code": "MJ300", "name": "满300减30", "kind": "threshold_amount",
            "tiers": [{"min": 30000, "off": 3000}], "status": "active", **kw}


def test_hq_creates_a_promotion_once_per_idempotency_key_and_reads_it_back(chain, cat):
    client = client_for(chain.admin)
    first = call(client, "post", URL, body(node_id=chain.hq.id), **{"Idempotency-Key": "k1"})
    again = call(client, "post", URL, body(node_id=chain.hq.id), **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    data = first.json()
    assert (data["kind"], data["tiers"], data["results"]["orders"]) == ("threshold_amount", [{"min": 30000, "off": 3000}], 0)
    assert Promotion.objects.count() == 1
    other = call(client, "post", URL, body(node_id=chain.hq.id, name="changed"), **{"Idempotency-Key": "k1"})
    assert_error(other, 409, "idempotency_key_reused")
    listed = call(client_for(chain.guide_a), "get", URL).json()
    assert [p["code"] for p in listed["items"]] == ["MJ300"]
    assert call(client, "get", f"{URL}/{data['id']}").json()["code"] == "MJ300"


def test_promotion_api_scoping_and_bad_input_change_nothing(chain, cat):
    b_promo = promo(chain, code="B", node=chain.store_b, actor=chain.manager_b, kind="amount_off", amount=100)
    before = (Promotion.objects.count(), IdempotencyRecord.objects.count())
    assert_error(call(client_for(chain.manager_a), "get", f"{URL}/{b_promo.pk}"), 404, "promotion_not_found")
    assert_error(call(client_for(chain.manager_a), "post", URL, body(node_id=chain.store_b.id)), 404)
    assert_error(call(client_for(chain.guide_a), "post", URL, body(node_id=chain.store_a.id)), 403, "forbidden")
    assert_error(call(client_for(chain.admin), "post", URL, body(node_id=chain.hq.id, tiers=[])), 422, "invalid_tiers")
    assert_error(call(client_for(chain.admin), "post", URL, "{not json"), 400, "malformed_body")
    assert_error(call(client_for(chain.admin), "post", URL, {"node_id": "x"}), 422, "invalid")
    assert_error(call(Client(), "get", URL), 401, "unauthenticated")
    assert_error(call(client_for(chain.manager_a), "post", f"{URL}/{b_promo.pk}/status", {"status": "ended"}), 404)
    assert (Promotion.objects.count(), IdempotencyRecord.objects.count()) == before
    assert Promotion.objects.get(pk=b_promo.pk).status == "active"


def test_the_quote_explains_what_applies_and_what_does_not(chain, cat):
    promo(chain, code="MJ", kind="threshold_amount", tiers=[{"min": 30000, "off": 3000}])
    promo(chain, code="P9", rate="0.9")
    response = call(client_for(chain.guide_a), "post", f"{URL}/quote",
                    {"store_id": chain.store_a.id, "lines": [{"sku_id": cat.tee_s.id, "quantity": 2}]})
    assert response.status_code == 200, response.content
    data = response.json()
    assert [a["code"] for a in data["applied"]] == ["P9"]
    assert data["not_applicable"][0]["code"] == "MJ" and data["not_applicable"][0]["reason"] == "threshold_not_met"
    assert data["total"] == 17820
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/quote",
                      {"store_id": chain.store_b.id, "lines": [{"sku_id": cat.tee_s.id, "quantity": 1}]}), 404)
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/quote",
                      {"store_id": chain.store_a.id, "lines": [{"sku_id": 10**9, "quantity": 1}]}), 422, "unknown_sku")


def test_coupon_campaign_issue_and_flash_sale_over_the_api(chain, cat):
    client = client_for(chain.admin)
    created = call(client, "post", f"{URL}/coupon-campaigns",
                   {"node_id": chain.hq.id, "code": "NEW10", "name": "新客券", "kind": "threshold_amount",
                    "tiers": [{"min": 0, "off": 1000}]})
    assert created.status_code == 201, created.content
    issued = call(client, "post", f"{URL}/coupon-campaigns/{created.json()['id']}/issue", {"count": 3})
    assert issued.status_code == 201 and len({c["code"] for c in issued.json()}) == 3
    now = timezone.now()
    sale = call(client, "post", f"{URL}/flash-sales",
                {"node_id": chain.hq.id, "code": "FS", "name": "秒杀", "sku_id": cat.mug_sku.id, "price": 990,
                 "cap": 100, "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()})
    assert sale.status_code == 201 and sale.json()["sold"] == 0
    bad = call(client, "post", f"{URL}/flash-sales",
               {"node_id": chain.hq.id, "code": "FS2", "name": "秒杀", "sku_id": cat.mug_sku.id, "price": 990,
                "cap": 100, "starts_at": now.isoformat(), "ends_at": now.isoformat()})
    assert_error(bad, 422, "invalid_window")
    assert (CouponCampaign.objects.count(), FlashSale.objects.count()) == (1, 1)


# --- public endpoints ------------------------------------------------------------------------------------------------

def post_json(url, data):
    return Client().post(url, data=json.dumps(data) if not isinstance(data, str) else data,
                         content_type="application/json")


def test_public_flash_buy_with_a_member_token(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=1, limit=1)
    member, other = register(chain), register(chain)
    url = f"/p/f/{sale.pk}/buy"
    first = post_json(url, {"member_token": member_token(member), "client_ref": "r1"})
    assert first.status_code == 201 and first.json()["quantity"] == 1
    assert post_json(url, {"member_token": member_token(member), "client_ref": "r1"}).status_code == 200
    assert_error(post_json(url, {"member_token": member_token(other), "client_ref": "r2"}), 409, "sold_out")
    assert_error(post_json(url, {"member_token": "forged", "client_ref": "r3"}), 401, "invalid_member_token")
    assert_error(post_json(url, "{nope"), 400, "malformed_body")
    assert_error(post_json(url, {"member_token": member_token(other), "client_ref": "r2", "quantity": "x"}), 422)
    assert_error(post_json("/p/f/999999/buy", {"member_token": member_token(member), "client_ref": "r9"}), 404)
    assert Client().get(url).status_code == 405
    assert FlashSaleClaim.objects.count() == 1
    page = Client().get(f"/p/f/{sale.pk}/")
    assert page.status_code == 200 and "秒杀" in page.content.decode()


def test_a_member_of_another_enterprise_cannot_buy(chain, other_chain, cat):
    sale = flash(chain, cat.mug_sku, cap=5)
    outsider = register(other_chain, store=other_chain.store_a, actor=other_chain.manager_a)
    assert_error(post_json(f"/p/f/{sale.pk}/buy", {"member_token": member_token(outsider), "client_ref": "r"}), 404)
    assert FlashSaleClaim.objects.count() == 0


def test_public_group_open_join_and_page(chain, cat):
    campaign = group_campaign(chain, cat.tee_s)
    leader, friend = register(chain), register(chain)
    opened = post_json(f"/p/gb/{campaign.pk}/open", {"member_token": member_token(leader), "size": 2})
    assert opened.status_code == 201, opened.content
    token = opened.json()["token"]
    assert opened.json()["price"] == 8900
    joined = post_json(f"/p/g/{token}/join", {"member_token": member_token(friend)})
    assert joined.status_code == 201
    assert_error(post_json(f"/p/g/{token}/join", {"member_token": member_token(register(chain))}), 409, "group_full")
    assert_error(post_json(f"/p/gb/{campaign.pk}/open", {"member_token": member_token(leader), "size": 7}), 422)
    assert_error(post_json(f"/p/gb/{campaign.pk}/open", {"member_token": member_token(leader), "size": "²"}), 422)
    assert GroupBuyMember.objects.count() == 2 and GroupBuyGroup.objects.count() == 1
    assert Client().get(f"/p/g/{token}/").status_code == 200
    assert Client().get("/p/g/nope/").status_code == 404


def test_a_share_link_counts_the_visit_and_remembers_itself(chain, cat):
    from yundian.stores.models import StoreProfile

    StoreProfile.objects.create(node=chain.store_a, enterprise_id=chain.hq.enterprise_id, slug="store-a",
                                address="1 Road", city="上海", latitude=31, longitude=121)
    link = services.share_link_create(actor=chain.guide_a, store_id=chain.store_a.id, product_id=cat.tee.pk)
    response = Client().get(f"/p/r/{link.code}/")
    assert response.status_code == 302 and response["Location"] == f"/s/store-a/p/{cat.tee.pk}/"
    assert response.cookies["yd_share"].value == link.code
    assert ShareLink.objects.get(pk=link.pk).visits == 1


def test_members_share_and_guides_get_links_over_the_api(chain, cat):
    member = register(chain)
    shared = post_json("/p/share", {"member_token": member_token(member), "store_id": chain.store_a.id,
                                    "product_id": cat.tee.pk})
    assert shared.status_code == 201 and shared.json()["url"].startswith("/p/r/")
    link = call(client_for(chain.guide_a), "post", f"{URL}/share-links", {"store_id": chain.store_a.id})
    assert link.status_code == 201 and link.json()["url"] == f"/p/r/{link.json()['code']}/"
    assert ShareLink.objects.count() == 2
    assert Client().get("/p/r/unknown/").status_code == 404


# --- console pages ---------------------------------------------------------------------------------------------------

def test_console_pages_render_for_every_role_and_hide_siblings(chain, cat):
    hq = promo(chain, code="HQ10", rate="0.9", name="总部九折")
    b = promo(chain, code="B", node=chain.store_b, actor=chain.manager_b, kind="amount_off", amount=100, name="B店立减")
    flash(chain, cat.mug_sku)
    for staff in (chain.admin, chain.manager_a, chain.guide_a, chain.auditor):
        client = client_for(staff)
        for url in ("/promotions/", "/promotions/coupons/", "/promotions/flash-and-groups/"):
            assert client.get(url).status_code == 200, (staff, url)
    page = client_for(chain.manager_a).get("/promotions/").content.decode()
    assert "总部九折" in page and "B店立减" not in page
    assert '<span class="badge" data-source="promotion">促销</span>' in page and '<span class="badge">promotion<' not in page
    assert client_for(chain.manager_a).get(f"/promotions/{hq.pk}/").status_code == 200
    assert client_for(chain.manager_a).get(f"/promotions/{b.pk}/").status_code == 404


def test_creating_a_promotion_from_the_console(chain, cat):
    client = client_for(chain.manager_a)
    ok = client.post("/promotions/new/", {"node_id": chain.store_a.id, "code": "A95", "name": "A店95折",
                                          "kind": "percent_off", "rate": "0.95", "activate": "on"})
    assert ok.status_code == 302
    promotion = Promotion.objects.get(code="A95")
    assert (promotion.node_id, promotion.status) == (chain.store_a.id, "active")
    bad = client.post("/promotions/new/", {"node_id": chain.store_a.id, "code": "A96", "name": "x",
                                           "kind": "percent_off", "rate": "2"})
    assert bad.status_code == 422 and 'data-code="invalid_rate"' in bad.content.decode()
    assert client_for(chain.guide_a).post("/promotions/new/", {}).status_code == 404
    superscript = client.post("/promotions/new/", {"node_id": "²", "code": "A97", "name": "x", "kind": "percent_off",
                                                   "rate": "0.9"})
    assert superscript.status_code == 404
    assert Promotion.objects.count() == 1
    paused = client.post(f"/promotions/{promotion.pk}/status/", {"status": "paused"})
    assert paused.status_code == 302 and Promotion.objects.get(pk=promotion.pk).status == "paused"
    services.promotion_set_status(actor=chain.admin, promotion_id=promotion.pk, status="ended")
