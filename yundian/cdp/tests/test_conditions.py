"""The condition language against a brute-force evaluation in Python over the same generated warehouse rows: each
leaf alone, AND/OR groups, did / did not, windows, merges and anonymous events stitched to members, scoping.
Only the DuckDB warehouse is exercised (no OLTP database), so these run once."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yundian.cdp.conditions import compare, condition_validate, count_matching, members_matching
from yundian.core.errors import ValidationFailed
from yundian.core.warehouse import schema_ensure, tables

pytestmark = pytest.mark.once

E = 1
OTHER = 2
TODAY = date(2026, 6, 30)
PATHS = ["/1/2/3/", "/1/2/4/", "/1/5/6/"]  # two stores of region 2, one of region 5
CATEGORY_PATHS = {10: "/10/", 11: "/10/11/", 12: "/12/"}
SKUS = {100: 11, 101: 11, 102: 12, 103: 10}  # sku -> category


def _day(back: int) -> date:
    return TODAY - timedelta(days=back)


ops = st.sampled_from([">=", ">", "<=", "<", "==", "!="])
windows = st.one_of(st.none(), st.sampled_from([1, 7, 30, 90]))


@st.composite
def worlds(draw):
    n = draw(st.integers(min_value=3, max_value=12))
    members = []
    for member_id in range(1, n + 1):
        merged_into = draw(st.one_of(st.none(), st.integers(1, member_id - 1))) if member_id > 1 and draw(
            st.integers(0, 4)) == 0 else None
        members.append({
            "member_id": member_id, "enterprise_id": E if member_id != n or n < 5 else OTHER,
            "org_path": draw(st.sampled_from(PATHS)), "home_id": None,
            "canonical": merged_into, "status": "merged" if merged_into else draw(
                st.sampled_from(["active"] * 6 + ["erased"])),
            "tier_id": draw(st.sampled_from([None, 1, 2])), "guide_id": draw(st.sampled_from([None, 7, 8])),
            "gender": draw(st.sampled_from(["f", "m", "", None])), "birth_month": draw(st.sampled_from([None, 1, 6])),
            "channel": draw(st.sampled_from(["pos", "storefront", "import"])),
        })
    for m in members:
        m["home_id"] = int(m["org_path"].strip("/").split("/")[-1])
    # canonical: follow merge chains to the survivor (what the sync writes)
    by_id = {m["member_id"]: m for m in members}
    for m in members:
        target = m["member_id"]
        while by_id[target]["canonical"]:
            target = by_id[target]["canonical"]
        m["canonical_member_id"] = target
        m["is_erased"] = m["status"] == "erased"
    ids = st.integers(1, n + 1)  # n + 1: a member the warehouse does not know
    orders, lines = [], []
    for order_id in range(1, draw(st.integers(0, 14)) + 1):
        member = draw(st.one_of(st.none(), ids))
        channel = draw(st.sampled_from(["pos", "storefront"]))
        day = _day(draw(st.sampled_from([-1, 0, 1, 6, 7, 29, 30, 89, 90, 400])))
        sale = draw(st.booleans()) or draw(st.booleans())
        enterprise = E if draw(st.integers(0, 5)) else OTHER
        order_lines = draw(st.lists(st.tuples(st.sampled_from(sorted(SKUS)), st.integers(0, 5000)), min_size=1,
                                    max_size=3))
        for line_no, (sku, amount) in enumerate(order_lines, 1):
            lines.append({"line_id": order_id * 10 + line_no, "order_id": order_id, "enterprise_id": enterprise,
                          "member_id": member, "channel": channel, "local_date": day, "is_sale": sale,
                          "sku_id": sku, "category_id": SKUS[sku], "net_amount": amount})
        orders.append({"order_id": order_id, "enterprise_id": enterprise, "member_id": member, "channel": channel,
                       "local_date": day, "is_sale": sale, "net_total": sum(a for _s, a in order_lines)})
    events = []
    links = []
    devices = ["d1", "d2", "d3"]
    for device in devices:
        for k in range(draw(st.integers(0, 2))):
            links.append({"enterprise_id": E, "anonymous_id": device, "member_id": draw(ids),
                          "linked_at": datetime(2026, 6, 1 + 10 * k, 12, draw(st.integers(0, 59)))})
    for k in range(draw(st.integers(0, 16))):
        day = _day(draw(st.sampled_from([0, 3, 6, 7, 29, 30, 200])))
        signed_in = draw(st.booleans())
        events.append({"enterprise_id": E if draw(st.integers(0, 7)) else OTHER, "event_key": f"e{k}",
                       "kind": draw(st.sampled_from(["add_to_cart", "product_view"])),
                       "occurred_at": datetime(day.year, day.month, day.day, 10), "local_date": day,
                       "anonymous_id": "" if signed_in else draw(st.sampled_from(devices)),
                       "member_id": draw(ids) if signed_in else None})
    points = [{"entry_id": k, "enterprise_id": E, "member_id": draw(ids), "points": draw(st.integers(-50, 300))}
              for k in range(draw(st.integers(0, 10)))]
    coupons = [{"coupon_id": k, "enterprise_id": E if draw(st.integers(0, 5)) else OTHER, "member_id": draw(ids),
                "campaign_id": draw(st.sampled_from([1, 2])),
                "status": draw(st.sampled_from(["available", "available", "redeemed", "void"])),
                "valid_until": draw(st.sampled_from([None, _day(1), TODAY, _day(-30)]))}
               for k in range(draw(st.integers(0, 10)))]
    consents = {}
    for _k in range(draw(st.integers(0, 10))):
        member, channel = draw(ids), draw(st.sampled_from(["sms", "wechat"]))
        consents[(member, channel)] = {"member_id": member, "enterprise_id": E, "channel": channel,
                                       "granted": draw(st.booleans())}
    tags = {(m, t): {"enterprise_id": E, "member_id": m, "tag_id": t, "since": datetime(2026, 1, 1)}
            for m, t in draw(st.lists(st.tuples(ids, st.sampled_from([1, 2])), max_size=10))}
    return {"members": members, "orders": orders, "lines": lines, "events": events, "links": links,
            "points": points, "coupons": coupons, "consents": list(consents.values()), "tags": list(tags.values())}


def leaves():
    return st.one_of(
        st.builds(lambda v: {"kind": "tier", "in": v}, st.lists(st.sampled_from([1, 2]), min_size=1)),
        st.builds(lambda v: {"kind": "birthday_month", "in": v}, st.lists(st.sampled_from([1, 6, 12]), min_size=1)),
        st.builds(lambda v: {"kind": "home_store", "in": v}, st.lists(st.sampled_from([3, 4, 6]), min_size=1)),
        st.builds(lambda v: {"kind": "guide", "in": v}, st.lists(st.sampled_from([7, 8]), min_size=1)),
        st.builds(lambda v: {"kind": "registered_via", "in": v},
                  st.lists(st.sampled_from(["pos", "storefront", "import"]), min_size=1)),
        st.builds(lambda v: {"kind": "gender", "in": v}, st.lists(st.sampled_from(["f", "m", ""]), min_size=1)),
        st.builds(lambda t, h: {"kind": "tag", "tag_id": t, "has": h}, st.sampled_from([1, 2]), st.booleans()),
        st.builds(lambda m, o, v, d, c, s, ch: {"kind": "orders", "measure": m, "op": o, "value": v, "days": d,
                                                "category_ids": c, "sku_ids": s, "channels": ch},
                  st.sampled_from(["spent", "count"]), ops, st.sampled_from([0, 1, 2, 3000]), windows,
                  st.lists(st.sampled_from([10, 11, 12]), max_size=2), st.lists(st.sampled_from([100, 102]), max_size=1),
                  st.lists(st.sampled_from(["pos", "storefront"]), max_size=1)),
        st.builds(lambda e, did, n, d: {"kind": "event", "event": e, "did": did, "min_times": n, "days": d},
                  st.sampled_from(["add_to_cart", "product_view"]), st.booleans(), st.integers(1, 3), windows),
        st.builds(lambda o, v: {"kind": "points", "op": o, "value": v}, ops, st.sampled_from([0, 50, 200])),
        st.builds(lambda o, v, c: {"kind": "coupons", "op": o, "value": v, "campaign_ids": c}, ops,
                  st.integers(0, 2), st.lists(st.sampled_from([1, 2]), max_size=1)),
        st.builds(lambda c, g: {"kind": "consent", "channel": c, "granted": g}, st.sampled_from(["sms", "wechat"]),
                  st.booleans()),
    )


trees = st.recursive(leaves(), lambda children: st.builds(
    lambda op, cs: {"group": op, "conditions": cs}, st.sampled_from(["and", "or"]),
    st.lists(children, min_size=1, max_size=3)), max_leaves=5)


# --- the brute force ------------------------------------------------------------------------------------------

def _window(day: date, days: int | None) -> bool:
    return day <= TODAY and (days is None or day > TODAY - timedelta(days=days))


def _person(world, event) -> int | None:
    members = {m["member_id"]: m for m in world["members"] if m["enterprise_id"] == event["enterprise_id"]}
    who = event["member_id"]
    if who is None and event["anonymous_id"]:
        candidates = [link for link in world["links"] if link["enterprise_id"] == event["enterprise_id"]
                      and link["anonymous_id"] == event["anonymous_id"]]
        before = [c for c in candidates if c["linked_at"] <= event["occurred_at"]]
        if before:
            who = min(before, key=lambda c: (-c["linked_at"].timestamp(), c["member_id"]))["member_id"]
        elif candidates:
            who = min(candidates, key=lambda c: (c["linked_at"], c["member_id"]))["member_id"]
    if who is None:
        return None
    return members[who]["canonical_member_id"] if who in members else who


def brute(world, node, member, paths) -> bool:
    if "group" in node:
        results = [brute(world, child, member, paths) for child in node["conditions"]]
        return all(results) if node["group"] == "and" else any(results)
    kind = node["kind"]
    canonical = {m["member_id"]: m["canonical_member_id"] for m in world["members"] if m["enterprise_id"] == E}
    me = member["member_id"]
    if kind == "tier":
        return member["tier_id"] in node["in"]
    if kind == "birthday_month":
        return member["birth_month"] in node["in"]
    if kind == "home_store":
        return member["home_id"] in node["in"]
    if kind == "guide":
        return member["guide_id"] in node["in"]
    if kind == "registered_via":
        return member["channel"] in node["in"]
    if kind == "gender":
        return (member["gender"] or "") in node["in"]
    if kind == "tag":
        has = any(t["member_id"] == me and t["tag_id"] == node["tag_id"] and t["enterprise_id"] == E
                  for t in world["tags"])
        return has == node["has"]
    if kind == "orders":
        by_goods = node["category_ids"] or node["sku_ids"]
        facts = world["lines"] if by_goods else world["orders"]
        mine = [f for f in facts if f["enterprise_id"] == E and f["is_sale"] and f["member_id"] is not None
                and canonical.get(f["member_id"]) == me and _window(f["local_date"], node["days"])
                and (not node["channels"] or f["channel"] in node["channels"])]
        if by_goods:
            mine = [f for f in mine if f["sku_id"] in node["sku_ids"] or any(
                f"/{c}/" in CATEGORY_PATHS[SKUS[f["sku_id"]]] for c in node["category_ids"])]
        value = (sum(f["net_amount" if by_goods else "net_total"] for f in mine) if node["measure"] == "spent"
                 else len({f["order_id"] for f in mine}))
        return compare(value, node["op"], node["value"])
    if kind == "event":
        times = sum(1 for e in world["events"] if e["enterprise_id"] == E and e["kind"] == node["event"]
                    and _window(e["local_date"], node["days"]) and _person(world, e) == me)
        return (times >= node["min_times"]) == node["did"]
    if kind == "points":
        value = sum(p["points"] for p in world["points"] if p["enterprise_id"] == E
                    and canonical.get(p["member_id"]) == me)
        return compare(value, node["op"], node["value"])
    if kind == "coupons":
        value = sum(1 for c in world["coupons"] if c["enterprise_id"] == E and c["member_id"] == me
                    and c["status"] == "available" and (c["valid_until"] is None or c["valid_until"] >= TODAY)
                    and (not node["campaign_ids"] or c["campaign_id"] in node["campaign_ids"]))
        return compare(value, node["op"], node["value"])
    assert kind == "consent"
    granted = any(c["member_id"] == me and c["channel"] == node["channel"] and c["granted"]
                  for c in world["consents"] if c["enterprise_id"] == E)
    return granted == node["granted"]


def brute_members(world, tree, paths) -> set[int]:
    base = [m for m in world["members"] if m["enterprise_id"] == E and m["member_id"] == m["canonical_member_id"]
            and m["status"] == "active" and (paths is None or any(m["org_path"].startswith(p) for p in paths))]
    return {m["member_id"] for m in base if brute(world, tree, m, paths)}


# --- the warehouse ----------------------------------------------------------------------------------------------

def _load(con, name: str, rows: list[dict]) -> None:
    spec = tables()[name]
    columns = {column: [row.get(column) for row in rows] for column in spec.columns} if rows else {}
    batch = spec.arrow(columns) if rows else spec.arrow_schema.empty_table()
    con.register("_batch", batch)
    con.execute(f'DELETE FROM "{name}"')
    con.execute(f'INSERT INTO "{name}" SELECT * FROM _batch')
    con.unregister("_batch")


@pytest.fixture(scope="module")
def warehouse_con():
    con = duckdb.connect()
    schema_ensure(con)
    skus = [{"sku_id": s, "enterprise_id": E, "category_id": c, "category_path": CATEGORY_PATHS[c]}
            for s, c in SKUS.items()]
    _load(con, "dim_sku", skus)
    yield con, ibis.duckdb.from_connection(con)
    con.close()


def load_world(con, world) -> None:
    _load(con, "dim_member", world["members"])
    _load(con, "fact_order", world["orders"])
    _load(con, "fact_order_line", world["lines"])
    _load(con, "fact_event", world["events"])
    _load(con, "identity_link", world["links"])
    _load(con, "fact_points_entry", world["points"])
    _load(con, "fact_coupon", world["coupons"])
    _load(con, "dim_member_consent", world["consents"])
    _load(con, "dim_member_tag", world["tags"])


def evaluate(backend, tree, paths) -> set[int]:
    table = members_matching(backend, condition_validate(tree), enterprise_id=E, paths=paths, today=TODAY)
    return set(backend.execute(table).member_id.tolist())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world=worlds(), tree=trees, paths=st.sampled_from([None, ["/1/2/"], ["/1/5/6/", "/1/2/4/"], []]))
def test_a_tree_matches_the_members_a_brute_force_evaluation_finds(warehouse_con, world, tree, paths):
    con, backend = warehouse_con
    load_world(con, world)
    tree = condition_validate(tree)
    expected = brute_members(world, tree, paths)
    assert evaluate(backend, tree, paths) == expected
    assert count_matching(backend, tree, enterprise_id=E, paths=paths, today=TODAY) == len(expected)


# --- fixed cases: each leaf alone on a hand-made world, so a failure names the leaf ----------------------------

def _member(member_id, **kw):
    row = {"member_id": member_id, "enterprise_id": E, "org_path": "/1/2/3/", "home_id": 3, "canonical": None,
           "canonical_member_id": member_id, "status": "active", "is_erased": False, "tier_id": None,
           "guide_id": None, "gender": "", "birth_month": None, "channel": "pos"}
    row.update(kw)
    return row


HAND = {
    "members": [
        _member(1, tier_id=1, birth_month=6, gender="f", guide_id=7),
        _member(2, tier_id=2, org_path="/1/5/6/", home_id=6, channel="storefront"),
        _member(3, canonical_member_id=1, status="merged"),  # merged into 1
        _member(4, status="erased", is_erased=True, tier_id=1),
        _member(5, enterprise_id=OTHER, tier_id=1),
        _member(6, gender=None),
    ],
    "orders": [
        {"order_id": 1, "enterprise_id": E, "member_id": 3, "channel": "pos", "local_date": _day(5), "is_sale": True,
         "net_total": 800},  # the absorbed member's order counts for member 1
        {"order_id": 2, "enterprise_id": E, "member_id": 1, "channel": "storefront", "local_date": _day(40),
         "is_sale": True, "net_total": 500},
        {"order_id": 3, "enterprise_id": E, "member_id": 2, "channel": "pos", "local_date": _day(1),
         "is_sale": False, "net_total": 9900},  # cancelled
    ],
    "lines": [
        {"line_id": 11, "order_id": 1, "enterprise_id": E, "member_id": 3, "channel": "pos", "local_date": _day(5),
         "is_sale": True, "sku_id": 100, "category_id": 11, "net_amount": 800},
        {"line_id": 21, "order_id": 2, "enterprise_id": E, "member_id": 1, "channel": "storefront",
         "local_date": _day(40), "is_sale": True, "sku_id": 102, "category_id": 12, "net_amount": 500},
    ],
    "events": [
        {"enterprise_id": E, "event_key": "a", "kind": "add_to_cart", "occurred_at": datetime(2026, 6, 28, 9),
         "local_date": _day(2), "anonymous_id": "dev", "member_id": None},  # before signing in on dev as 2
        {"enterprise_id": E, "event_key": "b", "kind": "add_to_cart", "occurred_at": datetime(2026, 6, 29, 9),
         "local_date": _day(1), "anonymous_id": "", "member_id": 2},
        {"enterprise_id": E, "event_key": "c", "kind": "add_to_cart", "occurred_at": datetime(2026, 5, 1, 9),
         "local_date": date(2026, 5, 1), "anonymous_id": "", "member_id": 6},
    ],
    "links": [{"enterprise_id": E, "anonymous_id": "dev", "member_id": 2, "linked_at": datetime(2026, 6, 29, 8)}],
    "points": [{"entry_id": 1, "enterprise_id": E, "member_id": 1, "points": 120},
               {"entry_id": 2, "enterprise_id": E, "member_id": 3, "points": 100},
               {"entry_id": 3, "enterprise_id": E, "member_id": 6, "points": 30}],
    "coupons": [{"coupon_id": 1, "enterprise_id": E, "member_id": 2, "campaign_id": 1, "status": "available",
                 "valid_until": TODAY},
                {"coupon_id": 2, "enterprise_id": E, "member_id": 6, "campaign_id": 1, "status": "available",
                 "valid_until": _day(1)},  # expired yesterday
                {"coupon_id": 3, "enterprise_id": E, "member_id": 6, "campaign_id": 2, "status": "redeemed",
                 "valid_until": None}],
    "consents": [{"member_id": 1, "enterprise_id": E, "channel": "sms", "granted": True},
                 {"member_id": 2, "enterprise_id": E, "channel": "sms", "granted": False}],
    "tags": [{"enterprise_id": E, "member_id": 6, "tag_id": 1, "since": datetime(2026, 1, 1)}],
}


@pytest.mark.parametrize(("tree", "expected"), [
    ({"kind": "tier", "in": [1]}, {1}),  # not the erased 4 nor the other enterprise's 5
    ({"kind": "birthday_month", "in": [6]}, {1}),
    ({"kind": "home_store", "in": [6]}, {2}),
    ({"kind": "guide", "in": [7]}, {1}),
    ({"kind": "registered_via", "in": ["storefront"]}, {2}),
    ({"kind": "gender", "in": [""]}, {2, 6}),
    ({"kind": "tag", "tag_id": 1, "has": True}, {6}),
    ({"kind": "tag", "tag_id": 1, "has": False}, {1, 2}),
    ({"kind": "orders", "measure": "spent", "op": ">=", "value": 1300}, {1}),
    ({"kind": "orders", "measure": "spent", "op": ">=", "value": 800, "days": 30}, {1}),
    ({"kind": "orders", "measure": "count", "op": "==", "value": 0}, {2, 6}),
    ({"kind": "orders", "measure": "count", "op": ">=", "value": 1, "category_ids": [10]}, {1}),
    ({"kind": "orders", "measure": "count", "op": ">=", "value": 1, "sku_ids": [102], "days": 30}, set()),
    ({"kind": "orders", "measure": "count", "op": ">=", "value": 1, "channels": ["storefront"]}, {1}),
    ({"kind": "event", "event": "add_to_cart", "min_times": 2, "days": 7}, {2}),
    ({"kind": "event", "event": "add_to_cart", "did": False, "days": 30}, {1, 6}),
    ({"kind": "points", "op": ">", "value": 200}, {1}),
    ({"kind": "coupons", "op": ">=", "value": 1}, {2}),
    ({"kind": "consent", "channel": "sms"}, {1}),
    ({"kind": "consent", "channel": "sms", "granted": False}, {2, 6}),
    ({"group": "or", "conditions": [{"kind": "tier", "in": [2]}, {"kind": "tag", "tag_id": 1}]}, {2, 6}),
    ({"group": "and", "conditions": [{"kind": "tier", "in": [1, 2]},
                                     {"group": "or", "conditions": [{"kind": "points", "op": "<", "value": 10},
                                                                    {"kind": "consent", "channel": "sms"}]}]}, {1, 2}),
])
def test_each_leaf_alone_and_grouped_on_a_hand_made_world(warehouse_con, tree, expected):
    con, backend = warehouse_con
    load_world(con, HAND)
    assert evaluate(backend, tree, None) == expected
    assert brute_members(HAND, condition_validate(tree), None) == expected


def test_a_region_scope_never_counts_another_regions_member(warehouse_con):
    con, backend = warehouse_con
    load_world(con, HAND)
    tree = {"kind": "gender", "in": ["", "f"]}
    assert evaluate(backend, tree, ["/1/2/"]) == {1, 6}
    assert evaluate(backend, tree, ["/1/5/"]) == {2}
    assert evaluate(backend, tree, []) == set()


# --- validation -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tree", "code", "path"), [
    ([], "condition_not_object", "$"),
    ({"group": "xor", "conditions": [{"kind": "tier", "in": [1]}]}, "condition_bad_value", "$.group"),
    ({"group": "and", "conditions": []}, "condition_empty_group", "$.conditions"),
    ({"group": "and", "conditions": [{"kind": "tier", "in": [1]}, {"kind": "height"}]}, "condition_unknown_kind",
     "$.conditions[1].kind"),
    ({"kind": "tier", "in": []}, "condition_bad_list", "$.in"),
    ({"kind": "tier", "in": [1, "2"]}, "condition_bad_value", "$.in[1]"),
    ({"kind": "birthday_month", "in": [13]}, "condition_bad_value", "$.in[0]"),
    ({"kind": "orders", "measure": "spent", "op": "=>", "value": 1}, "condition_bad_value", "$.op"),
    ({"kind": "orders", "measure": "spent", "op": ">=", "value": -1}, "condition_bad_value", "$.value"),
    ({"kind": "orders", "measure": "spent", "op": ">=", "value": True}, "condition_bad_value", "$.value"),
    ({"group": "or", "conditions": [{"kind": "event", "event": "add_to_cart", "days": 0}]}, "condition_bad_value",
     "$.conditions[0].days"),
    ({"kind": "event", "event": "teleport"}, "condition_bad_value", "$.event"),
    ({"kind": "consent", "channel": "tracking"}, "condition_bad_value", "$.channel"),
    ({"kind": "tag", "tag_id": 1, "has": "yes"}, "condition_bad_value", "$.has"),
    ({"group": "and", "conditions": [{"group": "and", "conditions": [{"group": "and", "conditions": [
        {"group": "and", "conditions": [{"group": "and", "conditions": [{"group": "and", "conditions": [
            {"kind": "tier", "in": [1]}]}]}]}]}]}]}, "condition_too_deep", "$.conditions[0].conditions[0]"
     ".conditions[0].conditions[0].conditions[0]"),
    ({"group": "or", "conditions": [{"kind": "tier", "in": [1]}] * 41}, "condition_too_many", "$.conditions[40]"),
])
def test_a_bad_tree_is_refused_with_the_code_and_path_of_the_bad_node(tree, code, path):
    with pytest.raises(ValidationFailed) as caught:
        condition_validate(tree)
    assert (caught.value.code, caught.value.details["path"]) == (code, path)
    assert str(caught.value.message)


def test_a_valid_tree_comes_back_in_normal_form():
    tree = {"group": "and", "conditions": [{"kind": "tier", "in": [2, 1, 2], "extra": "dropped"},
                                           {"kind": "event", "event": "search"}]}
    assert condition_validate(tree) == {"group": "and", "conditions": [
        {"kind": "tier", "in": [1, 2]}, {"kind": "event", "event": "search", "did": True, "min_times": 1,
                                          "days": None}]}


def test_a_window_of_n_days_holds_today_and_the_n_minus_1_days_before(warehouse_con):
    con, backend = warehouse_con
    edge = {**HAND, "orders": HAND["orders"] + [
        {"order_id": 7, "enterprise_id": E, "member_id": 6, "channel": "pos", "local_date": _day(6), "is_sale": True,
         "net_total": 100},  # the 7th day back from today, today included: inside 7 days
        {"order_id": 8, "enterprise_id": E, "member_id": 2, "channel": "pos", "local_date": _day(7), "is_sale": True,
         "net_total": 100},  # the 8th: outside
        {"order_id": 9, "enterprise_id": E, "member_id": 2, "channel": "pos", "local_date": _day(-1), "is_sale": True,
         "net_total": 100},  # tomorrow (a clock ahead): not yet
    ]}
    load_world(con, edge)
    tree = {"kind": "orders", "measure": "count", "op": ">=", "value": 1, "days": 7}
    assert evaluate(backend, tree, None) == brute_members(edge, condition_validate(tree), None) == {1, 6}
