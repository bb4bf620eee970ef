"""GMV trees: GMV split into factors whose product is GMV exactly, per org node (HQ -> region -> store -> guide) and
per day / week / month, and a period-over-period change split into what each factor contributed.

The Ibis half (`gmv_units`, `gmv_sales`, `gmv_traffic`, `gmv_member_base`) is pure expressions over the warehouse
tables, like `metrics`; `gmv_figures` runs them on a backend and turns the counts into `GmvFigures`, whose factors
are exact fractions (`fractions.Fraction`), so the identities hold exactly and are tested as equalities:

    GMV = traffic x conversion x AOV
        traffic     = storefront visitors + store footfall, counted per store and local day (a visitor seen on
                      two days counts twice): visitors are the distinct people (member, else device) behind the
                      storefront / mini program events of that store and day; footfall is the till's store_visit
                      events (the door counter, plus members the till identified). Where a store-day recorded fewer
                      visitors than it took storefront orders (tracking withdrawn) the orders stand in, and where it
                      recorded no footfall (or less than its till orders) its till orders stand in: every order
                      had a visitor, so traffic >= orders and conversion <= 1 always.
        conversion  = orders / traffic
        AOV         = GMV / orders
    GMV = member GMV + guest GMV
    member GMV = members x active rate x purchase frequency x member AOV
        members     = members whose home store lies under the node and who joined by the period's last day, plus
                      members from elsewhere who bought under the node in the period (so active rate <= 1)
        active rate = buying members / members
        frequency   = member orders / buying members
        member AOV  = member GMV / member orders
    beside the tree: repurchase rate = buying members who bought on two or more days / buying members;
                     referral contribution = GMV of orders that came through a share code (分销) / GMV.

GMV is net sales (fen) of sale orders, net of refunds (`fact_order.net_total`). For a guide, an order is the part
of it the guide sold (their lines' net amount; an order two guides served counts for each), the members are those
bound to the guide plus the guide's other buyers, and traffic is not defined (no visitor belongs to a guide); lines
sold without a guide form one more node (`NO_GUIDE`), so a store's guide nodes add up to its lines' net amounts
(which equal its orders' net totals unless an order paid a different sum than its lines, e.g. rounding at the till).

A factor of 0/0 is 0 (no traffic means no orders, so the product is still GMV). Rounding happens only for display:
money to the fen half up, rates to 0.1 %; the rounded factors' product may differ from the GMV shown by less
than the rounding of its last factor, the exact fractions never do.

The change decomposition (`change_split`) is the Shapley value of the factors: factor i gets the average, over
every order of switching the factors from the earlier period's value to the later one's, of the change in the
product when factor i switches. The contributions add up to the change exactly (the sum telescopes), zeros and
sign changes are fine (unlike LMDI's logarithms), and with exact fractions there is no residual. For display
(`round_fen`) contributions are rounded to the fen by largest remainder, so the shown parts still add up to the
shown change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from itertools import combinations
from math import factorial

import ibis
from ibis import _

from .metrics import in_scope

ONLINE_CHANNELS = ("storefront", "miniprogram")
GRAINS = ("day", "week", "month")
NO_GUIDE = "none"  # the key of a store's lines sold without a guide, so the guides add up to the store
_TRUNC = {"day": "D", "week": "W", "month": "M"}


def _ratio(a: int, b: int) -> Fraction:
    return Fraction(a, b) if b else Fraction(0)


@dataclass(frozen=True)
class GmvFigures:
    """The counts behind one node of a GMV tree (one org node, one guide or one day / week / month)."""

    key: str
    gmv: int = 0
    orders: int = 0
    traffic: int | None = 0  # None: not defined (a guide)
    visitors: int = 0
    footfall: int = 0
    members: int = 0
    active: int = 0
    repeat: int = 0
    member_orders: int = 0
    member_gmv: int = 0
    referral_orders: int = 0
    referral_gmv: int = 0
    label: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def conversion(self) -> Fraction | None:
        return None if self.traffic is None else _ratio(self.orders, self.traffic)

    @property
    def aov(self) -> Fraction:
        return _ratio(self.gmv, self.orders)

    @property
    def guest_gmv(self) -> int:
        return self.gmv - self.member_gmv

    @property
    def guest_orders(self) -> int:
        return self.orders - self.member_orders

    @property
    def active_rate(self) -> Fraction:
        return _ratio(self.active, self.members)

    @property
    def frequency(self) -> Fraction:
        return _ratio(self.member_orders, self.active)

    @property
    def member_aov(self) -> Fraction:
        return _ratio(self.member_gmv, self.member_orders)

    @property
    def repurchase_rate(self) -> Fraction:
        return _ratio(self.repeat, self.active)

    @property
    def referral_share(self) -> Fraction:
        return _ratio(self.referral_gmv, self.gmv)

    def traffic_factors(self) -> list[Fraction] | None:
        """[traffic, conversion, AOV]: their product is GMV exactly."""
        if self.traffic is None:
            return None
        return [Fraction(self.traffic), self.conversion, self.aov]

    def member_factors(self) -> list[Fraction]:
        """[members, active rate, purchase frequency, member AOV]: their product is member GMV exactly."""
        return [Fraction(self.members), self.active_rate, self.frequency, self.member_aov]


def _product(values) -> Fraction:
    result = Fraction(1)
    for value in values:
        result *= value
    return result


def change_split(before: list[Fraction], after: list[Fraction]) -> list[Fraction]:
    """Shapley split of prod(after) - prod(before) into one part per factor; the parts sum to it exactly."""
    n = len(before)
    if len(after) != n:
        raise ValueError("both periods need the same factors")
    parts = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        part = Fraction(0)
        for size in range(n):
            weight = Fraction(factorial(size) * factorial(n - size - 1), factorial(n))
            for switched in combinations(others, size):
                chosen = set(switched)
                base = [after[j] if j in chosen else before[j] for j in range(n)]
                with_i = list(base)
                with_i[i] = after[i]
                part += weight * (_product(with_i) - _product(base))
        parts.append(part)
    return parts


def round_fen(parts: list[Fraction]) -> list[int]:
    """The parts rounded to whole fen so that they add up to their exact sum rounded half up (largest remainder)."""
    total = _half_up(sum(parts, Fraction(0)))
    floors = [p.numerator // p.denominator for p in parts]
    short = total - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(parts[i] - floors[i]), i))
    rounded = list(floors)
    for i in order[:short] if short > 0 else []:
        rounded[i] += 1
    for i in reversed(order[short:]) if short < 0 else []:  # never happens: sum(floors) <= total
        rounded[i] -= 1
    return rounded


def _half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def gmv_change(before: GmvFigures, after: GmvFigures) -> dict:
    """The change in GMV from `before` to `after` split into the factors of both trees (exact fractions):
    {"change", "traffic": [traffic, conversion, aov] or None, "member": [members, active rate, frequency, member
    AOV], "guest": guest GMV change}. traffic parts sum to the change; member parts + guest sum to it too."""
    change = Fraction(after.gmv - before.gmv)
    traffic = None
    if before.traffic is not None and after.traffic is not None:
        traffic = change_split(before.traffic_factors(), after.traffic_factors())
    member = change_split(before.member_factors(), after.member_factors())
    return {"change": change, "traffic": traffic, "member": member,
            "guest": Fraction(after.guest_gmv - before.guest_gmv)}


# --- the Ibis half -------------------------------------------------------------------------------------------------

def group_key(by: str):
    """The key column of a grouping, as a function of a table with org_path and local_date: "total" (one key),
    "children:<path>" (the child of the node with that path each row lies under), "day" / "week" / "month"."""
    if by == "total":
        return lambda t: ibis.literal("total")
    if by.startswith("children:"):
        path = by.split(":", 1)[1]
        if not path.replace("/", "").isdigit():
            raise ValueError(f"not an org path: {path!r}")
        return lambda t: t.org_path.re_extract(f"^{path}([0-9]+)/", 1)
    if by in GRAINS:
        return lambda t: t.local_date.truncate(_TRUNC[by]).cast("string").substr(0, 10)
    raise ValueError(f"unknown grouping {by!r}")


def _dates(table: ibis.Table, since: date, until: date) -> ibis.Table:
    return table.filter((table.local_date >= since) & (table.local_date <= until))


def gmv_units(orders: ibis.Table, *, since: date, until: date, by: str, lines: ibis.Table | None = None
              ) -> ibis.Table:
    """The sales a tree counts, one row per order (or per order and guide, `by="guides"`, from `lines`): key,
    order_id, store_id, local_date, member_id, is_online, is_referred, amount (fen)."""
    sales = _dates(orders.filter(orders.is_sale), since, until)
    referred = sales.share_code.notnull() & (sales.share_code != "")
    if by == "guides":
        if lines is None:
            raise ValueError("guides need the order lines")
        sold = _dates(lines.filter(lines.is_sale), since, until)
        per_guide = (sold.group_by(["order_id", "guide_id"]).aggregate(amount=_.net_amount.sum())
                     .mutate(key=_.guide_id.cast("string").coalesce(NO_GUIDE)))
        heads = sales.select("order_id", "store_id", "local_date", "member_id",
                             is_online=sales.channel != "pos", is_referred=referred)
        joined = per_guide.join(heads, "order_id")
        return joined.select("key", "order_id", "store_id", "local_date", "member_id", "is_online", "is_referred",
                             "amount")
    key = group_key(by)
    return sales.select(key=key(sales), order_id=sales.order_id, store_id=sales.store_id,
                        local_date=sales.local_date, member_id=sales.member_id, is_online=sales.channel != "pos",
                        is_referred=referred, amount=sales.net_total)


def gmv_sales(units: ibis.Table) -> ibis.Table:
    """Per key: gmv, orders, member_gmv, member_orders, active (buying members), repeat (of them, those who bought
    on two or more days), referral_gmv, referral_orders."""
    member = units.member_id.notnull()
    totals = units.group_by("key").aggregate(
        gmv=_.amount.sum(), orders=_.count(), member_gmv=member.ifelse(units.amount, 0).sum(),
        member_orders=member.sum(), active=_.member_id.nunique(),
        referral_gmv=_.is_referred.ifelse(units.amount, 0).sum(), referral_orders=_.is_referred.sum())
    days = (units.filter(member).group_by(["key", "member_id"]).aggregate(days=_.local_date.nunique())
            .group_by("key").aggregate(repeat=(_.days >= 2).sum()))
    joined = totals.left_join(days, "key")
    return joined.select(*[c for c in totals.columns], repeat=joined.repeat.coalesce(0))


def gmv_traffic(units: ibis.Table, events: ibis.Table, *, since: date, until: date, by: str) -> ibis.Table:
    """Per key: traffic, visitors and footfall, counted per store and day (see the module doc)."""
    key = group_key(by)
    seen = _dates(events.filter(events.store_id.notnull()), since, until)
    online = seen.filter(seen.channel.isin(ONLINE_CHANNELS))
    who = online.member_id.cast("string").coalesce("") + ":" + online.anonymous_id.coalesce("")
    visitors = (online.mutate(key=key(online), who=who).group_by(["key", "store_id", "local_date"])
                .aggregate(visitors=_.who.nunique()))
    door = seen.filter((seen.kind == "store_visit") & (seen.channel == "pos"))
    footfall = (door.mutate(key=key(door)).group_by(["key", "store_id", "local_date"])
                .aggregate(footfall=_.count()))
    taken = units.group_by(["key", "store_id", "local_date"]).aggregate(
        online_orders=_.is_online.sum(), store_orders=(~_.is_online).sum())
    zero = ibis.literal(0, "int64")
    cols = ["key", "store_id", "local_date"]
    stacked = ibis.union(
        visitors.select(*cols, visitors=_.visitors.cast("int64"), footfall=zero, online_orders=zero,
                        store_orders=zero),
        footfall.select(*cols, visitors=zero, footfall=_.footfall.cast("int64"), online_orders=zero,
                        store_orders=zero),
        taken.select(*cols, visitors=zero, footfall=zero, online_orders=_.online_orders.cast("int64"),
                     store_orders=_.store_orders.cast("int64")),
        distinct=False)
    per_day = stacked.group_by(cols).aggregate(visitors=_.visitors.sum(), footfall=_.footfall.sum(),
                                               online_orders=_.online_orders.sum(),
                                               store_orders=_.store_orders.sum())
    per_day = per_day.mutate(traffic=ibis.greatest(_.visitors, _.online_orders)
                             + ibis.greatest(_.footfall, _.store_orders))
    return per_day.group_by("key").aggregate(traffic=_.traffic.sum(), visitors=_.visitors.sum(),
                                             footfall=_.footfall.sum())


def gmv_member_base(units: ibis.Table, members: ibis.Table, *, paths: list[str] | None, enterprise_id: int,
                    until: date, by: str) -> ibis.Table:
    """Per key: members = members at home under the key's node who joined by the key's last day (`until`, or the
    day / week / month's last day), plus the key's buyers who are not among them."""
    canonical = members.filter(members.member_id == members.canonical_member_id.coalesce(members.member_id))
    if by == "guides":
        home = canonical.filter(canonical.enterprise_id == enterprise_id).filter(canonical.guide_id.notnull())
        home = home.mutate(key=home.guide_id.cast("string"))
    else:
        home = in_scope(canonical, paths, enterprise_id)
        home = home.mutate(local_date=home.registered_date).mutate(key=group_key("total" if by in GRAINS
                                                                                   else by)(_))
    home = home.filter(home.registered_date <= until)
    buyers = units.filter(units.member_id.notnull()).select("key", "member_id").distinct()
    if by in GRAINS:
        # the home set grows over time: a buyer is inside if at home in scope and joined by the bucket's end
        step = {"day": ibis.interval(days=1), "week": ibis.interval(days=7), "month": ibis.interval(months=1)}[by]
        ends = buyers.mutate(bucket_end=buyers.key.cast("date") + step - ibis.interval(days=1))
        at_home = home.select(home_member=home.member_id, joined=home.registered_date)
        joined = ends.left_join(at_home, ends.member_id == at_home.home_member)
        outside = joined.filter(joined.home_member.isnull() | (joined.joined > joined.bucket_end))
        return outside.group_by("key").aggregate(outsiders=_.count())
    outside = buyers.anti_join(home.select("key", "member_id"), ["key", "member_id"])
    at_home = home.group_by("key").aggregate(at_home=_.count())
    strangers = outside.group_by("key").aggregate(outsiders=_.count())
    joined = at_home.outer_join(strangers, "key")
    return joined.select(key=joined.key.coalesce(joined.key_right) if "key_right" in joined.columns else joined.key,
                         at_home=joined.at_home.coalesce(0), outsiders=joined.outsiders.coalesce(0))


def _member_joins(members: ibis.Table, *, paths, enterprise_id: int, since: date, until: date, by: str) -> ibis.Table:
    """Per day / week / month from `since`'s: members at home in scope who joined in it, and one row keyed
    "before" for those who joined before."""
    canonical = members.filter(members.member_id == members.canonical_member_id.coalesce(members.member_id))
    home = in_scope(canonical, paths, enterprise_id).filter(_.registered_date <= until)
    start = home.registered_date < ibis.literal(since)
    bucket = home.registered_date.truncate(_TRUNC[by]).cast("string").substr(0, 10)
    return (home.mutate(key=start.ifelse(ibis.literal("before"), bucket)).group_by("key")
            .aggregate(joined=_.count()))


def _bucket_start(day: date, by: str) -> date:
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    return day


def gmv_figures(backend, *, enterprise_id: int, paths: list[str] | None, since: date, until: date,
                by: str = "total", store_path: str | None = None) -> dict[str, GmvFigures]:
    """Run the tree's expressions on `backend` (an Ibis backend over the warehouse) for the actor's `paths`:
    {key: GmvFigures}. `by`: "total", "children:<node path>", "guides" (the store at `store_path`), or a grain
    ("day" / "week" / "month": buckets starting at `since`'s, which should be a bucket's first day)."""
    orders = in_scope(backend.table("fact_order"), paths, enterprise_id)
    lines = in_scope(backend.table("fact_order_line"), paths, enterprise_id)
    events = in_scope(backend.table("fact_event"), paths, enterprise_id)
    members = backend.table("dim_member")
    if by == "guides":
        if store_path is None:
            raise ValueError("guides need the store's path")
        orders = orders.filter(orders.org_path.startswith(store_path))
        lines = lines.filter(lines.org_path.startswith(store_path))
    units = gmv_units(orders, since=since, until=until, by=by, lines=lines)
    sales = {r["key"]: r for r in gmv_sales(units).to_pyarrow().to_pylist()}
    traffic = {}
    if by != "guides":
        traffic = {r["key"]: r for r in gmv_traffic(units, events, since=since, until=until, by=by)
                   .to_pyarrow().to_pylist()}
    base = {r["key"]: r for r in gmv_member_base(units, members, paths=paths, enterprise_id=enterprise_id,
                                                 until=until, by=by).to_pyarrow().to_pylist()}
    if by in GRAINS:
        joins = {r["key"]: r["joined"] for r in _member_joins(
            members, paths=paths, enterprise_id=enterprise_id, since=since, until=until, by=by)
            .to_pyarrow().to_pylist()}
        keys, running, start = [], joins.get("before", 0), _bucket_start(since, by)
        while start <= until:
            key = start.isoformat()
            running += joins.get(key, 0)
            keys.append(key)
            base.setdefault(key, {"outsiders": 0})["at_home"] = running
            start = (start + timedelta(days=1 if by == "day" else 7) if by != "month"
                     else (start.replace(day=28) + timedelta(days=4)).replace(day=1))
    else:
        keys = sorted(set(sales) | set(traffic) | set(base), key=lambda k: (k is None, k))
    result = {}
    for key in keys:
        if key is None or key == "":
            continue
        s, t, b = sales.get(key, {}), traffic.get(key, {}), base.get(key, {})
        result[key] = GmvFigures(
            key=key, gmv=int(s.get("gmv") or 0), orders=int(s.get("orders") or 0),
            traffic=None if by == "guides" else int(t.get("traffic") or 0),
            visitors=int(t.get("visitors") or 0), footfall=int(t.get("footfall") or 0),
            members=int(b.get("at_home") or 0) + int(b.get("outsiders") or 0), active=int(s.get("active") or 0),
            repeat=int(s.get("repeat") or 0), member_orders=int(s.get("member_orders") or 0),
            member_gmv=int(s.get("member_gmv") or 0), referral_orders=int(s.get("referral_orders") or 0),
            referral_gmv=int(s.get("referral_gmv") or 0))
    return result


def period_bounds(grain: str, day: date) -> tuple[date, date]:
    """The day / week (Monday to Sunday) / month holding `day`: (first day, last day)."""
    start = _bucket_start(day, grain)
    if grain == "day":
        return start, start
    if grain == "week":
        return start, start + timedelta(days=6)
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, following - timedelta(days=1)


def period_before(grain: str, start: date) -> tuple[date, date]:
    """The period of the same grain just before the one starting at `start`."""
    return period_bounds(grain, start - timedelta(days=1))
