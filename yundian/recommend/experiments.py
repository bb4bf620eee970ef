"""A/B figures of a recommendation slot: the counting (pure Ibis over the warehouse) and the maths (one small
function, checked against hand-worked figures in the tests), as GrowthBook keeps its statistics in one module.

Who counts: a *person* is a canonical member, else a device (anonymous storefront visitor). A person belongs to the
variant of their first impression in the experiment (a visitor who later signs in as a member of another variant
stays where they were first seen), so every person is counted once. Impressions, clicks and cart adds are events
(each counted once: events are unique by their key); *buyers* are persons who placed an order (not cancelled; a
pickup order paid at the store counts when placed) at or after their first impression while the experiment ran,
*orders* those orders. Conversion = buyers / persons.

Lift of a variant against the holdout (or the first variant when there is none) is relative: p_b / p_a − 1, with a
95 % interval by the delta method on the two independent proportions:
    Var(p_b / p_a) ≈ p_b(1 − p_b) / (n_b p_a²) + p_b² p_a(1 − p_a) / (n_a p_a⁴)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import ibis
from ibis import _

from yundian.cdp.computed import canonical_members

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Lift:
    rate_control: float
    rate_variant: float
    lift: float | None        # relative: 0.12 = +12 %
    low: float | None
    high: float | None


def conversion_lift(control_n: int, control_x: int, variant_n: int, variant_x: int, *, z: float = Z95) -> Lift:
    """Relative conversion lift of a variant over the control with its delta-method interval (None when the control
    has no persons or no conversions, as a ratio to zero means nothing)."""
    p_a = control_x / control_n if control_n else 0.0
    p_b = variant_x / variant_n if variant_n else 0.0
    if not control_n or not variant_n or p_a == 0:
        return Lift(p_a, p_b, None, None, None)
    lift = p_b / p_a - 1
    variance = p_b * (1 - p_b) / (variant_n * p_a ** 2) + p_b ** 2 * p_a * (1 - p_a) / (control_n * p_a ** 4)
    half = z * math.sqrt(variance)
    return Lift(p_a, p_b, lift, lift - half, lift + half)


def experiment_counts(rec_events: ibis.Table, orders: ibis.Table, members: ibis.Table, *, enterprise_id: int,
                      experiment_id: int, since: datetime, until: datetime | None = None) -> ibis.Table:
    """Per variant: persons, impressions, clicks, add_to_carts, buyers, orders (see the module's docstring).
    `rec_events` is warehouse_inputs.recommendation_events; `orders` fact_order; `members` dim_member."""
    events = rec_events.filter((rec_events.experiment == experiment_id) & (rec_events.occurred_at >= since))
    if until is not None:
        events = events.filter(events.occurred_at < until)
    views = events.filter(events.kind == "recommendation_view")
    first = views.mutate(_n=ibis.row_number().over(group_by=views.person, order_by=[views.occurred_at,
                                                                                     views.event_key]))
    exposed = first.filter(first._n == 0).select("person", "member_id", "variant", first_seen=first.occurred_at)
    persons = exposed.group_by("variant").aggregate(persons=_.person.count())
    counted = events.group_by("variant").aggregate(
        impressions=(_.kind == "recommendation_view").sum(), clicks=(_.kind == "recommendation_click").sum(),
        add_to_carts=(_.kind == "add_to_cart").sum())
    sales = orders.filter((orders.enterprise_id == enterprise_id) & (orders.status.fill_null("") != "cancelled")
                          & orders.member_id.notnull() & (orders.placed_at >= since))
    if until is not None:
        sales = sales.filter(sales.placed_at < until)
    links = members.filter(members.enterprise_id == enterprise_id).select(link_id=_.member_id,
                                                                          canonical=_.canonical_member_id)
    alive = canonical_members(members, enterprise_id).select(alive_id=_.member_id)
    sales = (sales.join(links, sales.member_id == links.link_id).join(alive, _.canonical == alive.alive_id)
             .select(buyer=_.canonical, order_id=_.order_id, placed_at=_.placed_at))
    bought = exposed.filter(exposed.member_id.notnull()).join(
        sales, (exposed.member_id == sales.buyer) & (sales.placed_at >= exposed.first_seen))
    buying = bought.group_by("variant").aggregate(buyers=_.person.nunique(), orders=_.order_id.nunique())
    out = persons.left_join(counted, "variant").select(persons.variant, "persons", "impressions", "clicks",
                                                       "add_to_carts")
    out = out.left_join(buying, "variant").select(out.variant, "persons", "impressions", "clicks", "add_to_carts",
                                                  "buyers", "orders")
    return out.mutate(impressions=_.impressions.fill_null(0), clicks=_.clicks.fill_null(0),
                      add_to_carts=_.add_to_carts.fill_null(0), buyers=_.buyers.fill_null(0),
                      orders=_.orders.fill_null(0)).order_by("variant")
