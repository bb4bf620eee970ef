"""Commission writes: plans, earning on paid orders, reversal on returns, manual adjustments.

`commission_post_for_order` and `commission_reverse_for_return` are registered as sales hooks (hooks.py) and
run inside the order's transaction, last in the lock order (orders -> inventory -> members -> commissions):
they lock the guides' balance rows in pk order, insert the entries and update the balances with F().
"""
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category, Product, Sku
from yundian.core.audit import audit_record
from yundian.core.cache import ORG, PLANS, VersionCache, cache_bump, clone
from yundian.core.errors import NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import require
from yundian.sales.models import Order, OrderLine, OrderReturn, ReturnLine
from yundian.sales.services._common import placeholders, raw_rows

from .models import CommissionBalance, CommissionEntry, CommissionKind, CommissionPlan, CommissionRule, CommissionTier

MAX_RULES = 500


def month_of(moment: datetime) -> date:
    local = timezone.localtime(moment)
    return date(local.year, local.month, 1)


def _rate(value: Any, field: str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationFailed(_("Give rates as text such as \"0.05\"."), code="invalid_rate", details={"field": field})
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("Not a valid rate."), code="invalid_rate", details={"field": field})
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1) or rate.as_tuple().exponent < -4:
        raise ValidationFailed(_("A rate is between 0 and 1, with at most 4 decimals."), code="invalid_rate",
                               details={"field": field})
    return rate


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": field})
    return value


# --- plans ------------------------------------------------------------------------------------------------

@transaction.atomic
def commission_plan_create(*, actor: Staff, node_id: int, name: str, default_rate: Any = "0",
                           rules: Any = (), tiers: Any = ()) -> CommissionPlan:
    """A new plan for a node's stores (it replaces the node's active plan, which is deactivated). Audited."""
    node = OrgNode.objects.filter(pk=_id(node_id, "node_id")).first()
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    require(actor, Perm.COMMISSION_MANAGE, node)
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 120 or not name.isprintable():
        raise ValidationFailed(_("A name of 1 to 120 characters is required."), code="invalid_name",
                               details={"field": "name"})
    default = _rate(default_rate, "default_rate")
    if not isinstance(rules, list | tuple) or len(rules) > MAX_RULES or not isinstance(tiers, list | tuple) or len(tiers) > 50:
        raise ValidationFailed(_("Rules and tiers are lists."), code="invalid_rules")
    built_rules = [_rule(actor, raw, i) for i, raw in enumerate(rules)]
    built_tiers = []
    for i, raw in enumerate(tiers):
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Not a tier."), code="invalid_tier", details={"tier": i})
        minimum = raw.get("min_month_sales")
        if isinstance(minimum, bool) or not isinstance(minimum, int) or not 0 <= minimum <= 10**12:
            raise ValidationFailed(_("Tier thresholds are whole fen."), code="invalid_tier", details={"tier": i})
        built_tiers.append(CommissionTier(min_month_sales=minimum, bonus_rate=_rate(raw.get("bonus_rate"), "bonus_rate")))
    if len({t.min_month_sales for t in built_tiers}) != len(built_tiers):
        raise ValidationFailed(_("Two tiers have the same threshold."), code="invalid_tier")
    old = list(CommissionPlan.objects.filter(node=node, is_active=True))
    CommissionPlan.objects.filter(pk__in=[p.pk for p in old]).update(is_active=False, updated_at=timezone.now())
    cache_bump(PLANS)  # a bulk update sends no signal
    plan = CommissionPlan.objects.create(enterprise_id=node.enterprise_id, node=node, name=name, default_rate=default)
    for rule in built_rules:
        rule.plan = plan
    for tier in built_tiers:
        tier.plan = plan
    CommissionRule.objects.bulk_create(built_rules)
    CommissionTier.objects.bulk_create(built_tiers)
    audit_record(actor=actor, action="guides.commission_plan.created", target=plan,
                 before={"replaced": [p.pk for p in old]} if old else None,
                 after={"name": name, "default_rate": str(default), "rules": len(built_rules), "tiers": len(built_tiers)},
                 scope_path=node.path)
    return plan


def _rule(actor: Staff, raw: Any, index: int) -> CommissionRule:
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Not a rule."), code="invalid_rule", details={"rule": index})
    targets = [k for k in ("sku_id", "product_id", "category_id") if raw.get(k) is not None]
    if len(targets) != 1:
        raise ValidationFailed(_("A rule names one SKU, product or category."), code="invalid_rule", details={"rule": index})
    key = targets[0]
    target_id = _id(raw[key], key)
    model = {"sku_id": Sku, "product_id": Product, "category_id": Category}[key]
    if not model.objects.filter(pk=target_id, enterprise_id=actor.enterprise_id).exists():
        raise NotFound(_("Rule target not found."), code="rule_target_not_found", details={"rule": index})
    excluded = raw.get("is_excluded") is True
    rate, fixed = raw.get("rate"), raw.get("fixed_amount")
    kinds = sum([excluded, rate is not None, fixed is not None])
    if kinds != 1:
        raise ValidationFailed(_("A rule has a rate, a fixed amount or is an exclusion."), code="invalid_rule",
                               details={"rule": index})
    if fixed is not None and (isinstance(fixed, bool) or not isinstance(fixed, int) or not 0 <= fixed <= 10**9):
        raise ValidationFailed(_("Fixed amounts are whole fen."), code="invalid_rule", details={"rule": index})
    return CommissionRule(**{key: target_id}, rate=_rate(rate, "rate") if rate is not None else None,
                          fixed_amount=fixed, is_excluded=excluded)


# --- the ledger ----------------------------------------------------------------------------------------

# per process, by (store, its path): the plan of the nearest node with an active one (a plan's writers bump PLANS in
# their transaction, a node's move ORG)
_PLANS = VersionCache("guides.plan_for", PLANS, ORG)


def _load_plan(key: tuple[int, str]) -> CommissionPlan | None:
    ids = [int(p) for p in key[1].strip("/").split("/") if p]
    plans = {p.node_id: p for p in raw_rows(CommissionPlan, f"node_id IN ({placeholders(ids)}) AND is_active = %s",
                                            [*ids, True])}
    for node_id in reversed(ids):
        if node_id in plans:
            return plans[node_id]
    return None


def _plan_for(store: OrgNode) -> CommissionPlan | None:
    return clone(_PLANS.get((store.pk, store.path), _load_plan))


def _add_to_balances(totals: dict[int, int]) -> list[int]:
    """Add each guide's total to their balance (one relative UPDATE each, in guide pk order); returns the guides
    who have no balance row yet (the UPDATE matched nothing)."""
    return [guide_id for guide_id, amount in sorted(totals.items())
            if not CommissionBalance.objects.filter(guide_id=guide_id).update(amount=F("amount") + amount)]


def _post(entries: list[CommissionEntry]) -> None:
    """Append the entries and move the balances. Each balance UPDATE locks its row, and they run in guide pk
    order, so the balance rows are locked in the one global order with one statement per guide (no separate
    SELECT ... FOR UPDATE: nothing is checked before the change, commission may go below zero by returns).
    Missing balance rows are inserted (insert-ignore, in pk order) and then updated, as lock_balances does."""
    if not entries:
        return
    totals: dict[int, int] = defaultdict(int)
    for e in entries:
        totals[e.guide_id] += e.amount
    missing = _add_to_balances(totals)
    if missing:
        CommissionBalance.objects.bulk_create(
            [CommissionBalance(guide_id=g, enterprise_id=entries[0].enterprise_id) for g in missing],
            ignore_conflicts=True)
        _add_to_balances({g: totals[g] for g in missing})
    CommissionEntry.objects.bulk_create(entries)


_PLAN_PARTS: dict[tuple, tuple[list[CommissionRule], list[CommissionTier]]] = {}


def _plan_parts(plan: CommissionPlan) -> tuple[list[CommissionRule], list[CommissionTier]]:
    """A plan's rules and tiers, cached per process: a plan is never edited (a change is a new plan)."""
    key = (plan.pk, plan.created_at)  # with the creation time: a rolled-back id reused later is another plan
    parts = _PLAN_PARTS.get(key)
    if parts is None:
        parts = (list(plan.rules.all()), sorted(plan.tiers.all(), key=lambda t: t.min_month_sales))
        if len(_PLAN_PARTS) > 1000:
            _PLAN_PARTS.clear()
        _PLAN_PARTS[key] = parts
    return parts


class _Matcher:
    def __init__(self, plan: CommissionPlan, lines: list[OrderLine]):
        self.plan = plan
        self.rules, self.tiers = _plan_parts(plan)
        self.paths: dict[int, str] = {}
        if any(r.category_id for r in self.rules):
            category_ids = {l.category_id for l in lines if l.category_id} | {r.category_id for r in self.rules
                                                                              if r.category_id}
            self.paths = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "path"))
        self.products: dict[int, int] = {}
        if any(r.product_id for r in self.rules):
            self.products = dict(Sku.objects.filter(pk__in={l.sku_id for l in lines}).values_list("pk", "product_id"))

    def rule_for(self, line: OrderLine) -> CommissionRule | None:
        best, best_rank = None, None
        path = self.paths.get(line.category_id, "")
        for rule in self.rules:
            if rule.sku_id == line.sku_id:
                rank = (3, 0)
            elif rule.product_id and rule.product_id == self.products.get(line.sku_id):
                rank = (2, 0)
            elif rule.category_id and path and path.startswith(self.paths.get(rule.category_id, "\0")):
                rank = (1, len(self.paths[rule.category_id]))
            else:
                continue
            if best_rank is None or rank > best_rank:
                best, best_rank = rule, rank
        return best

    def bonus(self, month_sales: int) -> Decimal:
        bonus = Decimal(0)
        for tier in self.tiers:
            if month_sales >= tier.min_month_sales:
                bonus = tier.bonus_rate
        return bonus


def _scaled(amount: int, rate: Decimal) -> int:
    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def commission_post_for_order(order: Order, lines: list[OrderLine], actor: Staff | None) -> list[CommissionEntry]:
    """Earn commission for each guided line of a just-paid order (sales hook; inside the order's transaction).
    Locks: the guides' balance rows, in pk order."""
    guided = [l for l in lines if l.guide_id]
    if not guided:
        return []
    plan = _plan_for(order.store)
    if plan is None:
        return []
    matcher = _Matcher(plan, guided)
    now = order.paid_at or timezone.now()
    month = month_of(now)
    this_order: dict[int, int] = defaultdict(int)
    for line in guided:
        this_order[line.guide_id] += line.line_total
    before = {}
    if matcher.tiers:
        before = dict(CommissionEntry.objects.filter(guide_id__in=list(this_order), month=month)
                      .values("guide_id").annotate(s=Sum("sales_amount")).values_list("guide_id", "s"))
    entries = []
    for line in guided:
        rule = matcher.rule_for(line)
        if rule is not None and rule.is_excluded:
            continue
        if rule is not None and rule.fixed_amount is not None:
            units = 1 if line.is_weighed else line.quantity
            amount, rate = rule.fixed_amount * units, None
        else:
            rate = (rule.rate if rule is not None else plan.default_rate)
            rate = rate + matcher.bonus((before.get(line.guide_id) or 0) + this_order[line.guide_id])
            amount = _scaled(line.line_total, rate)
        entries.append(CommissionEntry(
            enterprise_id=order.enterprise_id, guide_id=line.guide_id, store_id=order.store_id, kind=CommissionKind.EARN,
            amount=amount, sales_amount=line.line_total, order=order, order_line=line, source_ref=f"line:{line.pk}",
            rate=rate, plan=plan, month=month, actor=actor, occurred_at=now))
    _post(entries)
    return entries


def commission_reverse_for_return(doc: OrderReturn, rows: list[ReturnLine], actor: Staff | None) -> list[CommissionEntry]:
    """Reverse the commission of returned units (sales hook): per line, cumulative pro rata of what it earned, so a
    fully returned line reverses exactly its earning. Counted in the month of the sale. Locks: balance rows."""
    line_ids = [r.order_line_id for r in rows if r.order_line_id]
    if not line_ids:
        return []
    earned = {e.order_line_id: e for e in CommissionEntry.objects.filter(order_line_id__in=line_ids, kind=CommissionKind.EARN)}
    if not earned:
        return []
    lines = {l.pk: l for l in OrderLine.objects.filter(pk__in=list(earned))}
    returned_before = dict(ReturnLine.objects.filter(order_line_id__in=list(earned)).exclude(return_doc=doc)
                           .values("order_line_id").annotate(q=Sum("quantity")).values_list("order_line_id", "q"))
    now = timezone.now()
    entries = []
    for row in rows:
        earn = earned.get(row.order_line_id)
        if earn is None:
            continue
        line = lines[row.order_line_id]
        before = returned_before.get(line.pk) or 0
        after = before + row.quantity
        back = earn.amount * after // line.quantity - earn.amount * before // line.quantity
        sales_back = line.line_total * after // line.quantity - line.line_total * before // line.quantity
        entries.append(CommissionEntry(
            enterprise_id=earn.enterprise_id, guide_id=earn.guide_id, store_id=earn.store_id, kind=CommissionKind.REVERSE,
            amount=-back, sales_amount=-sales_back, order_id=earn.order_id, order_line=line,
            source_ref=f"return:{doc.pk}", rate=earn.rate, plan_id=earn.plan_id, month=earn.month, actor=actor,
            reason=doc.reason[:255], occurred_at=now))
    _post(entries)
    return entries


@transaction.atomic
def commission_adjust(*, actor: Staff, guide_id: int, amount: int, reason: str) -> CommissionEntry:
    """A manual correction of a guide's commission (commission.manage over the guide's home). Audited."""
    guide = Staff.objects.filter(pk=_id(guide_id, "guide_id"), enterprise_id=actor.enterprise_id).select_related("home").first()
    if guide is None:
        raise NotFound(_("Guide not found."), code="guide_not_found")
    require(actor, Perm.COMMISSION_MANAGE, guide.home)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > 10**9:
        raise ValidationFailed(_("A non-zero whole amount of fen."), code="invalid_amount", details={"field": "amount"})
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 255:
        raise ValidationFailed(_("Say why."), code="required", details={"field": "reason"})
    now = timezone.now()
    entry = CommissionEntry(enterprise_id=actor.enterprise_id, guide=guide, store=guide.home, kind=CommissionKind.ADJUST,
                            amount=amount, source_ref=f"adjust:{now.timestamp():.6f}", month=month_of(now),
                            reason=reason, actor=actor, occurred_at=now)
    _post([entry])
    audit_record(actor=actor, action="guides.commission.adjusted", target=entry, after={"amount": amount},
                 reason=reason, scope_path=guide.home.path)
    return entry
