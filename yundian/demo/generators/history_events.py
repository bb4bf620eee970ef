"""Behaviour events for the seeded history, consistent with its orders, as one Arrow table for the warehouse.

- every storefront order has the session that led to it: a page view, maybe a search, product views (its own
  products and a few others), an add-to-cart per line; the shopper browses anonymously on their device and is
  identified when they sign in to check out (member_id from the add-to-cart on), so stitching has work to do;
- many more sessions end without an order: anonymous visitors and members browsing, some adding to the cart and
  taking things out again, a few sharing a product or looking at a coupon: views >> carts >> orders;
- every member's till purchase starts with a store visit (channel pos, the order and its amount attached), and
  the door counter records everyone else who came in (anonymous store visits: a store converts 22-35 % of its
  visitors), so store traffic x conversion x basket adds up to the till's sales.

Columns and types are the warehouse's bulk-ingest contract (yundian.cdp.ingest.events_load_bulk). Times are
UTC-naive; received_at is a moment after occurred_at (a mini-program sometimes sends hours later).
"""
import json
import random
from datetime import UTC, datetime, timedelta

from . import history_model as model

SESSIONS_PER_ORDER = 12  # storefront sessions without an order, per storefront order (about 8 % convert)
ANONYMOUS_SHARE = 0.7
SEARCHES = ["T恤", "牛仔裤", "跑鞋", "羽绒服", "保温杯", "四件套", "收纳箱", "拖把", "苹果", "排骨", "虾", "帆布鞋",
            "连衣裙", "毛巾", "洗衣凝珠"]


def schema():
    import pyarrow as pa

    return pa.schema([
        ("enterprise_id", pa.int64()), ("event_key", pa.string()), ("kind", pa.string()), ("name", pa.string()),
        ("occurred_at", pa.timestamp("us")), ("received_at", pa.timestamp("us")), ("anonymous_id", pa.string()),
        ("member_id", pa.int64()), ("store_id", pa.int64()), ("channel", pa.string()), ("sku_id", pa.int64()),
        ("order_id", pa.int64()), ("amount", pa.int64()), ("properties", pa.string()),
    ])


class _Rows:
    def __init__(self, enterprise_id: int, seed: int, now, rng: random.Random):
        self.columns = {name: [] for name in schema().names}
        self.enterprise_id, self.seed, self.now, self.rng = enterprise_id, seed, now, rng

    def add(self, kind, at, *, device="", member=None, store=None, channel="storefront", sku=None, order=None,
            amount=None, properties=None):
        c = self.columns
        lag = timedelta(seconds=self.rng.uniform(0.2, 3.0))
        if channel == "miniprogram" and self.rng.random() < 0.02:
            lag += timedelta(hours=self.rng.uniform(1, 8))  # sent when the phone was back online
        c["enterprise_id"].append(self.enterprise_id)
        c["event_key"].append(f"h:{self.seed}:{len(c['event_key'])}")
        c["kind"].append(kind)
        c["name"].append("")
        c["occurred_at"].append(at)
        c["received_at"].append(min(at + lag, self.now))
        c["anonymous_id"].append(device)
        c["member_id"].append(member)
        c["store_id"].append(store)
        c["channel"].append(channel)
        c["sku_id"].append(sku)
        c["order_id"].append(order)
        c["amount"].append(amount)
        c["properties"].append(properties if isinstance(properties, str) else
                               json.dumps(properties, ensure_ascii=False, separators=(",", ":")) if properties else "{}")


def _devices(member, seed: int) -> list[str]:
    return [f"d-{seed}-{member.id}-{k}" for k in range(1 + member.id % 2)]


def _session(rows: _Rows, rng, start, store, skus, *, device, member, channel, buy=None):
    """One storefront visit from `start`; `buy` (lines) when it ends in the order `order`. Returns its end."""
    t = start
    step = lambda: timedelta(seconds=rng.randint(8, 90))  # noqa: E731
    signed_in = None
    rows.add("page_view", t, device=device, store=store.id, channel=channel, properties=f'{{"path":"/s/{store.slug}/"}}')
    if rng.random() < 0.35:
        t += step()
        rows.add("search", t, device=device, store=store.id, channel=channel,
                 properties={"q": rng.choice(SEARCHES)})
    looked = [rng.choice(skus) for _n in range(rng.choice((1, 1, 2, 3, 4, 6)))]
    for sku in looked:
        t += step()
        rows.add("product_view", t, device=device, store=store.id, channel=channel, sku=sku.id,
                 properties=f'{{"product_id":{sku.product_id}}}')
    if rng.random() < 0.05:
        t += step()
        rows.add("coupon_view", t, device=device, store=store.id, channel=channel, properties={"campaign": "NEW20"})
    if rng.random() < 0.03:
        t += step()
        rows.add("share", t, device=device, store=store.id, channel=channel, sku=looked[0].id,
                 properties={"product_id": looked[0].product_id, "to": rng.choice(["wechat", "moments", "link"])})
    if buy is not None:
        signed_in = member
        for line in buy:
            t += step()
            rows.add("product_view", t, device=device, member=signed_in, store=store.id, channel=channel,
                     sku=line.sku.id, properties=f'{{"product_id":{line.sku.product_id}}}')
            t += step()
            rows.add("add_to_cart", t, device=device, member=signed_in, store=store.id, channel=channel,
                     sku=line.sku.id, properties=f'{{"quantity":{line.quantity}}}')
    elif rng.random() < 0.12:
        carted = looked[: rng.randint(1, len(looked))]
        for sku in carted:
            t += step()
            rows.add("add_to_cart", t, device=device, member=member, store=store.id, channel=channel, sku=sku.id,
                     properties='{"quantity":1}')
        if rng.random() < 0.3:
            t += step()
            rows.add("remove_from_cart", t, device=device, member=member, store=store.id, channel=channel,
                     sku=carted[-1].id, properties='{"quantity":1}')
    return t


def build_events(ctx, days, stores, members, plans, rng: random.Random, problems: dict | None = None):
    """The history's behaviour events as a pyarrow.Table (see the module docstring). `problems`: the planted
    problems (a store whose walk-ins stopped buying keeps its door count)."""
    problems = problems or {}
    import pyarrow as pa

    from .history_post import Clock

    clock = Clock(days)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = _Rows(ctx.enterprise.pk, ctx.seed, now, rng)
    seen: dict[int, dict] = {store.id: {} for store in stores}
    for plan in plans:
        for line in plan.lines:
            seen[plan.store.id].setdefault(line.sku.id, line.sku)
    skus_of = {store_id: [skus[k] for k in sorted(skus)] for store_id, skus in seen.items()}
    online_orders = 0
    for plan in plans:
        member = plan.member
        if plan.channel == "storefront" and member is not None:
            online_orders += 1
            devices = _devices(member, ctx.seed)
            channel = "miniprogram" if member.channel == "miniprogram" else "storefront"
            start = plan.placed - timedelta(minutes=rng.randint(5, 40))
            _session(rows, rng, start, plan.store, skus_of[plan.store.id] or [l.sku for l in plan.lines],
                     device=rng.choice(devices), member=member.id, channel=channel, buy=plan.lines)
        elif member is not None:
            rows.add("store_visit", plan.placed - timedelta(minutes=rng.randint(3, 30)), member=member.id,
                     store=plan.store.id, channel="pos", order=plan.id, amount=plan.total,
                     properties={"source": "member_identified"})
    # the door counter: everyone who came into a store, less the members the till already knows
    conversion = {store.id: rng.uniform(0.22, 0.35) for store in stores}
    till: dict[tuple[int, int], list[int]] = {}
    for plan in plans:
        if plan.channel == "pos":
            counted = till.setdefault((plan.store.id, plan.day), [0, 0])
            counted[0] += 1
            counted[1] += plan.member is not None
    by_id = {store.id: store for store in stores}
    for (store_id, index), (orders, known) in sorted(till.items()):
        store = by_id[store_id]
        opening = model.parse_hours(store.opening, days[index].weekday())
        rate = conversion[store_id]
        if store_id == problems.get("conversion_store") and index >= problems.get("conversion_first_day", 0):
            rate *= problems["conversion_keep"]  # as many came in as before; fewer bought
        visitors = max(orders, model.poisson(rng, orders / rate))
        for _n in range(visitors - known):
            rows.add("store_visit", clock.at(index, model.minute_of_day(rng, opening, store.hour_weights),
                                             rng.randrange(60)),
                     store=store_id, channel="pos", properties='{"source":"door_counter"}')
    # sessions without an order, spread over the days by traffic and over the waking hours
    browsing = [m for m in members if m.online > 0.2] or members
    weights = [model.day_factor(d) for d in days]
    total = sum(weights)
    sessions = SESSIONS_PER_ORDER * max(online_orders, len(days))
    for index, weight in enumerate(weights):
        for _n in range(model.poisson(rng, sessions * weight / total)):
            store = rng.choice(stores)
            skus = skus_of[store.id]
            if not skus:
                continue
            start = clock.at(index, model.minute_of_day(rng, (0, 1440), model.HOURS_ONLINE), rng.randrange(60))
            if rng.random() < ANONYMOUS_SHARE or not browsing:
                device, member_id, channel = f"a-{ctx.seed}-{rng.randrange(10**9)}", None, "storefront"
            else:
                member = rng.choice(browsing)
                device = rng.choice(_devices(member, ctx.seed))
                member_id = member.id if rng.random() < 0.5 else None  # signed in, or browsing on a known device
                channel = "miniprogram" if member.channel == "miniprogram" else "storefront"
            _session(rows, rng, start, store, skus, device=device, member=member_id, channel=channel)
    columns = rows.columns
    order = sorted(range(len(columns["event_key"])), key=lambda i: columns["occurred_at"][i])
    keys = [f"h:{ctx.seed}:{n}" for n in range(len(order))]
    data = {name: [values[i] for i in order] for name, values in columns.items()}
    data["event_key"] = keys
    return pa.table(data, schema=schema())
