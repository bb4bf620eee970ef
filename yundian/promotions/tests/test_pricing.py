"""Pricing from the database: which promotions reach a store, floors, coupons behind codes, tiers, claims, scoping
of creation, bad input."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.members.models import Member
from yundian.members.services import tier_create
from yundian.promotions import selectors, services
from yundian.promotions.models import Promotion, PromotionStatus

from .factories import campaign, flash, line, make_catalogue, price, promo, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def test_an_hq_promotion_reaches_every_store_and_a_store_promotion_only_its_own(chain, cat):
    promo(chain, code="HQ10", rate="0.9")
    promo(chain, code="B-ONLY", node=chain.store_b, actor=chain.manager_b, kind="amount_off", amount=500)
    at_a = price(chain, [line(cat.tee_s, 2)])
    at_b = price(chain, [line(cat.tee_s, 2)], store=chain.store_b)
    assert [a["code"] for a in at_a.applied] == ["HQ10"] and at_a.total == 17820
    assert [a["code"] for a in at_b.applied] == ["HQ10", "B-ONLY"]
    assert at_b.total == 19800 - 1980 - 1000


def test_paused_and_out_of_window_promotions_do_not_apply(chain, cat):
    p = promo(chain, code="HQ10", rate="0.9")
    services.promotion_set_status(actor=chain.admin, promotion_id=p.pk, status="paused")
    promo(chain, code="LATER", rate="0.5", valid_from=timezone.now() + timedelta(days=1))
    result = price(chain, [line(cat.mug_sku)])
    assert result.applied == [] and result.total == 2500


def test_a_category_floor_holds_a_deep_discount(chain, cat):
    promo(chain, code="HALF", rate="0.5")
    services.price_floor_set(actor=chain.admin, category_id=cat.apparel.pk, min_percent=80)
    services.price_floor_set(actor=chain.admin, sku_id=cat.mug_sku.pk, min_unit_price=2000)
    result = price(chain, [line(cat.tee_s, 1), line(cat.mug_sku, 2)])
    # the tee's floor comes from its category's parent (apparel): 80% of 99.00; the mug's own floor is 20.00 a unit
    assert [l.total for l in result.lines] == [7920, 4000]
    assert [l.floor for l in result.lines] == [7920, 4000]


def test_price_floors_are_hq_only_and_validated(chain, cat):
    with pytest.raises(NotFound):
        services.price_floor_set(actor=chain.manager_a, sku_id=cat.mug_sku.pk, min_unit_price=1)
    with pytest.raises(ValidationFailed) as exc:
        services.price_floor_set(actor=chain.admin, sku_id=cat.mug_sku.pk, min_percent=101)
    assert exc.value.code == "invalid_number"


def test_member_tier_price_uses_the_tier_discount_rate(chain, cat):
    gold = tier_create(actor=chain.admin, code="GOLD", name="金卡", rank=1, min_growth=100, discount_rate="0.95")
    member = register(chain)
    Member.objects.filter(pk=member.pk).update(tier=gold)
    member.refresh_from_db()
    promo(chain, code="VIP", kind="tier_rate", tier_codes=["GOLD"])
    assert price(chain, [line(cat.mug_sku)], member=member).total == 2375
    assert price(chain, [line(cat.mug_sku)]).not_applicable[0]["reason"] == "member_required"


def test_coupon_codes_apply_only_when_presented_and_report_why_not(chain, cat):
    c = campaign(chain, code="C10", tiers=[{"min": 5000, "off": 1000}])
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code
    result = price(chain, [line(cat.tee_s)], codes=[code.lower(), "NOPE"])
    assert [(a["code"], a["coupon_code"], a["amount"]) for a in result.applied] == [("C10", code, 1000)]
    assert [(n["code"], n["reason"]) for n in result.not_applicable] == [("NOPE", "unknown_coupon")]
    assert price(chain, [line(cat.tee_s)]).applied == []  # the campaign's benefit needs the code


def test_a_used_coupon_code_does_not_price(chain, cat):
    c = campaign(chain, code="C10")
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code
    services.coupon_redeem(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, code=code, order_ref="o-1")
    result = price(chain, [line(cat.tee_s)], codes=[code])
    assert result.applied == [] and result.not_applicable[0]["reason"] == "coupon_used"


def test_a_held_flash_claim_prices_its_units_at_the_flash_price(chain, cat):
    member = register(chain)
    sale = flash(chain, cat.mug_sku, price=990, limit=2)
    promo(chain, code="ALL", rate="0.5")
    claim = services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, client_ref="k1", quantity=2).claim
    result = price(chain, [line(cat.mug_sku, 2), line(cat.tee_s)], member=member)
    assert [l.total for l in result.lines] == [1980, 4950]
    flash_entry = [a for a in result.applied if a["source"] == "flash_sale"][0]
    assert flash_entry["source_id"] == claim.pk and flash_entry["amount"] == 2 * (2500 - 990)


def test_store_managers_create_promotions_on_their_store_only(chain, cat):
    p = promo(chain, code="A-ONLY", node=chain.store_a, actor=chain.manager_a, kind="amount_off", amount=100)
    assert p.node == chain.store_a
    with pytest.raises(NotFound):
        promo(chain, code="B", node=chain.store_b, actor=chain.manager_a, kind="amount_off", amount=100)
    with pytest.raises(Forbidden):
        promo(chain, code="G", node=chain.store_a, actor=chain.guide_a, kind="amount_off", amount=100)
    assert Promotion.objects.count() == 1
    assert AuditEntry.objects.filter(action="promotion.create").count() == 1


def test_staff_see_their_subtree_and_the_promotions_above_it_never_a_siblings(chain, cat):
    hq = promo(chain, code="HQ", rate="0.9")
    a = promo(chain, code="A", node=chain.store_a, actor=chain.manager_a, kind="amount_off", amount=100)
    b = promo(chain, code="B", node=chain.store_b, actor=chain.manager_b, kind="amount_off", amount=100)
    assert {p.code for p in selectors.promotion_list(actor=chain.guide_a)} == {"HQ", "A"}
    assert {p.code for p in selectors.promotion_list(actor=chain.east_manager)} == {"HQ", "A"}
    assert {p.code for p in selectors.promotion_list(actor=chain.admin)} == {"HQ", "A", "B"}
    with pytest.raises(NotFound):
        selectors.promotion_get(actor=chain.manager_a, promotion_id=b.pk)
    # a store sees the HQ promotion but may not change it
    with pytest.raises(Forbidden):
        services.promotion_set_status(actor=chain.manager_a, promotion_id=hq.pk, status="paused")
    assert Promotion.objects.get(pk=hq.pk).status == PromotionStatus.ACTIVE
    assert a.status == PromotionStatus.ACTIVE


@pytest.mark.parametrize("kwargs,code", [
    ({"kind": "percent_off", "rate": "1.5"}, "invalid_rate"),
    ({"kind": "percent_off", "rate": 0.9}, "invalid_rate"),
    ({"kind": "bogus"}, "invalid_kind"),
    ({"kind": "amount_off", "amount": 0}, "invalid_number"),
    ({"kind": "threshold_amount", "tiers": [{"min": 1000, "off": 2000}]}, "invalid_tiers"),
    ({"kind": "threshold_amount", "tiers": []}, "invalid_tiers"),
    ({"kind": "buy_x_get_y", "buy_quantity": 0, "get_quantity": 1}, "invalid_number"),
    ({"kind": "bundle", "bundle_items": [{"sku_id": 1, "quantity": 1}]}, "invalid_bundle"),
    ({"kind": "percent_off", "rate": "0.9", "sku_ids": [999999]}, "unknown_ids"),
    ({"kind": "percent_off", "rate": "0.9", "channels": ["fax"]}, "invalid_channel"),
    ({"kind": "percent_off", "rate": "0.9", "code": "bad code"}, "invalid_code"),
    ({"kind": "percent_off", "rate": "0.9", "name": "x\x00"}, "invalid_text"),
])
def test_bad_promotion_input_is_refused_and_nothing_is_written(chain, cat, kwargs, code):
    kwargs = {"code": "OK", "name": "ok", **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        services.promotion_create(actor=chain.admin, node_id=chain.hq.id, **kwargs)
    assert exc.value.code == code
    assert Promotion.objects.count() == 0 and AuditEntry.objects.filter(action="promotion.create").count() == 0


def test_a_duplicate_code_is_a_conflict_and_ended_is_final(chain, cat):
    p = promo(chain, code="DUP", rate="0.9")
    with pytest.raises(Conflict):
        promo(chain, code="DUP", rate="0.8")
    services.promotion_set_status(actor=chain.admin, promotion_id=p.pk, status="ended")
    with pytest.raises(Conflict) as exc:
        services.promotion_set_status(actor=chain.admin, promotion_id=p.pk, status="active")
    assert exc.value.code == "invalid_status_change"
    assert Promotion.objects.get(pk=p.pk).status == "ended"
    assert Decimal(Promotion.objects.get(pk=p.pk).rate) == Decimal("0.9")
