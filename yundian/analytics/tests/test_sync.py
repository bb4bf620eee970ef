"""The sync from OLTP into the warehouse: what a sale, a return, a merge and an erasure look like there; running it
twice changes nothing; id gaps left by late commits are picked up; the outbox is written in the change's
transaction."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.analytics.sync import sync_rebuild, sync_run, sync_status
from yundian.core.models import OutboxEvent
from yundian.core.warehouse import SourceState, gaps_after_read, warehouse_read
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.sales import services
from yundian.sales.tests.factories import next_ref, plan, sell, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def stock(chain):
    return stocked(chain)


def snapshot() -> dict[str, list]:
    """Every warehouse table's rows, sorted (the sync state's clock columns left out)."""
    out = {}
    with warehouse_read() as wh:
        for name in wh.list_tables():
            table = wh.table(name).to_pyarrow()
            if name == "_sync_state":
                table = table.select(["source", "watermark", "gaps"])  # rows counts re-reads too
            out[name] = sorted(tuple(str(v) for v in row.values()) for row in table.to_pylist())
    return out


def rows(table: str, **where) -> list[dict]:
    with warehouse_read() as wh:
        t = wh.table(table)
        for column, value in where.items():
            t = t.filter(t[column] == value)
        return t.to_pyarrow().to_pylist()


def test_a_sale_reaches_the_warehouse_with_its_lines_payments_stock_points_and_commission(chain, stock, warehouse):
    plan(chain, "0.05")
    member = register(chain)
    order = services.order_create(
        actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(), member_id=member.id,
        lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 2}, {"sku_id": stock.cat.mug_sku.id, "quantity": 1}],
        payments=[{"method": "card", "client_ref": "c"}]).order
    assert OutboxEvent.objects.filter(topic="order.changed", key=str(order.id)).count() >= 1

    sync_run()

    [head] = rows("fact_order", order_id=order.id)
    assert (head["store_id"], head["org_path"], head["member_id"], head["is_sale"], head["net_total"],
            head["line_count"], head["item_count"]) == (chain.store_a.id, chain.store_a.path, member.id, True,
                                                        order.total, 2, 3)
    lines = sorted(rows("fact_order_line", order_id=order.id), key=lambda r: r["line_no"])
    assert [(r["sku_id"], r["quantity"], r["net_amount"], r["guide_id"]) for r in lines] == [
        (line.sku_id, line.quantity, line.line_total, chain.guide_a.id) for line in order.lines.order_by("line_no")]
    assert sum(r["net_amount"] for r in lines) == order.total
    assert [(p["method"], p["amount"]) for p in rows("fact_payment", order_id=order.id)] == [("card", order.total)]
    moves = rows("fact_stock_move", source_id=str(order.id))
    assert sorted((m["sku_id"], m["quantity"]) for m in moves if m["kind"] == "sale_issue") == sorted(
        [(stock.cat.tee_s.id, -2), (stock.cat.mug_sku.id, -1)])
    assert all(m["org_path"] == chain.store_a.path for m in moves)
    assert sum(r["points"] for r in rows("fact_points_entry", member_id=member.id)) == order.total // 100
    assert sum(r["amount"] for r in rows("fact_commission_entry", guide_id=chain.guide_a.id)) == order.total * 5 // 100
    [registered] = rows("dim_member", member_id=member.id)
    assert (registered["canonical_member_id"], registered["org_path"]) == (member.id, member.home.path)
    assert {r["org_path"] for r in rows("dim_org", node_id=chain.store_a.id)} == {chain.store_a.path}
    assert len(rows("dim_sku", sku_id=stock.cat.tee_s.id)) == 1
    assert any(e["kind"] == "order_changed" and e["order_id"] == order.id for e in rows("fact_event", channel="server"))


def test_running_the_sync_again_changes_nothing_and_a_return_is_netted(chain, stock, warehouse):
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 3)])
    sync_run()
    first = snapshot()
    sync_run()
    assert snapshot() == first

    line = order.lines.get()
    services.return_create(actor=chain.guide_a, order_id=order.id, client_ref="r1",
                           lines=[{"order_line_id": line.id, "quantity": 1}])
    sync_run()
    [net] = rows("fact_order_line", order_id=order.id)
    order.refresh_from_db()
    assert (net["quantity"], net["returned_quantity"], net["net_quantity"]) == (3, 1, 2)
    assert net["net_amount"] == line.line_total - order.refunded_total > 0
    [head] = rows("fact_order", order_id=order.id)
    assert (head["status"], head["net_total"]) == ("partially_returned", order.total - order.refunded_total)
    assert len(rows("fact_order_line")) == 1  # replaced, not appended


def test_rebuild_reads_everything_again_into_the_same_warehouse(chain, stock, warehouse):
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    sell(chain.guide_b, chain.store_b, [(stock.cat.mug_sku, 2)])
    sync_run()
    before = snapshot()
    sync_rebuild()
    after = snapshot()
    assert {k: v for k, v in after.items() if k != "_sync_state"} == {
        k: v for k, v in before.items() if k != "_sync_state"}


def test_merge_and_unmerge_move_the_members_orders_to_the_survivor_and_back(chain, stock, warehouse):
    survivor, absorbed = register(chain), register(chain)
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=absorbed.id)
    sync_run()
    assert rows("dim_member", member_id=absorbed.id)[0]["canonical_member_id"] == absorbed.id

    merge = member_services.member_merge(actor=chain.admin, survivor_id=survivor.id, absorbed_id=absorbed.id,
                                         reason="same person")
    sync_run()
    assert rows("dim_member", member_id=absorbed.id)[0]["canonical_member_id"] == survivor.id
    assert rows("fact_order", order_id=order.id)[0]["member_id"] == absorbed.id  # facts are not rewritten

    member_services.member_unmerge(actor=chain.admin, merge_id=merge.id, reason="two people after all")
    sync_run()
    assert rows("dim_member", member_id=absorbed.id)[0]["canonical_member_id"] == absorbed.id


def test_erasure_scrubs_the_member_and_removes_their_behaviour(chain, stock, warehouse):
    from datetime import datetime

    import pyarrow as pa

    from yundian.cdp.ingest import events_load_bulk

    member = register(chain, birthday=timezone.localdate().replace(year=1990))
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.id)
    at = datetime(2026, 3, 1, 5)
    events_load_bulk(pa.table({
        "enterprise_id": [chain.hq.enterprise_id] * 2, "event_key": ["e1", "e2"], "kind": ["page_view"] * 2,
        "name": [""] * 2, "occurred_at": [at, at], "received_at": [at, at], "anonymous_id": ["dev-9", "dev-9"],
        "member_id": [member.id, None], "store_id": [chain.store_a.id] * 2, "channel": ["storefront"] * 2,
        "sku_id": pa.array([None, None], pa.int64()), "order_id": pa.array([None, None], pa.int64()),
        "amount": pa.array([None, None], pa.int64()), "properties": ["{}"] * 2}))
    sync_run()
    assert rows("dim_member", member_id=member.id)[0]["birth_month"] is not None

    member_services.member_erase(actor=chain.admin, member_id=member.id, reason="asked to be forgotten")
    sync_run()
    [scrubbed] = rows("dim_member", member_id=member.id)
    assert (scrubbed["is_erased"], scrubbed["birth_month"], scrubbed["gender"]) == (True, None, None)
    assert [e for e in rows("fact_event", channel="storefront")] == []  # the device's anonymous events went too
    assert rows("identity_link") == []
    assert len(rows("fact_order", member_id=member.id)) == 1  # the sale stays (no personal data in it)


def test_erasure_leaves_no_tags_tag_history_scores_or_clv_behind(chain, stock, warehouse):
    from yundian.analytics.models import ClvModelVersion, MemberClv
    from yundian.cdp import tags
    from yundian.cdp.models import MemberScore, MemberTag, TagChange

    member, other = register(chain), register(chain, phone="13900007777")
    group = tags.tag_group_create(actor=chain.admin, name="运营", code="ops")
    tag = tags.tag_create(actor=chain.admin, group_id=group.pk, name="孕期", code="pregnant")
    for m in (member, other):
        tags.member_tag_add(actor=chain.admin, member_id=m.id, tag_id=tag.pk)
        MemberScore.objects.create(member=m, enterprise_id=chain.hq.enterprise_id, r_score=5, frequency=2, monetary=3,
                                   computed_at=timezone.now())
    version = ClvModelVersion.objects.create(enterprise_id=chain.hq.enterprise_id, version=1, status="fitted",
                                             package="lifetimes", observation_end=timezone.localdate())
    for m in (member, other):
        MemberClv.objects.create(member=m, enterprise_id=chain.hq.enterprise_id, model=version, band="top")
    sync_run()
    assert {r["member_id"] for r in rows("dim_member_tag")} == {member.id, other.id}

    member_services.member_erase(actor=chain.admin, member_id=member.id, reason="asked to be forgotten")
    sync_run()
    for model in (MemberTag, TagChange, MemberScore, MemberClv):
        assert set(model.objects.values_list("member_id", flat=True)) == {other.id}, model
    assert {r["member_id"] for r in rows("dim_member_tag")} == {other.id}


def test_an_id_committed_late_is_picked_up_from_its_gap():
    now = timezone.now()
    state = SourceState(source="x", watermark=10, gaps=[])
    # ids 11, 12 and 14 read; 13 not committed yet
    gaps = gaps_after_read(state, [11, 12, 14], 10, now)
    assert gaps == [[13, 13, now.isoformat()]]
    state.gaps, state.watermark = gaps, 14
    # 13 commits and is found in the gap; 15..16 read, nothing missing
    assert gaps_after_read(state, [13, 15, 16], 14, now) == []
    # a gap that stays empty past the grace period is a rolled-back transaction: dropped
    assert gaps_after_read(state, [], 14, now + timedelta(hours=1)) == []


def test_a_late_commit_below_the_watermark_reaches_the_warehouse(chain, stock, warehouse):
    from yundian.inventory.models import StockMove

    first = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    second = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 1)])
    # as if the first sale's moves committed after the second's were read: hide them for one run
    hidden = list(StockMove.objects.filter(source_id=str(first.id)).values())
    StockMove.objects.filter(source_id=str(first.id)).delete()
    sync_run()
    assert rows("fact_stock_move", source_id=str(first.id)) == []
    StockMove.objects.bulk_create([StockMove(**row) for row in hidden])
    sync_run()
    assert len(rows("fact_stock_move", source_id=str(first.id))) == len(hidden)
    assert len(rows("fact_stock_move", source_id=str(second.id))) >= 1


def test_the_status_shows_when_the_sync_ran_and_what_waits(chain, stock, warehouse):
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    sync_run()
    status = sync_status()
    assert status["pending"] == 0 and status["last_run"] is not None
    assert status["tables"]["fact_order"] == 1
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_m, 1)])
    status = sync_status()
    assert status["pending"] == 1 and status["oldest_pending"] is not None


def test_the_outbox_row_is_part_of_the_sale_transaction(chain, stock):
    from yundian.core.errors import DomainError

    before = OutboxEvent.objects.count()
    with pytest.raises(DomainError):
        services.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=next_ref(),
                              lines=[{"sku_id": stock.cat.tee_s.id, "quantity": 999}],
                              payments=[{"method": "cash", "client_ref": "p"}])
    assert OutboxEvent.objects.count() == before


def test_the_minute_task_exports_parquet_for_a_cluster_when_asked(chain, stock, warehouse, settings, tmp_path):
    import pyarrow.parquet as pq

    from yundian.analytics.tasks import warehouse_sync

    settings.WAREHOUSE_PARQUET_DIR = str(tmp_path / "lake")
    order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)])
    assert warehouse_sync.call() > 0
    exported = pq.read_table(tmp_path / "lake" / "fact_order" / "data.parquet").to_pylist()
    assert [(r["order_id"], r["net_total"]) for r in exported] == [(order.id, order.total)]
    assert not list((tmp_path / "lake" / "fact_order").glob(".*partial"))
