"""Flash sales (cap, per-member limit, fast sold-out, claims ordered / released) and group buying (open, join,
complete, fail with refunds exactly once)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.promotions import hooks, services
from yundian.promotions.models import (
    FlashSale, FlashSaleBuyer, FlashSaleClaim, GroupBuyCampaign, GroupBuyGroup, GroupBuyMember, GroupBuyRefund,
)

from .factories import flash, group_campaign, line, make_catalogue, mismatches, price, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def buy(sale, member, ref, quantity=1, **kw):
    return services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member.pk, client_ref=ref, quantity=quantity, **kw)


def state(sale):
    sale = FlashSale.objects.get(pk=sale.pk)
    return sale.sold, sale.is_sold_out, FlashSaleClaim.objects.filter(flash_sale=sale).count()


def test_a_flash_sale_sells_to_its_cap_then_answers_sold_out(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=3, limit=2)
    a, b = register(chain), register(chain)
    buy(sale, a, "a1", 2)
    buy(sale, b, "b1", 1)
    assert state(sale) == (3, True, 2)
    with pytest.raises(Conflict) as exc:
        buy(sale, register(chain), "c1")
    assert exc.value.code == "sold_out"
    assert state(sale) == (3, True, 2)
    assert mismatches() == []


def test_a_member_cannot_buy_past_their_limit_and_a_retry_replays(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=10, limit=2)
    member = register(chain)
    first = buy(sale, member, "k1")
    assert buy(sale, member, "k1").claim.pk == first.claim.pk and buy(sale, member, "k1").replayed
    buy(sale, member, "k2")
    with pytest.raises(Conflict) as exc:
        buy(sale, member, "k3")
    assert exc.value.code == "member_limit_reached"
    assert state(sale) == (2, False, 2)
    assert FlashSaleBuyer.objects.get(member=member).quantity == 2
    with pytest.raises(Conflict) as exc:
        buy(sale, member, "k1", 2)  # the same key with another quantity
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("kwargs,error,code", [
    ({"quantity": 0}, ValidationFailed, "invalid_quantity"),
    ({"quantity": 5}, ValidationFailed, "invalid_quantity"),
    ({"client_ref": ""}, ValidationFailed, "invalid_ref"),
    ({"flash_sale_id": 10**9}, NotFound, "flash_sale_not_found"),
    ({"member_id": 10**9}, NotFound, "member_not_found"),
])
def test_bad_buys_change_nothing(chain, cat, kwargs, error, code):
    sale = flash(chain, cat.mug_sku, cap=10, limit=2)
    member = register(chain)
    args = {"flash_sale_id": sale.pk, "member_id": member.pk, "client_ref": "k", "quantity": 1, **kwargs}
    with pytest.raises(error) as exc:
        services.flash_sale_buy(**args)
    assert exc.value.code == code
    assert state(sale) == (0, False, 0) and FlashSaleBuyer.objects.filter(quantity__gt=0).count() == 0


def test_not_started_and_ended_sales_refuse(chain, cat):
    later = flash(chain, cat.mug_sku, code="LATER", starts=timezone.now() + timedelta(hours=1))
    member = register(chain)
    with pytest.raises(Conflict) as exc:
        buy(later, member, "k")
    assert exc.value.code == "not_started"
    with pytest.raises(Conflict) as exc:
        buy(later, member, "k", now=timezone.now() + timedelta(hours=4))
    assert exc.value.code == "ended"


def test_unordered_claims_are_released_after_the_hold_and_ordered_ones_on_cancellation(chain, cat):
    sale = flash(chain, cat.mug_sku, cap=2, limit=1, hold_minutes=10)
    a, b = register(chain), register(chain)
    buy(sale, a, "a")
    claim_b = buy(sale, b, "b").claim
    assert state(sale) == (2, True, 2)
    result = price(chain, [line(cat.mug_sku)], member=b)
    services.order_placed(store=chain.store_a, order_ref="o-b", pricing=result.as_dict(), member=b)
    assert FlashSaleClaim.objects.get(pk=claim_b.pk).order_ref == "o-b"
    released = services.flash_claims_release_expired(now=timezone.now() + timedelta(minutes=11))
    assert released == 1  # a's claim; b's was ordered
    assert state(sale)[:2] == (1, False)
    assert services.flash_claims_release_expired(now=timezone.now() + timedelta(minutes=11)) == 0
    services.order_cancelled(enterprise_id=chain.hq.enterprise_id, order_ref="o-b")
    services.order_cancelled(enterprise_id=chain.hq.enterprise_id, order_ref="o-b")
    assert state(sale)[:2] == (0, False)
    assert mismatches() == []


# --- group buying ----------------------------------------------------------------------------------------------------

def pay(place_member, chain, cat, order_ref):
    result = price(chain, [line(cat.tee_s)], member=place_member)
    services.order_placed(store=chain.store_a, order_ref=order_ref, pricing=result.as_dict(), member=place_member)
    services.order_paid(store=chain.store_a, order_ref=order_ref, total=result.total, pricing=result.as_dict(),
                        member=place_member)
    return result


def test_a_group_of_three_completes_when_all_three_pay_at_the_three_person_price(chain, cat):
    campaign = group_campaign(chain, cat.tee_s)
    leader, m2, m3 = register(chain), register(chain), register(chain)
    group = services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=3)
    services.group_join(token=group.token, member_id=m2.pk)
    services.group_join(token=group.token, member_id=m3.pk)
    with pytest.raises(Conflict) as exc:
        services.group_join(token=group.token, member_id=register(chain).pk)
    assert exc.value.code == "group_full"
    totals = [pay(m, chain, cat, f"o-{i}").total for i, m in enumerate((leader, m2, m3))]
    assert totals == [7900, 7900, 7900]
    group.refresh_from_db()
    assert (group.status, group.paid_count) == ("succeeded", 3)
    assert GroupBuyCampaign.objects.get(pk=campaign.pk).sold == 3
    assert mismatches() == []


def test_a_failed_group_refunds_every_paid_member_once_and_frees_its_places(chain, cat):
    campaign = group_campaign(chain, cat.tee_s, window_minutes=30)
    leader, m2, m3 = register(chain), register(chain), register(chain)
    group = services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=3)
    services.group_join(token=group.token, member_id=m2.pk)
    services.group_join(token=group.token, member_id=m3.pk)
    pay(leader, chain, cat, "o-1")
    pay(m2, chain, cat, "o-2")
    unpaid = price(chain, [line(cat.tee_s)], member=m3)  # m3 orders but never pays
    services.order_placed(store=chain.store_a, order_ref="o-3", pricing=unpaid.as_dict(), member=m3)
    calls = []
    hook = hooks.on_group_buy_refund(lambda refund: calls.append((refund.order_ref, refund.amount)))
    try:
        assert services.group_buy_expire_due() == {"failed": 0, "refunded": 0, "skipped": 0}  # window still open
        later = timezone.now() + timedelta(minutes=31)
        assert services.group_buy_expire_due(now=later) == {"failed": 1, "refunded": 2, "skipped": 0}
        assert services.group_buy_expire_due(now=later) == {"failed": 0, "refunded": 0, "skipped": 0}
    finally:
        hooks.forget_group_buy_refund(hook)
    assert sorted(calls) == [("o-1", 7900), ("o-2", 7900)]
    assert GroupBuyRefund.objects.count() == 2
    assert sorted(GroupBuyMember.objects.values_list("status", flat=True)) == ["left", "refunded", "refunded"]
    assert GroupBuyGroup.objects.get(pk=group.pk).status == "failed"
    assert GroupBuyCampaign.objects.get(pk=campaign.pk).sold == 0
    with pytest.raises(Conflict) as exc:  # a late payment on a failed group must not go through
        services.group_order_paid(order_ref="o-3", amount=7900)
    assert exc.value.code == "group_closed"
    assert mismatches() == []


def test_a_refund_hook_that_fails_rolls_the_group_back_for_the_next_run(chain, cat):
    campaign = group_campaign(chain, cat.tee_s, window_minutes=30)
    leader = register(chain)
    group = services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=2)
    pay(leader, chain, cat, "o-1")

    def broken(refund):
        raise RuntimeError("payment gateway down")

    hooks.on_group_buy_refund(broken)
    later = timezone.now() + timedelta(minutes=31)
    try:
        with pytest.raises(RuntimeError):
            services.group_buy_expire_due(now=later)
    finally:
        hooks.forget_group_buy_refund(broken)
    assert GroupBuyGroup.objects.get(pk=group.pk).status == "open" and GroupBuyRefund.objects.count() == 0
    assert services.group_buy_expire_due(now=later)["refunded"] == 1


def test_group_rules(chain, cat):
    campaign = group_campaign(chain, cat.tee_s, cap=2)
    leader = register(chain)
    with pytest.raises(ValidationFailed) as exc:
        services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=5)
    assert exc.value.code == "invalid_size"
    group = services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=3)
    with pytest.raises(Conflict) as exc:
        services.group_open(campaign_id=campaign.pk, member_id=leader.pk, size=2)
    assert exc.value.code == "already_in_group"
    with pytest.raises(Conflict) as exc:
        services.group_join(token=group.token, member_id=leader.pk)
    assert exc.value.code == "already_in_group"
    services.group_join(token=group.token, member_id=register(chain).pk)
    with pytest.raises(Conflict) as exc:  # the cap of 2 units is taken
        services.group_join(token=group.token, member_id=register(chain).pk)
    assert exc.value.code == "sold_out"
    with pytest.raises(NotFound):
        services.group_join(token="nope", member_id=leader.pk)
    assert GroupBuyMember.objects.count() == 2 and GroupBuyCampaign.objects.get(pk=campaign.pk).sold == 2
