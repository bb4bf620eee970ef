"""What the recommendation models learn from, as pure functions from warehouse tables to Ibis expressions (no SQL
strings, no engine-specific calls), like `analytics.metrics` and `cdp.conditions`: the training task, the evaluation
command, the browse-abandon rescue, the A/B figures and the bench run the same expressions on DuckDB or Spark.

Members are canonical (merges followed, erased members left out, as in `cdp.computed`); behaviour events are
attributed to a person through `cdp.identity.events_resolved` (anonymous browsing stitched to the member who signed
in on the device). A *purchase* is an order line of a sale with a positive net quantity.
"""
from __future__ import annotations

from datetime import date, datetime

import ibis
from ibis import _

from yundian.cdp.computed import canonical_members
from yundian.cdp.identity import events_resolved

# what an interaction says about a member's taste, as a weight for the collaborative model (purchases count most)
KIND_WEIGHTS = {"purchase": 4.0, "add_to_cart": 2.0, "product_view": 1.0}
RECOMMENDATION_EVENTS = ("recommendation_view", "recommendation_click")


def purchases(lines: ibis.Table, members: ibis.Table, *, enterprise_id: int, since: date | None = None,
              until: date | None = None) -> ibis.Table:
    """One row per purchased order line of a canonical member: member_id, order_id, store_id, product_id,
    category_id, sku_id, placed_at, local_date, net_quantity, unit_price (fen)."""
    sold = lines.filter((lines.enterprise_id == enterprise_id) & lines.is_sale & (lines.net_quantity > 0)
                        & lines.member_id.notnull() & lines.product_id.notnull())
    if since is not None:
        sold = sold.filter(sold.local_date >= since)
    if until is not None:
        sold = sold.filter(sold.local_date <= until)
    links = members.filter(members.enterprise_id == enterprise_id).select(
        link_id=_.member_id, canonical=_.canonical_member_id)
    alive = canonical_members(members, enterprise_id).select(alive_id=_.member_id)
    joined = sold.join(links, sold.member_id == links.link_id).join(alive, _.canonical == alive.alive_id)
    return joined.select(member_id=_.canonical, order_id=_.order_id, store_id=_.store_id, product_id=_.product_id,
                         category_id=_.category_id, sku_id=_.sku_id, placed_at=_.placed_at, local_date=_.local_date,
                         net_quantity=_.net_quantity, unit_price=_.unit_price)


def behaviour(events: ibis.Table, links: ibis.Table, members: ibis.Table, *, enterprise_id: int,
              since: datetime | None = None, until: datetime | None = None,
              kinds: tuple[str, ...] = ("product_view", "add_to_cart")) -> ibis.Table:
    """Product views and cart adds attributed to a canonical member: member_id, kind, product_id, category_id,
    store_id, occurred_at."""
    own = events.filter((events.enterprise_id == enterprise_id) & events.kind.isin(kinds)
                        & events.product_id.notnull())
    if since is not None:
        own = own.filter(own.occurred_at >= since)
    if until is not None:
        own = own.filter(own.occurred_at < until)
    resolved = events_resolved(own, links.filter(links.enterprise_id == enterprise_id), members)
    alive = canonical_members(members, enterprise_id).select(alive_id=_.member_id)
    resolved = resolved.filter(resolved.person_id.notnull()).join(alive, _.person_id == alive.alive_id)
    return resolved.select(member_id=_.person_id, kind=_.kind, product_id=_.product_id, category_id=_.category_id,
                           store_id=_.store_id, occurred_at=_.occurred_at)


def interactions(bought: ibis.Table, seen: ibis.Table) -> ibis.Table:
    """Per (member, product): the summed weight of purchases (per order), cart adds and views (KIND_WEIGHTS)."""
    bought_w = bought.select("member_id", "product_id", weight=ibis.literal(KIND_WEIGHTS["purchase"]))
    weight = ibis.cases(*((seen.kind == kind, value) for kind, value in KIND_WEIGHTS.items() if kind != "purchase"),
                        else_=0.0)
    seen_w = seen.select("member_id", "product_id", weight=weight)
    both = bought_w.union(seen_w)
    return both.group_by(["member_id", "product_id"]).aggregate(weight=_.weight.sum())


def baskets(bought: ibis.Table) -> ibis.Table:
    """The distinct products of each order, with its member, store and time: order_id, member_id, store_id,
    product_id, category_id, placed_at, local_date, unit_price (the highest paid for the product in it)."""
    return bought.group_by(["order_id", "member_id", "store_id", "product_id", "category_id"]).aggregate(
        placed_at=_.placed_at.min(), local_date=_.local_date.min(), unit_price=_.unit_price.max())


def products(skus: ibis.Table, *, enterprise_id: int) -> ibis.Table:
    """The enterprise's active products: product_id, category_id, product_name, price (the lowest base price of its
    active SKUs, fen)."""
    active = skus.filter((skus.enterprise_id == enterprise_id) & skus.is_active.fill_null(True))
    return active.group_by(["product_id", "category_id"]).aggregate(
        product_name=_.product_name.min(), price=_.base_price.min())


def browse_abandoners(events: ibis.Table, links: ibis.Table, members: ibis.Table, lines: ibis.Table, *,
                      enterprise_id: int, since: datetime, until: datetime, min_products: int = 2) -> ibis.Table:
    """Members who viewed at least `min_products` distinct products of one category in [since, until) and bought
    nothing of that category from their first such view on: member_id, category_id, products (distinct viewed),
    first_seen, last_seen."""
    seen = behaviour(events, links, members, enterprise_id=enterprise_id, since=since, until=until,
                     kinds=("product_view",))
    per = seen.group_by(["member_id", "category_id"]).aggregate(
        products=_.product_id.nunique(), first_seen=_.occurred_at.min(), last_seen=_.occurred_at.max())
    per = per.filter(per.products >= min_products)
    bought = purchases(lines, members, enterprise_id=enterprise_id).select(
        b_member=_.member_id, b_category=_.category_id, b_at=_.placed_at)
    joined = per.left_join(bought, (per.member_id == bought.b_member) & (per.category_id == bought.b_category)
                           & (bought.b_at >= per.first_seen))
    out = joined.group_by(["member_id", "category_id", "products", "first_seen", "last_seen"]).aggregate(
        bought=_.b_at.count())
    return out.filter(out.bought == 0).drop("bought")


def viewed_products(events: ibis.Table, links: ibis.Table, members: ibis.Table, *, enterprise_id: int,
                    since: datetime, until: datetime) -> ibis.Table:
    """Each (member, product) viewed in [since, until), with when last: member_id, product_id, category_id,
    last_seen."""
    seen = behaviour(events, links, members, enterprise_id=enterprise_id, since=since, until=until,
                     kinds=("product_view",))
    return seen.group_by(["member_id", "product_id", "category_id"]).aggregate(last_seen=_.occurred_at.max())


def recommendation_events(events: ibis.Table, links: ibis.Table, members: ibis.Table, *, enterprise_id: int,
                          since: datetime | None = None) -> ibis.Table:
    """The storefront's and till's recommendation impressions and clicks and the cart adds made from a
    recommendation block, each with its person (canonical member, else the device): event_key, kind, person,
    member_id, occurred_at and the experiment, slot and variant the page put in the event's properties."""
    own = events.filter((events.enterprise_id == enterprise_id)
                        & (events.kind.isin(RECOMMENDATION_EVENTS)
                           | ((events.kind == "add_to_cart") & events.properties.contains('"rec_slot"'))))
    if since is not None:
        own = own.filter(own.occurred_at >= since)
    resolved = events_resolved(own, links.filter(links.enterprise_id == enterprise_id), members)
    props = resolved.properties.cast("json")
    person = ibis.ifelse(resolved.person_id.notnull(), "m" + resolved.person_id.cast("string"),
                         "d" + resolved.anonymous_id.fill_null(""))
    return resolved.select(
        event_key=resolved.event_key, kind=resolved.kind, person=person, member_id=resolved.person_id,
        occurred_at=resolved.occurred_at,
        experiment=props["rec_experiment"].str.cast("int64"), slot=props["rec_slot"].str,
        variant=props["rec_variant"].str)
