"""Promotions for an audience (a segment's member list) only, and coupons issued to an audience exactly once."""
from collections import Counter

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yundian.core.errors import Conflict, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.core.testing import race
from yundian.members import services as member_services
from yundian.promotions import services, tasks
from yundian.promotions.models import Coupon, CouponCampaign, CouponIssueRun, Promotion
from yundian.promotions.services import audience_coupons

from .factories import campaign, line, make_catalogue, promo, price, register


@pytest.fixture
def cat(chain):
    return make_catalogue(chain)


def audience(chain, members, *, node=None, source_id=1, name="高价值会员"):
    ent = chain.hq.enterprise_id
    row = member_services.audience_ensure(enterprise_id=ent, node_id=(node or chain.hq).id, source="segment",
                                          source_id=source_id, name=name)
    member_services.audience_replace(enterprise_id=ent, audience_id=row.pk, member_ids=[m.pk for m in members])
    return row


def test_a_promotion_for_an_audience_applies_to_its_members_only(chain, cat):
    listed, other = register(chain), register(chain)
    vip = audience(chain, [listed])
    promo(chain, code="VIP", rate="0.8", audience_id=vip.pk)
    for_listed = price(chain, [line(cat.tee_s)], member=listed)
    for_other = price(chain, [line(cat.tee_s)], member=other)
    anonymous = price(chain, [line(cat.tee_s)])
    assert [a["code"] for a in for_listed.applied] == ["VIP"]
    assert for_listed.total == cat.tee_s.base_price * 8 // 10
    assert (for_other.applied, for_other.total) == ([], cat.tee_s.base_price)
    assert [(n["code"], n["reason"]) for n in for_other.not_applicable] == [("VIP", "audience_required")]
    assert [n["reason"] for n in anonymous.not_applicable] == ["member_required"]


def test_the_audience_is_read_once_per_pricing_not_per_line(chain, cat):
    listed = register(chain)
    promo(chain, code="VIP", rate="0.8", audience_id=audience(chain, [listed]).pk)
    promo(chain, code="VIP2", rate="0.9", audience_id=audience(chain, [listed], source_id=2).pk)
    price(chain, [line(cat.tee_s)], member=listed)  # warm the snapshot

    def audience_queries(lines):
        with CaptureQueriesContext(connection) as queries:
            price(chain, lines, member=listed)
        return sum("members_audiencemember" in q["sql"] for q in queries)

    assert audience_queries([line(cat.tee_s)]) == 1
    assert audience_queries([line(cat.tee_s), line(cat.tee_m), line(cat.mug_sku, 3)]) == 1


def test_a_coupon_for_an_audience_is_refused_to_someone_else_at_pricing_and_at_redemption(chain, cat):
    listed, other = register(chain), register(chain)
    c = campaign(chain, code_mode="shared", shared_code="VIPONLY", audience_id=audience(chain, [listed]).pk)
    assert price(chain, [line(cat.tee_s)], member=other, codes=["VIPONLY"]).not_applicable[0]["reason"] \
        == "audience_required"
    assert price(chain, [line(cat.tee_s)], member=listed, codes=["VIPONLY"]).applied[0]["code"] == c.promotion.code
    with pytest.raises(Conflict) as exc:
        services.coupon_redeem(enterprise_id=chain.hq.enterprise_id, store=chain.store_a, code="VIPONLY",
                               order_ref="o-1", member_id=other.pk, discount=1000)
    assert exc.value.code == "audience_required"
    assert CouponCampaign.objects.get(pk=c.pk).redeemed_count == 0


def test_a_sale_to_a_member_off_the_list_pays_full_price(chain):
    from yundian.sales.tests.factories import sell, stocked

    s = stocked(chain)
    listed, other = register(chain), register(chain)
    promo(chain, code="VIP", kind="amount_off", amount=500, audience_id=audience(chain, [listed]).pk)
    on_list = sell(chain.guide_a, chain.store_a, [(s.cat.tee_s, 2)], member_id=listed.pk)
    off_list = sell(chain.guide_a, chain.store_a, [(s.cat.tee_s, 2)], member_id=other.pk)
    assert (on_list.discount_total, off_list.discount_total) == (1000, 0)
    assert off_list.total == on_list.total + 1000


def test_an_audience_outside_the_actors_reach_is_refused_and_nothing_is_created(chain, cat):
    west = audience(chain, [register(chain, store=chain.store_b)], node=chain.west)
    with pytest.raises(ValidationFailed) as exc:
        promo(chain, actor=chain.east_manager, node=chain.east, code="E1", rate="0.9", audience_id=west.pk)
    assert (exc.value.code, exc.value.details["field"]) == ("audience_not_found", "audience_id")
    assert Promotion.objects.count() == 0


def issued(c) -> Counter:
    return Counter(Coupon.objects.filter(campaign=c).values_list("member_id", flat=True))


def test_a_coupon_issued_to_an_audience_reaches_each_member_once_even_when_retried(chain, cat):
    members = [register(chain) for _ in range(5)] + [register(chain, store=chain.store_b)]
    vip = audience(chain, members)
    c = campaign(chain)
    run = services.coupon_issue_to_audience(actor=chain.admin, campaign_id=c.pk, audience_id=vip.pk)
    assert (run.total, run.status) == (6, "running")
    step = services.coupon_issue_run_step(run_id=run.pk, batch=2)
    assert (step.issued, step.skipped, step.percent) == (2, 0, 33)
    # the worker dies here; the task is retried from the start, and a second worker runs it too
    done = services.coupon_issue_run_work(run_id=run.pk, batch=4)
    again = services.coupon_issue_run_work(run_id=run.pk, batch=4)
    assert (done.status, done.issued, done.skipped, again.issued) == ("done", 6, 0, 6)
    assert issued(c) == Counter({m.pk: 1 for m in members})
    # issuing the same campaign to the same audience again reaches nobody twice, only who joined since
    newcomer = register(chain)
    member_services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=vip.pk,
                                     member_ids=[m.pk for m in members] + [newcomer.pk])
    second = tasks.coupon_issue_run_start(actor=chain.admin, campaign_id=c.pk, audience_id=vip.pk)
    assert (second.status, second.issued, second.skipped) == ("done", 1, 6)
    assert issued(c) == Counter({m.pk: 1 for m in members + [newcomer]})
    assert CouponCampaign.objects.get(pk=c.pk).issued_count == 7
    actions = list(AuditEntry.objects.filter(action__startswith="coupon_audience.").order_by("id")
                   .values_list("action", "after__members", "after__issued"))
    assert actions == [("coupon_audience.start", 6, None), ("coupon_audience.issue", None, 6),
                       ("coupon_audience.start", 7, None), ("coupon_audience.issue", None, 1)]


def test_a_store_manager_issues_only_to_the_audience_members_of_their_store(chain, cat):
    mine, theirs = register(chain), register(chain, store=chain.store_b)
    vip = audience(chain, [mine, theirs])
    c = campaign(chain)
    run = tasks.coupon_issue_run_start(actor=chain.manager_a, campaign_id=c.pk, audience_id=vip.pk)
    assert (run.total, run.issued) == (1, 1) and issued(c) == Counter({mine.pk: 1})


def test_a_shared_code_campaign_cannot_be_issued_to_an_audience_and_nothing_changes(chain, cat):
    c = campaign(chain, code_mode="shared", shared_code="ALL")
    vip = audience(chain, [register(chain)])
    with pytest.raises(Conflict) as exc:
        services.coupon_issue_to_audience(actor=chain.admin, campaign_id=c.pk, audience_id=vip.pk)
    assert exc.value.code == "campaign_is_shared"
    assert (CouponIssueRun.objects.count(), Coupon.objects.count()) == (0, 0)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issues_to_an_audience_give_each_member_one_code(chain):
    make_catalogue(chain)
    members = [register(chain) for _ in range(30)]
    vip = audience(chain, members)
    c = campaign(chain)
    first = services.coupon_issue_to_audience(actor=chain.admin, campaign_id=c.pk, audience_id=vip.pk)
    # a second run of the same campaign and audience, as a second request would have made after the first ended
    CouponIssueRun.objects.filter(pk=first.pk).update(status="done")
    second = services.coupon_issue_to_audience(actor=chain.admin, campaign_id=c.pk, audience_id=vip.pk)
    CouponIssueRun.objects.filter(pk=first.pk).update(status="running")

    def work(run_id):
        return lambda: audience_coupons.coupon_issue_run_work(run_id=run_id, batch=7)

    results = race(work(first.pk), work(first.pk), work(second.pk))
    assert [r[0] for r in results] == ["ok", "ok", "ok"], results
    assert issued(c) == Counter({m.pk: 1 for m in members})
    assert CouponCampaign.objects.get(pk=c.pk).issued_count == 30
    runs = CouponIssueRun.objects.filter(pk__in=[first.pk, second.pk])
    assert sum(r.issued for r in runs) == 30 and all(r.status == "done" for r in runs)


def test_the_promotion_form_picks_the_audience_by_name_and_the_page_says_for_whom(chain, cat):
    from django.conf import settings

    from yundian.org.tests.utils import client_for

    vip = audience(chain, [register(chain)], name="高价值会员")
    client = client_for(chain.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    found = client.get("/pick/audience/", {"q": "高价值"})
    assert found.status_code == 200 and "高价值会员" in found.content.decode()
    made = client.post("/promotions/new/", {"node_id": chain.hq.id, "code": "VIP", "name": "会员日", "kind":
                                            "percent_off", "rate": "0.9", "audience_id": str(vip.pk),
                                            "activate": "on"})
    promotion = Promotion.objects.get(code="VIP")
    assert made.status_code == 302 and promotion.audience_id == vip.pk
    page = client.get(f"/promotions/{promotion.pk}/").content.decode()
    assert "高价值会员的会员（当前 1 人）" in page
    refused = client.post("/promotions/new/", {"node_id": chain.hq.id, "code": "VIP2", "name": "x", "kind":
                                               "percent_off", "rate": "0.9", "audience_id": "999999"})
    assert refused.status_code == 422 and Promotion.objects.count() == 1
