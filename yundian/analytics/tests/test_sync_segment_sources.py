"""What segments need from the warehouse beyond orders and events: coupons members hold and their marketing consent.
The sync keeps both (idempotently), and the condition language counts from them."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.analytics.sync import sync_run
from yundian.cdp.conditions import condition_validate, count_matching
from yundian.core.warehouse import warehouse_read
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.promotions import services as promotion_services
from yundian.promotions.tests.factories import campaign

pytestmark = pytest.mark.django_db


def _rows(table: str) -> list[dict]:
    with warehouse_read() as wh:
        return sorted(wh.table(table).to_pyarrow().to_pylist(), key=lambda r: tuple(str(v) for v in r.values()))


def _count(chain, tree) -> int:
    with warehouse_read() as wh:
        return count_matching(wh, condition_validate(tree), enterprise_id=chain.hq.enterprise_id, paths=None,
                              today=timezone.localdate())


def test_coupons_held_and_consent_reach_the_warehouse_and_follow_their_changes(chain, warehouse):
    holder, other = register(chain), register(chain, consents={"sms": True})
    ends = timezone.now() + timedelta(days=10)
    c1 = campaign(chain, code="C1", valid_to=ends)
    [coupon] = promotion_services.coupon_issue(actor=chain.admin, campaign_id=c1.id, member_ids=[holder.id])
    promotion_services.coupon_issue(actor=chain.admin, campaign_id=c1.id, count=2)  # bearer codes: nobody's

    sync_run()
    first = (_rows("fact_coupon"), _rows("dim_member_consent"))
    assert [(r["coupon_id"], r["member_id"], r["status"], r["valid_until"], r["org_path"]) for r in first[0]] == [
        (coupon.id, holder.id, "available", timezone.localdate(ends), chain.hq.path)]
    assert [(r["member_id"], r["channel"], r["granted"]) for r in first[1]] == [(other.id, "sms", True)]
    assert _count(chain, {"kind": "coupons", "op": ">=", "value": 1}) == 1
    assert _count(chain, {"kind": "consent", "channel": "sms"}) == 1
    sync_run()
    assert (_rows("fact_coupon"), _rows("dim_member_consent")) == first  # read again, written once

    promotion_services.coupon_void(actor=chain.admin, coupon_id=coupon.id)
    member_services.consent_set(actor=chain.admin, member_id=other.id, channel="sms", granted=False)
    member_services.consent_set(actor=chain.admin, member_id=holder.id, channel="wechat", granted=True)
    sync_run()
    assert [(r["coupon_id"], r["status"]) for r in _rows("fact_coupon")] == [(coupon.id, "void")]
    assert sorted((r["member_id"], r["channel"], r["granted"]) for r in _rows("dim_member_consent")) == [
        (holder.id, "wechat", True), (other.id, "sms", False)]
    assert _count(chain, {"kind": "coupons", "op": ">=", "value": 1}) == 0
    assert _count(chain, {"kind": "consent", "channel": "sms"}) == 0
    assert _count(chain, {"kind": "consent", "channel": "wechat"}) == 1
