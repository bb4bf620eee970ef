"""Tags: HQ's and a region's groups and tags, manual tags on one member and in bulk with their history, the bulk
writer, refreshing computed tags from the warehouse, and a sale moving its member's RFM within one sync."""
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yundian.analytics.warehouse_tables import DIM_MEMBER, FACT_ORDER
from yundian.cdp import tags as svc
from yundian.cdp.models import LifecycleSettings, MemberScore, MemberTag, Tag, TagChange, TagKind, TagSource
from yundian.cdp.tag_refresh import tags_refresh
from yundian.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.core.warehouse import rows_insert, warehouse_read, warehouse_transaction, warehouse_write
from yundian.members.tests.factories import register

pytestmark = pytest.mark.django_db


def held(member) -> set[str]:
    return set(MemberTag.objects.filter(member=member).values_list("tag__code", flat=True))


def history(member) -> list[tuple]:
    return list(TagChange.objects.filter(member=member).order_by("id").values_list("tag__code", "gained", "source"))


@pytest.fixture
def hq_tag(chain):
    group = svc.tag_group_create(actor=chain.admin, name="兴趣", code="interest")
    return svc.tag_create(actor=chain.admin, group_id=group.id, name="爱运动", code="sporty")


def test_hq_defines_tags_for_all_and_a_region_its_own_seen_only_inside_it(chain, hq_tag):
    east_group = svc.tag_group_create(actor=chain.east_manager, name="华东活动", code="east-campaigns")
    east_tag = svc.tag_create(actor=chain.east_manager, group_id=east_group.id, name="双11到店", code="east-1111")
    assert (east_group.node_id, east_tag.node_id) == (chain.east.id, chain.east.id)
    # East sees HQ's and its own; West and a store of West see HQ's only; HQ sees all
    codes = lambda actor: set(svc.tag_list(actor=actor).values_list("code", flat=True))  # noqa: E731
    assert codes(chain.east_manager) == {"sporty", "east-1111"} == codes(chain.manager_a)
    assert codes(chain.west_manager) == {"sporty"} == codes(chain.manager_b)
    assert codes(chain.admin) == {"sporty", "east-1111"}
    with pytest.raises(NotFound):
        svc.tag_get(actor=chain.west_manager, tag_id=east_tag.id)
    # a region may not define on HQ's node nor change HQ's tags; a store manager defines nothing
    with pytest.raises(Forbidden):
        svc.tag_group_create(actor=chain.east_manager, name="x", code="x", node_id=chain.hq.id)
    with pytest.raises(Forbidden):
        svc.tag_update(actor=chain.east_manager, tag_id=hq_tag.id, name="改名")
    with pytest.raises(Forbidden):
        svc.tag_group_create(actor=chain.manager_a, name="x", code="y")
    assert Tag.objects.get(pk=hq_tag.pk).name == "爱运动"
    assert list(AuditEntry.objects.filter(action__startswith="cdp.tag").order_by("id").values_list("action", flat=True)) \
        == ["cdp.tag_group.create", "cdp.tag.create", "cdp.tag_group.create", "cdp.tag.create"]


def test_bad_tag_definitions_are_refused_and_change_nothing(chain, hq_tag):
    before = (Tag.objects.count(), AuditEntry.objects.count())
    for kwargs, code in (({"code": "sporty"}, "duplicate_code"), ({"code": "有 空格"}, "invalid_code"),
                         ({"code": "ok", "name": "  "}, "required"), ({"code": "ok", "kind": "computed"}, "invalid_kind"),
                         ({"code": "ok", "kind": "rule", "rule": None}, "rule_required")):
        with pytest.raises(DomainError) as err:
            svc.tag_create(actor=chain.admin, group_id=hq_tag.group_id, **{"name": "n", **kwargs})
        assert err.value.code == code
    assert (Tag.objects.count(), AuditEntry.objects.count()) == before


def test_a_manual_tag_put_on_and_taken_off_keeps_its_history(chain, hq_tag):
    member = register(chain)
    assert svc.member_tag_add(actor=chain.guide_a, member_id=member.id, tag_id=hq_tag.id, reason="asked about shoes")
    assert not svc.member_tag_add(actor=chain.guide_a, member_id=member.id, tag_id=hq_tag.id)  # already held
    assert held(member) == {"sporty"}
    row = MemberTag.objects.get(member=member)
    assert (row.source, row.actor_id) == (TagSource.MANUAL, chain.guide_a.id)
    assert svc.member_tag_remove(actor=chain.manager_a, member_id=member.id, tag_id=hq_tag.id, reason="wrong member")
    assert held(member) == set()
    assert list(TagChange.objects.filter(member=member).order_by("id").values_list(
        "gained", "source", "reason", "actor_id")) == [
        (True, "manual", "asked about shoes", chain.guide_a.id), (False, "manual", "wrong member", chain.manager_a.id)]
    # a guide of West cannot reach a member of East
    with pytest.raises(NotFound):
        svc.member_tag_add(actor=chain.guide_b, member_id=member.id, tag_id=hq_tag.id)
    assert TagChange.objects.filter(member=member).count() == 2


def test_bulk_tagging_is_all_or_nothing_and_a_regions_tag_fits_only_its_members(chain, hq_tag):
    east = [register(chain) for _ in range(3)]
    west = register(chain, store=chain.store_b)
    group = svc.tag_group_create(actor=chain.east_manager, name="华东", code="east")
    east_tag = svc.tag_create(actor=chain.east_manager, group_id=group.id, name="华东VIP", code="east-vip")
    with pytest.raises(ValidationFailed) as err:
        svc.member_tags_bulk(actor=chain.admin, tag_id=east_tag.id, member_ids=[m.id for m in east] + [west.id])
    assert (err.value.code, err.value.details["member_ids"]) == ("members_not_taggable", [west.id])
    assert MemberTag.objects.count() == 0 and TagChange.objects.count() == 0
    result = svc.member_tags_bulk(actor=chain.admin, tag_id=east_tag.id, member_ids=[m.id for m in east])
    assert (result.gained, result.lost) == (3, 0)
    result = svc.member_tags_bulk(actor=chain.east_manager, tag_id=east_tag.id, member_ids=[east[0].id], remove=True)
    assert (result.gained, result.lost) == (0, 1)
    assert [held(m) for m in east] == [set(), {"east-vip"}, {"east-vip"}]
    for bad, code in (([], "members_required"), (["1"], "invalid_member_id"), ([True], "invalid_member_id")):
        with pytest.raises(ValidationFailed) as err:
            svc.member_tags_bulk(actor=chain.admin, tag_id=hq_tag.id, member_ids=bad)
        assert err.value.code == code
    assert TagChange.objects.count() == 4


def test_the_bulk_writer_writes_only_differences_in_a_fixed_number_of_queries(chain, hq_tag):
    members = [register(chain) for _ in range(12)]
    other = svc.tag_create(actor=chain.admin, group_id=hq_tag.group_id, name="爱读书", code="reader")
    family = {hq_tag.id, other.id}

    def apply(mapping, complete=False):
        with CaptureQueriesContext(connection) as queries:
            result = svc.member_tags_apply(enterprise_id=chain.admin.enterprise_id, tag_id_by_member=mapping,
                                           family=family, source=TagSource.COMPUTED, reason="test", complete=complete)
        return (result.gained, result.lost), len(queries)

    (counts, few) = apply({m.id: hq_tag.id for m in members[:2]})
    (counts_many, many) = apply({m.id: hq_tag.id for m in members})
    assert (counts, counts_many) == ((2, 0), (10, 0))
    assert many == few  # bulk: the same queries for 2 members or 12
    assert apply({members[0].id: other.id})[0] == (1, 1)  # moved from one tag of the family to the other
    assert apply({members[0].id: other.id})[0] == (0, 0)  # nothing to do the second time
    assert apply({members[0].id: other.id}, complete=True)[0] == (0, 11)  # everyone else loses the family
    assert {m.id for m in members if held(m)} == {members[0].id}
    assert history(members[0]) == [("sporty", True, "computed"), ("sporty", False, "computed"),
                                   ("reader", True, "computed")]


# --- refresh from the warehouse ----------------------------------------------------------------------------------

def put_warehouse(chain, members_orders: dict, *, today: date):
    """dim_member and fact_order rows written directly: {member: [(days ago, net fen)]}."""
    ent = chain.admin.enterprise_id
    with warehouse_write() as con, warehouse_transaction(con):
        ms = list(members_orders)
        rows_insert(con, DIM_MEMBER, DIM_MEMBER.arrow({
            "member_id": [m.id for m in ms], "enterprise_id": [ent] * len(ms), "canonical_member_id": [m.id for m in ms],
            "is_erased": [False] * len(ms), "home_id": [m.home_id for m in ms],
            "registered_date": [today - timedelta(days=400)] * len(ms)}))
        orders = [(m, ago, net) for m, sales in members_orders.items() for ago, net in sales]
        rows_insert(con, FACT_ORDER, FACT_ORDER.arrow({
            "order_id": list(range(1, len(orders) + 1)), "enterprise_id": [ent] * len(orders),
            "member_id": [m.id for m, _, _ in orders], "store_id": [chain.store_a.id] * len(orders),
            "is_sale": [True] * len(orders), "net_total": [net for _, _, net in orders], "item_count": [1] * len(orders),
            "local_date": [today - timedelta(days=ago) for _, ago, _ in orders]}))


def test_a_refresh_writes_scores_and_computed_tags_with_history_and_a_second_writes_nothing(chain, warehouse):
    today = timezone.localdate()
    a, b, c, d, e = (register(chain) for _ in range(5))
    put_warehouse(chain, {a: [(1, 9000), (20, 8000), (40, 7000)], b: [(3, 100)], c: [(100, 500)], d: [(400, 50)],
                          e: []}, today=today)
    result = tags_refresh(chain.admin.enterprise_id, today=today)
    assert result.members == 5
    scores = {s.member_id: (s.r_score, s.f_score, s.m_score, s.frequency, s.monetary, s.rfm_group, s.lifecycle)
              for s in MemberScore.objects.all()}
    # buyers in the window a, b, c (n = 3, score = floor(5 rank / 3) + 1 -> ranks 0, 1, 2 score 1, 2, 4):
    # recency c < b < a, frequency b = c < a, monetary b < c < a
    assert scores == {
        a.id: (4, 4, 4, 3, 24000, "important_value", "active"),
        b.id: (2, 1, 1, 1, 100, "general_winback", "new"),  # a first sale 3 days ago
        c.id: (1, 1, 2, 1, 500, "general_winback", "at_risk"),
        d.id: (None, None, None, 0, 0, "", "lost"),
        e.id: (None, None, None, 0, 0, "", "dormant"),
    }
    assert held(a) == {"rfm_group.important_value", "lifecycle.active", "price_band.high",
                       f"preferred_store.{chain.store_a.id}"}
    assert held(d) == {"lifecycle.lost"} and held(e) == {"lifecycle.dormant"}
    assert Tag.objects.get(code=f"preferred_store.{chain.store_a.id}").name == chain.store_a.name
    changes = TagChange.objects.count()
    again = tags_refresh(chain.admin.enterprise_id, today=today)
    assert (again.gained, again.lost, again.scores_written, TagChange.objects.count()) == (0, 0, 0, changes)
    # HQ moves the thresholds: c (100 days) is now dormant; the change is history with its source
    svc.lifecycle_settings_update(actor=chain.admin, active_days=60, dormant_days=90, lost_days=200)
    tags_refresh(chain.admin.enterprise_id, today=today)
    assert MemberScore.objects.get(member=c).lifecycle == "dormant"
    assert history(c)[-2:] == [("lifecycle.at_risk", False, "computed"), ("lifecycle.dormant", True, "computed")]


def test_lifecycle_thresholds_only_hq_sets_in_order_and_bad_input_changes_nothing(chain):
    settings = svc.lifecycle_settings_get(chain.admin.enterprise_id)
    before = [getattr(settings, f) for f in svc.LIFECYCLE_FIELDS]
    with pytest.raises(Forbidden):
        svc.lifecycle_settings_update(actor=chain.east_manager, active_days=60)
    for values, code in (({"active_days": 0}, "invalid_days"), ({"dormant_days": "90"}, "invalid_days"),
                         ({"dormant_days": 400}, "thresholds_order"), ({"new_days": 100}, "thresholds_order"),
                         ({"colour": 3}, "unknown_field")):
        with pytest.raises(ValidationFailed) as err:
            svc.lifecycle_settings_update(actor=chain.admin, **values)
        assert err.value.code == code
    settings.refresh_from_db()
    assert [getattr(settings, f) for f in svc.LIFECYCLE_FIELDS] == before
    assert not AuditEntry.objects.filter(action="cdp.lifecycle.update").exists()
    svc.lifecycle_settings_update(actor=chain.admin, new_days=14)
    assert LifecycleSettings.objects.get(enterprise_id=chain.admin.enterprise_id).new_days == 14
    assert AuditEntry.objects.get(action="cdp.lifecycle.update").after["new_days"] == 14


def test_a_sale_moves_its_members_rfm_and_tags_within_one_sync_and_the_warehouse_sees_them(chain, warehouse, hq_tag):
    from yundian.analytics.sync import sync_run
    from yundian.sales.tests.factories import sell, stocked

    stock = stocked(chain)
    buyer, other = register(chain), register(chain)
    first = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=other.id)
    sync_run()
    assert not MemberScore.objects.filter(member=buyer).exists()
    assert MemberScore.objects.get(member=other).frequency == 1

    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2), (stock.cat.mug_sku, 1)], member_id=buyer.id)
    svc.member_tag_add(actor=chain.guide_a, member_id=buyer.id, tag_id=hq_tag.id)
    sync_run()  # one cycle
    score = MemberScore.objects.get(member=buyer)
    assert (score.frequency, score.monetary, score.lifecycle, score.last_sale_date) == (
        1, order.total, "new", timezone.localdate())
    # two buyers: the bigger spender has the higher monetary score
    assert score.m_score == (3 if order.total > first.total else 1)  # n = 2: floor(5 · 1 / 2) + 1 = 3
    assert held(buyer) >= {"sporty", f"rfm_group.{score.rfm_group}", "lifecycle.new"}
    with warehouse_read() as wh:
        t = wh.table("dim_member_tag")
        in_warehouse = set(t.filter(t.member_id == buyer.id).tag_id.to_pyarrow().to_pylist())
    assert in_warehouse == set(MemberTag.objects.filter(member=buyer).values_list("tag_id", flat=True))

    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)], member_id=buyer.id)
    svc.member_tag_remove(actor=chain.guide_a, member_id=buyer.id, tag_id=hq_tag.id)
    sync_run()
    assert MemberScore.objects.get(member=buyer).frequency == 2
    with warehouse_read() as wh:
        t = wh.table("dim_member_tag")
        assert t.filter((t.member_id == buyer.id) & (t.tag_id == hq_tag.id)).count().execute() == 0


def test_the_refresh_command_records_its_run_with_progress(chain, warehouse):
    from io import StringIO

    from django.core.management import call_command

    from yundian.cdp.models import RefreshStatus, TagRefreshRun

    today = timezone.localdate()
    member = register(chain)
    put_warehouse(chain, {member: [(2, 500)]}, today=today)
    out = StringIO()
    call_command("tags", "refresh", "--enterprise", chain.admin.enterprise.code, stdout=out)
    text = out.getvalue()
    assert "[##############################] 7/7" in text and "1 members" in text
    run = TagRefreshRun.objects.get()
    assert (run.status, run.steps_done, run.steps, run.members) == (RefreshStatus.DONE, 7, 7, 1)
    assert held(member) >= {"lifecycle.new", "price_band.low"}


def test_a_rule_tag_follows_its_condition_with_history_and_only_within_its_region(chain, warehouse):
    today = timezone.localdate()
    big, small, west_big = register(chain), register(chain), register(chain, store=chain.store_b)
    put_warehouse(chain, {big: [(3, 50_000)], small: [(3, 900)], west_big: [(2, 80_000)]}, today=today)
    with warehouse_write() as con, warehouse_transaction(con):  # the members' home stores' org paths
        for member, store in ((big, chain.store_a), (small, chain.store_a), (west_big, chain.store_b)):
            con.execute("UPDATE dim_member SET org_path = ?, status = 'active' WHERE member_id = ?",
                        [store.path, member.id])
    group = svc.tag_group_create(actor=chain.east_manager, name="华东规则", code="east-rules")
    rule = {"group": "and", "conditions": [
        {"kind": "orders", "measure": "spent", "op": ">=", "value": 10_000, "days": 30}]}
    tag = svc.tag_create(actor=chain.east_manager, group_id=group.id, name="华东大客", code="east-big",
                         kind=TagKind.RULE, rule=rule)
    with pytest.raises(ValidationFailed):  # a bad tree is refused by the condition language
        svc.tag_create(actor=chain.east_manager, group_id=group.id, name="x", code="x", kind=TagKind.RULE,
                       rule={"group": "and", "conditions": [{"kind": "orders", "measure": "weight"}]})
    tags_refresh(chain.admin.enterprise_id, today=today)
    # West's big spender meets the condition but lies outside the East tag's region
    assert {m.id for m in (big, small, west_big) if "east-big" in held(m)} == {big.id}
    assert history(big)[-1] == ("east-big", True, "rule")
    # the condition tightens: the member loses the tag at the next refresh, with history
    svc.tag_update(actor=chain.east_manager, tag_id=tag.id, rule={"group": "and", "conditions": [
        {"kind": "orders", "measure": "spent", "op": ">=", "value": 100_000, "days": 30}]})
    tags_refresh(chain.admin.enterprise_id, today=today)
    assert "east-big" not in held(big)
    assert [h for h in history(big) if h[0] == "east-big"] == [("east-big", True, "rule"), ("east-big", False, "rule")]
