"""The pricing engine on its own (pure, no database): each kind's maths, floors, exclusivity, explanations, and
property tests over random carts and rules."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yundian.promotions.engine import Cart, Kind, Line, MemberInfo, Rule, price_cart

NOW = datetime(2026, 11, 11, 10, 0, tzinfo=timezone.utc)


def line(key, gross, *, sku=None, qty=1, floor=0, category=(), product=0):
    return Line(key=key, sku_id=sku if sku is not None else key + 1, quantity=qty, unit_price=gross // qty, gross=gross,
                floor=floor, category_ids=tuple(category), product_id=product)


def cart(lines, rules, **kw):
    kw.setdefault("channel", "pos")
    kw.setdefault("at", NOW)
    kw.setdefault("store_path", "/1/2/3/")
    return Cart(lines=tuple(lines), rules=tuple(rules), **kw)


def reasons(result):
    return {entry["code"]: entry["reason"] for entry in result.not_applicable}


def test_percentage_off_rounds_half_up_per_line_and_lines_add_up():
    rule = Rule(id=1, code="P85", name="85折", kind=Kind.PERCENT_OFF, rate=Decimal("0.85"))
    result = price_cart(cart([line(0, 9900, qty=1), line(1, 333, qty=1)], [rule]))
    # 9900 * 0.85 = 8415; 333 * 0.85 = 283.05 -> 283
    assert [l.total for l in result.lines] == [8415, 283]
    assert result.total == 8698 and result.discount_total == 10233 - 8698
    assert result.applied[0]["amount"] == 1535
    assert "85%" in result.applied[0]["explanation"]


def test_multi_tier_threshold_takes_the_best_tier_met_and_spreads_by_largest_remainder():
    rule = Rule(id=2, code="MJ", name="满减", kind=Kind.THRESHOLD_AMOUNT,
                tiers=((20000, 2000), (30000, 5000), (50000, 10000)))
    result = price_cart(cart([line(0, 10001), line(1, 10001), line(2, 10001)], [rule]))
    assert result.applied[0]["amount"] == 5000  # 300.03 yuan meets the 300 tier, not 500
    assert sorted(l.discount for l in result.lines) == [1666, 1667, 1667]
    assert sum(l.total for l in result.lines) == result.total == 30003 - 5000


def test_threshold_not_met_says_how_much_more_is_needed():
    rule = Rule(id=2, code="MJ", name="满减", kind=Kind.THRESHOLD_AMOUNT, tiers=((30000, 3000),))
    result = price_cart(cart([line(0, 25050)], [rule]))
    assert result.applied == []
    entry = result.not_applicable[0]
    assert (entry["reason"], entry["details"]) == ("threshold_not_met", {"short_by": 4950})
    assert "49.50" in entry["explanation"]


def test_every_multiple_threshold_repeats_up_to_its_cap():
    rule = Rule(id=3, code="MEI", name="每满100减10", kind=Kind.THRESHOLD_AMOUNT, tiers=((10000, 1000),), repeat=True,
                max_off=2500)
    assert price_cart(cart([line(0, 29900)], [rule])).discount_total == 2000
    assert price_cart(cart([line(0, 59900)], [rule])).discount_total == 2500


def test_threshold_percent_by_quantity():
    rule = Rule(id=4, code="2J9Z", name="满2件9折", kind=Kind.THRESHOLD_PERCENT, tiers=((2, Decimal("0.9")),),
                threshold_by="quantity")
    assert price_cart(cart([line(0, 10000, qty=1)], [rule])).applied == []
    result = price_cart(cart([line(0, 10000, qty=1), line(1, 5000, qty=1)], [rule]))
    assert result.discount_total == 1500


def test_buy_two_get_one_free_gives_the_cheapest_units():
    rule = Rule(id=5, code="B2G1", name="买二赠一", kind=Kind.BUY_X_GET_Y, buy=2, get=1)
    result = price_cart(cart([line(0, 3000, qty=2), line(1, 1000, qty=1), line(2, 5000, qty=1)], [rule]))
    # 4 units, one group of 3 -> 1 free unit: the cheapest (10.00)
    assert [l.discount for l in result.lines] == [0, 1000, 0]
    short = price_cart(cart([line(0, 3000, qty=2)], [rule]))
    assert short.not_applicable[0]["reason"] == "quantity_not_met"
    assert short.not_applicable[0]["details"] == {"short_units": 1}


def test_bundle_price_for_complete_sets_only():
    rule = Rule(id=6, code="SET", name="套装", kind=Kind.BUNDLE, bundle=((1, 1), (2, 2)), bundle_price=5000)
    # sku 1 x2 at 40.00, sku 2 x3 at 10.00: one set (1 + 2x2) worth 60.00 -> 10.00 off on the set's goods only
    result = price_cart(cart([line(0, 8000, sku=1, qty=2), line(1, 3000, sku=2, qty=3)], [rule]))
    assert result.discount_total == 1000
    assert sum(l.discount for l in result.lines) == 1000
    incomplete = price_cart(cart([line(0, 8000, sku=1, qty=2)], [rule]))
    assert reasons(incomplete) == {"SET": "bundle_incomplete"}


def test_tier_rate_needs_a_member_with_a_discounting_tier():
    rule = Rule(id=7, code="VIP", name="会员价", kind=Kind.TIER_RATE)
    lines = [line(0, 10000)]
    assert reasons(price_cart(cart(lines, [rule]))) == {"VIP": "member_required"}
    plain = MemberInfo(id=1, tier_code="", discount_rate=Decimal(1))
    assert reasons(price_cart(cart(lines, [rule], member=plain))) == {"VIP": "no_tier_discount"}
    gold = MemberInfo(id=1, tier_code="GOLD", discount_rate=Decimal("0.95"))
    assert price_cart(cart(lines, [rule], member=gold)).total == 9500


def test_tier_rate_explains_itself_with_the_tiers_name_not_its_code():
    rule = Rule(id=7, code="VIP", name="会员价", kind=Kind.TIER_RATE)
    gold = MemberInfo(id=1, tier_code="gold", discount_rate=Decimal("0.95"), tier_name="金卡")
    with translation.override("zh-hans"):
        explanation = price_cart(cart([line(0, 10000)], [rule], member=gold)).applied[0]["explanation"]
    assert "会员等级 金卡" in explanation and "gold" not in explanation


def test_a_floor_is_never_crossed_and_the_share_moves_to_other_lines():
    rule = Rule(id=8, code="MJ", name="满减", kind=Kind.THRESHOLD_AMOUNT, tiers=((10000, 6000),))
    with translation.override("en"):
        result = price_cart(cart([line(0, 5000, floor=4500), line(1, 5000)], [rule]))
    assert result.lines[0].total == 4500  # held at its floor
    assert result.lines[1].total == 0  # took the rest: 5500 of the 6000
    assert result.discount_total == 5500
    assert "Limited by the price floor" in result.applied[0]["explanation"]


def test_percent_off_on_a_line_at_its_floor_reports_floor_reached():
    rule = Rule(id=9, code="P50", name="5折", kind=Kind.PERCENT_OFF, rate=Decimal("0.5"))
    result = price_cart(cart([line(0, 5000, floor=5000)], [rule]))
    assert result.total == 5000
    assert reasons(result) == {"P50": "floor_reached"}


def test_an_exclusive_promotion_wins_alone_when_it_gives_more():
    stack = [Rule(id=10, code="A", name="A", kind=Kind.AMOUNT_OFF, amount=500),
             Rule(id=11, code="B", name="B", kind=Kind.PERCENT_OFF, rate=Decimal("0.95"))]
    big = Rule(id=12, code="X", name="X", kind=Kind.PERCENT_OFF, rate=Decimal("0.7"), exclusive=True)
    result = price_cart(cart([line(0, 10000)], stack + [big]))
    assert [a["code"] for a in result.applied] == ["X"]
    assert result.total == 7000
    assert reasons(result) == {"A": "excluded_by_exclusive", "B": "excluded_by_exclusive"}


def test_the_stack_wins_over_an_exclusive_that_gives_less():
    stack = [Rule(id=10, code="A", name="A", kind=Kind.AMOUNT_OFF, amount=500),
             Rule(id=11, code="B", name="B", kind=Kind.PERCENT_OFF, rate=Decimal("0.95"))]
    small = Rule(id=12, code="X", name="X", kind=Kind.PERCENT_OFF, rate=Decimal("0.95"), exclusive=True)
    result = price_cart(cart([line(0, 10000)], stack + [small]))
    assert [a["code"] for a in result.applied] == ["A", "B"]
    assert result.total == 9025  # 100 - 5 = 95, then 95%: 90.25
    assert reasons(result) == {"X": "exclusive_not_best"}


def test_gates_report_why_a_rule_does_not_apply():
    rules = [
        Rule(id=1, code="LATE", name="", kind=Kind.AMOUNT_OFF, amount=100, valid_from=NOW + timedelta(days=1)),
        Rule(id=2, code="OVER", name="", kind=Kind.AMOUNT_OFF, amount=100, valid_to=NOW),
        Rule(id=3, code="WEB", name="", kind=Kind.AMOUNT_OFF, amount=100, channels=frozenset({"storefront"})),
        Rule(id=4, code="ELSE", name="", kind=Kind.AMOUNT_OFF, amount=100, store_paths=("/1/9/",)),
        Rule(id=5, code="GOLD", name="", kind=Kind.AMOUNT_OFF, amount=100, tier_codes=frozenset({"GOLD"})),
        Rule(id=6, code="CPN", name="", kind=Kind.AMOUNT_OFF, amount=100, coupon_code="SAVE10"),
        Rule(id=7, code="TEES", name="", kind=Kind.AMOUNT_OFF, amount=100, category_ids=frozenset({77})),
    ]
    result = price_cart(cart([line(0, 1000, category=(5, 1))], rules))
    assert reasons(result) == {"LATE": "not_started", "OVER": "ended", "WEB": "other_channel", "ELSE": "other_store",
                               "GOLD": "member_required", "CPN": "coupon_not_presented", "TEES": "no_eligible_items"}
    assert result.total == 1000


def test_targets_by_category_ancestor_product_and_exclusions():
    rule = Rule(id=1, code="APP", name="", kind=Kind.AMOUNT_OFF, amount=100, category_ids=frozenset({1}),
                exclude_sku_ids=frozenset({3}))
    result = price_cart(cart([line(0, 1000, sku=1, category=(5, 1)), line(1, 1000, sku=2, category=(6,)),
                              line(2, 1000, sku=3, category=(5, 1))], [rule]))
    assert [l.discount for l in result.lines] == [100, 0, 0]


def test_a_special_price_locks_its_line_against_other_promotions():
    special = Rule(id=1, code="FS", name="秒杀", kind=Kind.SPECIAL_PRICE, source="flash_sale", source_id=9,
                   sku_ids=frozenset({1}), special_price=1990, max_quantity=1, priority=1000)
    other = Rule(id=2, code="ALL", name="", kind=Kind.PERCENT_OFF, rate=Decimal("0.5"))
    result = price_cart(cart([line(0, 9900, sku=1), line(1, 1000, sku=2)], [special, other]))
    assert [l.total for l in result.lines] == [1990, 500]


def test_the_result_is_json_serialisable():
    import json

    rule = Rule(id=1, code="P", name="P", kind=Kind.PERCENT_OFF, rate=Decimal("0.9"))
    data = price_cart(cart([line(0, 1000)], [rule])).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["lines"][0]["adjustments"] == [{"rule_id": 1, "code": "P", "amount": 100}]


# --- properties ------------------------------------------------------------------------------------------------------

@st.composite
def lines_strategy(draw):
    n = draw(st.integers(1, 6))
    out = []
    for key in range(n):
        qty = draw(st.integers(1, 4))
        unit = draw(st.integers(1, 20_000))
        gross = unit * qty
        floor = draw(st.one_of(st.just(0), st.integers(0, gross)))
        out.append(Line(key=key, sku_id=draw(st.integers(1, 4)), quantity=qty, unit_price=unit, gross=gross,
                        floor=floor, category_ids=(draw(st.integers(1, 3)),), product_id=draw(st.integers(1, 3))))
    return out


@st.composite
def rule_strategy(draw, rule_id):
    kind = draw(st.sampled_from([Kind.PERCENT_OFF, Kind.AMOUNT_OFF, Kind.THRESHOLD_AMOUNT, Kind.THRESHOLD_PERCENT,
                                 Kind.BUY_X_GET_Y, Kind.BUNDLE, Kind.TIER_RATE]))
    common = dict(id=rule_id, code=f"R{rule_id}", name=f"R{rule_id}", kind=kind, priority=draw(st.integers(-5, 5)),
                  exclusive=draw(st.booleans()),
                  category_ids=frozenset(draw(st.sets(st.integers(1, 3), max_size=2))))
    rate = Decimal(draw(st.integers(1, 99))) / 100
    if kind == Kind.PERCENT_OFF:
        return Rule(**common, rate=rate)
    if kind == Kind.AMOUNT_OFF:
        return Rule(**common, amount=draw(st.integers(1, 30_000)))
    if kind == Kind.THRESHOLD_AMOUNT:
        tiers = draw(st.lists(st.tuples(st.integers(0, 50_000), st.integers(1, 60_000)), min_size=1, max_size=3,
                              unique_by=lambda t: t[0]))
        return Rule(**common, tiers=tuple(tiers), repeat=False)
    if kind == Kind.THRESHOLD_PERCENT:
        return Rule(**common, tiers=((draw(st.integers(0, 50_000)), rate),))
    if kind == Kind.BUY_X_GET_Y:
        return Rule(**common, buy=draw(st.integers(1, 3)), get=draw(st.integers(1, 2)),
                    get_rate=Decimal(draw(st.integers(0, 90))) / 100)
    if kind == Kind.BUNDLE:
        return Rule(**{**common, "category_ids": frozenset()}, bundle=((1, 1), (2, draw(st.integers(1, 2)))),
                    bundle_price=draw(st.integers(0, 30_000)))
    return Rule(**common)


@st.composite
def carts(draw):
    lines = draw(lines_strategy())
    rules = [draw(rule_strategy(i + 1)) for i in range(draw(st.integers(0, 6)))]
    member = draw(st.one_of(st.none(), st.builds(MemberInfo, id=st.just(1), tier_code=st.just("G"),
                                                 discount_rate=st.sampled_from([Decimal(1), Decimal("0.9")]))))
    return cart(lines, rules, member=member)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(carts())
def test_property_no_line_ever_goes_below_its_floor_and_lines_add_up(c):
    result = price_cart(c)
    for source, priced in zip(c.lines, result.lines):
        assert priced.total >= source.floor
        assert 0 <= priced.total <= source.gross
        assert priced.discount == source.gross - priced.total
        assert sum(a["amount"] for a in priced.adjustments) == priced.discount
    assert sum(l.total for l in result.lines) == result.total
    assert result.subtotal - result.discount_total == result.total
    assert sum(a["amount"] for a in result.applied) == result.discount_total


@PROPERTY
@given(carts())
def test_property_an_exclusive_promotion_is_never_applied_with_another(c):
    result = price_cart(c)
    if any(a["exclusive"] for a in result.applied):
        assert len(result.applied) == 1
    applied = {a["rule_id"] for a in result.applied}
    skipped = {a["rule_id"] for a in result.not_applicable}
    assert not applied & skipped
    assert applied | skipped == {r.id for r in c.rules}


@PROPERTY
@given(carts())
def test_property_the_same_cart_prices_the_same_whichever_channel_asks(c):
    results = []
    for channel in ("pos", "storefront", "api"):
        data = price_cart(Cart(**{**c.__dict__, "channel": channel})).as_dict()
        data.pop("channel")
        results.append(data)
    assert results[0] == results[1] == results[2]
