"""`seed --history DAYS`: a believable year (or any number of days) of chain history, written in bulk into the
OLTP ledgers inside the seed's transaction. Runs after every step of STEPS (it reads what they created).

What it writes, for the days [today - DAYS, yesterday]:

    orders, order lines, payments    POS sales in opening hours (lunch and evening peaks; community stores also
                                     the morning) and storefront deliveries at any waking hour, weekly and yearly
                                     seasonality (history_model.day_factor); walk-ins and members
    stock moves                      a sale_issue per line, a return per returned line, replenishment receipts
                                     (before opening, on delivery days) so no shelf goes below zero
    points, lots, growth             what each member order earns (tier multiplier), reversed pro rata on returns
    stored value                     spends of members who hold a balance
    commission                       per guided line, by the active plan (category rules, monthly tiers)
    returns, refunds                 a few percent of orders, 1-14 days later (apparel most, fresh least)
    promotions, usage                dated campaigns (618 trainers, 双11 coats, the New Year food fair, spring home
                                     week) with their discount in Order.pricing and a PromotionUsage row per order

The stories to find: members follow BG/NBD (a gamma-distributed purchase rate, a beta-distributed chance of
lapsing after each purchase; a third join during the history) and keep to their own taste in sub-categories (a
multiplier of the store's mix per member, history_model.CATEGORY_TASTE_SHAPE: a few usual sub-categories start most of
their baskets, their usual product of each most of the time) and to their own price position across departments
(history_model.PRICE_POSITION: who buys the dear trainers buys the dear coat), baskets follow category affinities (tops with
trousers, pans with cleaning things, vegetables with meat), guides differ in skill (how many items they add),
parents of a baby (history_baby.py: 13 % of the members) buy its formula stage and nappy size every two to four weeks,
move to the next stage at the right age and buy complements (a bottle, wipes, a sippy cup, a pram) in a later basket,
and three stores each have a problem: `problems["declining_store"]` loses traffic over the last two months,
`problems["stockout"]` runs out of its best seller for the last six weeks (no receipts: sales stop there while
other stores sell it), `problems["returns_store"]` takes back five times as much as the others.

Every random draw comes from `random.Random(f"{seed}:history:<part>")`. Behaviour events (history_events.py) are
built from the same orders when asked for and handed to the warehouse after the transaction commits.
"""
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext
from . import history_model as model
from . import history_sql as sql

WALKINS_PER_STORE_DAY = 5.0  # walk-in (non-member) orders on an average day in an average store
MEMBER_RATE_PER_DAY = 1 / 20  # mean purchase rate of a live member (gamma across members, shape 1.3)
DROPOUT = (1.2, 7.0)  # beta(a, b) of the chance to lapse after a purchase (mean 0.15)
NEW_MEMBER_SHARE = 0.35  # members who join during the history
STOREFRONT_SHARE = 0.18  # member orders placed on the storefront (delivered from the store)
DECLINE_DAYS, DECLINE_TO = 60, 0.4
STOCKOUT_DAYS = 42
CAMPAIGNS = [  # (code, name, pay rate, sub-category codes, (first, last) day for a year)
    ("618", "618 跑鞋节", "0.80", ["SHO-RUN"], lambda y: (date(y, 6, 1), date(y, 6, 18))),
    ("1111", "双11 外套狂欢", "0.75", ["APP-OUT"], lambda y: (date(y, 11, 1), date(y, 11, 11))),
    ("CNY", "年货节 生鲜", "0.90", ["FRS-MEA", "FRS-SEA"],
     lambda y: (model.CHINESE_NEW_YEAR[y] - timedelta(days=21), model.CHINESE_NEW_YEAR[y] - timedelta(days=2))
     if y in model.CHINESE_NEW_YEAR else None),
    ("SPRING", "春季家居焕新", "0.85", ["HOM-KIT", "HOM-CLN"], lambda y: (date(y, 3, 8), date(y, 3, 21))),
]
CAMPAIGN_BOOST = 3.5  # how much more often a promoted category is the reason for a visit while it runs
# rows per order at scale 1 over a year (measured), for `seed --shape --history`
PER_ORDER = {"history_order_lines": 1.57, "history_payments": 1.0, "history_returns": 0.107,
             "history_stock_moves": 2.34, "history_points_entries": 0.31, "history_growth_entries": 0.31,
             "history_commission_entries": 1.63, "history_promotion_usages": 0.057, "history_events": 4.6}
ORDERS_PER_STORE_DAY = 9.2

LABELS = {
    "history_orders": _("history: orders"),
    "history_order_lines": _("history: order lines"),
    "history_payments": _("history: payments"),
    "history_returns": _("history: returns"),
    "history_stock_moves": _("history: stock moves"),
    "history_points_entries": _("history: points entries"),
    "history_growth_entries": _("history: growth entries"),
    "history_stored_value_entries": _("history: stored value entries"),
    "history_commission_entries": _("history: commission entries"),
    "history_promotion_usages": _("history: promotion usage rows"),
    "history_campaigns": _("history: dated campaigns"),
    "history_members_dated": _("history: members given a join date"),
    "history_tier_upgrades": _("history: tier upgrades"),
    "history_events": _("history: behaviour events"),
    "history_events_loaded": _("history: events kept by the warehouse"),
}


def estimate(scale: int, days: int) -> dict[str, int]:
    """About how many rows `days` of history write at `scale` (orders grow with stores and days)."""
    from .org import counts_for

    orders = round(ORDERS_PER_STORE_DAY * counts_for(scale)["stores"] * days)
    return {"history_orders": orders, **{key: round(orders * ratio) for key, ratio in PER_ORDER.items()}}


@dataclass(slots=True)
class SkuInfo:
    id: int
    code: str
    name: str
    price: int
    category_id: int
    cat: str  # sub-category code
    top: str  # top category code
    product_id: int
    weighed: bool
    size: str


@dataclass(slots=True)
class Seller:
    id: int
    skill: float


@dataclass(slots=True)
class StoreInfo:
    id: int
    index: int
    path: str
    slug: str
    wh_id: int
    opening: dict
    hour_weights: dict
    cats: list  # sub-category codes on sale
    sellers: list
    weight: float
    baby: bool = False  # sells the 母婴 department


@dataclass(slots=True)
class MemberInfo:
    id: int
    home_id: int
    guide_id: int | None
    multiplier: Decimal
    principal: int
    bonus: int
    size: str
    shoe: str
    online: float
    channel: str
    joined: datetime | None = None
    taste: dict = field(default_factory=dict)  # sub-category code -> the member's multiplier of the store's mix
    price_position: float | None = None  # 0..1: where in a sub-category's price range their picks sit


@dataclass(slots=True)
class Line:
    sku: SkuInfo
    quantity: int
    id: int = 0
    unit_price: int = 0
    list_price: int = 0
    discount: int = 0
    line_total: int = 0
    guide_id: int | None = None
    returned: int = 0
    returned_amount: int = 0
    cost: int = 0  # the stock value its sale issue took out (moving average)


@dataclass(slots=True)
class OrderPlan:
    day: int
    minute: int
    store: StoreInfo
    member: MemberInfo | None
    channel: str
    seller: Seller | None
    lines: list
    promo: dict | None = None
    id: int = 0
    placed: datetime | None = None
    total: int = 0
    points: int = 0
    payment_id: int = 0
    method: str = ""
    returned: bool = False


@dataclass
class HistoryResult:
    counts: dict[str, int] = field(default_factory=dict)
    problems: dict = field(default_factory=dict)
    orders: list = field(default_factory=list)
    days: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)
    events: object = None  # pyarrow.Table when events were asked for


def _stream(ctx: SeedContext, part: str) -> random.Random:
    return random.Random(f"{ctx.seed}:history:{part}")


# --- the world: what earlier steps created ------------------------------------------------------------------

def _load(ctx: SeedContext, rng: random.Random):
    from yundian.catalog.models import Category, Sku
    from yundian.inventory.models import Warehouse, WarehouseKind
    from yundian.members.models import Member, MemberStatus, StoredValueBalance
    from yundian.org.models import RoleAssignment
    from yundian.org.roles import Role
    from yundian.stores.models import StoreAssortment, StoreProfile

    enterprise = ctx.enterprise
    stores = list(ctx.created["stores"])
    categories = {c.pk: c for c in Category.objects.filter(enterprise=enterprise)}
    top_code = {pk: (categories[c.parent_id].code if c.parent_id in categories else c.code)
                for pk, c in categories.items()}
    skus = []
    for sku_id, code, name, price, product_id, product_name, category_id, weighed, options in (
            Sku.objects.filter(enterprise=enterprise, is_active=True, product__category__isnull=False)
            .order_by("id").values_list("id", "code", "name", "base_price", "product_id", "product__name",
                                        "product__category_id", "is_weighed", "options")):
        size = str((options or {}).get("尺码", "")) if isinstance(options, dict) else ""
        skus.append(SkuInfo(id=sku_id, code=code, name=f"{product_name} {name}".strip()[:250], price=price,
                            category_id=category_id, cat=categories[category_id].code, top=top_code[category_id],
                            product_id=product_id, weighed=weighed, size=size))
    by_cat: dict[str, dict[int, list[SkuInfo]]] = defaultdict(dict)
    baby = {p.pk: key for key, p in (ctx.created.get("baby_products") or {}).items()}
    baby_skus: dict[str, list[SkuInfo]] = defaultdict(list)  # the 母婴 range, bought by parents only (history_baby)
    for sku in skus:
        if sku.product_id in baby:
            baby_skus[baby[sku.product_id]].append(sku)
        elif sku.price > 0:
            by_cat[sku.cat].setdefault(sku.product_id, []).append(sku)
    popularity = {p: rng.lognormvariate(0, 0.9) for cat in sorted(by_cat) for p in sorted(by_cat[cat])}

    profiles = {p.node_id: p for p in StoreProfile.objects.filter(node__in=stores)}
    sold_tops: dict[int, set[str]] = defaultdict(set)
    for node_id, category_id in StoreAssortment.objects.filter(store__node__in=stores, category__isnull=False) \
            .values_list("store__node_id", "category_id"):
        sold_tops[node_id].add(top_code[category_id])
    warehouses = dict(Warehouse.objects.filter(node__in=stores, kind=WarehouseKind.STORE).values_list("node_id", "id"))
    sellers: dict[int, list[Seller]] = defaultdict(list)
    for staff_id, node_id in (RoleAssignment.objects.filter(node__in=stores, role__in=[Role.GUIDE, Role.STORE_MANAGER])
                              .order_by("staff_id", "node_id").values_list("staff_id", "node_id")):
        skill = min(2.5, max(0.35, rng.lognormvariate(0, 0.45)))
        sellers[node_id].append(Seller(id=staff_id, skill=skill))
    infos = []
    for index, store in enumerate(stores):
        if store.pk not in warehouses:
            continue
        tops = sold_tops.get(store.pk) or set(top_code.values())
        cats = sorted(code for code, products in by_cat.items() if next(iter(products.values()))[0].top in tops)
        profile = profiles.get(store.pk)
        community = "FRS" in tops
        infos.append(StoreInfo(
            id=store.pk, index=index, path=store.path, slug=profile.slug if profile else store.code,
            wh_id=warehouses[store.pk], opening=profile.opening_hours if profile else {},
            hour_weights=model.HOURS_COMMUNITY if community else model.HOURS_STANDARD, cats=cats,
            sellers=sellers.get(store.pk, []), weight=rng.lognormvariate(0, 0.3)))

    members = []
    balances = {m: (p, b) for m, p, b in StoredValueBalance.objects.filter(member__enterprise=enterprise)
                .values_list("member_id", "principal", "bonus")}
    tops_in_use = sorted({c for s in infos for c in s.cats})
    for member_id, home_id, guide_id, multiplier, channel in (
            Member.objects.filter(enterprise=enterprise, status=MemberStatus.ACTIVE, home__isnull=False)
            .order_by("id").values_list("id", "home_id", "guide_id", "tier__points_multiplier", "channel")):
        principal, bonus = balances.get(member_id, (0, 0))
        members.append(MemberInfo(
            id=member_id, home_id=home_id, guide_id=guide_id, multiplier=Decimal(multiplier or 1),
            principal=principal, bonus=bonus,
            size=rng.choices(list(model.SIZE_WEIGHTS), weights=list(model.SIZE_WEIGHTS.values()))[0],
            shoe=str(rng.choice((38, 39, 40, 40, 41, 41, 42, 42, 43, 44))),
            online=0.45 if channel in ("storefront", "miniprogram") else STOREFRONT_SHARE * 0.6, channel=channel,
            taste={cat: rng.gammavariate(model.CATEGORY_TASTE_SHAPE, 1 / model.CATEGORY_TASTE_SHAPE)
                   for cat in tops_in_use},
            price_position=rng.betavariate(*model.PRICE_POSITION)))
    for info in infos:  # every store carries the 母婴 department (its assortment rule) when the catalogue has one
        info.baby = bool(baby_skus) and "BAB" in (sold_tops.get(info.id) or {"BAB"})
    return infos, by_cat, popularity, members, dict(baby_skus)


# --- baskets ------------------------------------------------------------------------------------------------

class Basket:
    """Draws what one shopper buys: an anchor category (store range x season x campaigns x the member's own taste),
    then companions by affinity, more of them with a skilled guide."""

    def __init__(self, by_cat, popularity, campaigns):
        self.by_cat = by_cat
        self.products = {cat: sorted(products) for cat, products in by_cat.items()}
        self.product_weights = {cat: list(itertools.accumulate(popularity[p] for p in self.products[cat]))
                                for cat in by_cat}
        self.campaigns = campaigns
        self._weights: dict[tuple[int, date], list[float]] = {}
        # product habits (what recommendations learn): a member's usual product of a category, an item's usual
        # companion in another; drawn from a stream of their own so every other figure of the history stays as it was
        self._habits = random.Random(19)
        self._usual: dict[tuple, int] = {}
        # each product's place in its sub-category's price range (0 the cheapest, 1 the dearest)
        self.price_rank = {}
        for cat, products in self.products.items():
            ordered = sorted(products, key=lambda p: (by_cat[cat][p][0].price, p))
            for n, product in enumerate(ordered):
                self.price_rank[product] = n / (len(ordered) - 1) if len(ordered) > 1 else 0.5
        self._member_weights: dict[tuple, list[float]] = {}

    def promo_on(self, day: date) -> dict[str, dict]:
        out = {}
        for campaign in self.campaigns:
            if campaign["first"] <= day <= campaign["last"]:
                for cat in campaign["cats"]:
                    out[cat] = campaign
        return out

    def _weights_for(self, cat: str, member: MemberInfo | None) -> list[float]:
        """Cumulative weights of the sub-category's products: popularity, times the fit of each product's price to
        the member's price position."""
        if member is None or member.price_position is None:
            return self.product_weights[cat]
        key = (member.id, cat)
        if key not in self._member_weights:
            if len(self._member_weights) > 200_000:  # a big chain: keep the memory bounded
                self._member_weights.clear()
            steps = itertools.accumulate(
                (b - a) * math.exp(-0.5 * ((self.price_rank[p] - member.price_position) / model.PRICE_FIT_WIDTH) ** 2)
                for a, b, p in zip([0.0, *self.product_weights[cat]], self.product_weights[cat], self.products[cat]))
            self._member_weights[key] = list(steps)
        return self._member_weights[key]

    def _habit(self, key: tuple, cat: str, member: MemberInfo | None = None) -> int:
        if key not in self._usual:
            self._usual[key] = self._habits.choices(self.products[cat], cum_weights=self._weights_for(cat, member))[0]
        return self._usual[key]

    def pick_sku(self, rng, cat: str, member: MemberInfo | None, with_product: int | None = None) -> SkuInfo:
        products = self.products[cat]
        product = rng.choices(products, cum_weights=self._weights_for(cat, member))[0]
        if with_product is not None and self._habits.random() < model.COMPANION_HABIT:
            product = self._habit(("with", with_product, cat), cat)   # the tee bought with these jeans
        elif member is not None and self._habits.random() < model.MEMBER_HABIT:
            product = self._habit(("member", member.id, cat), cat, member)  # their usual apples, their detergent
        variants = self.by_cat[cat][product]
        if member is not None and len(variants) > 1:
            fitting = [s for s in variants if s.size in (member.size, member.shoe)]
            if fitting:
                return rng.choice(fitting)
        if variants[0].size in model.SIZE_WEIGHTS:
            return rng.choices(variants, weights=[model.SIZE_WEIGHTS.get(s.size, 0.2) for s in variants])[0]
        return rng.choice(variants)

    @staticmethod
    def quantity(rng, sku: SkuInfo) -> int:
        if sku.weighed:
            return rng.randrange(300, 2550, 50)  # grams
        if sku.top in ("APP", "SHO"):
            return 1 if rng.random() < 0.9 else 2
        return rng.choices((1, 2, 3), weights=(70, 22, 8))[0]

    def draw(self, rng, day: date, store: StoreInfo, member: MemberInfo | None, attach: float) -> list[Line]:
        cats = store.cats
        if not cats:
            return []
        key = (store.id, day)
        if key not in self._weights:
            promos = self.promo_on(day)
            self._weights = {key: [model.CATEGORY_WEIGHT.get(cat, 1.0) * (CAMPAIGN_BOOST if cat in promos else 1.0)
                                   * model.CATEGORY_SEASON.get(cat, [1.0] * 12)[day.month - 1] for cat in cats]}
        weights = self._weights[key]
        if member is not None and member.taste:
            weights = [w * member.taste.get(cat, 1.0) for w, cat in zip(weights, cats)]
        anchor = rng.choices(cats, weights=weights)[0]
        chosen = [anchor]
        companions = model.AFFINITY.get(anchor)
        if companions is None:  # a category the model does not know: its siblings sell with it a little
            prefix = anchor.split("-")[0]
            companions = [(c, 0.15) for c in cats if c != anchor and c.split("-")[0] == prefix]
        for cat, p in companions:
            if cat in cats and rng.random() < min(0.95, p * attach):
                chosen.append(cat)
        if rng.random() < 0.12 * attach:  # an impulse item from anywhere in the store
            chosen.append(rng.choice(cats))
        lines: dict[int, Line] = {}
        anchor_product = None
        for cat in chosen:
            sku = self.pick_sku(rng, cat, member, anchor_product)
            anchor_product = anchor_product if anchor_product is not None else sku.product_id
            if sku.id in lines:
                continue
            lines[sku.id] = Line(sku=sku, quantity=self.quantity(rng, sku))
        return list(lines.values())


# --- the plan: who buys where and when ----------------------------------------------------------------------

def _campaigns(days: list[date], cats: set[str]) -> list[dict]:
    out = []
    for year in sorted({d.year for d in days}):
        for code, name, rate, promo_cats, window in CAMPAIGNS:
            span = window(year)
            if span is None:
                continue
            first, last = span
            present = [c for c in promo_cats if c in cats]
            if present and first >= days[0] and last <= days[-1]:
                out.append({"code": f"H{year}-{code}", "name": name, "rate": Decimal(rate), "cats": present,
                            "first": first, "last": last, "id": None})
    return out


def _decline(store: StoreInfo, problems: dict, index: int, ndays: int) -> float:
    if store.id != problems.get("declining_store"):
        return 1.0
    into = index - (ndays - DECLINE_DAYS)
    return 1.0 if into < 0 else 1.0 - (1.0 - DECLINE_TO) * (into + 1) / DECLINE_DAYS


def _plan(ctx, days, stores, members, basket, problems, progress, baby=None) -> list[OrderPlan]:
    from .history_post import midnight_utc

    ndays = len(days)
    clock = model.SeasonalClock(days)
    rng_members = _stream(ctx, "members")
    rng_join = _stream(ctx, "joins")
    by_id = {s.id: s for s in stores}
    per_day: list[list[tuple]] = [[] for _d in days]
    for member in members:
        rate = rng_members.gammavariate(1.3, MEMBER_RATE_PER_DAY / 1.3)
        dropout = rng_members.betavariate(*DROPOUT)
        if rng_join.random() < NEW_MEMBER_SHARE:
            # joins on a day drawn by traffic (people sign up when they shop), usually buying at once
            start = clock.day_at(rng_join.random() * clock.cum[-1])
            member.joined = midnight_utc(days[start])
            purchases = model.member_purchase_days(rng_members, clock, start_index=start, rate_per_day=rate,
                                                   dropout=dropout, first_on_start=rng_join.random() < 0.85)
        else:
            member.joined = midnight_utc(days[0] - timedelta(days=rng_join.randrange(1, 1100)))
            alive = rng_members.random() < 0.8
            purchases = model.member_purchase_days(rng_members, clock, start_index=0, rate_per_day=rate,
                                                   dropout=dropout, first_on_start=False) if alive else []
        for index in purchases:
            per_day[index].append((member, rng_members.random(), rng_members.random()))
    from .history_baby import parent_trips

    # parents of a baby (their own streams, so every other order of the history is drawn as before)
    trips = parent_trips(_stream(ctx, "parents"), days, members, baby, make_line=Line) if baby else [[] for _d in days]
    rng_trips = _stream(ctx, "parent-orders")
    rng = _stream(ctx, "orders")
    plans = []
    for index, day in enumerate(days):
        factor = model.day_factor(day)
        for store in stores:
            count = model.poisson(rng, WALKINS_PER_STORE_DAY * store.weight * factor * _decline(store, problems, index,
                                                                                                ndays))
            for _n in range(count):
                plans.append(_order(rng, basket, day, index, store, None))
        for member, where, thin in per_day[index]:
            home = by_id.get(member.home_id)
            store = home if (home is not None and where < 0.82) else stores[int(where * 1000) % len(stores)]
            if thin >= _decline(store, problems, index, ndays):
                continue  # the declining store loses its members' visits too
            plans.append(_order(rng, basket, day, index, store, member))
        for member, lines in trips[index]:
            home = by_id.get(member.home_id)
            store = home if home is not None and home.baby else next((s for s in stores if s.baby), None)
            if store is None or rng_trips.random() >= _decline(store, problems, index, ndays):
                continue
            plans.append(_order(rng_trips, basket, day, index, store, member, lines))
        if progress is not None:
            progress(index + 1, ndays)
    return plans


def _order(rng, basket: Basket, day: date, index: int, store: StoreInfo, member: MemberInfo | None,
           lines: list | None = None) -> OrderPlan:
    online = member is not None and rng.random() < member.online
    seller = None
    if online:
        channel = "storefront"
        minute = model.minute_of_day(rng, (0, 1440), model.HOURS_ONLINE)
        bound = [s for s in store.sellers if member.guide_id == s.id]
        seller = bound[0] if bound else None
        attach = 0.8
    else:
        channel = "pos"
        minute = model.minute_of_day(rng, model.parse_hours(store.opening, day.weekday()), store.hour_weights)
        bound = [s for s in store.sellers if member is not None and member.guide_id == s.id]
        if bound and rng.random() < 0.7:
            seller = bound[0]
        elif store.sellers:
            seller = rng.choices(store.sellers, weights=[s.skill for s in store.sellers])[0]
        attach = seller.skill if seller is not None else 0.6
    if lines is None:
        lines = basket.draw(rng, day, store, member, attach)
    return OrderPlan(day=index, minute=minute, store=store, member=member, channel=channel, seller=seller,
                     lines=lines)


# --- the entry point ----------------------------------------------------------------------------------------

def _problems(stores: list[StoreInfo]) -> dict:
    """Three different standard stores (not the first: the demo's till store stays healthy) with a problem each."""
    standard = [s for s in stores if s.hour_weights is model.HOURS_STANDARD][1:]
    others = [s for s in stores if s not in standard]
    pool = standard + others[1:]
    if len(pool) < 3:
        return {}
    return {"declining_store": pool[0].id, "stockout_store": pool[1].id, "stockout_days": STOCKOUT_DAYS,
            "returns_store": pool[2].id}


def run_history(ctx: SeedContext, days: int, *, events: bool = False, until: date | None = None,
                progress: Callable[..., None] | None = None) -> HistoryResult:
    """Write `days` days of history up to `until` (default: yesterday) for the enterprise the steps just seeded
    (see the module docstring); counts go to ctx.counts under history_* keys. With `events`, the behaviour events
    are built too (HistoryResult.events, an Arrow table) for the caller to load once the transaction commits."""
    from . import history_post

    result = HistoryResult()
    if days <= 0:
        return result
    last = until or timezone.localdate() - timedelta(days=1)
    if last >= timezone.localdate():
        raise ValueError("the history ends before today")
    result.days = [last - timedelta(days=days - 1 - i) for i in range(days)]
    stores, by_cat, popularity, members, baby = _load(ctx, _stream(ctx, "world"))
    if not stores or not by_cat:
        return result
    result.problems = _problems(stores)
    result.campaigns = _campaigns(result.days, set(by_cat))
    basket = Basket(by_cat, popularity, result.campaigns)
    plans = _plan(ctx, result.days, stores, members, basket, result.problems,
                  (lambda done, total: progress("days", done, total)) if progress else None, baby)
    from .history_diagnosis import plant

    plans = plant(plans, result.days, stores, result.problems, _stream(ctx, "diagnosis"))
    ctx.created["history_members"] = members
    rngs = {name: _stream(ctx, name) for name in ("pay", "returns")}
    with sql.roomy_cache():
        result.counts, plans = history_post.post(
            ctx, result.days, stores, plans, result.campaigns, result.problems, rngs,
            progress=(lambda stage: progress(stage, 0, 0)) if progress else None)
    result.orders = plans
    if events:
        from .history_events import build_events

        result.events = build_events(ctx, result.days, stores, members, plans, _stream(ctx, "events"),
                                     problems=result.problems)
        result.counts["history_events"] = result.events.num_rows
    ctx.counts.update(result.counts)
    ctx.created["history"] = result
    return result
