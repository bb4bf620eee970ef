"""A small world with one object of each main kind per store, built through the services, for the proof tests:
the test chain (HQ -> East -> D1 -> Store A; HQ -> West -> Store B) with products, barcodes, stocked store
warehouses, a member with stored value, a paid order and its return, a transfer, a stocktake, a commission plan,
a promotion, a coupon campaign and a flash sale, a message template per region and a message per member, a journey per store and a recommendation experiment."""
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from yundian.org.tests.factories import Chain, make_chain


@dataclass
class World:
    chain: Chain
    skus: list = field(default_factory=list)
    barcodes: list = field(default_factory=list)
    warehouse_a: object = None
    warehouse_b: object = None
    warehouse_central: object = None
    member_a: object = None
    member_b: object = None
    order_a: object = None
    order_b: object = None
    return_a: object = None
    transfer_a: object = None
    stocktake_a: object = None
    plan: object = None
    promotion: object = None
    campaign: object = None
    flash_sale: object = None
    product: object = None
    price_list: object = None
    ids: dict = field(default_factory=dict)  # kind -> {"a": id in store A's subtree, "b": id in store B's}


def make_world(code: str = "acme") -> World:
    from yundian.catalog import services as catalog
    from yundian.catalog.models import Barcode, Sku
    from yundian.guides.services import commission_plan_create
    from yundian.inventory import services as inventory
    from yundian.members import services as members
    from yundian.promotions import services as promotions
    from yundian.sales import services as sales

    chain = make_chain(code)
    admin = chain.admin
    w = World(chain=chain)
    w.product = catalog.product_create(actor=admin, code=f"{code}-P1", name="Tea 茶",
                                       skus=[{"code": f"{code}-P1-{i}", "base_price": 1000 + 100 * i,
                                              "generate_barcode": True} for i in range(4)])
    w.skus = list(Sku.objects.filter(product=w.product).order_by("id"))
    w.barcodes = [Barcode.objects.filter(sku=s).values_list("code", flat=True).first() for s in w.skus]
    w.warehouse_a = inventory.warehouse_create(actor=admin, node_id=chain.store_a.id, kind="store", code=f"{code}-WA",
                                               name="A")
    w.warehouse_b = inventory.warehouse_create(actor=admin, node_id=chain.store_b.id, kind="store", code=f"{code}-WB",
                                               name="B")
    w.warehouse_central = inventory.warehouse_create(actor=admin, node_id=chain.hq.id, kind="central",
                                                     code=f"{code}-WC", name="Central")
    for wh in (w.warehouse_a, w.warehouse_b, w.warehouse_central):
        inventory.receipt_create(actor=admin, warehouse_id=wh.id, lines=[(s.id, 1000) for s in w.skus])
    w.plan = commission_plan_create(actor=admin, node_id=chain.hq.id, name="Std", default_rate="0.02")
    w.member_a = members.member_register(actor=chain.guide_a, store_id=chain.store_a.id, channel="pos",
                                         phone=_phone(code, 1), name="会员 A")
    w.member_b = members.member_register(actor=chain.guide_b, store_id=chain.store_b.id, channel="pos",
                                         phone=_phone(code, 2), name="会员 B")
    members.stored_value_topup(actor=chain.guide_a, member_id=w.member_a.id, amount_fen=50_000,
                               store_id=chain.store_a.id, payment_ref=f"{code}-topup-a")
    w.order_a = sales.order_create(actor=chain.guide_a, store_id=chain.store_a.id, client_ref=f"{code}-o-a",
                                   member_id=w.member_a.id, lines=[{"sku_id": w.skus[0].id, "quantity": 3}],
                                   payments=[{"method": "cash", "client_ref": "c", "tendered": 100_000}]).order
    w.order_b = sales.order_create(actor=chain.guide_b, store_id=chain.store_b.id, client_ref=f"{code}-o-b",
                                   member_id=w.member_b.id, lines=[{"sku_id": w.skus[1].id, "quantity": 2}],
                                   payments=[{"method": "cash", "client_ref": "c", "tendered": 100_000}]).order
    line = w.order_a.lines.get()
    w.return_a = sales.return_create(actor=chain.guide_a, order_id=w.order_a.id, client_ref=f"{code}-r-a",
                                     lines=[{"order_line_id": line.id, "quantity": 1}]).order_return
    line_b = w.order_b.lines.get()
    return_b = sales.return_create(actor=chain.guide_b, order_id=w.order_b.id, client_ref=f"{code}-r-b",
                                   lines=[{"order_line_id": line_b.id, "quantity": 1}]).order_return
    w.transfer_a = inventory.transfer_request(actor=chain.manager_a, from_warehouse_id=w.warehouse_b.id,
                                              to_warehouse_id=w.warehouse_a.id, lines=[(w.skus[2].id, 5)])
    w.stocktake_a = inventory.stocktake_start(actor=chain.manager_a, warehouse_id=w.warehouse_a.id, kind="cycle",
                                              sku_ids=[w.skus[3].id])
    stocktake_b = inventory.stocktake_start(actor=chain.manager_b, warehouse_id=w.warehouse_b.id, kind="cycle",
                                            sku_ids=[w.skus[3].id])
    now = timezone.now()
    w.flash_sale = promotions.flash_sale_create(actor=admin, node_id=chain.hq.id, code=f"{code}-FS", name="秒杀",
                                                sku_id=w.skus[0].id, price=500, cap=10, per_member_limit=2,
                                                starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3))
    flash_b = promotions.flash_sale_create(actor=chain.west_manager, node_id=chain.store_b.id, code=f"{code}-FSB",
                                           name="秒杀 B", sku_id=w.skus[1].id, price=500, cap=10,
                                           starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3))
    flash_a = promotions.flash_sale_create(actor=chain.manager_a, node_id=chain.store_a.id, code=f"{code}-FSA",
                                           name="秒杀 A", sku_id=w.skus[1].id, price=500, cap=10,
                                           starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3))
    promo_a = promotions.promotion_create(actor=chain.manager_a, node_id=chain.store_a.id, code=f"{code}-PA",
                                          name="满减 A", kind="percent_off", rate="0.9")
    promo_b = promotions.promotion_create(actor=chain.manager_b, node_id=chain.store_b.id, code=f"{code}-PB",
                                          name="满减 B", kind="percent_off", rate="0.9")
    w.promotion = promo_a
    price_a = catalog.price_list_create(actor=admin, node_id=chain.store_a.id, channel="store", code=f"{code}-PLA",
                                        name="A 价")
    price_b = catalog.price_list_create(actor=admin, node_id=chain.store_b.id, channel="store", code=f"{code}-PLB",
                                        name="B 价")
    w.price_list = price_a
    from yundian.inventory.services.suppliers import supplier_create
    from yundian.stores.services import store_profile_create

    supplier = supplier_create(actor=admin, code=f"{code}-SUP", name="华东供应商")

    for store in (chain.store_a, chain.store_b):
        store_profile_create(actor=admin, store_id=store.id, address="人民大道 1 号", city="上海", latitude=31.23,
                             longitude=121.47)
    from yundian.cdp.tags import tag_create, tag_group_create

    group = tag_group_create(actor=admin, name="偏好", code=f"{code}-pref")
    tag_a = tag_create(actor=admin, group_id=group.id, name="A 店常客", code=f"{code}-ta", node_id=chain.store_a.id)
    tag_b = tag_create(actor=admin, group_id=group.id, name="B 店常客", code=f"{code}-tb", node_id=chain.store_b.id)
    from yundian.journeys.services import journey_create

    journey_a = journey_create(actor=admin, name="A 店欢迎", node_id=chain.store_a.id)
    journey_b = journey_create(actor=admin, name="B 店欢迎", node_id=chain.store_b.id)
    from yundian.messaging.services import message_enqueue, template_create

    body = [{"channel": "inapp", "subject": "新品", "body": "$member_name，新品到店"}]
    template_a = template_create(actor=admin, name="东区新品", node_id=chain.east.id, bodies=body)
    template_b = template_create(actor=admin, name="西区新品", node_id=chain.west.id, bodies=body)
    message_a = message_enqueue(member=w.member_a, channel="inapp", template=template_a, variables={},
                                key=f"{code}-msg-a")
    message_b = message_enqueue(member=w.member_b, channel="inapp", template=template_b, variables={},
                                key=f"{code}-msg-b")
    from yundian.guides.guide_tasks import guide_follow_up_create, task_plan_create

    task_a, task_b = (guide_follow_up_create(member=m, title="回访", note="", due_at=now + timedelta(days=2),
                                             key=f"{code}-idor-{m.pk}") for m in (w.member_a, w.member_b))
    plan_a, plan_b = (task_plan_create(actor=manager, node_id=store.id, kind="recruit", title="拉新", target=3,
                                       starts_at=now, due_at=now + timedelta(days=7))
                      for manager, store in ((chain.manager_a, chain.store_a), (chain.manager_b, chain.store_b)))
    from yundian.guides import competitions, groups, materials

    material_a = materials.material_create(actor=admin, node_id=chain.east.id, kind="copy", title="华东文案", body="春季上新")
    material_b = materials.material_create(actor=admin, node_id=chain.west.id, kind="copy", title="华西文案", body="春季上新")
    group_a = groups.group_create(actor=chain.guide_a, name="A 群")
    group_b = groups.group_create(actor=chain.guide_b, name="B 群")
    window = {"competitor": "guide", "metric": "sales", "starts_at": now, "ends_at": now + timedelta(days=7)}
    competition_a = competitions.competition_create(actor=admin, node_id=chain.store_a.id, name="A PK", **window)
    competition_b = competitions.competition_create(actor=admin, node_id=chain.store_b.id, name="B PK", **window)
    from yundian.integrations.erp_jobs import erp_export_create, erp_job_run

    # ERP export jobs started by each store's manager (scoped to the node they were started at), run: a file each
    erp_jobs = [erp_export_create(actor=manager, entity="stock") for manager in (chain.manager_a, chain.manager_b)]
    for job in erp_jobs:
        erp_job_run(job_id=job.pk)
    from yundian.recommend.services import experiment_start

    experiment = experiment_start(actor=admin, slot="for_you", name="为你推荐 A/B",
                                  variants=[{"key": "blend", "share": 90}, {"key": "holdout", "share": 10}])
    w.ids = {
        "erp_job": {"a": erp_jobs[0].id, "b": erp_jobs[1].id},
        "experiment": {"a": experiment.id, "b": experiment.id},
        "guide_task": {"a": task_a.id, "b": task_b.id},
        "task_plan": {"a": plan_a.id, "b": plan_b.id},
        "task_target": {"a": plan_a.targets.get().id, "b": plan_b.targets.get().id},
        "material": {"a": material_a.id, "b": material_b.id},
        "community_group": {"a": group_a.id, "b": group_b.id},
        "competition": {"a": competition_a.id, "b": competition_b.id},
        "message_template": {"a": template_a.id, "b": template_b.id},
        "message": {"a": message_a.id, "b": message_b.id},
        "tag": {"a": tag_a.id, "b": tag_b.id},
        "journey": {"a": journey_a.id, "b": journey_b.id},
        "order": {"a": w.order_a.id, "b": w.order_b.id},
        "return": {"a": w.return_a.id, "b": return_b.id},
        "member": {"a": w.member_a.id, "b": w.member_b.id},
        "stocktake": {"a": w.stocktake_a.id, "b": stocktake_b.id},
        "store": {"a": chain.store_a.id, "b": chain.store_b.id},
        "node": {"a": chain.store_a.id, "b": chain.store_b.id},
        "staff": {"a": chain.guide_a.id, "b": chain.guide_b.id},
        "flash_sale": {"a": flash_a.id, "b": flash_b.id},
        "promotion": {"a": promo_a.id, "b": promo_b.id},
        "price_list": {"a": price_a.id, "b": price_b.id},
        "transfer": {"a": w.transfer_a.id, "b": w.transfer_a.id},
        "product": {"a": w.product.id, "b": w.product.id},
        "sku": {"a": w.skus[0].id, "b": w.skus[0].id},
        "supplier": {"a": supplier.id, "b": supplier.id},
    }
    return w


def _phone(code: str, n: int) -> str:
    return f"139{sum(map(ord, code)) % 10_000:04d}{n:04d}"
