"""The members API: registration with idempotency, masking per role, scoping (404), bad input (4xx, one error
shape, nothing changed), points and stored value endpoints."""
import pytest

from yundian.core.models import AuditEntry, IdempotencyRecord
from yundian.members.models import (
    ConsentEvent, Member, MemberIdentity, PointsBalance, PointsEntry, StoredValueBalance, StoredValueEntry,
)
from yundian.org.tests.utils import assert_error, call, client_for

from .factories import earn, ledger_mismatches, register

URL = "/api/v1/members"


def member_state() -> dict:
    return {
        "members": list(Member.objects.order_by("id").values_list("id", "name", "status", "guide_id", "tier_id")),
        "identities": list(MemberIdentity.objects.order_by("id").values_list("id", "member_id", "kind", "value")),
        "points": list(PointsBalance.objects.order_by("member_id").values_list("member_id", "points")),
        "points_entries": PointsEntry.objects.count(),
        "stored_value": list(StoredValueBalance.objects.order_by("member_id").values_list("member_id", "principal", "bonus")),
        "stored_value_entries": StoredValueEntry.objects.count(),
        "consent_events": ConsentEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def test_a_guide_registers_a_member_at_the_pos_and_becomes_their_guide(chain):
    body = {"store_id": chain.store_a.id, "channel": "pos", "phone": "+86 138 0013 8000", "name": "李雷",
            "consents": {"sms": True}}
    response = call(client_for(chain.guide_a), "post", URL, body, **{"Idempotency-Key": "reg-1"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["phone"] == "138****8000"  # a guide sees the phone masked
    member = Member.objects.get(pk=created["id"])
    assert member.home_id == chain.store_a.id and member.guide_id == chain.guide_a.pk
    assert list(member.identities.values_list("kind", "value")) == [("phone", "13800138000")]

    again = call(client_for(chain.guide_a), "post", URL, body, **{"Idempotency-Key": "reg-1"})
    assert again.status_code == 201 and again.json() == created
    assert Member.objects.count() == 1
    assert_error(call(client_for(chain.guide_a), "post", URL, {**body, "name": "韩梅梅"},
                      **{"Idempotency-Key": "reg-1"}), 409, "idempotency_key_reused")


def test_the_phone_is_masked_for_a_guide_and_shown_to_a_manager_with_personal_data_view(chain):
    member = register(chain, phone="13912345678")
    as_guide = client_for(chain.guide_a).get(f"{URL}/{member.pk}").json()
    as_manager = client_for(chain.manager_a).get(f"{URL}/{member.pk}").json()
    as_auditor = client_for(chain.auditor).get(f"{URL}/{member.pk}").json()
    assert as_guide["member"]["phone"] == "139****5678"
    assert as_guide["identities"][0]["value"] == "139****5678"
    assert as_auditor["member"]["phone"] == "139****5678"
    assert as_manager["member"]["phone"] == "13912345678"
    assert as_manager["identities"][0]["value"] == "13912345678"
    listed = client_for(chain.guide_a).get(URL).json()
    assert [m["phone"] for m in listed["items"]] == ["139****5678"]


def test_export_needs_personal_data_export_and_is_audited(chain):
    member = register(chain, phone="13912345679")
    assert_error(client_for(chain.manager_a).get(f"{URL}/{member.pk}/export"), 403, "forbidden")
    response = client_for(chain.admin).get(f"{URL}/{member.pk}/export")
    assert response.status_code == 200
    assert response.json()["identities"][0]["value"] == "13912345679"
    assert AuditEntry.objects.filter(action="member.export", target_id=str(member.pk)).count() == 1


def test_store_b_cannot_read_or_change_a_member_of_store_a(chain):
    member = register(chain)
    before = member_state()
    manager_b = client_for(chain.manager_b)
    for method, path, body in [
        ("get", f"{URL}/{member.pk}", None),
        ("get", f"{URL}/{member.pk}/points", None),
        ("get", f"{URL}/{member.pk}/identities", None),
        ("patch", f"{URL}/{member.pk}", {"name": "x"}),
        ("post", f"{URL}/{member.pk}/identities", {"kind": "email", "value": "a@b.cn"}),
        ("post", f"{URL}/{member.pk}/points/adjustments", {"points": 5, "reason": "x"}),
        ("post", f"{URL}/{member.pk}/stored-value/top-ups",
         {"amount_fen": 100, "store_id": chain.store_b.id, "payment_ref": "p-1"}),
        ("put", f"{URL}/{member.pk}/consents/sms", {"granted": True}),
        ("get", f"{URL}/{member.pk}/export", None),
    ]:
        assert_error(call(manager_b, method, path, body), 404, "member_not_found")
    assert client_for(chain.manager_b).get(URL).json()["items"] == []
    assert member_state() == before


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "0086 13800138000", "138 0013 8000"])
def test_a_phone_already_registered_in_another_format_is_a_409_and_changes_nothing(chain, phone):
    register(chain, phone="13800138000")
    before = member_state()
    response = call(client_for(chain.manager_a), "post", URL, {"store_id": chain.store_a.id, "phone": phone})
    assert_error(response, 409, "identity_taken")
    assert member_state() == before


@pytest.mark.parametrize("body, status, code", [
    ({"phone": "12345"}, 422, "invalid_phone"),
    ({"phone": "+1 415 555 0100"}, 422, "invalid_phone"),
    ({"phone": "1380013800a"}, 422, "invalid_phone"),
    ({}, 422, "identity_required"),
    ({"phone": "13800138001", "channel": "fax"}, 422, "invalid_channel"),
    ({"phone": "13800138001", "gender": "x"}, 422, "invalid_gender"),
    ({"phone": "13800138001", "birthday": "2999-01-01"}, 422, "invalid_birthday"),
    ({"phone": "13800138001", "consents": {"carrier_pigeon": True}}, 422, "invalid_consent"),
    ({"phone": "13800138001", "identities": [{"kind": "email", "value": "not-an-email"}]}, 422, "invalid_identity"),
    ({"phone": "13800138001", "name": "bad\x00name"}, 422, "invalid_text"),
    ({"phone": "13800138001", "guide_id": 999999}, 422, "not_a_guide"),
    ({"phone": 13800138001}, 422, "invalid"),
])
def test_bad_registrations_are_4xx_and_change_nothing(chain, body, status, code):
    before = member_state()
    response = call(client_for(chain.manager_a), "post", URL, {"store_id": chain.store_a.id, **body})
    assert_error(response, status, code)
    assert member_state() == before


def test_registering_at_another_stores_node_is_a_404(chain):
    before = member_state()
    assert_error(call(client_for(chain.manager_a), "post", URL, {"store_id": chain.store_b.id, "phone": "13800138002"}),
                 404)
    assert member_state() == before


@pytest.mark.parametrize("amount", [-100, 0, "12.5", 10**12])
def test_a_negative_or_zero_top_up_is_refused_and_changes_nothing(chain, amount):
    member = register(chain)
    before = member_state()
    response = call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/stored-value/top-ups",
                    {"amount_fen": amount, "store_id": chain.store_a.id, "payment_ref": "pay-1"})
    assert response.status_code == 422
    assert member_state() == before


def test_a_top_up_gets_its_bonus_once_per_payment_and_the_ledgers_balance(chain):
    from yundian.members.services import topup_rule_create

    topup_rule_create(actor=chain.admin, min_amount_fen=50_000, bonus_fen=5_000)
    topup_rule_create(actor=chain.admin, min_amount_fen=100_000, bonus_fen=15_000)
    member = register(chain)
    body = {"amount_fen": 100_000, "store_id": chain.store_a.id, "payment_ref": "pay-1"}
    first = call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/stored-value/top-ups", body)
    again = call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/stored-value/top-ups", body)
    assert first.status_code == again.status_code == 201
    assert (first.json()["principal"], first.json()["bonus"]) == (100_000, 15_000)
    assert again.json()["id"] == first.json()["id"]
    assert_error(call(client_for(chain.guide_a), "post", f"{URL}/{member.pk}/stored-value/top-ups",
                      {**body, "amount_fen": 5}), 409, "already_posted")
    balance = StoredValueBalance.objects.get(member=member)
    assert (balance.principal, balance.bonus) == (100_000, 15_000)
    assert ledger_mismatches() == []


def test_points_adjustment_over_the_api_and_approval_by_the_region(chain):
    member = register(chain)
    earn(chain, member, 1_000, "o-1")
    response = call(client_for(chain.manager_a), "post", f"{URL}/{member.pk}/points/adjustments",
                    {"points": 5000, "reason": "data migration"}, **{"Idempotency-Key": "adj-1"})
    assert response.status_code == 201 and response.json()["status"] == "pending"
    adjustment_id = response.json()["id"]
    assert_error(call(client_for(chain.manager_a), "post", f"{URL}/adjustments/{adjustment_id}/approve"), 403)
    assert_error(call(client_for(chain.west_manager), "post", f"{URL}/adjustments/{adjustment_id}/approve"), 404)
    approved = call(client_for(chain.east_manager), "post", f"{URL}/adjustments/{adjustment_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "posted"
    entries = client_for(chain.manager_a).get(f"{URL}/{member.pk}/points").json()["items"]
    assert [(e["kind"], e["points"]) for e in entries] == [("adjust", 5000), ("earn", 10)]


def test_the_till_lookup_finds_a_member_of_any_store_by_exact_phone_masked(chain):
    member = register(chain, phone="13700001111")
    response = client_for(chain.guide_b).get(f"{URL}/lookup", {"store_id": chain.store_b.id, "value": "137-0000-1111"})
    assert response.status_code == 200
    assert response.json()["id"] == member.pk and response.json()["phone"] == "137****1111"
    assert_error(client_for(chain.guide_b).get(f"{URL}/lookup", {"store_id": chain.store_a.id,
                                                                  "value": "13700001111"}), 404)
    assert_error(client_for(chain.guide_b).get(f"{URL}/{member.pk}"), 404)


def test_unmerge_over_the_api(chain):
    one, two = register(chain), register(chain)
    earn(chain, two, 5_000, "o-1")
    merged = call(client_for(chain.manager_a), "post", f"{URL}/{one.pk}/merge", {"absorbed_id": two.pk,
                                                                                  "reason": "dup"})
    assert merged.status_code == 201 and merged.json()["moved"]["points"]["total"] == 50
    undone = call(client_for(chain.manager_a), "post", f"{URL}/merges/{merged.json()['id']}/unmerge",
                  {"reason": "not the same"})
    assert undone.status_code == 200 and undone.json()["status"] == "unmerged"
    assert_error(call(client_for(chain.manager_a), "post", f"{URL}/merges/{merged.json()['id']}/unmerge",
                      {"reason": "again"}), 409, "merge_undone")
    assert PointsBalance.objects.get(member=two).points == 50
    assert ledger_mismatches() == []
