"""The condition language of segments and rule tags: a JSON tree, checked by `condition_validate` and evaluated
over the warehouse by `members_matching` as one pure Ibis expression (no SQL text, nothing engine-specific).

A tree is a group or a leaf:

    {"group": "and" | "or", "conditions": [node, ...]}
    {"kind": "<leaf kind>", ...parameters}

Leaves (ids are the OLTP ids the warehouse carries; money is fen; `days` is a window ending today, today
included, or null for all time; `op` is one of >=, >, <=, <, ==, !=):

    tier               {"in": [tier ids]}
    birthday_month     {"in": [1..12]}
    home_store         {"in": [org node ids]}            the member's home store
    guide              {"in": [staff ids]}               the bound guide
    registered_via     {"in": [members.Channel values]}
    gender             {"in": ["f", "m", ""]}            "" is not given
    tag                {"tag_id": id, "has": true|false}
    orders             {"measure": "spent"|"count", "op", "value", "days", "category_ids": [], "sku_ids": [],
                        "channels": []}                  sales net of returns; a category matches its subtree
    event              {"event": EVENT_KINDS value, "did": true|false, "min_times": N >= 1, "days"}
    points             {"op", "value"}                   the points balance
    coupons            {"op", "value", "campaign_ids": []}   coupons held: issued to the member, unused, unexpired
    consent            {"channel": sms|wechat|email|phone_call, "granted": true|false}

Who is counted: canonical members only (not merged into another, not erased) of the enterprise whose home store's
org path lies under one of `paths` (None: the whole enterprise). Facts (orders, events, points) of a member merged
into another count for the survivor, through dim_member.canonical_member_id, as everywhere in the warehouse; a
member's orders count wherever they bought (membership is enterprise-wide), but a member outside `paths` is never
in the answer.

How it is evaluated: each leaf is either a filter on the member's own row (attributes) or a set of member ids it
holds for, possibly negated ("has not", "did not", or a comparison that zero satisfies, such as "spent < 100",
which is everyone except those whose total fails it, so members without any order are in). An AND group filters
the scoped members by its attribute filters and semi-/anti-joins its sets; an OR group is the union of its parts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed

from .warehouse_tables import EVENT_KINDS

OPERATORS = (">=", ">", "<=", "<", "==", "!=")
GROUP_OPS = ("and", "or")
MEASURES = ("spent", "count")
GENDERS = ("f", "m", "")
REGISTRATION_CHANNELS = ("pos", "storefront", "miniprogram", "api", "import", "console")  # members.Channel
ORDER_CHANNELS = ("pos", "storefront", "miniprogram", "api")  # sales channels an order can come through
CONSENT_CHANNELS = ("sms", "wechat", "email", "phone_call")  # members.ConsentChannel, marketing ones
ATTRIBUTE_KINDS = ("tier", "birthday_month", "home_store", "guide", "registered_via", "gender")
KINDS = ATTRIBUTE_KINDS + ("tag", "orders", "event", "points", "coupons", "consent")
MAX_DEPTH = 5
MAX_LEAVES = 40
MAX_LIST = 500
MAX_DAYS = 3660
MAX_VALUE = 10**12


# --- validation ------------------------------------------------------------------------------------------------

def _fail(code: str, message, path: str, **details) -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"path": path, **details})


def _int(value: Any, path: str, *, low: int = 0, high: int = MAX_VALUE) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail("condition_bad_value", _("This value must be a whole number from %(low)s to %(high)s.")
                    % {"low": low, "high": high}, path, low=low, high=high)
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail("condition_bad_value", _("This value must be true or false."), path)
    return value


def _choice(value: Any, choices: tuple, path: str):
    if isinstance(value, bool) or value not in choices:
        raise _fail("condition_bad_value", _("This value is not one of the allowed choices."), path,
                    choices=list(choices))
    return value


def _list(node: dict, key: str, path: str, item, *, required: bool) -> list:
    value = node.get(key, [] if not required else None)
    where = f"{path}.{key}"
    if not isinstance(value, list) or (required and not value):
        raise _fail("condition_bad_list", _("Choose at least one value.") if required
                    else _("This must be a list of values."), where)
    if len(value) > MAX_LIST:
        raise _fail("condition_bad_list", _("Too many values (at most %(max)s).") % {"max": MAX_LIST}, where,
                    max=MAX_LIST)
    return sorted(set(item(v, f"{where}[{i}]") for i, v in enumerate(value)), key=str)


def _days(node: dict, path: str) -> int | None:
    value = node.get("days")
    return None if value is None else _int(value, f"{path}.days", low=1, high=MAX_DAYS)


def _op(node: dict, path: str) -> str:
    return _choice(node.get("op"), OPERATORS, f"{path}.op")


def _id(value, path):
    return _int(value, path, low=1)


def _leaf(node: dict, path: str) -> dict:
    kind = node.get("kind")
    if kind not in KINDS:
        raise _fail("condition_unknown_kind", _("This kind of condition does not exist."), f"{path}.kind",
                    kinds=list(KINDS))
    if kind in ("tier", "home_store", "guide"):
        out = {"in": _list(node, "in", path, _id, required=True)}
    elif kind == "birthday_month":
        out = {"in": _list(node, "in", path, lambda v, p: _int(v, p, low=1, high=12), required=True)}
    elif kind == "registered_via":
        out = {"in": _list(node, "in", path, lambda v, p: _choice(v, REGISTRATION_CHANNELS, p), required=True)}
    elif kind == "gender":
        out = {"in": _list(node, "in", path, lambda v, p: _choice(v, GENDERS, p), required=True)}
    elif kind == "tag":
        out = {"tag_id": _id(node.get("tag_id"), f"{path}.tag_id"), "has": _bool(node.get("has", True), f"{path}.has")}
    elif kind == "orders":
        out = {"measure": _choice(node.get("measure"), MEASURES, f"{path}.measure"), "op": _op(node, path),
               "value": _int(node.get("value"), f"{path}.value"), "days": _days(node, path),
               "category_ids": _list(node, "category_ids", path, _id, required=False),
               "sku_ids": _list(node, "sku_ids", path, _id, required=False),
               "channels": _list(node, "channels", path, lambda v, p: _choice(v, ORDER_CHANNELS, p), required=False)}
    elif kind == "event":
        out = {"event": _choice(node.get("event"), EVENT_KINDS, f"{path}.event"),
               "did": _bool(node.get("did", True), f"{path}.did"),
               "min_times": _int(node.get("min_times", 1), f"{path}.min_times", low=1, high=1_000_000),
               "days": _days(node, path)}
    elif kind == "points":
        out = {"op": _op(node, path), "value": _int(node.get("value"), f"{path}.value")}
    elif kind == "coupons":
        out = {"op": _op(node, path), "value": _int(node.get("value"), f"{path}.value", high=1_000_000),
               "campaign_ids": _list(node, "campaign_ids", path, _id, required=False)}
    else:  # consent
        out = {"channel": _choice(node.get("channel"), CONSENT_CHANNELS, f"{path}.channel"),
               "granted": _bool(node.get("granted", True), f"{path}.granted")}
    return {"kind": kind, **out}


def condition_validate(tree: Any) -> dict:
    """The tree in its normal form (defaults filled, lists sorted and deduplicated, unknown keys dropped), or
    ValidationFailed naming the bad node's path ("$.conditions[1].value") with a code and translated message."""
    leaves = [0]

    def walk(node: Any, path: str, depth: int) -> dict:
        if not isinstance(node, dict):
            raise _fail("condition_not_object", _("A condition must be an object."), path)
        if "group" in node:
            if depth >= MAX_DEPTH:
                raise _fail("condition_too_deep", _("Groups may be nested at most %(max)s deep.")
                            % {"max": MAX_DEPTH}, path, max=MAX_DEPTH)
            op = _choice(node.get("group"), GROUP_OPS, f"{path}.group")
            children = node.get("conditions")
            if not isinstance(children, list) or not children:
                raise _fail("condition_empty_group", _("A group needs at least one condition."), f"{path}.conditions")
            return {"group": op, "conditions": [walk(child, f"{path}.conditions[{i}]", depth + 1)
                                                for i, child in enumerate(children)]}
        leaves[0] += 1
        if leaves[0] > MAX_LEAVES:
            raise _fail("condition_too_many", _("A definition may have at most %(max)s conditions.")
                        % {"max": MAX_LEAVES}, path, max=MAX_LEAVES)
        return _leaf(node, path)

    return walk(tree, "$", 0)


def condition_ids(tree: dict) -> dict[str, set]:
    """The ids a (valid) tree names, by what they are: tiers, stores, guides, tags, categories, skus, campaigns.
    The service checks each belongs to the enterprise; the page shows them by name."""
    out: dict[str, set] = {k: set() for k in ("tier", "store", "staff", "tag", "category", "sku", "campaign")}

    def walk(node: dict) -> None:
        if "group" in node:
            for child in node["conditions"]:
                walk(child)
            return
        kind = node["kind"]
        if kind in ("tier", "home_store", "guide"):
            out[{"tier": "tier", "home_store": "store", "guide": "staff"}[kind]].update(node["in"])
        elif kind == "tag":
            out["tag"].add(node["tag_id"])
        elif kind == "orders":
            out["category"].update(node["category_ids"])
            out["sku"].update(node["sku_ids"])
        elif kind == "coupons":
            out["campaign"].update(node["campaign_ids"])

    walk(tree)
    return out


# --- evaluation ------------------------------------------------------------------------------------------------

def compare(value, op: str, target):
    """`value op target` for an Ibis expression or a Python number (the brute-force tests use the same words)."""
    return {">=": lambda: value >= target, ">": lambda: value > target, "<=": lambda: value <= target,
            "<": lambda: value < target, "==": lambda: value == target, "!=": lambda: value != target}[op]()


@dataclass
class _Set:
    """Members (a table with member_id) a leaf holds for; negated: it holds for everyone else."""

    table: ibis.Table
    negated: bool = False


class _Context:
    def __init__(self, backend, enterprise_id: int, paths: list[str] | None, today: date):
        self.backend = backend
        self.enterprise_id = enterprise_id
        self.today = today
        members = backend.table("dim_member")
        members = members.filter(members.enterprise_id == enterprise_id)
        self.all_members = members
        scoped = members.filter((members.member_id == members.canonical_member_id) & ~members.is_erased.fill_null(False)
                                & (members.status == "active"))
        if paths is not None:
            scoped = scoped.filter(_any(scoped.org_path.startswith(p) for p in paths) if paths else ibis.literal(False))
        self.base = scoped

    def table(self, name: str) -> ibis.Table:
        t = self.backend.table(name)
        return t.filter(t.enterprise_id == self.enterprise_id)

    def window(self, table: ibis.Table, days: int | None, column: str = "local_date") -> ibis.Table:
        if days is None:
            return table.filter(table[column] <= self.today)
        return table.filter((table[column] > self.today - timedelta(days=days)) & (table[column] <= self.today))

    def canonical(self, facts: ibis.Table) -> ibis.Table:
        """Facts with member_id moved to the member's survivor. Only merged members differ from themselves, so the
        join is against those few (a small hash table), not every member: a fact of a member the enterprise does
        not know keeps its id and, never being in the scoped members, counts for nobody."""
        merged = self.all_members.filter(self.all_members.member_id != self.all_members.canonical_member_id)
        merged = merged.select(_m=merged.member_id, _c=merged.canonical_member_id)
        joined = facts.left_join(merged, facts.member_id == merged._m)
        return joined.mutate(member_id=joined._c.fill_null(joined.member_id)).drop("_m", "_c")

    def compared(self, per_member: ibis.Table, op: str, target: int) -> _Set:
        """Members whose figure compares true; a member without rows has 0."""
        if compare(0, op, target):
            failing = per_member.filter(~compare(per_member.value, op, target))
            return _Set(failing.select("member_id"), negated=True)
        return _Set(per_member.filter(compare(per_member.value, op, target)).select("member_id"))


def _any(parts):
    result = None
    for part in parts:
        result = part if result is None else result | part
    return result if result is not None else ibis.literal(False)


def _all(parts):
    result = None
    for part in parts:
        result = part if result is None else result & part
    return result if result is not None else ibis.literal(True)


_ATTRIBUTE_COLUMN = {"tier": "tier_id", "birthday_month": "birth_month", "home_store": "home_id",
                     "guide": "guide_id", "registered_via": "channel", "gender": "gender"}


def _attribute(ctx: _Context, node: dict):
    column = ctx.base[_ATTRIBUTE_COLUMN[node["kind"]]]
    if node["kind"] == "gender":
        column = column.fill_null("")
    return column.isin(node["in"])


def _orders(ctx: _Context, node: dict) -> _Set:
    by_goods = node["category_ids"] or node["sku_ids"]
    if by_goods:
        facts = ctx.table("fact_order_line")
        facts = facts.filter(facts.is_sale & facts.member_id.notnull())
        goods = []
        if node["sku_ids"]:
            goods.append(facts.sku_id.isin(node["sku_ids"]))
        if node["category_ids"]:
            skus = ctx.table("dim_sku")
            skus = skus.filter(_any(skus.category_path.contains(f"/{c}/") for c in node["category_ids"]))
            goods.append(facts.sku_id.isin(skus.sku_id))
        facts = facts.filter(_any(goods))
        amount, order = "net_amount", "order_id"
    else:
        facts = ctx.table("fact_order")
        facts = facts.filter(facts.is_sale & facts.member_id.notnull())
        amount, order = "net_total", "order_id"
    if node["channels"]:
        facts = facts.filter(facts.channel.isin(node["channels"]))
    facts = ctx.canonical(ctx.window(facts, node["days"]).select("member_id", order, amount))
    if node["measure"] == "spent":
        per_member = facts.group_by("member_id").aggregate(value=facts[amount].sum())
    else:
        # an order counts once for its member even when several of its lines match
        per_order = facts.select("member_id", order).distinct()
        per_member = per_order.group_by("member_id").aggregate(value=per_order[order].count())
    return ctx.compared(per_member, node["op"], node["value"])


def _event(ctx: _Context, node: dict) -> _Set:
    from .identity import events_resolved

    events = ctx.table("fact_event")
    events = ctx.window(events.filter(events.kind == node["event"]), node["days"])
    # a signed-in event names its member; only anonymous ones need stitching through the device links (the
    # expensive part of events_resolved), so the two are resolved apart and counted together
    signed = ctx.canonical(events.filter(events.member_id.notnull()).select("member_id"))
    signed = signed.select(person_id=signed.member_id)
    anonymous = events.filter(events.member_id.isnull() & (events.anonymous_id != ""))
    merged = ctx.all_members.filter(ctx.all_members.member_id != ctx.all_members.canonical_member_id)
    stitched = events_resolved(anonymous, ctx.table("identity_link"), merged).select("person_id")
    resolved = signed.union(stitched, distinct=False)
    resolved = resolved.filter(resolved.person_id.notnull())
    per_member = resolved.group_by(member_id=resolved.person_id).aggregate(value=resolved.count())
    did = per_member.filter(per_member.value >= node["min_times"]).select("member_id")
    return _Set(did, negated=not node["did"])


def _points(ctx: _Context, node: dict) -> _Set:
    entries = ctx.canonical(ctx.table("fact_points_entry").select("member_id", "points"))
    per_member = entries.group_by("member_id").aggregate(value=entries.points.sum())
    return ctx.compared(per_member, node["op"], node["value"])


def _coupons(ctx: _Context, node: dict) -> _Set:
    coupons = ctx.table("fact_coupon")
    held = coupons.filter(coupons.member_id.notnull() & (coupons.status == "available")
                          & (coupons.valid_until.isnull() | (coupons.valid_until >= ctx.today)))
    if node["campaign_ids"]:
        held = held.filter(held.campaign_id.isin(node["campaign_ids"]))
    per_member = held.group_by("member_id").aggregate(value=held.coupon_id.count())
    return ctx.compared(per_member, node["op"], node["value"])


def _consent(ctx: _Context, node: dict) -> _Set:
    consents = ctx.table("dim_member_consent")
    granted = consents.filter((consents.channel == node["channel"]) & consents.granted).select("member_id")
    return _Set(granted, negated=not node["granted"])


def _tag(ctx: _Context, node: dict) -> _Set:
    tags = ctx.table("dim_member_tag")
    return _Set(tags.filter(tags.tag_id == node["tag_id"]).select("member_id").distinct(), negated=not node["has"])


_SETS = {"orders": _orders, "event": _event, "points": _points, "coupons": _coupons, "consent": _consent,
         "tag": _tag}


def _compile(ctx: _Context, node: dict):
    """A boolean over the member's row (attribute leaves) or a _Set."""
    if "group" not in node:
        if node["kind"] in ATTRIBUTE_KINDS:
            return _attribute(ctx, node)
        return _SETS[node["kind"]](ctx, node)
    parts = [_compile(ctx, child) for child in node["conditions"]]
    filters = [p for p in parts if not isinstance(p, _Set)]
    sets = [p for p in parts if isinstance(p, _Set)]
    if node["group"] == "and":
        members = ctx.base.filter(_all(filters)) if filters else ctx.base
        for part in sets:
            members = (members.anti_join(part.table, "member_id") if part.negated
                       else members.semi_join(part.table, "member_id"))
        return _Set(members.select("member_id"))
    pieces = []
    if filters:
        pieces.append(ctx.base.filter(_any(filters)).select("member_id"))
    for part in sets:
        joined = (ctx.base.anti_join(part.table, "member_id") if part.negated
                  else ctx.base.semi_join(part.table, "member_id"))
        pieces.append(joined.select("member_id"))
    return _Set(ibis.union(*pieces, distinct=True) if len(pieces) > 1 else pieces[0])


def members_matching(backend, tree: dict, *, enterprise_id: int, paths: list[str] | None, today: date) -> ibis.Table:
    """The canonical members of the enterprise in `paths` for whom the (validated) tree holds: one column,
    member_id. `backend` is any Ibis backend over the warehouse tables (DuckDB, Spark, ...)."""
    ctx = _Context(backend, enterprise_id, paths, today)
    result = _compile(ctx, tree)
    if not isinstance(result, _Set):  # a single attribute leaf
        return ctx.base.filter(result).select("member_id")
    if result.negated:
        return ctx.base.anti_join(result.table, "member_id").select("member_id")
    return ctx.base.semi_join(result.table, "member_id").select("member_id")


def count_matching(backend, tree: dict, *, enterprise_id: int, paths: list[str] | None, today: date) -> int:
    """How many members `members_matching` gives."""
    table = members_matching(backend, tree, enterprise_id=enterprise_id, paths=paths, today=today)
    return int(backend.execute(table.count()))
