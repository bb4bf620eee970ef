"""Guide tasks step: tasks that cascade from HQ with their progress, customer care, and a departed guide's handover.

Before the history: a third guide joins the demo store ("<code>-guide-left", who will leave) and takes a share of
the store's members without a guide, so the history gives them sales and customers. After the seed commits (the
history's orders are in by then), through the services as people would do it:
- HQ sets "sell the focus product" (the SKU sold most in the last 14 days, target 1.3 x what was sold so far), splits
  it over the regions by their stores, the demo store's region over its stores and the demo store over its guides
  by their sales;
- HQ sets "recruit new members" (1.4 x who joined in the last 14 days), split over the regions by their stores;
- the demo store manager sets "wake up dormant members" (a follow-up of the system list) for the store's guides,
  and "share the new product card" (HQ's first product card of the workbench step; 8 opens per guide);
- a few single follow-ups for the demo guide (as a journey step would ask) and contacts logged against them;
- the progress is counted once (the scheduler keeps it fresh every 5 minutes);
- the leaving guide's work (members, open orders, tasks, calls and the community group they ran) is handed to the
  two others and their account switched off.
Shape at any scale (fixed): 4 plans, 4 single follow-ups, 1 handover.
"""
import logging
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

logger = logging.getLogger(__name__)

LABELS = {"guide_task_plans": _("guide task plans (cascaded targets)"),
          "guide_follow_ups": _("single guide follow-ups"),
          "guide_handovers": _("departed guides handed over")}


def counts_for(scale: int) -> dict[str, int]:
    return {"guide_task_plans": 4, "guide_follow_ups": 4, "guide_handovers": 1}


def run(ctx: SeedContext) -> None:
    from yundian.members.models import Member
    from yundian.org import services as org_services
    from yundian.org.models import Staff
    from yundian.org.roles import Role

    manager = Staff.objects.select_related("home").get(enterprise=ctx.enterprise, user__username=f"{ctx.code}-manager")
    leaver = org_services.staff_create(actor=ctx.created["admin"], home_id=manager.home_id,
                                       username=f"{ctx.code}-guide-left", display_name="刘晓燕",
                                       password=ctx.password, role=Role.GUIDE)
    unbound = list(Member.objects.filter(home_id=manager.home_id, guide__isnull=True, status="active")
                   .order_by("id").values_list("pk", flat=True)[:40])
    Member.objects.filter(pk__in=unbound[::2]).update(guide=leaver, guide_bound_at=leaver.created_at)
    ctx.created["guide_leaver"] = leaver
    ctx.counts.update(counts_for(ctx.scale))
    code, enterprise_id = ctx.code, ctx.enterprise.pk
    transaction.on_commit(lambda: after_seed(code=code, enterprise_id=enterprise_id))


def after_seed(*, code: str, enterprise_id: int) -> None:
    """The plans, follow-ups, progress and handover, once the history is in (see the module docstring)."""
    try:
        with transaction.atomic():
            _after_seed(code, enterprise_id)
    except Exception:  # noqa: BLE001 - the demo chain stands without its tasks; say why in the log
        logger.exception("demo guide tasks were not made")


def _split_by(weights: dict[int, int], total: int) -> dict[int, int]:
    """`total` split over the keys in proportion to their weights (largest remainders), summing to `total`."""
    keys = sorted(weights)
    whole = sum(weights.values()) or len(keys)
    raw = {k: total * (weights[k] if sum(weights.values()) else 1) / whole for k in keys}
    parts = {k: int(raw[k]) for k in keys}
    for k in sorted(keys, key=lambda k: raw[k] - parts[k], reverse=True)[:total - sum(parts.values())]:
        parts[k] += 1
    return parts


def _after_seed(code: str, enterprise_id: int) -> None:
    from django.db.models import F, Sum
    from django.utils import timezone

    from yundian.guides import groups, guide_tasks, handover, task_progress
    from yundian.guides.models import Material, TaskTarget
    from yundian.guides.people import guides_of
    from yundian.members.models import Member
    from yundian.org.models import OrgNode, Staff
    from yundian.sales.models import OrderLine

    now = timezone.now()
    start = now - timedelta(days=14)
    admin = Staff.objects.get(enterprise_id=enterprise_id, user__username=f"{code}-admin")
    manager = Staff.objects.select_related("home").get(enterprise_id=enterprise_id, user__username=f"{code}-manager")
    leaver = Staff.objects.get(enterprise_id=enterprise_id, user__username=f"{code}-guide-left")
    store = manager.home
    lines = OrderLine.objects.filter(order__enterprise_id=enterprise_id, order__paid_at__gte=start, is_weighed=False)
    top = lines.values("sku_id").annotate(n=Sum(F("quantity") - F("returned_quantity"))).order_by("-n", "sku_id").first()
    regions = list(OrgNode.objects.filter(enterprise_id=enterprise_id, kind="region", parent__parent__isnull=True)
                   .order_by("path"))
    region = next(r for r in regions if store.path.startswith(r.path))

    if top:
        sold = lines.filter(sku_id=top["sku_id"])
        target = max(10, int(top["n"] * 1.3))
        plan = guide_tasks.task_plan_create(
            actor=admin, node_id=admin.home_id, kind="sell", title="爆品冲刺", sku_id=top["sku_id"], target=target,
            description="两周内把本季爆品卖给老客户", starts_at=start, due_at=now + timedelta(days=7),
            key=f"demo:{code}:sell")
        root = TaskTarget.objects.get(plan=plan, parent=None)
        by_region = {r.pk: OrgNode.objects.filter(path__startswith=r.path, kind="store").count() for r in regions}
        parts = guide_tasks.task_target_split(actor=admin, target_id=root.pk, parts=[
            {"node_id": k, "target": v} for k, v in _split_by(by_region, target).items()])
        region_part = next(p for p in parts if p.node_id == region.pk)
        stores = list(OrgNode.objects.filter(path__startswith=region.path, kind="store", is_active=True))
        by_store = {s.pk: 1 + (sold.filter(order__store=s).aggregate(n=Sum("quantity"))["n"] or 0) for s in stores}
        store_parts = guide_tasks.task_target_split(actor=admin, target_id=region_part.pk, parts=[
            {"node_id": k, "target": v} for k, v in _split_by(by_store, region_part.target).items()])
        store_part = next(p for p in store_parts if p.node_id == store.pk)
        guides = [g for g in guides_of(store)]
        by_guide = {g.pk: 1 + (sold.filter(guide=g).aggregate(n=Sum("quantity"))["n"] or 0) for g in guides}
        guide_tasks.task_target_split(actor=manager, target_id=store_part.pk, parts=[
            {"guide_id": k, "target": v} for k, v in _split_by(by_guide, store_part.target).items()])

    stores_per_region = {r.pk: OrgNode.objects.filter(path__startswith=r.path, kind="store").count() for r in regions}
    joined = Member.objects.filter(enterprise_id=enterprise_id, created_at__gte=start).count()
    recruit_target = max(sum(stores_per_region.values()), int(joined * 1.4))
    recruit = guide_tasks.task_plan_create(
        actor=admin, node_id=admin.home_id, kind="recruit", title="双12 拉新", target=recruit_target,
        starts_at=start, due_at=now + timedelta(days=10), key=f"demo:{code}:recruit")
    guide_tasks.task_target_split(actor=admin, target_id=TaskTarget.objects.get(plan=recruit, parent=None).pk,
                                  parts=[{"node_id": k, "target": v}
                                         for k, v in _split_by(stores_per_region, recruit_target).items()])

    guide_tasks.task_plan_create(actor=manager, node_id=store.pk, kind="follow_up", title="唤醒沉睡会员",
                                 follow_up_list="dormant", starts_at=now - timedelta(days=1),
                                 due_at=now + timedelta(days=5), key=f"demo:{code}:dormant")

    guide = Staff.objects.get(enterprise_id=enterprise_id, user__username=f"{code}-guide")
    mine = list(Member.objects.filter(guide=guide, status="active").order_by("id")[:3])
    notes = ["浏览了羽绒服未下单", "积分下月到期", "本周生日"]
    for i, member in enumerate(mine):
        task = guide_tasks.guide_follow_up_create(member=member, title="专属回访", note=notes[i],
                                                  due_at=now + timedelta(hours=6 + 20 * i), key=f"demo:{code}:fu:{i}")
        if i == 0 and task is not None:
            guide_tasks.contact_record(actor=guide, member_id=member.pk, channel="call", outcome="interested",
                                       note="周末来店试穿", task_id=task.pk)
    theirs = Member.objects.filter(guide=leaver, status="active").order_by("id").first()
    if theirs is not None:
        guide_tasks.guide_follow_up_create(member=theirs, title="专属回访", note="离职前未完成",
                                           due_at=now + timedelta(days=1), key=f"demo:{code}:fu:left")

    # share a material: the store's guides share HQ's first product card (its opens so far count, the leaver's too)
    card = Material.objects.filter(enterprise_id=enterprise_id, kind="product_card", is_active=True).order_by("id").first()
    if card is not None:
        share = guide_tasks.task_plan_create(
            actor=manager, node_id=store.pk, kind="share", title="转发新品商品卡", material_id=card.pk,
            target=8 * len(guides_of(store)), description="每人至少 8 位顾客打开你的链接",
            starts_at=start, due_at=now + timedelta(days=3), key=f"demo:{code}:share")
        guide_tasks.task_target_split(actor=manager, target_id=TaskTarget.objects.get(plan=share, parent=None).pk,
                                      parts=[{"guide_id": g.pk, "target": 8} for g in guides_of(store)])
    # the leaver's own community group of their customers (handed over with the rest)
    group = groups.group_create(actor=leaver, name="晓燕的老客群")
    for member in Member.objects.filter(guide=leaver, status="active").order_by("id")[:5]:
        groups.group_join(code=group.join_code, member=member, at=now - timedelta(days=3))

    task_progress.refresh_open(enterprise_id=enterprise_id)
    others = [g.pk for g in guides_of(store) if g.pk != leaver.pk]
    handover.guide_handover_all(actor=manager, guide_id=leaver.pk, to_guide_ids=others, reason="离职（演示）")


step = Step(name="guide_tasks", shape=counts_for, run=run, labels=LABELS)
