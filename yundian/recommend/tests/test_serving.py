"""Serving: stock, consent and durable-goods filters, explanations, versions and the fallback, A/B assignment."""
from collections import Counter

import pytest
from django.utils import translation

from yundian.core.errors import DomainError
from yundian.members.services import consent_set
from yundian.members.tests.factories import register
from yundian.recommend import evaluation, selectors, services
from yundian.recommend.models import Experiment, ModelStatus, RecommendModelVersion
from yundian.recommend.tests.factories import make_world, train_world, world_tables
from yundian.sales.tests.factories import sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


def ids(block) -> list[int]:
    return [item.product_id for item in block.items]


def test_nothing_is_shown_before_a_model_is_trained(world):
    block = selectors.recommendations(store=world.chain.store_a, slot="goes_with", product_ids=[world.tee.pk])
    assert block.items == [] and block.model_version is None


def test_goes_with_shows_what_the_store_can_promise_by_lift(world):
    # given the trained world model (apples go with tees but nobody holds any)
    train_world(world)
    # when
    online = selectors.recommendations(store=world.chain.store_a, slot="goes_with", product_ids=[world.tee.pk])
    till = selectors.recommendations(store=world.chain.store_a, slot="till", product_ids=[world.tee.pk],
                                     shelf_only=True)
    # then: the pan (lift 1.31, central stock) before the mug (0.78); at the till only what store A's shelf holds
    assert ids(online) == [world.pan.pk, world.mug.pk]
    assert ids(till) == [world.mug.pk]
    with translation.override("en"):
        assert online.items[0].reason == "Goes with 纯棉T恤"


def test_a_member_is_not_shown_a_durable_product_they_own_and_is_told_why(world):
    train_world(world)
    member = register(world.chain)
    sell(world.chain.manager_a, world.chain.store_a, [(world.stock.cat.tee_s, 1)], member_id=member.pk)
    # when
    block = selectors.recommendations(store=world.chain.store_a, slot="for_you", member=member)
    # then
    assert block.personalised
    assert world.tee.pk not in ids(block) and world.apples.pk not in ids(block)
    assert ids(block) == [world.pan.pk, world.mug.pk] or ids(block) == [world.mug.pk, world.pan.pk]
    with translation.override("en"):
        assert {item.reason for item in block.items} == {"Because you bought 纯棉T恤"}


def test_without_personalisation_consent_a_member_gets_best_sellers_only(world):
    train_world(world)
    member = register(world.chain)
    sell(world.chain.manager_a, world.chain.store_a, [(world.stock.cat.tee_s, 1)], member_id=member.pk)
    consent_set(actor=world.chain.admin, member_id=member.pk, channel="personalised", granted=False)
    # when
    block = selectors.recommendations(store=world.chain.store_a, slot="for_you", member=member)
    # then: the store's best sellers in stock (tee 65 baskets, mug 50, pan 15), no history used, no reasons
    assert not block.personalised
    assert ids(block) == [world.tee.pk, world.mug.pk, world.pan.pk]
    assert {item.model for item in block.items} == {"popular"}
    with translation.override("en"):
        assert {item.reason for item in block.items} == {"Popular at this store"}


def test_serving_keeps_the_last_good_version(world, monkeypatch):
    enterprise_id = world.chain.admin.enterprise_id
    first = train_world(world)
    assert (first.version, first.status) == (1, ModelStatus.FITTED)
    assert [row["model"] for row in first.metrics][:2] == ["popularity", "item_knn"]
    # a training on too little data fails and serves nothing
    tiny = world_tables(world)
    tiny.baskets = tiny.baskets[tiny.baskets["order_id"] <= 3]
    failed = services.recommend_train(enterprise_id=enterprise_id, tables=tiny)
    assert (failed.version, failed.status, failed.error_code) == (2, ModelStatus.FAILED, "not_enough_purchases")
    assert failed.artifact is None
    # a model that ranks worse than its own popularity fallback on the hold-out is rejected
    real = evaluation.evaluate

    def worse(split, **kwargs):
        rows = real(split, **kwargs)
        return [evaluation.EvaluationRow(r.model, 100, 0.0 if r.model == "blend" else 0.5, r.precision,
                                         r.ndcg, r.coverage) for r in rows]

    monkeypatch.setattr(evaluation, "evaluate", worse)
    rejected = train_world(world)
    assert (rejected.version, rejected.status) == (3, ModelStatus.REJECTED)
    # then
    assert selectors.serving_model(enterprise_id)[0] == 1
    assert selectors.serving_version(enterprise_id).pk == first.pk
    assert RecommendModelVersion.objects.filter(enterprise_id=enterprise_id).count() == 3


def test_a_member_sees_the_same_variant_every_time_and_shares_hold(world):
    experiment = services.experiment_start(actor=world.chain.admin, slot="for_you", name="ALS vs holdout",
                                           variants=[{"key": "als", "share": 80}, {"key": "holdout", "share": 20}])
    seen = [selectors.variant_of(experiment, f"m{i}") for i in range(2000)]
    assert seen == [selectors.variant_of(Experiment.objects.get(pk=experiment.pk), f"m{i}") for i in range(2000)]
    counts = Counter(seen)
    assert 1500 <= counts["als"] <= 1700 and counts["als"] + counts["holdout"] == 2000


def test_the_holdout_sees_no_block_but_is_counted(world):
    train_world(world)
    experiment = services.experiment_start(actor=world.chain.admin, slot="goes_with", name="holdout",
                                           variants=[{"key": "blend", "share": 50}, {"key": "holdout", "share": 50}])
    units = {selectors.variant_of(experiment, f"s{i}"): f"s{i}" for i in range(20)}
    held = selectors.recommendations(store=world.chain.store_a, slot="goes_with", product_ids=[world.tee.pk],
                                     unit=units["holdout"])
    shown = selectors.recommendations(store=world.chain.store_a, slot="goes_with", product_ids=[world.tee.pk],
                                      unit=units["blend"])
    assert (held.variant, held.items, held.experiment_id, held.shown) == ("holdout", [], experiment.pk, False)
    assert (shown.variant, ids(shown), shown.shown) == ("blend", [world.pan.pk, world.mug.pk], True)


@pytest.mark.parametrize("variants, code", [
    ([{"key": "blend", "share": 50}, {"key": "holdout", "share": 40}], "shares_not_100"),
    ([{"key": "blend", "share": 99}], "shares_not_100"),
    ([{"key": "blend", "share": 100}], "share_invalid"),
    ([{"key": "magic", "share": 50}, {"key": "holdout", "share": 50}], "variant_invalid"),
    ([{"key": "blend", "share": 50}, {"key": "blend", "share": 50}], "variant_invalid"),
    ([{"key": "blend", "share": "50"}, {"key": "holdout", "share": 50}], "share_invalid"),
])
def test_a_bad_experiment_is_refused_and_nothing_starts(world, variants, code):
    with pytest.raises(DomainError) as caught:
        services.experiment_start(actor=world.chain.admin, slot="goes_with", name="x", variants=variants)
    assert caught.value.code == code
    assert Experiment.objects.count() == 0


def test_one_experiment_runs_per_slot_and_a_store_manager_may_not_start_one(world):
    good = [{"key": "blend", "share": 50}, {"key": "holdout", "share": 50}]
    services.experiment_start(actor=world.chain.admin, slot="goes_with", name="first", variants=good)
    with pytest.raises(DomainError) as caught:
        services.experiment_start(actor=world.chain.admin, slot="goes_with", name="second", variants=good)
    assert caught.value.code == "experiment_running"
    with pytest.raises(DomainError):
        services.experiment_start(actor=world.chain.manager_a, slot="for_you", name="mine", variants=good)
    assert list(Experiment.objects.values_list("name", flat=True)) == ["first"]
