"""Community groups (join once by code, a group-only coupon the engine checks, metrics) and competitions (live
leaderboard with shared places, results and prizes recorded once, my ranking, scoping)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.guides import competitions, groups, materials
from yundian.guides.models import CommunityMember, Competition, CompetitionResult, GroupDeal
from yundian.members.models import AudienceMember
from yundian.members.tests.factories import register
from yundian.sales import services as sales
from yundian.sales.tests.factories import next_ref, sell, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return stocked(chain, units=20)


def test_members_join_a_guides_group_once_and_only_its_members_get_its_coupon(chain, stock):
    # given guide A's group, and a member who joins it twice by its code
    group = groups.group_create(actor=chain.guide_a, name="宝妈群")
    inside, outside = register(chain), register(chain)
    assert groups.group_join(code=group.join_code, member=inside)[1] is True
    assert groups.group_join(code=group.join_code, member=inside)[1] is False
    assert (CommunityMember.objects.count(), AudienceMember.objects.filter(audience=group.audience).count()) == (1, 1)
    # when the store manager makes a group-only coupon (the guide may not) and posts it into the group
    with pytest.raises(Forbidden):
        groups.group_coupon_create(actor=chain.guide_a, group_id=group.pk, name="群专享", amount=1000)
    deal = groups.group_coupon_create(actor=chain.manager_a, group_id=group.pk, name="群专享 10 元", amount=1000,
                                      shared_code="QUN10")
    assert groups.group_deals(group) == [deal] and deal.coupon_campaign.promotion.audience_id == group.audience_id
    # then the member of the group pays 10 yuan less with the code; anyone else is refused, nothing changes
    order = sales.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                               member_id=inside.pk, coupon_codes=["QUN10"],
                               lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                               payments=[{"method": "card", "client_ref": "c"}]).order
    assert order.total == 9900 - 1000
    with pytest.raises(ValidationFailed) as exc:
        sales.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=outside.pk,
                           coupon_codes=["QUN10"], lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1}],
                           payments=[{"method": "card", "client_ref": "c"}])
    assert exc.value.code == "coupon_not_applicable"
    # a member of another enterprise, or a made-up code, finds no group
    with pytest.raises(NotFound):
        groups.group_join(code="nope", member=outside)


def test_group_metrics_count_members_active_members_and_gmv_through_the_groups_link(chain, stock):
    group = groups.group_create(actor=chain.guide_a, name="老客群")
    buyer, idle = register(chain), register(chain)
    for member in (buyer, idle):
        groups.group_join(code=group.join_code, member=member)
    sales.order_create(actor=chain.manager_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=buyer.pk,
                       share_code=group.link.code, lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 2}],
                       payments=[{"method": "card", "client_ref": "c"}])
    metrics = groups.group_metrics(group)
    assert (metrics.members, metrics.active_members, metrics.orders, metrics.gmv) == (2, 1, 1, 5000)


def test_groups_are_seen_by_their_guide_and_their_stores_managers_only(chain, stock):
    group = groups.group_create(actor=chain.guide_a, name="A 群")
    assert list(groups.group_list(actor=chain.manager_a)) == [group]
    assert list(groups.group_list(actor=chain.east_manager)) == [group]
    for outsider in (chain.guide_b, chain.manager_b, chain.west_manager):
        with pytest.raises(NotFound):
            groups.group_get(actor=outsider, group_id=group.pk)
    with pytest.raises(ValidationFailed):
        groups.group_create(actor=chain.guide_a, name="")
    with pytest.raises(NotFound):  # a guide opens groups at their own stores only
        groups.group_create(actor=chain.guide_a, name="x", store_id=chain.store_b.id)
    assert GroupDeal.objects.count() == 0


def _second_guide(chain):
    from yundian.org import services as org
    from yundian.org.roles import Role

    return org.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-guide-a2",
                            display_name="guide-a2", password="correct-horse-42", role=Role.GUIDE)


def test_a_sales_competition_ranks_live_and_records_places_and_prizes_once(chain, stock):
    now = timezone.now()
    second = _second_guide(chain)
    competition = competitions.competition_create(
        actor=chain.east_manager, node_id=chain.east.id, name="周末销售 PK", competitor="guide", metric="sales",
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1), prize_top_n=1, prize="¥200 红包")
    # guide A sells 2 tees (198.00) and returns one; the second guide sells 3 mugs (75.00); store B's guide is
    # outside the east region
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
    sales.return_create(actor=chain.manager_a, order_id=order.pk, client_ref=next_ref("ret"), reason="x",
                        lines=[{"order_line_id": order.lines.get().pk, "quantity": 1}])
    sales.order_create(actor=chain.manager_a, store_id=chain.store_a.id, client_ref=next_ref(),
                       lines=[{"sku_id": stock.cat.mug_sku.id, "quantity": 3, "guide_id": second.id}],
                       payments=[{"method": "card", "client_ref": "c"}])
    sell(chain.guide_b, chain.store_b, [(stock.cat.tee_s, 5)])
    board = competitions.leaderboard(competition)
    assert [(s.rank, s.key, s.value) for s in board] == [(1, chain.guide_a.id, 9900), (2, second.id, 7500)]
    # closing before the end is refused; after the end, places and the prize are recorded once
    with pytest.raises(Conflict):
        competitions.competition_close(actor=chain.east_manager, competition_id=competition.pk)
    later = now + timedelta(hours=2)
    first = competitions.competition_close(actor=chain.east_manager, competition_id=competition.pk, now=later)
    again = competitions.competition_close(actor=chain.east_manager, competition_id=competition.pk, now=later)
    assert [(r.rank, r.guide_id, r.value, r.prize) for r in first] == [(1, chain.guide_a.id, 9900, "¥200 红包"),
                                                                       (2, second.id, 7500, "")]
    assert [r.pk for r in again] == [r.pk for r in first] and CompetitionResult.objects.count() == 2
    # a later sale does not move the recorded results
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    assert [(s.rank, s.value) for s in competitions.leaderboard(Competition.objects.get())] == [(1, 9900), (2, 7500)]


def test_store_and_share_competitions_and_equal_values_share_a_place(chain, stock):
    now = timezone.now()
    shares = competitions.competition_create(
        actor=chain.admin, node_id=chain.hq.id, name="分享 PK", competitor="store", metric="shares",
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1))
    card = materials.material_create(actor=chain.admin, node_id=chain.hq.id, kind="copy", title="t", body="b")
    for guide in (chain.guide_a, chain.guide_b):
        materials.material_share(actor=guide, material_id=card.pk)
    board = competitions.leaderboard(shares)
    assert sorted((s.rank, s.key, s.value) for s in board) == [(1, chain.store_a.id, 1), (1, chain.store_b.id, 1)]
    members = competitions.competition_create(
        actor=chain.admin, node_id=chain.hq.id, name="拉新 PK", competitor="guide", metric="new_members",
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1))
    register(chain, actor=chain.guide_b, store=chain.store_b)
    assert [(s.key, s.value) for s in competitions.leaderboard(members)][0] == (chain.guide_b.id, 1)


def test_competitions_are_set_up_within_the_actors_subtree_with_a_valid_window(chain):
    now = timezone.now()
    ok = dict(name="PK", competitor="guide", metric="sales", starts_at=now, ends_at=now + timedelta(days=7))
    with pytest.raises(NotFound):
        competitions.competition_create(actor=chain.west_manager, node_id=chain.east.id, **ok)
    with pytest.raises(Forbidden):
        competitions.competition_create(actor=chain.guide_a, node_id=chain.store_a.id, **ok)
    for bad, code in (({"metric": "likes"}, "invalid_metric"), ({"competitor": "team"}, "invalid_competitor"),
                      ({"ends_at": now - timedelta(days=1)}, "invalid_window"), ({"name": " "}, "invalid_name"),
                      ({"prize_top_n": -1}, "invalid_prize")):
        with pytest.raises(ValidationFailed) as exc:
            competitions.competition_create(actor=chain.east_manager, node_id=chain.east.id, **{**ok, **bad})
        assert exc.value.code == code
    assert Competition.objects.count() == 0
    east = competitions.competition_create(actor=chain.east_manager, node_id=chain.east.id, **ok)
    assert list(competitions.competition_list(actor=chain.guide_a)) == [east]
    assert list(competitions.competition_list(actor=chain.guide_b)) == []
    with pytest.raises(NotFound):
        competitions.competition_get(actor=chain.west_manager, competition_id=east.pk)


def test_my_ranking_shows_the_guides_place_in_running_competitions_and_this_months_boards(chain, stock):
    now = timezone.now()
    second = _second_guide(chain)
    competitions.competition_create(actor=chain.manager_a, node_id=chain.store_a.id, name="店内 PK",
                                    competitor="guide", metric="sales", starts_at=now - timedelta(hours=1),
                                    ends_at=now + timedelta(hours=5))
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)])
    sales.order_create(actor=chain.manager_a, store_id=chain.store_a.id, client_ref=next_ref(),
                       lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 1, "guide_id": second.id}],
                       payments=[{"method": "card", "client_ref": "c"}])
    mine = competitions.my_ranking(actor=chain.guide_a)
    assert [(m.competition is not None, m.metric, m.rank, m.of, m.value, m.gap_to_next) for m in mine] == [
        (True, "sales", 2, 2, 2500, 7401),
        (False, "sales", 2, 2, 2500, 7401),
        (False, "new_members", 1, 2, 0, None),
        (False, "shares", 1, 2, 0, None),
    ]
