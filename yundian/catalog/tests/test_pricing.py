"""Price resolution: nearest node wins, validity windows, priority, channels, base price; changes are live and audited."""
from datetime import timedelta

import pytest
from django.utils import translation
from django.utils import timezone

from yundian.catalog import services
from yundian.catalog.models import PriceEntry, PriceList
from yundian.catalog.pricing import price_resolve, price_resolve_many
from yundian.catalog.tests.factories import make_catalogue
from yundian.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry


@pytest.fixture
def priced(chain):
    cat = make_catalogue(chain)
    now = timezone.now()
    admin = chain.admin

    def price_list(node, code, price, *, channel="store", priority=0, valid_from=None, valid_to=None, sku=None):
        pl = services.price_list_create(actor=admin, node_id=node.id, channel=channel, code=code, name=code,
                                        priority=priority, valid_from=valid_from, valid_to=valid_to)
        services.price_entry_set(actor=admin, price_list_id=pl.id, sku_id=(sku or cat.tee_s).id, price=price)
        return pl

    lists = {
        "hq": price_list(chain.hq, "HQ-STD", 8900),
        "east": price_list(chain.east, "EAST", 8500),
        "store_a": price_list(chain.store_a, "A-OWN", 8000),
        "expired": price_list(chain.store_a, "A-OLD", 7000, valid_from=now - timedelta(days=30),
                              valid_to=now - timedelta(days=1)),
        "future": price_list(chain.store_a, "A-NEXT", 6000, valid_from=now + timedelta(days=1),
                             valid_to=now + timedelta(days=8)),
        "online": price_list(chain.hq, "HQ-WEB", 7500, channel="online"),
    }
    return cat, lists, now


def test_the_store_own_list_beats_region_and_hq(chain, priced):
    cat, lists, now = priced
    result = price_resolve(cat.tee_s, chain.store_a, "store", now)
    assert result.price.amount == 8000
    assert result.source == "price_list"
    assert result.winner.price_list_code == "A-OWN" and result.winner.distance == 0
    assert [(o["price_list_code"], o["reason"]) for o in result.others] == [("EAST", "farther_node"),
                                                                              ("HQ-STD", "farther_node")]
    assert "A-OWN" in result.explanation


def test_a_store_without_its_own_or_region_list_gets_the_hq_price(chain, priced):
    cat, lists, now = priced
    result = price_resolve(cat.tee_s, chain.store_b, "store", now)
    assert (result.price.amount, result.winner.price_list_code, result.winner.distance) == (8900, "HQ-STD", 2)
    assert result.others == []


def test_expired_and_not_yet_valid_lists_do_not_apply_until_their_window(chain, priced):
    cat, lists, now = priced
    services.price_list_update(actor=chain.admin, price_list_id=lists["store_a"].id, is_active=False)
    # the store's only other lists are expired or in the future: the region's price applies (store->dealer->east)
    result = price_resolve(cat.tee_s, chain.store_a, "store", now)
    assert (result.price.amount, result.winner.price_list_code, result.winner.distance) == (8500, "EAST", 2)
    # two days on, the future list is valid; eight days on it has ended again
    assert price_resolve(cat.tee_s, chain.store_a, "store", now + timedelta(days=2)).price.amount == 6000
    assert price_resolve(cat.tee_s, chain.store_a, "store", now + timedelta(days=8)).price.amount == 8500
    # the window end is exclusive, the start inclusive
    assert price_resolve(cat.tee_s, chain.store_a, "store", now + timedelta(days=1)).price.amount == 6000
    # in the past, the expired list was valid
    assert price_resolve(cat.tee_s, chain.store_a, "store", now - timedelta(days=2)).price.amount == 7000


def test_the_channel_must_match(chain, priced):
    cat, lists, now = priced
    assert price_resolve(cat.tee_s, chain.store_a, "online", now).winner.price_list_code == "HQ-WEB"
    wholesale = price_resolve(cat.tee_s, chain.store_a, "wholesale", now)
    assert (wholesale.source, wholesale.price.amount, wholesale.winner) == ("base_price", 9900, None)
    with pytest.raises(ValidationFailed) as caught:
        price_resolve(cat.tee_s, chain.store_a, "telepathy", now)
    assert caught.value.code == "invalid_channel"


def test_without_any_list_the_base_price_applies(chain, priced):
    cat, lists, now = priced
    with translation.override("en"):
        result = price_resolve(cat.mug_sku, chain.store_a, "store", now)
        assert (result.source, result.price.amount, result.price.currency) == ("base_price", 2500, "CNY")
        assert "base price" in result.explanation
    with translation.override("zh-hans"):
        assert "基础售价" in price_resolve(cat.mug_sku, chain.store_a, "store", now).explanation


def test_within_one_node_priority_then_narrowest_window_wins(chain, priced):
    cat, lists, now = priced
    admin = chain.admin
    promo = services.price_list_create(actor=admin, node_id=chain.hq.id, channel="store", code="HQ-PROMO",
                                       name="week promo", valid_from=now - timedelta(days=1),
                                       valid_to=now + timedelta(days=6))
    services.price_entry_set(actor=admin, price_list_id=promo.id, sku_id=cat.tee_s.id, price=7900)
    # Store B (West) sees only HQ lists: the dated promo beats the standing list at equal priority
    result = price_resolve(cat.tee_s, chain.store_b, "store", now)
    assert (result.price.amount, result.winner.price_list_code) == (7900, "HQ-PROMO")
    assert [(o["price_list_code"], o["reason"]) for o in result.others] == [("HQ-STD", "wider_window")]
    # raising the standing list's priority makes it win again
    services.price_list_update(actor=admin, price_list_id=lists["hq"].id, priority=5)
    result = price_resolve(cat.tee_s, chain.store_b, "store", now)
    assert (result.price.amount, result.winner.price_list_code) == (8900, "HQ-STD")
    assert [(o["price_list_code"], o["reason"]) for o in result.others] == [("HQ-PROMO", "lower_priority")]


def test_batch_resolution_matches_single_resolution_in_one_query(chain, priced, django_assert_max_num_queries):
    cat, lists, now = priced
    skus = [cat.tee_s, cat.tee_m, cat.mug_sku, cat.apples_sku]
    chain.store_a.enterprise  # currency known: the batch is a single query
    with django_assert_max_num_queries(1):
        batch = price_resolve_many(skus, chain.store_a, "store", now)
    assert {k: v.price.amount for k, v in batch.items()} == {cat.tee_s.id: 8000, cat.tee_m.id: 9900,
                                                             cat.mug_sku.id: 2500, cat.apples_sku.id: 1280}
    for sku in skus:
        assert batch[sku.id].price == price_resolve(sku, chain.store_a, "store", now).price


def test_a_price_change_is_audited_and_reaches_every_store_at_once(chain, priced):
    cat, lists, now = priced
    services.price_list_update(actor=chain.admin, price_list_id=lists["store_a"].id, is_active=False)
    services.price_list_update(actor=chain.admin, price_list_id=lists["east"].id, is_active=False)
    before = {s: price_resolve(cat.tee_s, s, "store").price.amount for s in (chain.store_a, chain.store_b)}
    services.price_entry_set(actor=chain.admin, price_list_id=lists["hq"].id, sku_id=cat.tee_s.id, price=8800)
    after = {s: price_resolve(cat.tee_s, s, "store").price.amount for s in (chain.store_a, chain.store_b)}
    assert before == {chain.store_a: 8900, chain.store_b: 8900}
    assert after == {chain.store_a: 8800, chain.store_b: 8800}
    entry = AuditEntry.objects.filter(action="price.set").order_by("-id").first()
    assert entry.before == {"price": 8900, "sku": "TEE-001-S", "price_list": "HQ-STD"}
    assert entry.after == {"price": 8800, "sku": "TEE-001-S", "price_list": "HQ-STD"}
    assert entry.actor_user_id == chain.admin.user_id and entry.scope_path == chain.hq.path
    assert PriceEntry.objects.filter(sku=cat.tee_s).count() == 6  # no per-store copies


def test_a_region_manager_prices_own_subtree_only_and_a_store_manager_not_at_all(chain, priced):
    cat, lists, now = priced
    services.price_entry_set(actor=chain.east_manager, price_list_id=lists["east"].id, sku_id=cat.tee_s.id, price=8400)
    store_list = services.price_list_create(actor=chain.east_manager, node_id=chain.store_a.id, channel="store",
                                            code="A-EAST", name="set by region")
    assert store_list.node_id == chain.store_a.id
    entries, lists_before = PriceEntry.objects.count(), PriceList.objects.count()
    with pytest.raises(Forbidden):  # HQ's list applies to the region, so it is visible, but not theirs to change
        services.price_entry_set(actor=chain.east_manager, price_list_id=lists["hq"].id, sku_id=cat.tee_s.id, price=1)
    with pytest.raises(NotFound):  # the West region is another branch: not even visible
        services.price_list_create(actor=chain.east_manager, node_id=chain.west.id, channel="store", code="W-X",
                                   name="x")
    with pytest.raises(Forbidden):
        services.price_entry_set(actor=chain.manager_a, price_list_id=lists["store_a"].id, sku_id=cat.tee_s.id,
                                 price=1)
    assert (PriceEntry.objects.count(), PriceList.objects.count()) == (entries, lists_before)
    assert PriceEntry.objects.get(price_list=lists["hq"], sku=cat.tee_s).price == 8900


@pytest.mark.parametrize("kwargs, code", [
    ({"channel": "telepathy"}, "invalid_channel"),
    ({"code": "bad code!"}, "invalid_code"),
    ({"name": ""}, "required"),
    ({"priority": 5000}, "invalid_number"),
    ({"valid_from_days": 2, "valid_to_days": 1}, "invalid_window"),
    ({"code": "HQ-STD"}, "code_taken"),
])
def test_bad_price_lists_are_refused_and_nothing_is_created(chain, priced, kwargs, code):
    cat, lists, now = priced
    args = {"node_id": chain.hq.id, "channel": "store", "code": "NEW", "name": "new"}
    days_from, days_to = kwargs.pop("valid_from_days", None), kwargs.pop("valid_to_days", None)
    if days_from is not None:
        args["valid_from"], args["valid_to"] = now + timedelta(days=days_from), now + timedelta(days=days_to)
    args.update(kwargs)
    count = PriceList.objects.count()
    with pytest.raises(DomainError) as caught:
        services.price_list_create(actor=chain.admin, **args)
    assert caught.value.code == code
    assert PriceList.objects.count() == count
