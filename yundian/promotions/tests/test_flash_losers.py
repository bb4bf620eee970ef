"""Flash-sale taps over the public endpoint (/p/f/<id>/buy): a sale sold out reopens the moment an unpaid claim
expires (the database is the truth, nothing cached), the next tap wins the unit and nobody past the cap; every losing
answer keeps its status, code and translated message, and is answered by reads alone (no write transaction)."""
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yundian.core.testing import race_n
from yundian.promotions import services
from yundian.promotions.member_tokens import member_token
from yundian.promotions.models import ClaimStatus, FlashSale, FlashSaleBuyer, FlashSaleClaim

from .factories import flash, make_catalogue, mismatches, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def tap(sale, member, ref, quantity=1, language="en"):
    response = Client(HTTP_ACCEPT_LANGUAGE=language).post(
        f"/p/f/{sale.pk}/buy", json.dumps({"member_token": member_token(member), "client_ref": ref,
                                           "quantity": quantity}), content_type="application/json")
    return response.status_code, response.json()


def held_and_ordered(sale) -> int:
    return sum(FlashSaleClaim.objects.filter(flash_sale=sale).exclude(status=ClaimStatus.RELEASED)
               .values_list("quantity", flat=True))


def test_a_sold_out_flash_sale_reopens_when_an_unpaid_claim_expires_and_the_next_tap_wins_it(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=2, limit=1, hold_minutes=10)
    a, b, c, d = (register(chain) for _ in range(4))
    assert tap(sale, a, "a")[0] == 201
    claim_b = tap(sale, b, "b")[1]["claim_id"]
    services.flash_claim_order(claim_id=claim_b, member_id=b.pk, order_ref="o-b")  # b paid; a did not
    status, body = tap(sale, c, "c")
    assert (status, body["error"]["code"]) == (409, "sold_out")

    assert services.flash_claims_release_expired(now=timezone.now() + timedelta(minutes=11)) == 1  # a's claim

    sale.refresh_from_db()
    assert (sale.sold, sale.is_sold_out) == (1, False)
    status, body = tap(sale, c, "c")  # the same tap again: this time it wins the unit a gave back
    assert status == 201 and body["replayed"] is False
    status, body = tap(sale, d, "d")
    assert (status, body["error"]["code"]) == (409, "sold_out")
    sale.refresh_from_db()
    assert (sale.sold, sale.is_sold_out, held_and_ordered(sale)) == (2, True, 2)
    assert FlashSaleBuyer.objects.get(flash_sale=sale, member=a).quantity == 0
    assert tap(sale, a, "a-again")[1]["error"]["code"] == "sold_out"
    assert mismatches() == []


@pytest.mark.parametrize("case,code,english,chinese", [
    ("sold_out", "sold_out", "Sold out.", "已售罄。"),
    ("claimed", "member_limit_reached", "You already bought as many as allowed.", "您的购买数量已达上限。"),
    ("not_started", "not_started", "The flash sale has not started.", "秒杀尚未开始。"),
    ("ended", "ended", "The flash sale has ended.", "秒杀已结束。"),
])
def test_each_losing_tap_keeps_its_answer_and_is_answered_by_reads_alone(chain, cat, case, code, english, chinese):
    now = timezone.now()
    starts = {"not_started": now + timedelta(hours=1), "ended": now - timedelta(hours=3)}.get(case)
    sale = flash(chain, cat.mug_sku, cap=1 if case == "sold_out" else 5, limit=1, starts=starts)
    winner, member = register(chain), register(chain)
    if case in ("sold_out", "claimed"):
        assert tap(sale, winner, "w")[0] == 201
    tapper = winner if case == "claimed" else member
    before = (FlashSale.objects.values_list("sold", "is_sold_out").get(pk=sale.pk), FlashSaleClaim.objects.count(),
              list(FlashSaleBuyer.objects.values_list("member_id", "quantity").order_by("id")))

    with CaptureQueriesContext(connection) as queries:
        status, body = tap(sale, tapper, "again")
    assert (status, body["error"]["code"], body["error"]["message"]) == (409, code, english)
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert tap(sale, tapper, "again-zh", language="zh-hans")[1]["error"]["message"] == chinese
    assert (FlashSale.objects.values_list("sold", "is_sold_out").get(pk=sale.pk), FlashSaleClaim.objects.count(),
            list(FlashSaleBuyer.objects.values_list("member_id", "quantity").order_by("id"))) == before


def test_a_member_at_their_limit_buys_again_once_their_claim_is_given_back(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=5, limit=2, hold_minutes=10)
    member = register(chain)
    assert tap(sale, member, "k1", quantity=2)[0] == 201
    assert tap(sale, member, "k2")[1]["error"]["code"] == "member_limit_reached"
    services.flash_claims_release_expired(now=timezone.now() + timedelta(minutes=11))
    assert tap(sale, member, "k2")[0] == 201
    assert tap(sale, member, "k3", quantity=2)[1]["error"]["code"] == "member_limit_reached"
    assert FlashSaleBuyer.objects.get(flash_sale=sale, member=member).quantity == 1
    assert mismatches() == []


@pytest.mark.parametrize("body,status,code", [
    ("{nope", 400, "malformed_body"),
    ([1, 2], 400, "malformed_body"),
    ({"client_ref": "r"}, 401, "invalid_member_token"),
    ({"member_token": "x" * 201, "client_ref": "r"}, 401, "invalid_member_token"),
    ({"client_ref": "", "quantity": 1}, 422, "invalid_ref"),
    ({"client_ref": "r", "quantity": 0}, 422, "invalid_quantity"),
    ({"client_ref": "r", "quantity": True}, 422, "invalid_quantity"),
    ({"client_ref": "r", "quantity": "2x"}, 422, "invalid_quantity"),
])
def test_bad_taps_are_refused_with_a_code_and_change_nothing(chain, cat, body, status, code):
    sale = flash(chain, cat.mug_sku, cap=5, limit=1)
    member = register(chain)
    if isinstance(body, dict) and "member_token" not in body and code != "invalid_member_token":
        body = {**body, "member_token": member_token(member)}
    response = Client().post(f"/p/f/{sale.pk}/buy", body if isinstance(body, str) else json.dumps(body),
                             content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.json()["error"]["message"]
    sale.refresh_from_db()
    assert (sale.sold, FlashSaleClaim.objects.count(), FlashSaleBuyer.objects.count()) == (0, 0, 0)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_unit_given_back_by_an_expired_claim_is_won_by_exactly_one_of_twenty_racing_taps(chain):
    cat = make_catalogue(chain)
    sale = flash(chain, cat.mug_sku, cap=3, limit=1, hold_minutes=10)
    first = [register(chain) for _ in range(3)]
    for i, member in enumerate(first):
        services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, client_ref=f"f{i}")
    services.flash_claim_order(claim_id=FlashSaleClaim.objects.get(member=first[1]).pk, member_id=first[1].pk,
                               order_ref="o1")
    services.flash_claim_order(claim_id=FlashSaleClaim.objects.get(member=first[2]).pk, member_id=first[2].pk,
                               order_ref="o2")
    assert services.flash_claims_release_expired(now=timezone.now() + timedelta(minutes=11)) == 1
    racers = [register(chain) for _ in range(20)]

    results = race_n(20, lambda i: services.flash_sale_buy(flash_sale_id=sale.pk, member_id=racers[i].pk,
                                                           client_ref=f"r{i}").claim.pk, conflict_codes=True)

    assert sorted(r[0] if r[0] == "ok" else r[1] for r in results) == ["ok"] + ["sold_out"] * 19, results
    sale.refresh_from_db()
    assert (sale.sold, sale.is_sold_out, held_and_ordered(sale)) == (3, True, 3)
    assert mismatches() == []
