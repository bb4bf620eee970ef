"""Programme rules over the API: points earning rules (per store subtree and category) with scope checks and audit,
tier edits, top-up bonus rules, gift codes (single and bulk, redeemed once), and points redemption over HTTP with
an idempotency key. Bad input is a 4xx with a code and changes nothing; out-of-scope is a 404."""
import pytest

from yundian.catalog.tests.factories import make_catalogue
from yundian.core.models import AuditEntry, IdempotencyRecord
from yundian.members import services
from yundian.members.models import GiftCard, PointsBalance, PointsEntry, PointsRule, StoredValueEntry, Tier, TopUpRule
from yundian.members.services import EarnLine
from yundian.org.tests.utils import assert_error, call, client_for

from .factories import earn, ledger_mismatches, points, register, stored_value

URL = "/api/v1/members"


def rules_state() -> dict:
    return {
        "points_rules": list(PointsRule.objects.order_by("id").values_list(
            "id", "name", "node_id", "category_id", "points_per_yuan", "priority", "is_active")),
        "tiers": list(Tier.objects.order_by("id").values_list("id", "name", "min_growth", "discount_rate",
                                                               "points_multiplier", "free_shipping")),
        "topup_rules": list(TopUpRule.objects.order_by("id").values_list("id", "min_amount", "bonus", "is_active")),
        "gift_cards": list(GiftCard.objects.order_by("id").values_list("id", "status", "redeemed_by_id")),
        "points": list(PointsBalance.objects.order_by("member_id").values_list("member_id", "points")),
        "points_entries": PointsEntry.objects.count(),
        "stored_value_entries": StoredValueEntry.objects.count(),
        "audit": AuditEntry.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def quote(member, store, amount_fen, category_id=None) -> int:
    member.refresh_from_db()
    return services.points_quote(member=member, store=store, lines=[EarnLine(amount_fen, category_id)])


# --- points rules ---------------------------------------------------------------------------------------

def test_hq_creates_points_rules_per_store_and_category_and_they_decide_what_orders_earn(chain):
    cat = make_catalogue(chain)
    member = register(chain)
    admin = client_for(chain.admin)
    assert quote(member, chain.store_a, 10_000) == 100  # the programme default: 1 point per yuan

    everywhere = call(admin, "post", f"{URL}/points-rules", {"name": "全场两倍", "points_per_yuan": "2"})
    assert everywhere.status_code == 201, everywhere.content
    assert everywhere.json() == {"id": everywhere.json()["id"], "name": "全场两倍", "node_id": None,
                                 "category_id": None, "points_per_yuan": "2.00", "priority": 0, "is_active": True}
    tees_at_a = call(admin, "post", f"{URL}/points-rules", {"name": "A店T恤", "points_per_yuan": "3.5",
                                                            "node_id": chain.store_a.id, "category_id": cat.tees.id})
    assert tees_at_a.status_code == 201
    assert quote(member, chain.store_a, 10_000) == 200
    assert quote(member, chain.store_a, 10_000, cat.tees.id) == 350
    assert quote(member, chain.store_b, 10_000, cat.tees.id) == 200  # store B: only the enterprise-wide rule
    listed = admin.get(f"{URL}/points-rules").json()["items"]
    assert [r["name"] for r in listed] == ["全场两倍", "A店T恤"]
    audit = AuditEntry.objects.filter(action="points_rule.create").order_by("id")
    assert [(a.target_id, a.after["points_per_yuan"]) for a in audit] == [
        (str(everywhere.json()["id"]), "2.00"), (str(tees_at_a.json()["id"]), "3.50")]

    changed = call(admin, "patch", f"{URL}/points-rules/{tees_at_a.json()['id']}", {"points_per_yuan": "5"})
    assert changed.status_code == 200 and changed.json()["points_per_yuan"] == "5.00"
    assert quote(member, chain.store_a, 10_000, cat.tees.id) == 500
    update = AuditEntry.objects.get(action="points_rule.update")
    assert (update.before["points_per_yuan"], update.after["points_per_yuan"]) == ("3.50", "5.00")

    off = call(admin, "post", f"{URL}/points-rules/{everywhere.json()['id']}/deactivate")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert quote(member, chain.store_b, 10_000) == 100
    assert [r["name"] for r in admin.get(f"{URL}/points-rules").json()["items"]] == ["A店T恤"]
    assert len(admin.get(f"{URL}/points-rules", {"include_inactive": "true"}).json()["items"]) == 2


@pytest.mark.parametrize("body, status, code", [
    ({"name": "x", "points_per_yuan": "-1"}, 422, "invalid_rate"),
    ({"name": "x", "points_per_yuan": "abc"}, 422, "invalid_rate"),
    ({"name": "x", "points_per_yuan": "1.234"}, 422, "invalid_rate"),
    ({"name": "x", "points_per_yuan": "NaN"}, 422, "invalid_rate"),
    ({"name": "x", "points_per_yuan": "1001"}, 422, "invalid_rate"),
    ({"name": "", "points_per_yuan": "1"}, 422, "required"),
    ({"name": "bad\x00", "points_per_yuan": "1"}, 422, "invalid_text"),
    ({"name": "x", "points_per_yuan": "1", "priority": 5000}, 422, "invalid_number"),
    ({"name": "x", "points_per_yuan": "1", "node_id": 999_999}, 404, "store_not_found"),
    ({"name": "x", "points_per_yuan": "1", "category_id": 999_999}, 404, "category_not_found"),
    ({"name": "x"}, 422, None),
])
def test_bad_points_rules_are_4xx_and_change_nothing(chain, body, status, code):
    before = rules_state()
    assert_error(call(client_for(chain.admin), "post", f"{URL}/points-rules", body), status, code)
    assert rules_state() == before


def test_points_rules_are_scoped_404_outside_the_subtree_403_without_the_permission(chain, other_chain):
    rule = services.points_rule_create(actor=chain.admin, name="A店", points_per_yuan="2", node_id=chain.store_a.id)
    other_cat = make_catalogue(other_chain)
    before = rules_state()
    # the East region manager sees store A but does not run the programme; store B is outside their subtree
    east = client_for(chain.east_manager)
    assert_error(call(east, "post", f"{URL}/points-rules", {"name": "x", "points_per_yuan": "1",
                                                            "node_id": chain.store_a.id}), 403, "forbidden")
    assert_error(call(east, "post", f"{URL}/points-rules", {"name": "x", "points_per_yuan": "1",
                                                            "node_id": chain.store_b.id}), 404)
    assert_error(call(east, "post", f"{URL}/points-rules", {"name": "x", "points_per_yuan": "1"}), 403, "forbidden")
    assert_error(call(east, "patch", f"{URL}/points-rules/{rule.pk}", {"points_per_yuan": "9"}), 403, "forbidden")
    # the West manager and another enterprise's HQ do not even see the rule
    for staff in (chain.west_manager, chain.manager_b, other_chain.admin):
        client = client_for(staff)
        assert_error(call(client, "patch", f"{URL}/points-rules/{rule.pk}", {"points_per_yuan": "9"}), 404,
                     "points_rule_not_found")
        assert_error(call(client, "post", f"{URL}/points-rules/{rule.pk}/deactivate"), 404, "points_rule_not_found")
        assert [r["id"] for r in client.get(f"{URL}/points-rules").json()["items"]] == []
    assert_error(call(client_for(other_chain.admin), "post", f"{URL}/points-rules",
                      {"name": "x", "points_per_yuan": "1", "node_id": chain.store_a.id}), 404)
    assert_error(call(client_for(chain.admin), "post", f"{URL}/points-rules",
                      {"name": "x", "points_per_yuan": "1", "category_id": other_cat.tees.id}), 404,
                 "category_not_found")
    assert [r["id"] for r in client_for(chain.east_manager).get(f"{URL}/points-rules").json()["items"]] == [rule.pk]
    assert rules_state() == before


def test_a_bad_points_rule_update_changes_nothing(chain):
    rule = services.points_rule_create(actor=chain.admin, name="全场", points_per_yuan="2")
    before = rules_state()
    admin = client_for(chain.admin)
    assert_error(call(admin, "patch", f"{URL}/points-rules/{rule.pk}", {"name": "ok", "points_per_yuan": "-3"}), 422,
                 "invalid_rate")
    assert_error(call(admin, "patch", f"{URL}/points-rules/{rule.pk}", {"priority": "high"}), 422)
    assert_error(call(admin, "patch", f"{URL}/points-rules/999999", {"name": "x"}), 404, "points_rule_not_found")
    assert rules_state() == before


# --- tiers --------------------------------------------------------------------------------------------------

def test_hq_edits_a_tier_and_the_order_of_tiers_is_kept(chain, other_chain):
    services.tier_create(actor=chain.admin, code="silver", name="银卡", rank=1, min_growth=100)
    gold = services.tier_create(actor=chain.admin, code="gold", name="金卡", rank=2, min_growth=1000)
    admin = client_for(chain.admin)
    response = call(admin, "patch", f"{URL}/tiers/{gold.pk}", {"name": "黄金卡", "min_growth": 800,
                                                                "discount_rate": "0.88", "free_shipping": True})
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("name", "min_growth", "discount_rate", "free_shipping")} == {
        "name": "黄金卡", "min_growth": 800, "discount_rate": "0.880", "free_shipping": True}
    audit = AuditEntry.objects.get(action="member_tier.update")
    assert (audit.before["min_growth"], audit.after["min_growth"]) == (1000, 800)

    before = rules_state()
    assert_error(call(admin, "patch", f"{URL}/tiers/{gold.pk}", {"min_growth": 50}), 422, "tier_order")
    assert_error(call(admin, "patch", f"{URL}/tiers/{gold.pk}", {"discount_rate": "1.5"}), 422, "invalid_rate")
    assert_error(call(admin, "patch", f"{URL}/tiers/{gold.pk}", {"points_multiplier": "11"}), 422, "invalid_rate")
    assert_error(call(client_for(chain.manager_a), "patch", f"{URL}/tiers/{gold.pk}", {"name": "x"}), 403)
    assert_error(call(client_for(other_chain.admin), "patch", f"{URL}/tiers/{gold.pk}", {"name": "x"}), 404,
                 "tier_not_found")
    assert rules_state() == before


# --- top-up rules and gift cards ----------------------------------------------------------------------------

def test_top_up_rules_are_created_listed_and_retired_over_the_api(chain):
    admin = client_for(chain.admin)
    created = call(admin, "post", f"{URL}/topup-rules", {"min_amount_fen": 50_000, "bonus_fen": 5_000})
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "min_amount": 50_000, "bonus": 5_000, "is_active": True}
    assert [r["id"] for r in admin.get(f"{URL}/topup-rules").json()] == [created.json()["id"]]
    member = register(chain)
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=50_000, store_id=chain.store_a.id,
                                payment_ref="pay-1")
    assert stored_value(member) == (50_000, 5_000)

    before = rules_state()
    for body, code in [({"min_amount_fen": 0, "bonus_fen": 1}, "invalid_amount"),
                       ({"min_amount_fen": 100, "bonus_fen": 101}, "invalid_number"),
                       ({"min_amount_fen": 100, "bonus_fen": -1}, "invalid_number")]:
        assert_error(call(admin, "post", f"{URL}/topup-rules", body), 422, code)
    assert_error(call(client_for(chain.manager_a), "post", f"{URL}/topup-rules",
                      {"min_amount_fen": 100, "bonus_fen": 1}), 403)
    assert_error(call(client_for(chain.manager_a), "post", f"{URL}/topup-rules/{created.json()['id']}/deactivate"),
                 403)
    assert rules_state() == before

    retired = call(admin, "post", f"{URL}/topup-rules/{created.json()['id']}/deactivate")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert_error(call(admin, "post", f"{URL}/topup-rules/{created.json()['id']}/deactivate"), 409, "already_inactive")
    services.stored_value_topup(actor=chain.guide_a, member_id=member.pk, amount_fen=50_000, store_id=chain.store_a.id,
                                payment_ref="pay-2")
    assert stored_value(member) == (100_000, 5_000)
    assert admin.get(f"{URL}/topup-rules").json() == []


def test_gift_codes_are_issued_single_and_in_bulk_unique_and_redeem_once(chain, other_chain):
    admin = client_for(chain.admin)
    single = call(admin, "post", f"{URL}/gift-cards", {"value_fen": 5_000})
    assert single.status_code == 201, single.content
    [code] = single.json()["codes"]
    assert len(code["code"]) == 16 and code["code_tail"] == code["code"][-4:]
    bulk = call(admin, "post", f"{URL}/gift-cards", {"value_fen": 2_000, "count": 50, "batch": "双十一"})
    assert bulk.status_code == 201
    codes = [c["code"] for c in bulk.json()["codes"]]
    assert len(codes) == len(set(codes)) == 50 and code["code"] not in codes
    assert GiftCard.objects.filter(batch="双十一").count() == 50
    assert not GiftCard.objects.filter(code_hash__in=codes).exists()  # only hashes are kept
    listed = admin.get(f"{URL}/gift-cards", {"batch": "双十一", "limit": 100}).json()
    assert listed["count"] == 50 and {c["code_tail"] for c in listed["items"]} == {c[-4:] for c in codes}
    assert AuditEntry.objects.filter(action="gift_card.issue").count() == 2

    member = register(chain)
    redeemed = call(client_for(chain.manager_a), "post", f"{URL}/{member.pk}/gift-cards/redeem",
                    {"code": code["code"].lower(), "store_id": chain.store_a.id})
    assert redeemed.status_code == 201 and (redeemed.json()["principal"], redeemed.json()["bonus"]) == (0, 5_000)
    before = rules_state()
    again = call(client_for(chain.manager_a), "post", f"{URL}/{register(chain).pk}/gift-cards/redeem",
                 {"code": code["code"], "store_id": chain.store_a.id})
    assert_error(again, 409, "gift_card_used")
    # another enterprise cannot redeem or list this enterprise's codes
    zeta_member = register(other_chain, actor=other_chain.manager_a, store=other_chain.store_a)
    assert_error(call(client_for(other_chain.manager_a), "post", f"{URL}/{zeta_member.pk}/gift-cards/redeem",
                      {"code": codes[0], "store_id": other_chain.store_a.id}), 404, "gift_card_not_found")
    assert client_for(other_chain.admin).get(f"{URL}/gift-cards").json()["items"] == []
    after = rules_state()
    assert {k: v for k, v in after.items() if k != "points"} == {k: v for k, v in before.items() if k != "points"}
    assert stored_value(member) == (0, 5_000) and ledger_mismatches() == []


@pytest.mark.parametrize("body, code", [
    ({"value_fen": 0}, "invalid_amount"),
    ({"value_fen": -100}, "invalid_amount"),
    ({"value_fen": 100, "count": 0}, "invalid_number"),
    ({"value_fen": 100, "count": 10_001}, "invalid_number"),
    ({"value_fen": 100, "batch": "bad\x00"}, "invalid_text"),
    ({"value_fen": 100, "expires_at": "2001-01-01T00:00:00Z"}, "invalid_expiry"),
])
def test_bad_gift_code_issues_are_422_and_issue_nothing(chain, body, code):
    before = rules_state()
    assert_error(call(client_for(chain.admin), "post", f"{URL}/gift-cards", body), 422, code)
    assert rules_state() == before


def test_only_the_programme_manager_issues_or_lists_gift_codes(chain):
    before = rules_state()
    for staff in (chain.manager_a, chain.east_manager, chain.guide_a):
        assert_error(call(client_for(staff), "post", f"{URL}/gift-cards", {"value_fen": 100}), 403)
        assert_error(client_for(staff).get(f"{URL}/gift-cards"), 403)
    assert rules_state() == before


# --- points redemption over HTTP ----------------------------------------------------------------------------

def test_points_are_redeemed_over_http_and_a_retry_with_the_same_key_posts_once(chain):
    member = register(chain)
    earn(chain, member, 10_000, "o-1")  # 100 points
    client = client_for(chain.guide_a)
    body = {"points": 30, "store_id": chain.store_a.id}
    first = call(client, "post", f"{URL}/{member.pk}/points/redemptions", body, **{"Idempotency-Key": "redeem-1"})
    assert first.status_code == 201, first.content
    assert (first.json()["kind"], first.json()["points"], first.json()["store_id"]) == ("redeem", -30, chain.store_a.id)
    again = call(client, "post", f"{URL}/{member.pk}/points/redemptions", body, **{"Idempotency-Key": "redeem-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert PointsEntry.objects.filter(member=member, kind="redeem").count() == 1
    assert points(member) == 70
    assert_error(call(client, "post", f"{URL}/{member.pk}/points/redemptions", {**body, "points": 31},
                      **{"Idempotency-Key": "redeem-1"}), 409, "idempotency_key_reused")
    second = call(client, "post", f"{URL}/{member.pk}/points/redemptions", body, **{"Idempotency-Key": "redeem-2"})
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    assert points(member) == 40 and ledger_mismatches() == []


@pytest.mark.parametrize("body, headers, status, code", [
    ({"points": 41}, {"Idempotency-Key": "k"}, 409, "insufficient_points"),
    ({"points": 0}, {"Idempotency-Key": "k"}, 422, "invalid_number"),
    ({"points": -5}, {"Idempotency-Key": "k"}, 422, "invalid_number"),
    ({"points": 10**12}, {"Idempotency-Key": "k"}, 422, "invalid_number"),
    ({"points": "ten"}, {"Idempotency-Key": "k"}, 422, None),
    ({"points": 5}, {}, 422, "idempotency_key_required"),
    ({"points": 5, "store_id": 999_999}, {"Idempotency-Key": "k"}, 404, "store_not_found"),
])
def test_bad_redemptions_are_4xx_and_change_nothing(chain, body, headers, status, code):
    member = register(chain)
    earn(chain, member, 4_000, "o-1")  # 40 points
    before = rules_state()
    response = call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/points/redemptions",
                    {"store_id": chain.store_a.id, **body}, **headers)
    assert_error(response, status, code)
    assert rules_state() == before and points(member) == 40


def test_redeeming_for_a_member_outside_the_scope_is_a_404(chain, other_chain):
    member = register(chain)
    earn(chain, member, 4_000, "o-1")
    before = rules_state()
    for staff, store in ((chain.manager_b, chain.store_b), (other_chain.manager_a, other_chain.store_a)):
        assert_error(call(client_for(staff), "post", f"{URL}/{member.pk}/points/redemptions",
                          {"points": 5, "store_id": store.id}, **{"Idempotency-Key": "k"}), 404, "member_not_found")
    # a store the guide does not work at
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/points/redemptions",
                      {"points": 5, "store_id": chain.store_b.id}, **{"Idempotency-Key": "k"}), 404)
    assert rules_state() == before
