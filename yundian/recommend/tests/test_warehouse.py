"""What the warehouse feeds: the A/B counters (each person once, in the variant they saw first) and the
browse-abandon rescue (a middle-priced comparable product in stock, once per member, category and week)."""
import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from yundian.analytics import warehouse_tables as T
from yundian.catalog import services as catalog_services
from yundian.catalog.models import Sku
from yundian.cdp import warehouse_tables as C
from yundian.core.warehouse import rows_replace, warehouse_write
from yundian.guides.models import GuideTask
from yundian.inventory.tests.factories import put
from yundian.members.tests.factories import register
from yundian.members.tests.storefront import open_storefront
from yundian.recommend import services
from yundian.recommend.figures import experiment_figures
from yundian.recommend.models import Rescue
from yundian.recommend.rescue import rescue_run
from yundian.recommend.tests.factories import make_world

pytestmark = pytest.mark.django_db


def _naive(moment: datetime) -> datetime:
    return timezone.make_naive(moment, timezone.UTC)


def write(table, rows: list[dict]) -> None:
    spec = {"fact_event": C.FACT_EVENT, "dim_member": T.DIM_MEMBER, "fact_order": T.FACT_ORDER,
            "fact_order_line": T.FACT_ORDER_LINE}[table]
    with warehouse_write() as con:
        rows_replace(con, spec, spec.arrow({name: [r.get(name) for r in rows] for name in spec.columns}))


def member_rows(enterprise_id, *member_ids) -> list[dict]:
    return [{"member_id": m, "enterprise_id": enterprise_id, "canonical_member_id": m, "status": "active",
             "is_erased": False} for m in member_ids]


def event(enterprise_id, key, kind, at, *, member=None, device="", variant="", experiment=0, sku=None,
          product=None, category=None, extra=None) -> dict:
    props = {"rec_slot": "goes_with", "rec_variant": variant, "rec_experiment": str(experiment)} if variant else {}
    props.update(extra or {})
    return {"enterprise_id": enterprise_id, "event_key": key, "kind": kind, "occurred_at": _naive(at),
            "received_at": _naive(at), "member_id": member, "anonymous_id": device, "sku_id": sku,
            "product_id": product, "category_id": category, "properties": json.dumps(props)}


def test_each_person_counts_once_in_the_variant_they_saw_first(warehouse, chain):
    # given a running experiment and, in the warehouse, two members and an anonymous device
    experiment = services.experiment_start(actor=chain.admin, slot="goes_with", name="t",
                                           variants=[{"key": "blend", "share": 50}, {"key": "holdout", "share": 50}])
    e, x = chain.admin.enterprise_id, experiment.pk
    t0 = experiment.started_at + timedelta(minutes=1)
    write("dim_member", member_rows(e, 1, 2))
    write("fact_event", [
        # member 1: seen twice in blend, then (signed in elsewhere) once in holdout: stays in blend
        event(e, "a", "recommendation_view", t0, member=1, variant="blend", experiment=x),
        event(e, "b", "recommendation_view", t0 + timedelta(minutes=5), member=1, variant="blend", experiment=x),
        event(e, "c", "recommendation_click", t0 + timedelta(minutes=6), member=1, variant="blend", experiment=x),
        event(e, "d", "add_to_cart", t0 + timedelta(minutes=7), member=1, variant="blend", experiment=x,
              extra={"quantity": 1}),
        event(e, "e", "recommendation_view", t0 + timedelta(hours=1), member=1, variant="holdout", experiment=x),
        # member 2 in the holdout; a device in blend; an event of another experiment
        event(e, "f", "recommendation_view", t0, member=2, variant="holdout", experiment=x),
        event(e, "g", "recommendation_view", t0, device="d1", variant="blend", experiment=x),
        event(e, "h", "recommendation_view", t0, member=2, variant="blend", experiment=x + 1),
        # a plain cart add (not from a recommendation) is not counted
        event(e, "i", "add_to_cart", t0, member=2, extra={"quantity": 1}),
    ])
    write("fact_order", [
        # member 1 buys after being shown (counted) and before (not); member 2 buys twice after
        {"order_id": 10, "enterprise_id": e, "member_id": 1, "is_sale": True, "net_total": 100,
         "placed_at": _naive(t0 + timedelta(minutes=10))},
        {"order_id": 11, "enterprise_id": e, "member_id": 1, "is_sale": True, "net_total": 100,
         "placed_at": _naive(t0 - timedelta(minutes=10))},
        {"order_id": 12, "enterprise_id": e, "member_id": 2, "is_sale": True, "net_total": 100,
         "placed_at": _naive(t0 + timedelta(minutes=10))},
        {"order_id": 13, "enterprise_id": e, "member_id": 2, "is_sale": True, "net_total": 100,
         "placed_at": _naive(t0 + timedelta(minutes=20))},
    ])
    # when
    figures = experiment_figures(experiment)
    # then
    blend, holdout = figures.variants
    assert (blend.key, blend.persons, blend.impressions, blend.clicks, blend.add_to_carts, blend.buyers,
            blend.orders) == ("blend", 2, 3, 1, 1, 1, 1)
    assert (holdout.key, holdout.persons, holdout.impressions, holdout.buyers, holdout.orders) == (
        "holdout", 1, 2, 1, 2)
    assert figures.control == "holdout"
    assert (blend.lift.rate_control, blend.lift.rate_variant, blend.lift.lift) == (1.0, 0.5, -0.5)


def test_a_browse_abandoner_is_handed_a_middle_priced_comparable_product_once_a_week(warehouse):
    # given tees at 99, 159, 199 and 299 yuan in stock at store A, and a member who looked at the two dearest
    world = make_world()
    chain, stock = world.chain, world.stock
    open_storefront(chain, stock.cat)
    tees = {}
    for code, price in (("TEE-159", 15900), ("TEE-199", 19900), ("TEE-299", 29900)):
        product = catalog_services.product_create(actor=chain.admin, code=code, name=code,
                                                  category_id=stock.cat.tees.id,
                                                  skus=[{"code": code, "base_price": price}])
        put(stock, stock.wh_a, Sku.objects.get(code=code), 3)
        tees[price] = product
    member = register(chain)
    buyer = register(chain)
    e, now = chain.admin.enterprise_id, timezone.now()
    write("dim_member", member_rows(e, member.pk, buyer.pk))
    views = []
    for n, (who, product) in enumerate([(member, tees[29900]), (member, tees[19900]), (buyer, tees[29900]),
                                        (buyer, tees[19900])]):
        views.append(event(e, f"v{n}", "product_view", now - timedelta(hours=5 - n), member=who.pk,
                           product=product.pk, category=stock.cat.tees.id))
    write("fact_event", views)
    write("fact_order_line", [{"line_id": 1, "order_id": 1, "enterprise_id": e, "member_id": buyer.pk,
                               "is_sale": True, "net_quantity": 1, "product_id": world.tee.pk,
                               "category_id": stock.cat.tees.id, "placed_at": _naive(now - timedelta(hours=1))}])
    # when
    made = rescue_run(enterprise_id=e, now=now)
    again = rescue_run(enterprise_id=e, now=now + timedelta(hours=1))
    # then: the median of what store A can sell among the others (99 and 159) is 129: 99 and 159 are 30 away, the
    # cheaper one wins the tie; the buyer bought a tee after looking, so is left alone
    assert [(r.member_id, r.product_id, r.store_id, r.viewed, r.coupon_product_id) for r in made] == [
        (member.pk, world.tee.pk, chain.store_a.pk, [tees[19900].pk, tees[29900].pk], tees[19900].pk)]
    assert again == []
    assert Rescue.objects.count() == 1
    # and the member's guide (none bound: the store manager) has a follow-up task with the suggestion, once
    task = GuideTask.objects.get()
    assert (task.member_id, task.guide_id, task.key, made[0].delivered_as) == (
        member.pk, chain.manager_a.pk, f"recommend-rescue-{made[0].pk}", "")
    assert Rescue.objects.get().delivered_as == "guide_task"
    assert "TEE-199" in task.note and "纯棉T恤" in task.note
