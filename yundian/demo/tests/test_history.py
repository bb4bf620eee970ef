"""`seed --history`: the ledgers stay balanced and the stories the dashboards, tags and CLV look for are there.

One chain (scale 1, seed 7, 60 days ending on a fixed date, so the 双11 campaign is always inside) is seeded once
for the module and rolled back at the end; every test reads it.
"""
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone, translation

from yundian.catalog.models import Category
from yundian.core.ledgers import ledger_checks
from yundian.demo import generators, services
from yundian.demo.generators import history, history_events, history_model
from yundian.guides.models import CommissionEntry
from yundian.inventory.models import StockBalance, StockMove
from yundian.members.models import Member, TierChange
from yundian.promotions.models import Promotion, PromotionUsage
from yundian.sales.models import Order, OrderLine, OrderReturn
from yundian.stores.models import StoreProfile

# the demo always runs on its embedded SQLite: its seed is proven once, in the SQLite run of the suite
pytestmark = pytest.mark.once

UNTIL = date(2026, 11, 30)
DAYS = 60


@pytest.fixture(scope="module")
def chain(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            ctx = generators.run_seed(scale=1, seed=7, code="hist", history=DAYS, events=True, history_until=UNTIL)
            yield ctx
            transaction.set_rollback(True)


def _orders(ctx):
    return Order.objects.filter(enterprise=ctx.enterprise, client_ref__startswith="hist-7-")


def _local(moment):
    return timezone.localtime(moment)


def test_history_leaves_every_ledger_balanced(chain, db):
    mismatches = {name: [str(m) for m in check()] for name, check in ledger_checks().items()}

    assert {name: found for name, found in mismatches.items() if found} == {}
    assert chain.counts["history_orders"] == _orders(chain).count() > 1000
    assert chain.counts["history_returns"] == OrderReturn.objects.filter(order__in=_orders(chain)).count() > 0


def test_no_shelf_ever_goes_below_zero(chain, db):
    running = defaultdict(int)
    lowest = 0
    for sku, wh, quantity in (StockMove.objects.filter(enterprise=chain.enterprise)
                              .order_by("occurred_at", "id").values_list("sku_id", "warehouse_id", "quantity")):
        running[(sku, wh)] += quantity
        lowest = min(lowest, running[(sku, wh)])

    assert lowest == 0
    assert StockBalance.objects.filter(warehouse__enterprise=chain.enterprise, on_hand__lt=0).count() == 0


def test_history_covers_its_days_and_dates_rows_historically(chain, db):
    orders = _orders(chain)
    first, last = (_local(orders.order_by("placed_at").first().placed_at).date(),
                   _local(orders.order_by("-placed_at").first().placed_at).date())

    assert (first, last) == (UNTIL - timedelta(days=DAYS - 1), UNTIL)
    assert orders.exclude(created_at=F("placed_at")).count() == 0
    assert orders.filter(paid_at__isnull=True).count() == 0


def test_weekends_sell_more_than_weekdays(chain, db):
    per_day = Counter(_local(at).date() for at in _orders(chain).values_list("placed_at", flat=True))
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    weekday = [n for d, n in per_day.items() if d.weekday() <= 3]

    assert sum(weekend) / len(weekend) > 1.2 * sum(weekday) / len(weekday)


def test_till_orders_fall_inside_opening_hours_with_lunch_and_evening_peaks(chain, db):
    hours = {p.node_id: p.opening_hours for p in StoreProfile.objects.filter(enterprise=chain.enterprise)}
    outside, by_hour = 0, Counter()
    for store_id, at in _orders(chain).filter(channel="pos").values_list("store_id", "placed_at"):
        local = _local(at)
        start, end = history_model.parse_hours(hours[store_id], local.weekday())
        minute = local.hour * 60 + local.minute
        outside += not (start <= minute < end)
        by_hour[local.hour] += 1
    online_hours = Counter(_local(at).hour for at in _orders(chain).filter(channel="storefront")
                           .values_list("placed_at", flat=True))

    assert outside == 0
    assert by_hour[12] > 1.3 * by_hour[15] and by_hour[19] > 1.3 * by_hour[15]
    assert online_hours[21] > online_hours[10]  # the storefront sells on the sofa, outside store hours too
    assert sum(n for h, n in online_hours.items() if h >= 22 or h < 7) > 0


def test_the_declining_store_loses_orders_in_the_last_weeks(chain, db):
    problems = chain.created["history"].problems
    split = UNTIL - timedelta(days=19)
    early_end = UNTIL - timedelta(days=DAYS - 20)
    counts = defaultdict(lambda: [0, 0])
    for store_id, at in _orders(chain).values_list("store_id", "placed_at"):
        day = _local(at).date()
        if day <= early_end:
            counts[store_id][0] += 1
        elif day >= split:
            counts[store_id][1] += 1
    ratio = {s: late / early for s, (early, late) in counts.items()}
    others = sorted(r for s, r in ratio.items() if s != problems["declining_store"])

    assert ratio[problems["declining_store"]] < 0.75 * others[len(others) // 2]


def test_the_stockout_store_runs_out_of_its_best_seller_while_others_sell_it(chain, db):
    out = chain.created["history"].problems["stockout"]
    sold = OrderLine.objects.filter(order__in=_orders(chain), sku_id=out["sku_id"])
    last_there = sold.filter(order__store_id=out["store_id"]).order_by("-order__placed_at").first().order.placed_at
    sold_elsewhere_after = sold.exclude(order__store_id=out["store_id"]).filter(order__placed_at__gt=last_there)

    assert StockBalance.objects.get(warehouse_id=out["warehouse_id"], sku_id=out["sku_id"]).on_hand == 0
    assert _local(last_there).date() < UNTIL - timedelta(days=7)
    assert sold_elsewhere_after.aggregate(n=Sum("quantity"))["n"] > 0
    receipts_after = StockMove.objects.filter(warehouse_id=out["warehouse_id"], sku_id=out["sku_id"], kind="receipt",
                                              occurred_at__gt=last_there)
    assert receipts_after.count() == 0


def test_the_returns_store_takes_back_far_more(chain, db):
    store = chain.created["history"].problems["returns_store"]
    orders = dict(_orders(chain).values("store_id").annotate(n=Count("id")).order_by()
                  .values_list("store_id", "n"))
    returns = dict(OrderReturn.objects.filter(order__in=_orders(chain)).values("store_id").annotate(n=Count("id"))
                   .order_by().values_list("store_id", "n"))
    rate = returns.get(store, 0) / orders[store]
    rest = sum(n for s, n in returns.items() if s != store) / sum(n for s, n in orders.items() if s != store)

    assert rate > 2.5 * rest
    returned = _orders(chain).filter(status__in=["returned", "partially_returned"])
    assert returned.count() == OrderReturn.objects.filter(order__in=_orders(chain)).count()
    assert returned.exclude(refunded_total__gt=0).count() == 0


def test_baskets_carry_category_affinity(chain, db):
    baskets = defaultdict(set)
    codes = dict(Category.objects.filter(enterprise=chain.enterprise).values_list("id", "code"))
    for order_id, category_id in OrderLine.objects.filter(order__in=_orders(chain)).values_list("order_id",
                                                                                                "category_id"):
        baskets[order_id].add(codes[category_id])
    baskets = list(baskets.values())

    seen = Counter(c for basket in baskets for c in basket)
    # every strong affinity whose two categories the catalogue sells enough of (which fresh kinds a small
    # catalogue has is drawn)
    pairs = [(a, b) for a, companions in history_model.AFFINITY.items() for b, p in companions
             if p >= 0.3 and seen[a] >= 30 and seen[b] >= 30]

    assert ("APP-TOP", "APP-BTM") in pairs and ("HOM-KIT", "HOM-CLN") in pairs and len(pairs) >= 4
    for a, b in pairs:
        assert history_model.lift(baskets, a, b) > 1.5, (a, b)


def test_members_keep_to_their_own_sub_categories(chain, db):
    # given each member's orders as the set of sub-categories in each (the 母婴 department's trips left out)
    codes = dict(Category.objects.filter(enterprise=chain.enterprise).values_list("id", "code"))
    orders = defaultdict(set)
    owner = {}
    for order_id, member_id, category_id in OrderLine.objects.filter(
            order__in=_orders(chain).filter(member__isnull=False)).values_list("order_id", "order__member_id",
                                                                                "category_id"):
        if not codes[category_id].startswith("BAB"):
            orders[order_id].add(codes[category_id])
            owner[order_id] = member_id
    by_member = defaultdict(list)
    for order_id, cats in orders.items():
        by_member[owner[order_id]].append(cats)
    regulars = {m: baskets for m, baskets in by_member.items() if len(baskets) >= 4}

    def top_share(groups) -> float:
        """Of each member's orders, the share holding their most frequent sub-category (averaged over members)."""
        shares = []
        for baskets in groups:
            top = Counter(c for cats in baskets for c in cats).most_common(1)[0][0]
            shares.append(sum(top in cats for cats in baskets) / len(baskets))
        return sum(shares) / len(shares)

    # when the same orders are dealt out at random to the same members (as many each)
    pool = [cats for baskets in regulars.values() for cats in baskets]
    random.Random(3).shuffle(pool)
    dealt, at = [], 0
    for baskets in regulars.values():
        dealt.append(pool[at:at + len(baskets)])
        at += len(baskets)
    # then a member's own orders come back to their usual sub-category far more often than chance would
    assert len(regulars) >= 50
    assert top_share(regulars.values()) > top_share(dealt) + 0.1


def test_a_member_picks_products_near_their_own_price_position():
    # given a sub-category of five equally popular products at 10 to 50 yuan, and two members at either end of the
    # price range
    skus = {p: [history.SkuInfo(id=p, code=f"S{p}", name="", price=1000 * p, category_id=1, cat="HOM-KIT", top="HOM",
                                product_id=p, weighed=False, size="")] for p in range(1, 6)}
    basket = history.Basket({"HOM-KIT": skus}, {p: 1.0 for p in skus}, [])
    thrifty, lavish = (history.MemberInfo(id=n, home_id=1, guide_id=None, multiplier=1, principal=0, bonus=0,
                                          size="M", shoe="40", online=0.2, channel="pos", price_position=position)
                       for n, position in ((1, 0.0), (2, 1.0)))
    rng = random.Random(5)
    # when each draws 2,000 times (their usual product aside: a draw by the weights each time)
    drawn = {m.id: Counter(rng.choices(basket.products["HOM-KIT"], cum_weights=basket._weights_for("HOM-KIT", m))[0]
                           for _n in range(2000)) for m in (thrifty, lavish)}
    # then the cheapest is the thrifty member's most frequent pick and the dearest the other's, each far more than
    # a fifth of the time (a walk-in, without a position, draws by popularity alone)
    assert drawn[1].most_common(1)[0][0] == 1 and drawn[1][1] > 0.45 * 2000 and drawn[1][5] < 0.02 * 2000
    assert drawn[2].most_common(1)[0][0] == 5 and drawn[2][5] > 0.45 * 2000
    assert basket._weights_for("HOM-KIT", None) == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_members_keep_their_price_position_across_departments():
    # given tops and trainers of eight products each at rising prices (popularity drawn as the history draws it),
    # and 300 members spread over the price range
    rng = random.Random(11)
    by_cat = {cat: {p: [history.SkuInfo(id=p, code=f"S{p}", name="", price=1000 * (p % 100), category_id=1, cat=cat,
                                        top=cat[:3], product_id=p, weighed=False, size="")] for p in range(base, base + 8)}
              for cat, base in (("APP-TOP", 101), ("SHO-RUN", 201))}
    basket = history.Basket(by_cat, {p: rng.lognormvariate(0, 0.9) for cat in by_cat for p in by_cat[cat]}, [])
    members = [history.MemberInfo(id=n, home_id=1, guide_id=None, multiplier=1, principal=0, bonus=0, size="M",
                                  shoe="40", online=0.2, channel="pos",
                                  price_position=rng.betavariate(*history_model.PRICE_POSITION)) for n in range(300)]
    # when each buys three tops and three pairs of trainers (their usual product, or another, as the history picks)
    place = {}
    for member in members:
        place[member.id] = [sum((basket.pick_sku(rng, cat, member).product_id % 100 - 1) / 7 for _n in range(3)) / 3
                            for cat in ("APP-TOP", "SHO-RUN")]
    # then who buys the dear tops buys the dear trainers: their places in the two price ranges go together
    assert np.corrcoef(np.array(list(place.values())).T)[0, 1] > 0.25  # 0.38 here; without positions about 0


def test_members_come_back_and_lapse(chain, db):
    last_day = {}
    counts = Counter()
    for member_id, at in _orders(chain).filter(member__isnull=False).values_list("member_id", "placed_at"):
        counts[member_id] += 1
        last_day[member_id] = max(last_day.get(member_id, at), at)
    buyers = len(counts)
    returning = sum(1 for n in counts.values() if n >= 2) / buyers
    lapsed = sum(1 for at in last_day.values() if _local(at).date() < UNTIL - timedelta(days=30)) / buyers
    joined = Member.objects.filter(enterprise=chain.enterprise, created_at__date__gte=UNTIL - timedelta(days=DAYS))
    member_share = _orders(chain).filter(member__isnull=False).count() / _orders(chain).count()

    assert 0.2 < returning < 0.8
    assert 0.1 < lapsed < 0.6
    assert joined.count() > 10
    assert 0.15 < member_share < 0.6


def test_guides_differ_in_skill_and_it_shows_in_commission(chain, db):
    lines = Counter()
    orders = Counter()
    for guide_id, order_id in (OrderLine.objects.filter(order__in=_orders(chain).filter(channel="pos"),
                                                        guide__isnull=False)
                               .order_by().values_list("guide_id", "order_id").distinct()):
        orders[guide_id] += 1
    for guide_id, n in (OrderLine.objects.filter(order__in=_orders(chain).filter(channel="pos"), guide__isnull=False)
                        .values("guide_id").annotate(n=Count("id")).order_by().values_list("guide_id", "n")):
        lines[guide_id] = n
    attach = sorted(lines[g] / orders[g] for g in orders if orders[g] >= 50)
    commission = dict(CommissionEntry.objects.filter(order__in=_orders(chain)).values("guide_id")
                      .annotate(s=Sum("amount")).order_by().values_list("guide_id", "s"))

    assert attach[-1] > 1.2 * attach[0]
    assert len(commission) >= 10 and max(commission.values()) > 2 * min(commission.values()) > 0


def test_the_double_eleven_campaign_lifts_its_category_and_is_on_the_orders(chain, db):
    campaign = Promotion.objects.get(enterprise=chain.enterprise, code="H2026-1111")
    category = campaign.category_ids[0]
    lines = OrderLine.objects.filter(order__in=_orders(chain))

    def share(first, last):
        window = lines.filter(order__placed_at__date__gte=first, order__placed_at__date__lte=last)
        return window.filter(category_id=category).count() / window.count()

    during = share(date(2026, 11, 1), date(2026, 11, 11))
    before = share(date(2026, 10, 15), date(2026, 10, 28))
    promoted = _orders(chain).filter(pricing__applied__0__code="H2026-1111")

    assert campaign.status == "ended" and campaign.valid_from.date() <= date(2026, 11, 1)
    assert during > 2 * before
    assert promoted.count() == PromotionUsage.objects.filter(source="promotion", source_id=campaign.pk).count() > 20
    assert promoted.filter(discount_total__gt=0).count() == promoted.count()


def test_events_make_a_funnel_consistent_with_the_orders(chain, db):
    table = chain.created["history"].events
    kinds = Counter(table.column("kind").to_pylist())
    storefront_orders = _orders(chain).filter(channel="storefront").count()
    member_till_orders = _orders(chain).filter(channel="pos", member__isnull=False).count()
    anonymous = sum(1 for m in table.column("member_id").to_pylist() if m is None)
    keys = table.column("event_key").to_pylist()

    assert table.schema == history_events.schema()
    assert len(set(keys)) == len(keys) == chain.counts["history_events"]
    assert kinds["page_view"] + kinds["product_view"] > 5 * kinds["add_to_cart"] > 5 * storefront_orders > 0
    assert kinds["add_to_cart"] > kinds["remove_from_cart"] > 0
    visits = [(s, m, o) for k, s, m, o in zip(table.column("kind").to_pylist(), table.column("store_id").to_pylist(),
                                              table.column("member_id").to_pylist(),
                                              table.column("order_id").to_pylist()) if k == "store_visit"]
    till_orders = Counter(_orders(chain).filter(channel="pos").values_list("store_id", flat=True))
    assert sum(1 for _s, m, o in visits if m is not None and o is not None) == member_till_orders
    for store_id, n in till_orders.items():  # the door counter saw more people than bought
        assert 2.5 * n < sum(1 for s, _m, _o in visits if s == store_id) < 5 * n
    assert kinds["search"] > 0 and kinds["share"] > 0 and kinds["coupon_view"] > 0
    assert anonymous > len(keys) // 3
    received_ok = all(r >= o for o, r in zip(table.column("occurred_at").to_pylist(),
                                             table.column("received_at").to_pylist()))
    assert received_ok


def test_history_is_the_same_for_the_same_seed(chain, db):
    days = chain.created["history"].days

    def plan():
        ctx = generators.SeedContext(scale=1, seed=7, code="hist", password="", enterprise=chain.enterprise,
                                     created=dict(chain.created))
        stores, by_cat, popularity, members, baby = history._load(ctx, history._stream(ctx, "world"))
        problems = history._problems(stores)
        basket = history.Basket(by_cat, popularity, history._campaigns(days, set(by_cat)))
        plans = history._plan(ctx, days, stores, members, basket, problems, None, baby)
        return [(p.day, p.minute, p.store.id, p.member.id if p.member else None, p.channel,
                 p.seller.id if p.seller else None, [(l.sku.id, l.quantity) for l in p.lines]) for p in plans]

    first = plan()
    assert first == plan()
    assert len(first) >= chain.counts["history_orders"]


def test_seed_command_refuses_a_negative_history_and_shapes_it(db):
    before = Order.objects.count()
    with pytest.raises(CommandError):
        call_command("seed", "--history", "-1", stdout=StringIO())
    out = StringIO()
    with translation.override("en"):
        call_command("seed", "--shape", "--scale", "1", "--history", "365", stdout=out)

    assert "history: orders" in out.getvalue()
    assert f"{round(history.ORDERS_PER_STORE_DAY * 6 * 365):,}" in out.getvalue()
    assert Order.objects.count() == before


def test_the_demo_loads_a_year_of_history_with_events(monkeypatch, db):
    seen = {}
    monkeypatch.setattr(services, "run_seed", lambda **kwargs: seen.update(kwargs))

    assert services.demo_load() is True
    assert (seen["history"], seen["events"], seen["scale"]) == (365, True, 1)


def test_the_warehouse_keeps_every_history_event_once(chain, warehouse, db):
    table = chain.created["history"].events

    assert generators.load_events(chain, table) == table.num_rows
    assert generators.load_events(chain, table) == 0
    assert chain.counts["history_events_loaded"] == 0


def test_sales_carry_their_cost_and_returns_bring_it_back(chain, db):
    ids = {str(i) for i in _orders(chain).values_list("id", flat=True)}
    moves = StockMove.objects.filter(enterprise=chain.enterprise)
    issued = [v for sid, v in moves.filter(kind="sale_issue", source_type="order").values_list("source_id", "value")
              if sid in ids]
    returned = [v for reason, v in moves.filter(kind="return").values_list("reason", "value")
                if reason.removeprefix("order:") in ids]
    revenue = OrderLine.objects.filter(order__in=_orders(chain)).aggregate(s=Sum("line_total"))["s"]

    assert len(issued) == chain.counts["history_order_lines"] and max(issued) < 0
    assert 0.3 < -sum(issued) / revenue < 0.8  # cost of goods sold against what was paid
    assert len(returned) > 0 and min(returned) > 0


def test_members_move_up_to_the_tier_their_growth_reaches(chain, db):
    upgrades = list(TierChange.objects.filter(member__enterprise=chain.enterprise, reason="upgrade",
                                              at__lt=timezone.now() - timedelta(hours=12))  # not today's till sales
                    .select_related("to_tier", "from_tier", "member"))

    assert len(upgrades) == chain.counts["history_tier_upgrades"] > 0
    for change in upgrades:
        assert change.member.tier_id == change.to_tier_id
        assert change.to_tier.min_growth <= change.growth
        assert change.from_tier is None or change.from_tier.rank < change.to_tier.rank
        assert change.at == change.member.tier_since


def test_at_the_conversion_store_half_the_walk_ins_stop_buying_while_the_door_counts_them(chain, db):
    from datetime import timezone as dt_timezone

    problems = chain.created["history"].problems
    store, first = problems["conversion_store"], problems["conversion_first_day"]
    days = chain.created["history"].days
    start, split = days[first - 28], days[first]

    def period(at):
        day = _local(at if at.tzinfo else at.replace(tzinfo=dt_timezone.utc)).date()
        return None if day < start else int(day >= split)

    visits, orders = [0, 0], [0, 0]
    table = chain.created["history"].events
    for kind, store_id, channel, at in zip(*(table.column(c).to_pylist()
                                             for c in ("kind", "store_id", "channel", "occurred_at"))):
        if kind == "store_visit" and store_id == store and channel == "pos" and period(at) is not None:
            visits[period(at)] += 1
    for at in _orders(chain).filter(store_id=store, channel="pos").values_list("placed_at", flat=True):
        if period(at) is not None:
            orders[period(at)] += 1
    # the share of the door count that buys halves in the last two weeks (the door counts whoever came in)
    before, after = orders[0] / visits[0], orders[1] / visits[1]
    assert after / before < 0.65, (visits, orders)
    assert 0.15 < before < 0.45


def test_the_demo_journeys_are_live_with_members_at_every_stage(chain, db):
    from yundian.demo.generators.journeys import enrolled_for
    from yundian.journeys.models import Journey
    from yundian.journeys.results import results_compute
    from yundian.messaging.models import OutboundMessage
    from yundian.promotions.models import Coupon

    journeys = list(Journey.objects.filter(enterprise=chain.enterprise).order_by("id"))
    assert [(j.status, j.trigger) for j in journeys] == [
        ("live", "first_purchase"), ("live", "cart_abandoned"), ("live", "lifecycle_changed")]
    results = {j.trigger: results_compute(j) for j in journeys}
    assert {t: r.enrolled for t, r in results.items()} == dict.fromkeys(results, enrolled_for(1))
    assert all(r.done > 0 and r.nodes for r in results.values())
    assert results["first_purchase"].active > 0  # the newest cohorts still wait for their coupon or reminder
    assert results["lifecycle_changed"].uplift.control > 0  # the win-back's holdout
    assert sum(r.coupons_issued for r in results.values()) > 0
    assert OutboundMessage.objects.filter(enterprise=chain.enterprise, source__startswith="jy").exists()
    assert Coupon.objects.filter(enterprise=chain.enterprise, source__startswith="jy").count() == sum(
        r.coupons_issued for r in results.values())
