"""Guide tasks: a follow-up asked by another context (idempotent on its key, to the bound guide or the store
manager), cascading targets that add up, completion detected per kind, scoping."""
from datetime import timedelta

import pytest
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.guides import guide_tasks, task_progress
from yundian.guides.models import CallListEntry, ContactLog, GuideTask, TaskPlan, TaskTarget
from yundian.members import services as member_services
from yundian.members.tests.factories import register
from yundian.org import services as org_services
from yundian.org.roles import Role
from yundian.org.tests.factories import PASSWORD
from yundian.members.models import Member
from yundian.sales.models import Order, OrderLine
from yundian.sales.tests.factories import sell, stocked


def soon(days=3):
    return timezone.now() + timedelta(days=days)


@pytest.fixture
def bound(chain):
    member = register(chain, name="王芳")
    member_services.guide_bind(actor=chain.guide_a, member_id=member.pk, guide_id=chain.guide_a.pk)
    member.refresh_from_db()
    return member


def follow_up(member, key="journey:1:step:2", **kwargs):
    return guide_tasks.guide_follow_up_create(member=member, title="回访", note="看过羽绒服", due_at=soon(), key=key,
                                              **kwargs)


def test_a_follow_up_goes_to_the_bound_guide_once_per_key(chain, bound):
    task = follow_up(bound)
    again = guide_tasks.guide_follow_up_create(member=bound, title="another", note="", due_at=soon(5),
                                               key="journey:1:step:2")
    assert (again.pk, again.guide_id, again.title) == (task.pk, chain.guide_a.pk, "回访")
    assert (task.kind, task.member_id, task.store_id, task.target) == ("follow_up", bound.pk, chain.store_a.pk, 1)
    assert GuideTask.objects.count() == 1


def test_a_member_without_a_guide_goes_to_the_store_manager_and_nobody_gives_none(chain):
    member = register(chain)
    assert follow_up(member, key="k1").guide_id == chain.manager_a.pk
    lonely = register(chain, store=chain.store_b)
    org_services.staff_update(actor=chain.admin, staff_id=chain.manager_b.pk, is_active=False)
    assert follow_up(lonely, key="k2") is None
    assert GuideTask.objects.count() == 1


def test_a_bad_key_or_an_unseen_member_changes_nothing(chain, bound):
    with pytest.raises(ValidationFailed) as exc:
        follow_up(bound, key=" ")
    assert exc.value.code == "invalid_key"
    with pytest.raises(NotFound):
        follow_up(bound, key="k", actor=chain.manager_b)
    assert GuideTask.objects.count() == 0


def test_a_follow_up_is_done_by_the_system_when_the_member_buys_within_7_days_of_the_contact(chain, bound):
    stock = stocked(chain)
    task = follow_up(bound)
    late = register(chain, name="李雷")
    member_services.guide_bind(actor=chain.guide_a, member_id=late.pk, guide_id=chain.guide_a.pk)
    late_task = follow_up(late, key="k-late")
    guide_tasks.contact_record(actor=chain.guide_a, member_id=bound.pk, channel="call", outcome="interested",
                               note="周末来", at=timezone.now() - timedelta(days=3))
    guide_tasks.contact_record(actor=chain.guide_a, member_id=late.pk, channel="message", outcome="reached",
                               at=timezone.now() - timedelta(days=9))
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=bound.pk)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=late.pk)
    assert task_progress.refresh_open() == 1
    task.refresh_from_db(), late_task.refresh_from_db()
    assert (task.status, task.done_by, task.progress, task.converted) == ("done", "system", 1, 1)
    assert (late_task.status, late_task.progress, late_task.converted) == ("open", 1, 0)
    assert task_progress.refresh_open() == 0  # idempotent
    # otherwise the guide closes it with a note
    guide_tasks.task_done(actor=chain.guide_a, task_id=late_task.pk, note="已买过，不再需要")
    late_task.refresh_from_db()
    assert (late_task.status, late_task.done_by, late_task.done_note) == ("done", "guide", "已买过，不再需要")
    with pytest.raises(Conflict):
        guide_tasks.task_done(actor=chain.guide_a, task_id=late_task.pk, note="again")


def test_a_guide_sees_and_closes_only_their_own_tasks(chain, bound):
    task = follow_up(bound)
    assert [t.pk for t in task_progress.my_tasks(actor=chain.guide_a)] == [task.pk]
    assert task_progress.my_tasks(actor=chain.guide_b) == []
    with pytest.raises(NotFound):
        guide_tasks.task_done(actor=chain.guide_b, task_id=task.pk, note="x")
    with pytest.raises(NotFound):
        guide_tasks.task_done(actor=chain.manager_b, task_id=task.pk, note="x")
    with pytest.raises(NotFound):
        guide_tasks.contact_record(actor=chain.guide_b, member_id=bound.pk, channel="call", outcome="reached")
    with pytest.raises(Forbidden):
        task_progress.my_tasks(actor=chain.auditor)
    assert GuideTask.objects.get(pk=task.pk).status == "open" and ContactLog.objects.count() == 0


# --- cascading targets -----------------------------------------------------------------------------------------

def second_guide(chain, name="guide-a2"):
    return org_services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username=f"acme-{name}",
                                     display_name=name, password=PASSWORD, role=Role.GUIDE)


def recruit_plan(chain, target=10):
    return guide_tasks.task_plan_create(actor=chain.admin, node_id=chain.hq.id, kind="recruit", title="拉新",
                                        target=target, starts_at=timezone.now() - timedelta(hours=1),
                                        due_at=soon(30))


def test_targets_cascade_from_hq_to_regions_to_stores_to_guides_and_must_add_up(chain):
    a2 = second_guide(chain)
    plan = recruit_plan(chain, 10)
    root = TaskTarget.objects.get(plan=plan, parent=None)
    assert (root.node_id, root.target) == (chain.hq.pk, 10)
    with pytest.raises(ValidationFailed) as exc:
        guide_tasks.task_target_split(actor=chain.admin, target_id=root.pk,
                                      parts=[{"node_id": chain.east.pk, "target": 6},
                                             {"node_id": chain.west.pk, "target": 3}])
    assert (exc.value.code, exc.value.details) == ("targets_do_not_add_up", {"sum": 9, "target": 10})
    assert TaskTarget.objects.filter(plan=plan).count() == 1
    east, west = guide_tasks.task_target_split(actor=chain.admin, target_id=root.pk,
                                               parts=[{"node_id": chain.east.pk, "target": 7},
                                                      {"node_id": chain.west.pk, "target": 3}])
    # the region splits its part over its stores (through the dealer), the store over its guides
    with pytest.raises(NotFound):
        guide_tasks.task_target_split(actor=chain.west_manager, target_id=east.pk,
                                      parts=[{"node_id": chain.store_a.pk, "target": 7}])
    (store_a,) = guide_tasks.task_target_split(actor=chain.east_manager, target_id=east.pk,
                                               parts=[{"node_id": chain.store_a.pk, "target": 7}])
    with pytest.raises(ValidationFailed) as exc:
        guide_tasks.task_target_split(actor=chain.manager_a, target_id=store_a.pk,
                                      parts=[{"guide_id": chain.guide_b.pk, "target": 7}])
    assert exc.value.code == "part_outside_node"
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=store_a.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 4}, {"guide_id": a2.pk, "target": 3}])
    tasks = dict(GuideTask.objects.filter(plan=plan).values_list("guide_id", "target"))
    assert tasks == {chain.guide_a.pk: 4, a2.pk: 3}
    for row in TaskTarget.objects.filter(plan=plan):
        parts = list(row.children.values_list("target", flat=True))
        assert not parts or sum(parts) == row.target
    # splitting again re-targets the tasks; a guide left out has their task cancelled
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=store_a.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 7}])
    assert dict(GuideTask.objects.filter(plan=plan).values_list("guide_id", "target", )) == {
        chain.guide_a.pk: 7, a2.pk: 3}
    assert GuideTask.objects.get(plan=plan, guide=a2).status == "cancelled"
    with pytest.raises(Conflict):
        guide_tasks.task_target_split(actor=chain.admin, target_id=root.pk,
                                      parts=[{"node_id": chain.east.pk, "target": 10}])


def test_recruit_and_sell_targets_are_met_by_what_the_guide_did_and_roll_up(chain):
    stock = stocked(chain, units=20)
    plan = recruit_plan(chain, 2)
    root = TaskTarget.objects.get(plan=plan, parent=None)
    (part_a, _part_b) = guide_tasks.task_target_split(actor=chain.admin, target_id=root.pk,
                                                 parts=[{"node_id": chain.store_a.pk, "target": 2},
                                                        {"node_id": chain.store_b.pk, "target": 0}])
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=part_a.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 2}])
    register(chain, actor=chain.guide_a)
    task_progress.refresh_open()
    task = GuideTask.objects.get(plan=plan)
    assert (task.progress, task.status) == (1, "open")
    register(chain, actor=chain.guide_a)
    register(chain, store=chain.store_b, actor=chain.guide_b)
    task_progress.refresh_open()
    task.refresh_from_db()
    assert (task.progress, task.status, task.done_by) == (2, "done", "system")
    assert dict(TaskTarget.objects.filter(plan=plan, guide__isnull=True).values_list("node_id", "achieved")) == {
        chain.hq.pk: 3, chain.store_a.pk: 2, chain.store_b.pk: 1}
    sell_plan = guide_tasks.task_plan_create(actor=chain.manager_a, node_id=chain.store_a.id, kind="sell",
                                             title="爆品 T 恤", target=3, sku_id=stock.cat.tee_s.id,
                                             starts_at=timezone.now() - timedelta(hours=1), due_at=soon(7))
    target = TaskTarget.objects.get(plan=sell_plan)
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=target.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 3}])
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2), (stock.cat.mug_sku, 5)])
    task_progress.refresh_open()
    sell_task = GuideTask.objects.get(plan=sell_plan)
    assert (sell_task.progress, sell_task.status) == (2, "open")
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)])
    task_progress.refresh_open()
    sell_task.refresh_from_db()
    assert (sell_task.progress, sell_task.status) == (3, "done")
    _, rows = task_progress.plan_progress(actor=chain.manager_a, plan_id=sell_plan.pk)
    assert [(r.label, r.depth, r.target, r.achieved, r.done) for r in rows] == [
        ("Store A", 0, 3, 3, 1), ("guide-a", 1, 3, 3, 1)]
    with pytest.raises(NotFound):
        task_progress.plan_progress(actor=chain.manager_b, plan_id=sell_plan.pk)


def test_a_follow_up_plan_of_dormant_members_gives_each_guide_their_own(chain, bound):
    stock = stocked(chain)
    unbound = register(chain, name="李雷")
    fresh = register(chain, name="新人")
    for member, days in ((bound, 120), (unbound, 100)):  # bought long ago (dated back: the till refuses old sales)
        order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=member.pk)
        long_ago = timezone.now() - timedelta(days=days)
        Order.objects.filter(pk=order.pk).update(placed_at=long_ago, paid_at=long_ago)
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=fresh.pk)
    plan = guide_tasks.task_plan_create(actor=chain.east_manager, node_id=chain.east.id, kind="follow_up",
                                        title="唤醒沉睡会员", follow_up_list="dormant", starts_at=timezone.now(),
                                        due_at=soon(7), key="wake-1")
    assert guide_tasks.task_plan_create(actor=chain.east_manager, node_id=chain.east.id, kind="follow_up",
                                        title="x", follow_up_list="dormant", starts_at=timezone.now(),
                                        due_at=soon(7), key="wake-1").pk == plan.pk
    assert sorted(CallListEntry.objects.filter(call_list=plan.call_list).values_list("member_id", "guide_id")) == \
        sorted([(bound.pk, chain.guide_a.pk), (unbound.pk, None)])
    tasks = {t.guide_id: t for t in GuideTask.objects.filter(plan=plan)}
    assert {g: t.target for g, t in tasks.items()} == {chain.guide_a.pk: 1, chain.manager_a.pk: 1}
    # the guide's contact is the follow-up; the member buying within 7 days completes it
    guide_tasks.contact_record(actor=chain.guide_a, member_id=bound.pk, channel="call", outcome="will_visit")
    assert CallListEntry.objects.get(call_list=plan.call_list, member=bound).outcome == "reached"
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=bound.pk)
    task_progress.refresh_open()
    mine, managers = GuideTask.objects.get(pk=tasks[chain.guide_a.pk].pk), GuideTask.objects.get(
        pk=tasks[chain.manager_a.pk].pk)
    assert (mine.progress, mine.converted, mine.status) == (1, 1, "done")
    assert (managers.progress, managers.status) == (0, "open")
    assert TaskPlan.objects.count() == 1


# --- handover --------------------------------------------------------------------------------------------------

def test_a_leaving_guides_work_is_spread_over_the_others_and_nothing_points_to_them(chain, bound):
    from yundian.core.models import AuditEntry
    from yundian.guides import calls, groups, handover
    from yundian.guides.models import CommunityGroup, Handover
    from yundian.promotions import services as promotions

    stock = stocked(chain)
    a2, a3 = second_guide(chain, "guide-a2"), second_guide(chain, "guide-a3")
    others = [register(chain) for _ in range(3)]
    for member in others:
        member_services.guide_bind(actor=chain.guide_a, member_id=member.pk, guide_id=chain.guide_a.pk)
    follow_up(bound)
    open_order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=bound.pk, pay=None)
    paid = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=bound.pk)
    plan = recruit_plan(chain, 5)
    part = guide_tasks.task_target_split(actor=chain.admin, target_id=TaskTarget.objects.get(plan=plan).pk,
                                         parts=[{"node_id": chain.store_a.pk, "target": 5}])[0]
    guide_tasks.task_target_split(actor=chain.manager_a, target_id=part.pk,
                                  parts=[{"guide_id": chain.guide_a.pk, "target": 3}, {"guide_id": a3.pk, "target": 2}])
    vip = member_services.audience_ensure(enterprise_id=chain.hq.enterprise_id, node_id=chain.hq.id, source="segment",
                                          source_id=9, name="VIP")
    member_services.audience_replace(enterprise_id=chain.hq.enterprise_id, audience_id=vip.pk, member_ids=[bound.pk])
    calls.call_list_create(actor=chain.admin, audience_id=vip.pk, name="回访")
    group = groups.group_create(actor=chain.guide_a, name="老客群")
    groups.group_join(code=group.join_code, member=bound)
    promotions.referral_link_visit(group.link.code, visitor="before0000000000001")
    # a guide of another store, a guide of the same store not in the list, or the leaving guide: refused
    for bad in ([chain.guide_b.pk], [chain.guide_a.pk], []):
        with pytest.raises(ValidationFailed):
            handover.guide_handover_all(actor=chain.manager_a, guide_id=chain.guide_a.pk, to_guide_ids=bad,
                                        reason="离职")
    with pytest.raises(NotFound):
        handover.guide_handover_all(actor=chain.manager_b, guide_id=chain.guide_a.pk, to_guide_ids=[a2.pk],
                                    reason="离职")
    assert handover.left_behind(chain.guide_a) == {"members": 4, "orders": 1, "tasks": 2, "targets": 1, "calls": 1,
                                                   "groups": 1}

    done = handover.guide_handover_all(actor=chain.manager_a, guide_id=chain.guide_a.pk, to_guide_ids=[a2.pk, a3.pk],
                                       reason="离职")

    assert handover.left_behind(chain.guide_a) == {"members": 0, "orders": 0, "tasks": 0, "targets": 0, "calls": 0,
                                                   "groups": 0}
    assert done.moved["members"] == {str(a2.pk): 2, str(a3.pk): 2}
    # the group goes to the first receiver with a link of theirs; what its old link brought stays the group's
    group = CommunityGroup.objects.select_related("link").get(pk=group.pk)
    assert (done.moved["groups"], group.guide_id, group.link.sharer_staff_id) == ({str(a2.pk): 1}, a2.pk, a2.pk)
    assert (groups.group_metrics(group).members, groups.group_metrics(group).opens) == (1, 1)
    new_guide = Member.objects.get(pk=bound.pk).guide_id
    assert OrderLine.objects.get(order=open_order).guide_id == new_guide  # follows the member
    assert OrderLine.objects.get(order=paid).guide_id == chain.guide_a.pk  # history keeps its author
    assert GuideTask.objects.get(member=bound).guide_id == new_guide
    # a3 already had a part of the plan: the leaving guide's part is added to a receiver's
    parts = dict(TaskTarget.objects.filter(plan=plan, guide__isnull=False).values_list("guide_id", "target"))
    assert sum(parts.values()) == 5 and chain.guide_a.pk not in parts
    chain.guide_a.refresh_from_db()
    assert chain.guide_a.is_active is False and chain.guide_a.user.is_active is False
    assert AuditEntry.objects.filter(action="guide.handover").count() == 1
    with pytest.raises(Conflict):
        handover.guide_handover_all(actor=chain.manager_a, guide_id=chain.guide_a.pk, to_guide_ids=[a2.pk],
                                    reason="again", disable=False)
    assert Handover.objects.count() == 1


# --- single-person accounting ----------------------------------------------------------------------------------

def test_a_guides_month_counts_sales_new_members_repurchase_commission_and_tasks(chain, bound):
    from yundian.guides import accounting
    from yundian.guides.models import CommissionEntry
    from yundian.guides.services import month_of
    from yundian.sales.tests.factories import plan as commission_plan

    stock = stocked(chain)
    commission_plan(chain, "0.10")
    old_order = sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 1)], member_id=bound.pk)
    last_month = timezone.now() - timedelta(days=40)
    Order.objects.filter(pk=old_order.pk).update(placed_at=last_month, paid_at=last_month)
    CommissionEntry.objects.filter(order=old_order).update(month=month_of(last_month), occurred_at=last_month)
    newcomer = register(chain, actor=chain.guide_a)  # a guide's registration binds the member to them
    assert Member.objects.get(pk=newcomer.pk).guide_id == chain.guide_a.pk
    sell(chain.guide_a, chain.store_a, [(stock.cat.tee_s, 2)], member_id=bound.pk)  # a repeat buyer
    sell(chain.guide_a, chain.store_a, [(stock.cat.mug_sku, 1)], member_id=newcomer.pk)  # a first purchase
    guide_tasks.task_done(actor=chain.guide_a, task_id=follow_up(bound).pk, note="已回访")
    month = month_of(timezone.now())

    (row,) = accounting.guide_month(actor=chain.manager_a, month=month, guide_ids=[chain.guide_a.pk])

    lines = OrderLine.objects.filter(guide=chain.guide_a, order__paid_at__gte=timezone.now() - timedelta(days=1))
    net = sum(line.line_total for line in lines)
    assert (row.net_sales, row.orders, row.new_members, row.buyers, row.repeat_buyers, row.repurchase_percent,
            row.tasks_done) == (net, 2, 2, 2, 1, 50, 1)  # both members joined this month
    assert row.commission == net // 10
    assert accounting.guide_month(actor=chain.manager_b, month=month, guide_ids=[chain.guide_a.pk]) == []
    assert [r.guide_id for r in accounting.guide_month(actor=chain.guide_a, month=month)] == [chain.guide_a.pk]
