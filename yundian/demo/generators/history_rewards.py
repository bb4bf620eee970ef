"""What the history's orders earn people: commission for guides (as guides.commission_post_for_order would post
it) and tier upgrades for members (as the points hook's tier_upgrade_if_qualified would make them)."""
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from . import history_sql as sql
from .history_model import round_half_up


def tier_upgrades(enterprise, program, plans, now: datetime) -> int:
    """Members whose growth over the window now reaches a higher tier move up, as the points hook would have
    moved them at the order that crossed the line (never down: that is the nightly review's call)."""
    from django.db.models import Sum

    from yundian.members.models import GrowthEntry, Member, Tier, TierChange

    window = timedelta(days=program.growth_window_days if program else 365)
    last: dict[int, datetime] = {}
    for plan in plans:
        if plan.member is not None:
            last[plan.member.id] = plan.placed
    if not last:
        return 0
    tiers = sorted(Tier.objects.filter(enterprise=enterprise), key=lambda t: t.min_growth)
    rank = {t.pk: t.rank for t in tiers}
    growth = dict(GrowthEntry.objects.filter(enterprise=enterprise, member_id__in=list(last),
                                             occurred_at__gt=(now - window).replace(tzinfo=UTC))
                  .values("member_id").annotate(s=Sum("growth")).order_by().values_list("member_id", "s"))
    updates, changes = [], []
    for member_id, tier_id in (Member.objects.filter(pk__in=list(last)).order_by("pk")
                               .values_list("pk", "tier_id")):
        g = growth.get(member_id) or 0
        best = next((t for t in reversed(tiers) if t.min_growth <= g), None)
        if best is None or best.rank <= rank.get(tier_id, -1):
            continue
        at = last[member_id]
        updates.append((best.pk, sql.at(at), sql.at(at + window), member_id))
        changes.append((member_id, tier_id, best.pk, "upgrade", g, sql.at(at)))
    sql.update(Member, ["tier", "tier_since", "tier_review_at"], updates)
    sql.insert(TierChange, ["member", "from_tier", "to_tier", "reason", "growth", "at"], changes)
    return len(changes)


def commission(enterprise, plans, reverse_lines, stores, days) -> list[tuple]:
    """Commission entries (tuples in CommissionEntry column order) for every guided line by the store's active plan
    (the nearest up its path): a category rule or the default rate plus the monthly tier bonus on the guide's sales
    so far this month; a returned line reverses what it earned, pro rata."""
    from yundian.catalog.models import Category
    from yundian.guides.models import CommissionPlan

    store_ids = {s.id for s in stores}
    path_of = {s.id: s.path for s in stores}
    active = {p.node_id: p for p in CommissionPlan.objects.filter(enterprise=enterprise, is_active=True)
              .prefetch_related("rules", "tiers")}
    if not active:
        return []
    cat_path = dict(Category.objects.filter(enterprise=enterprise).values_list("pk", "path"))

    def plan_for(store_id):
        ids = [int(p) for p in path_of[store_id].strip("/").split("/") if p]
        return next((active[i] for i in reversed(ids) if i in active), None)

    plan_by_store = {s: plan_for(s) for s in store_ids}
    rule_cache: dict[tuple[int, int], object] = {}

    def rule_for(plan, sku):
        key = (plan.pk, sku.id)
        if key not in rule_cache:
            best, rank = None, None
            path = cat_path.get(sku.category_id, "")
            for rule in plan.rules.all():
                if rule.sku_id == sku.id:
                    r = (3, 0)
                elif rule.category_id and path.startswith(cat_path.get(rule.category_id, "\0")):
                    r = (1, len(cat_path[rule.category_id]))
                else:
                    continue
                if rank is None or r > rank:
                    best, rank = rule, r
            rule_cache[key] = best
        return rule_cache[key]

    rows, earned, tiers_of = [], {}, {}
    month_sales: dict[tuple[int, date], int] = defaultdict(int)
    for plan in plans:
        guided = [l for l in plan.lines if l.guide_id]
        cplan = plan_by_store.get(plan.store.id)
        if not guided or cplan is None:
            continue
        local = days[plan.day]
        month = date(local.year, local.month, 1)
        for line in guided:
            month_sales[(line.guide_id, month)] += line.line_total
        tiers = tiers_of.get(cplan.pk)
        if tiers is None:
            tiers = tiers_of[cplan.pk] = sorted(cplan.tiers.all(), key=lambda t: t.min_month_sales)
        for line in guided:
            rule = rule_for(cplan, line.sku)
            if rule is not None and rule.is_excluded:
                continue
            if rule is not None and rule.fixed_amount is not None:
                amount, rate = rule.fixed_amount * (1 if line.sku.weighed else line.quantity), None
            else:
                rate = rule.rate if rule is not None else cplan.default_rate
                for tier in tiers:
                    if month_sales[(line.guide_id, month)] >= tier.min_month_sales:
                        rate = (rule.rate if rule is not None else cplan.default_rate) + tier.bonus_rate
                amount = round_half_up(Decimal(line.line_total) * rate)
            earned[line.id] = (amount, rate, cplan.pk, month)
            rows.append((enterprise.pk, line.guide_id, plan.store.id, "earn", amount, line.line_total, plan.id, line.id,
                         f"line:{line.id}", None if rate is None else sql.decimal(rate), cplan.pk, sql.day(month), "",
                         None, sql.at(plan.placed)))
    for plan, line, quantity, doc_id, when in reverse_lines:
        if line.id not in earned:
            continue
        amount, rate, plan_id, month = earned[line.id]
        back = amount * quantity // line.quantity
        rows.append((enterprise.pk, line.guide_id, plan.store.id, "reverse", -back, -line.returned_amount, plan.id,
                     line.id, f"return:{doc_id}", None if rate is None else sql.decimal(rate), plan_id, sql.day(month),
                     "", None, sql.at(when)))
    return rows
