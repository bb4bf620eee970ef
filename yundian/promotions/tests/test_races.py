"""Races on PostgreSQL (real row locks, concurrent transactions): a one-use coupon under 20 checkouts, a flash sale
of 100 units under 1,000 buyers, a failed group expired by several workers at once."""
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from yundian.core.testing import attempt, race_n
from yundian.members.models import Channel, Member, MemberStatus
from yundian.promotions import hooks, services
from yundian.promotions.models import (
    CouponCampaign, CouponRedemption, FlashSale, FlashSaleBuyer, FlashSaleClaim, GroupBuyGroup, GroupBuyRefund,
)

from .factories import campaign, flash, group_campaign, line, make_catalogue, mismatches, price, register


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_one_use_coupon_is_redeemed_once_by_twenty_concurrent_checkouts(chain):
    c = campaign(chain)
    code = services.coupon_issue(actor=chain.admin, campaign_id=c.pk, count=1)[0].code

    def checkout(i):
        with transaction.atomic():
            return services.coupon_redeem(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, code=code,
                                          order_ref=f"o-{i}", discount=1000).redemption.order_ref

    results = race_n(20, checkout, conflict_codes=True)
    assert Counter(r[0] for r in results) == {"ok": 1, "conflict": 19}, results
    assert {r[1] for r in results if r[0] == "conflict"} == {"coupon_used"}
    assert CouponRedemption.objects.count() == 1
    assert CouponCampaign.objects.get(pk=c.pk).redeemed_count == 1
    assert mismatches() == []


def _members(chain, n):
    """n active members of the chain's enterprise (rows only: registration is not what is under test here)."""
    Member.objects.bulk_create([Member(enterprise_id=chain.hq.enterprise_id, home=chain.store_a, channel=Channel.POS,
                                       status=MemberStatus.ACTIVE) for _ in range(n)])
    return list(Member.objects.filter(enterprise_id=chain.hq.enterprise_id).order_by("id").values_list("id", flat=True))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_flash_sale_of_100_units_under_1000_buyers_sells_exactly_100_and_nobody_past_their_limit(chain):
    cat = make_catalogue(chain)
    sale = flash(chain, cat.mug_sku, cap=100, limit=2)
    members = _members(chain, 400)
    rng = random.Random(7)
    attempts = [(rng.choice(members), f"k{i}") for i in range(1000)]

    def buy(args):
        member_id, ref = args
        return attempt(lambda: services.flash_sale_buy(flash_sale_id=sale.pk, member_id=member_id,
                                                       client_ref=ref).claim.pk, conflict_codes=True)

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(buy, attempts))

    outcomes = Counter(r[0] if r[0] != "conflict" else r[1] for r in results)
    assert outcomes["ok"] == 100, outcomes
    assert set(outcomes) <= {"ok", "sold_out", "member_limit_reached"}, outcomes
    sale.refresh_from_db()
    assert (sale.sold, sale.is_sold_out) == (100, True)
    assert FlashSaleClaim.objects.filter(flash_sale=sale).aggregate(s=Sum("quantity"))["s"] == 100
    per_member = Counter(FlashSaleClaim.objects.filter(flash_sale=sale).values_list("member_id", flat=True))
    assert max(per_member.values()) <= 2
    assert all(b.quantity == per_member.get(b.member_id, 0) for b in FlashSaleBuyer.objects.filter(flash_sale=sale))
    assert mismatches() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_failed_group_refunds_every_member_once_under_concurrent_expiry_workers(chain):
    cat = make_catalogue(chain)
    gb = group_campaign(chain, cat.tee_s, window_minutes=30, tiers=[{"size": 5, "price": 6900}])
    people = [register(chain) for _ in range(4)]
    group = services.group_open(campaign_id=gb.pk, member_id=people[0].pk, size=5)
    for member in people[1:]:
        services.group_join(token=group.token, member_id=member.pk)
    for i, member in enumerate(people):
        result = price(chain, [line(cat.tee_s)], member=member)
        services.order_placed(store=chain.store_a, order_ref=f"o-{i}", pricing=result.as_dict(), member=member)
        services.order_paid(store=chain.store_a, order_ref=f"o-{i}", total=result.total, pricing=result.as_dict(),
                            member=member)
    calls, lock = [], threading.Lock()

    def refund(r):
        with lock:
            calls.append(r.order_ref)

    hooks.on_group_buy_refund(refund)
    later = timezone.now() + timedelta(minutes=31)
    try:
        results = race_n(8, lambda i: services.group_buy_expire_due(now=later)["refunded"], conflict_codes=True)
    finally:
        hooks.forget_group_buy_refund(refund)
    assert all(r[0] == "ok" for r in results), results
    assert sum(r[1] for r in results) == 4
    assert sorted(calls) == ["o-0", "o-1", "o-2", "o-3"]
    assert GroupBuyRefund.objects.count() == 4
    assert GroupBuyGroup.objects.get(pk=group.pk).status == "failed"
    assert FlashSale.objects.count() == 0 and mismatches() == []
