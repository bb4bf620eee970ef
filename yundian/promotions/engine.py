"""The one pricing engine: `price_cart(cart)` turns a cart and the rules that may apply to it into line prices,
the promotions applied (with an explanation each) and those that did not apply (with the reason).

Pure computation: no database, no clock. The caller (`promotions.pricing.cart_build`) loads the rules, floors and
member benefits; POS, storefront and API orders all price through it (sales.pricing.cart_price), so the result
is the same whichever channel asks when the rules do not restrict channels.

Money is integer fen. Order-level discounts (thresholds, coupons, bundles) are spread over their lines by largest
remainder (core.money.Money.allocate), so the lines always add up to the total. A line never goes below its floor
(a SKU's or category's minimum price): a share that would cross it goes to the other lines, and what no line can
take is not given (the explanation says the floor limited it).

Order of application (the phase, then the priority, highest first, then the rule id):
    0  special prices the buyer secured in advance (flash sale and group-buy claims); those lines take no other
       promotion
    1  item discounts: percentage, amount per unit, buy X get Y, bundles
    2  member tier rate (the tier's discount rate from members.member_benefits)
    3  threshold discounts on what the eligible lines cost by then: 满减 (amount off), 满折 (rate), multi-tier
    4  coupons (any of the above kinds, behind a presented code)

Exclusivity: an exclusive promotion is never applied with another one. Each applicable exclusive promotion is
priced alone, and so is the stack of every non-exclusive one; the option that takes the most off the cart wins
(ties: the higher priority, then the lower id). The losers are reported as not applicable with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from yundian.core.money import Money


class Kind:
    SPECIAL_PRICE = "special_price"
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BUY_X_GET_Y = "buy_x_get_y"
    BUNDLE = "bundle"
    TIER_RATE = "tier_rate"
    THRESHOLD_AMOUNT = "threshold_amount"
    THRESHOLD_PERCENT = "threshold_percent"


PHASES = {Kind.SPECIAL_PRICE: 0, Kind.PERCENT_OFF: 1, Kind.AMOUNT_OFF: 1, Kind.BUY_X_GET_Y: 1, Kind.BUNDLE: 1,
          Kind.TIER_RATE: 2, Kind.THRESHOLD_AMOUNT: 3, Kind.THRESHOLD_PERCENT: 3}
COUPON_PHASE = 4
ALL_KINDS = tuple(PHASES)


@dataclass(frozen=True, slots=True)
class Line:
    """One cart line. `gross` is what it costs before promotions (list price or the clerk's override, x quantity;
    weighed SKUs: the scale's amount); `floor` the least the line may cost after them."""

    key: int
    sku_id: int
    quantity: int
    unit_price: int
    gross: int
    product_id: int = 0
    category_ids: tuple[int, ...] = ()  # the SKU's category and its ancestors
    floor: int = 0
    is_weighed: bool = False
    list_price: int | None = None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    id: int
    tier_code: str = ""
    discount_rate: Decimal = Decimal(1)
    tier_name: str = ""  # what explanations show (the code stays internal)
    audience_ids: frozenset[int] = frozenset()  # the audiences (member lists) of the cart's rules that list them


@dataclass(frozen=True, slots=True)
class Rule:
    """One promotion as the engine sees it (built from a Promotion, a coupon campaign, a flash sale or a group)."""

    id: int
    code: str
    name: str
    kind: str
    priority: int = 0
    exclusive: bool = False
    source: str = "promotion"  # promotion, coupon, flash_sale, group_buy
    source_id: int = 0
    # what it applies to: no target set at all means the whole cart
    sku_ids: frozenset[int] = frozenset()
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    exclude_sku_ids: frozenset[int] = frozenset()
    # where, when, for whom
    store_paths: tuple[str, ...] = ()  # org subtrees; empty: everywhere
    channels: frozenset[str] = frozenset()  # empty: every channel
    tier_codes: frozenset[str] = frozenset()  # non-empty: only members of these tiers
    members_only: bool = False
    audience_id: int = 0  # non-zero: only members on this audience (member list)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    coupon_code: str = ""  # non-empty: applies only with this code presented
    blocked: str = ""  # a reason code found by the loader (coupon used up, not this member's ...)
    blocked_details: tuple[tuple[str, object], ...] = ()
    # the maths
    rate: Decimal | None = None  # pay rate: 0.85 = 15% off (八五折)
    amount: int = 0  # amount off per unit (fen)
    tiers: tuple[tuple[int, object], ...] = ()  # thresholds: (minimum, amount off | pay rate), any order
    threshold_by: str = "amount"  # amount (fen) or quantity (units)
    repeat: bool = False  # 每满: the single tier applies once per full multiple of its minimum
    max_off: int | None = None
    buy: int = 0
    get: int = 0
    get_rate: Decimal = Decimal(0)  # what the "get" units cost: 0 = free, 0.5 = half price
    bundle: tuple[tuple[int, int], ...] = ()  # (sku id, quantity) per bundle
    bundle_price: int = 0
    special_price: int = 0  # per unit
    max_quantity: int = 0  # special price: units it covers

    @property
    def phase(self) -> int:
        return COUPON_PHASE if self.coupon_code else PHASES.get(self.kind, 1)

    def sort_key(self) -> tuple:
        return (self.phase, -self.priority, self.id, self.coupon_code)

    def targets(self, line: Line) -> bool:
        if line.sku_id in self.exclude_sku_ids:
            return False
        if self.kind == Kind.BUNDLE:
            return any(line.sku_id == sku for sku, _q in self.bundle)
        if not (self.sku_ids or self.product_ids or self.category_ids):
            return True
        return (line.sku_id in self.sku_ids or line.product_id in self.product_ids
                or any(c in self.category_ids for c in line.category_ids))


@dataclass(frozen=True)
class Cart:
    lines: tuple[Line, ...]
    rules: tuple[Rule, ...] = ()
    store_path: str = ""
    channel: str = ""
    at: datetime | None = None
    member: MemberInfo | None = None
    coupon_codes: tuple[str, ...] = ()
    currency: str = "CNY"
    store_id: int | None = None


@dataclass
class PricedLine:
    key: int
    sku_id: int
    quantity: int
    unit_price: int
    gross: int
    floor: int
    discount: int = 0
    total: int = 0
    adjustments: list[dict] = field(default_factory=list)  # [{"rule": code, "amount": fen}]

    def as_dict(self) -> dict:
        return {"key": self.key, "sku_id": self.sku_id, "quantity": self.quantity, "unit_price": self.unit_price,
                "gross": self.gross, "floor": self.floor, "discount": self.discount, "total": self.total,
                "adjustments": self.adjustments}


@dataclass
class PricingResult:
    currency: str
    channel: str
    lines: list[PricedLine]
    applied: list[dict]
    not_applicable: list[dict]
    subtotal: int
    discount_total: int
    total: int
    at: str | None = None

    def line_discounts(self) -> list[int]:
        return [line.discount for line in self.lines]

    def as_dict(self) -> dict:
        """A JSON-serialisable copy, to store on the order."""
        return {"currency": self.currency, "channel": self.channel, "at": self.at,
                "lines": [line.as_dict() for line in self.lines], "applied": self.applied,
                "not_applicable": self.not_applicable, "subtotal": self.subtotal,
                "discount_total": self.discount_total, "total": self.total}


# --- helpers -------------------------------------------------------------------------------------------------------

def _scaled(amount: int, rate: Decimal) -> int:
    """amount x rate, rounded half up to a fen (Money.scale without the object)."""
    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _yuan(fen: int) -> str:
    return Money(fen).format()


def _rate_text(rate: Decimal) -> str:
    """0.85 -> "85%" of the price paid."""
    return f"{(rate * 100).normalize():f}%"


class _State:
    """Per-option working state: what each line costs now and how far it may still drop."""

    __slots__ = ("remaining", "floor", "locked", "adjust")

    def __init__(self, lines: tuple[Line, ...]):
        self.remaining = {l.key: l.gross for l in lines}
        self.floor = {l.key: min(l.floor, l.gross) if l.floor > 0 else 0 for l in lines}
        self.locked: set[int] = set()
        self.adjust: dict[int, list[tuple[Rule, int]]] = {}

    def room(self, key: int) -> int:
        return max(0, self.remaining[key] - self.floor[key])

    def take(self, rule: Rule, amounts: dict[int, int]) -> int:
        total = 0
        for key, amount in amounts.items():
            if amount > 0:
                self.remaining[key] -= amount
                self.adjust.setdefault(key, []).append((rule, amount))
                total += amount
        return total


def _spread(total: int, keys: list[int], weights: dict[int, int], state: _State) -> dict[int, int]:
    """Spread `total` over lines in proportion to `weights` (largest remainder), never past a line's floor; what a
    line cannot take goes to the others in another round. Returns {key: amount}; may add up to less than `total`."""
    out = {k: 0 for k in keys}
    left = total
    active = [k for k in keys if weights.get(k, 0) > 0 and state.room(k) > 0]
    while left > 0 and active:
        parts = Money(left).allocate([weights[k] for k in active])
        given, still = 0, []
        for key, part in zip(active, parts):
            take = min(part.amount, state.room(key) - out[key])
            out[key] += take
            given += take
            if state.room(key) - out[key] > 0:
                still.append(key)
        left -= given
        if given == 0:
            break
        active = still
    return out


def _clamped(amounts: dict[int, int], state: _State) -> dict[int, int]:
    return {k: min(a, state.room(k)) for k, a in amounts.items() if a > 0}


# --- gates (does the rule apply to this cart at all?) ----------------------------------------------------------------

def _gate(rule: Rule, cart: Cart) -> tuple[str, dict] | None:
    if rule.blocked:
        return rule.blocked, dict(rule.blocked_details)
    at = cart.at
    if at is not None and rule.valid_from is not None and at < rule.valid_from:
        return "not_started", {"starts_at": rule.valid_from.isoformat()}
    if at is not None and rule.valid_to is not None and at >= rule.valid_to:
        return "ended", {"ended_at": rule.valid_to.isoformat()}
    if rule.channels and cart.channel not in rule.channels:
        return "other_channel", {"channels": sorted(rule.channels)}
    if rule.store_paths and not any(cart.store_path.startswith(p) for p in rule.store_paths):
        return "other_store", {}
    needs_member = rule.members_only or rule.tier_codes or rule.audience_id or rule.kind == Kind.TIER_RATE
    if needs_member and cart.member is None:
        return "member_required", {}
    if rule.audience_id and rule.audience_id not in cart.member.audience_ids:
        return "audience_required", {}
    if rule.tier_codes and cart.member.tier_code not in rule.tier_codes:
        return "tier_required", {"tiers": sorted(rule.tier_codes)}
    if rule.coupon_code and rule.coupon_code not in cart.coupon_codes:
        return "coupon_not_presented", {}
    return None


REASONS = {
    "not_started": lambda d: _("Not started yet."),
    "ended": lambda d: _("This promotion has ended."),
    "other_channel": lambda d: _("Not offered on this channel."),
    "other_store": lambda d: _("Not offered at this store."),
    "member_required": lambda d: _("For members only."),
    "tier_required": lambda d: _("For members of tiers %(tiers)s only.") % {"tiers": ", ".join(d.get("tiers", []))},
    "audience_required": lambda d: _("For selected members only."),
    "coupon_not_presented": lambda d: _("The coupon was not presented."),
    "no_eligible_items": lambda d: _("Nothing in the cart qualifies."),
    "threshold_not_met": lambda d: _("Add %(short)s more of eligible goods to get it.") % {"short": _yuan(d["short_by"])}
    if "short_by" in d else _("Add %(units)d more eligible item(s) to get it.") % {"units": d["short_units"]},
    "quantity_not_met": lambda d: _("Add %(units)d more eligible item(s) to get it.") % {"units": d["short_units"]},
    "bundle_incomplete": lambda d: _("The bundle is not complete."),
    "no_tier_discount": lambda d: _("The member's tier has no discount."),
    "floor_reached": lambda d: _("The eligible goods are already at their floor price."),
    "excluded_by_exclusive": lambda d: _("Not combinable: the exclusive promotion %(winner)s gives more.") % d,
    "exclusive_not_best": lambda d: _("Exclusive, and %(winner)s gives more.") % d,
    "unknown_coupon": lambda d: _("No such coupon."),
    "coupon_used": lambda d: _("This coupon was already used."),
    "coupon_void": lambda d: _("This coupon is void."),
    "coupon_not_yours": lambda d: _("This coupon belongs to another member."),
    "coupon_limit_reached": lambda d: _("The coupon's use limit is reached."),
    "member_limit_reached": lambda d: _("This member already used the coupon as often as allowed."),
    "claim_expired": lambda d: _("The reserved price has expired."),
    "one_per_campaign": lambda d: _("Only one coupon of a campaign per order."),
    "not_active": lambda d: _("This promotion is not active."),
}


def reason_text(reason: str, details: dict) -> str:
    make = REASONS.get(reason)
    return make(details) if make else reason


# --- the maths of each kind: {line key: amount off} plus a not-applicable reason when nothing came off ----------------

def _eligible(rule: Rule, lines: tuple[Line, ...], state: _State) -> list[Line]:
    return [l for l in lines if l.key not in state.locked and rule.targets(l)]


def _rate_off(state: _State, lines: list[Line], rate: Decimal) -> tuple[dict[int, int], str, dict]:
    raw = {l.key: state.remaining[l.key] - _scaled(state.remaining[l.key], rate) for l in lines}
    return _clamped(raw, state), "", {"nominal": sum(raw.values())}


def _best_tier(rule: Rule, base: int) -> tuple[int, object] | None:
    met = [t for t in rule.tiers if base >= t[0]]
    return max(met, key=lambda t: t[0]) if met else None


def _threshold(rule: Rule, lines: list[Line], state: _State) -> tuple[dict[int, int], str, dict]:
    by_quantity = rule.threshold_by == "quantity"
    base = sum(l.quantity if not l.is_weighed else 1 for l in lines) if by_quantity \
        else sum(state.remaining[l.key] for l in lines)
    tier = _best_tier(rule, base)
    if tier is None:
        lowest = min(t[0] for t in rule.tiers) if rule.tiers else 0
        return {}, "threshold_not_met", ({"short_units": lowest - base} if by_quantity else {"short_by": lowest - base})
    amount_base = sum(state.remaining[l.key] for l in lines)
    if rule.kind == Kind.THRESHOLD_AMOUNT:
        off = int(tier[1])
        if rule.repeat and tier[0] > 0:
            off *= base // tier[0]
    else:
        off = amount_base - _scaled(amount_base, Decimal(tier[1]))
    if rule.max_off is not None:
        off = min(off, rule.max_off)
    off = min(off, amount_base)
    return _spread(off, [l.key for l in lines], {l.key: state.remaining[l.key] for l in lines}, state), "", {
        "tier_min": tier[0], "nominal": off}


def _buy_x_get_y(rule: Rule, lines: list[Line], state: _State) -> tuple[dict[int, int], str, dict]:
    units = [l for l in lines if not l.is_weighed]
    count = sum(l.quantity for l in units)
    group = rule.buy + rule.get
    if group <= 0 or rule.get <= 0:
        return {}, "no_eligible_items", {}
    if count < group:
        return {}, "quantity_not_met", {"short_units": group - count}
    free = (count // group) * rule.get
    out: dict[int, int] = {}
    # the cheapest units are the ones given: order lines by what one unit costs now
    for line in sorted(units, key=lambda l: (state.remaining[l.key] / l.quantity, l.key)):
        if free == 0:
            break
        k = min(free, line.quantity)
        value = state.remaining[line.key] * k // line.quantity
        out[line.key] = value - _scaled(value, rule.get_rate)
        free -= k
    return _clamped(out, state), "", {"free_units": (count // group) * rule.get, "nominal": sum(out.values())}


def _bundle(rule: Rule, lines: list[Line], state: _State) -> tuple[dict[int, int], str, dict]:
    by_sku: dict[int, list[Line]] = {}
    for line in lines:
        if not line.is_weighed:
            by_sku.setdefault(line.sku_id, []).append(line)
    counts = [sum(l.quantity for l in by_sku.get(sku, [])) // qty for sku, qty in rule.bundle if qty > 0]
    sets = min(counts) if counts and len(counts) == len(rule.bundle) else 0
    if sets == 0:
        return {}, "bundle_incomplete", {}
    contribution: dict[int, int] = {}
    for sku, qty in rule.bundle:
        need = sets * qty
        for line in by_sku[sku]:
            if need == 0:
                break
            k = min(need, line.quantity)
            contribution[line.key] = contribution.get(line.key, 0) + state.remaining[line.key] * k // line.quantity
            need -= k
    off = max(0, sum(contribution.values()) - sets * rule.bundle_price)
    return _spread(off, list(contribution), contribution, state), "", {"sets": sets, "nominal": off}


def _special(rule: Rule, lines: list[Line], state: _State) -> tuple[dict[int, int], str, dict]:
    out: dict[int, int] = {}
    left = rule.max_quantity
    for line in lines:
        if left <= 0 or line.is_weighed:
            continue
        k = min(left, line.quantity)
        out[line.key] = max(0, (line.unit_price - rule.special_price) * k)
        left -= k
        state.locked.add(line.key)
    # a special price is a price, not a discount on top: only the floor clamps it
    return _clamped(out, state), "", {"units": rule.max_quantity - max(left, 0)}


def _compute(rule: Rule, cart: Cart, state: _State) -> tuple[dict[int, int], str, dict]:
    lines = _eligible(rule, cart.lines, state)
    if not lines:
        return {}, "no_eligible_items", {}
    kind = rule.kind
    if kind == Kind.SPECIAL_PRICE:
        return _special(rule, lines, state)
    if kind == Kind.PERCENT_OFF:
        return _rate_off(state, lines, rule.rate if rule.rate is not None else Decimal(1))
    if kind == Kind.TIER_RATE:
        rate = cart.member.discount_rate if cart.member else Decimal(1)
        if rate >= 1:
            return {}, "no_tier_discount", {}
        amounts, reason, details = _rate_off(state, lines, rate)
        return amounts, reason, {**details, "rate": str(rate)}
    if kind == Kind.AMOUNT_OFF:
        raw = {l.key: min(rule.amount * (1 if l.is_weighed else l.quantity), state.remaining[l.key]) for l in lines}
        return _clamped(raw, state), "", {"nominal": sum(raw.values())}
    if kind in (Kind.THRESHOLD_AMOUNT, Kind.THRESHOLD_PERCENT):
        return _threshold(rule, lines, state)
    if kind == Kind.BUY_X_GET_Y:
        return _buy_x_get_y(rule, lines, state)
    if kind == Kind.BUNDLE:
        return _bundle(rule, lines, state)
    return {}, "no_eligible_items", {}


def _explain(rule: Rule, amount: int, details: dict, cart: Cart) -> str:
    kind = rule.kind
    if kind == Kind.SPECIAL_PRICE:
        text = _("Reserved price %(price)s for %(units)d unit(s).") % {"price": _yuan(rule.special_price),
                                                                      "units": details.get("units", 0)}
    elif kind == Kind.PERCENT_OFF:
        text = _("Pay %(rate)s of the price on eligible goods.") % {"rate": _rate_text(rule.rate or Decimal(1))}
    elif kind == Kind.TIER_RATE:
        text = _("Member tier %(tier)s pays %(rate)s of the price.") % {
            "tier": (cart.member.tier_name or cart.member.tier_code) if cart.member else "", "rate": _rate_text(Decimal(details["rate"]))}
    elif kind == Kind.AMOUNT_OFF:
        text = _("%(amount)s off each eligible item.") % {"amount": _yuan(rule.amount)}
    elif kind == Kind.THRESHOLD_AMOUNT:
        tier = dict(rule.tiers)[details["tier_min"]]
        minimum = (_("%(n)d item(s)") % {"n": details["tier_min"]}) if rule.threshold_by == "quantity" \
            else _yuan(details["tier_min"])
        text = (_("%(off)s off for every %(min)s of eligible goods.") if rule.repeat
                else _("%(off)s off orders of %(min)s or more of eligible goods.")) % {"off": _yuan(int(tier)),
                                                                                     "min": minimum}
    elif kind == Kind.THRESHOLD_PERCENT:
        rate = Decimal(dict(rule.tiers)[details["tier_min"]])
        minimum = (_("%(n)d item(s)") % {"n": details["tier_min"]}) if rule.threshold_by == "quantity" \
            else _yuan(details["tier_min"])
        text = _("Pay %(rate)s from %(min)s of eligible goods.") % {"rate": _rate_text(rate), "min": minimum}
    elif kind == Kind.BUY_X_GET_Y:
        text = _("Buy %(buy)d get %(get)d: %(free)d unit(s) at %(rate)s.") % {
            "buy": rule.buy, "get": rule.get, "free": details.get("free_units", 0), "rate": _rate_text(rule.get_rate)}
    elif kind == Kind.BUNDLE:
        text = _("Bundle price %(price)s, %(sets)d set(s).") % {"price": _yuan(rule.bundle_price),
                                                             "sets": details.get("sets", 0)}
    else:
        text = rule.name
    if details.get("limited"):
        text += " " + _("Limited by the price floor: %(lost)s could not be given.") % {"lost": _yuan(details["limited"])}
    return text


def _entry(rule: Rule) -> dict:
    entry = {"rule_id": rule.id, "code": rule.code, "name": rule.name, "kind": rule.kind, "source": rule.source,
             "source_id": rule.source_id, "priority": rule.priority, "exclusive": rule.exclusive}
    if rule.coupon_code:
        entry["coupon_code"] = rule.coupon_code
    return entry


def _run(cart: Cart, rules: list[Rule]) -> tuple[_State, list[dict], list[dict], int]:
    """Apply `rules` in order to a fresh state: (state, applied, not applicable, total off)."""
    state = _State(cart.lines)
    applied, skipped, total = [], [], 0
    for rule in rules:
        amounts, reason, details = _compute(rule, cart, state)
        wanted = sum(amounts.values())
        nominal = details.pop("nominal", None)
        if wanted <= 0:
            if not reason:
                reason = "floor_reached"
            skipped.append({**_entry(rule), "reason": reason, "details": details,
                            "explanation": reason_text(reason, details)})
            continue
        got = state.take(rule, amounts)
        total += got
        if nominal is not None and nominal > got:
            details["limited"] = nominal - got
        applied.append({**_entry(rule), "amount": got, "lines": sorted(k for k, a in amounts.items() if a > 0),
                        "explanation": _explain(rule, got, details, cart)})
    return state, applied, skipped, total


def price_cart(cart: Cart) -> PricingResult:
    """Price `cart` with its rules. Deterministic: the same cart gives the same result whichever channel asks, when
    no rule restricts channels. See the module docstring for phases, exclusivity and floors."""
    not_applicable: list[dict] = []
    candidates: list[Rule] = []
    for rule in sorted(cart.rules, key=Rule.sort_key):
        gate = _gate(rule, cart)
        if gate is not None:
            reason, details = gate
            not_applicable.append({**_entry(rule), "reason": reason, "details": details,
                                   "explanation": reason_text(reason, details)})
        else:
            candidates.append(rule)
    specials = [r for r in candidates if r.kind == Kind.SPECIAL_PRICE]
    exclusives = [r for r in candidates if r.exclusive and r.kind != Kind.SPECIAL_PRICE]
    stack = [r for r in candidates if not r.exclusive and r.kind != Kind.SPECIAL_PRICE]
    options: list[tuple[Rule | None, list[Rule]]] = [(None, specials + stack)]
    options += [(r, specials + [r]) for r in exclusives]
    best = None
    for exclusive, rules in options:
        state, applied, skipped, total = _run(cart, rules)
        rank = (total, exclusive.priority if exclusive else max((r.priority for r in stack), default=0),
                -(exclusive.id if exclusive else 0))
        if best is None or rank > best[0]:
            best = (rank, exclusive, state, applied, skipped)
    _rank, winner, state, applied, skipped = best
    not_applicable.extend(skipped)
    winner_label = (winner.code or winner.name) if winner else ""
    applied_codes = ", ".join(a["code"] for a in applied if a["kind"] != Kind.SPECIAL_PRICE)
    for rule in (stack if winner else exclusives):
        if winner is None:
            reason, details = "exclusive_not_best", {"winner": applied_codes or _("the other promotions")}
        else:
            reason, details = "excluded_by_exclusive", {"winner": winner_label}
        not_applicable.append({**_entry(rule), "reason": reason, "details": details,
                               "explanation": reason_text(reason, details)})
    if winner is not None:
        for rule in exclusives:
            if rule is not winner:
                details = {"winner": winner_label}
                not_applicable.append({**_entry(rule), "reason": "exclusive_not_best", "details": details,
                                       "explanation": reason_text("exclusive_not_best", details)})
    lines = []
    for line in cart.lines:
        total = state.remaining[line.key]
        lines.append(PricedLine(
            key=line.key, sku_id=line.sku_id, quantity=line.quantity, unit_price=line.unit_price, gross=line.gross,
            floor=state.floor[line.key], discount=line.gross - total, total=total,
            adjustments=[{"rule_id": r.id, "code": r.code, "amount": a} for r, a in state.adjust.get(line.key, [])]))
    subtotal = sum(l.gross for l in cart.lines)
    total = sum(l.total for l in lines)
    return PricingResult(currency=cart.currency, channel=cart.channel, lines=lines, applied=applied,
                         not_applicable=not_applicable, subtotal=subtotal, discount_total=subtotal - total, total=total,
                         at=cart.at.isoformat() if cart.at else None)
