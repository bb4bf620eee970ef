"""Posting the planned history into the ledgers: stock (receipts, sales, returns), prices and campaigns, payments
and stored value, points and growth, commission, returns with refunds and reversals; then one bulk write per
table and the balances set to what their ledgers now add up to. See history.py for the story."""
import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.utils import timezone

from yundian.inventory.services.ledger import share

from . import history_model as model
from . import history_sql as sql
from .history_model import round_half_up
from .history_rewards import commission, tier_upgrades

DELIVERY_WEEKDAYS = (0, 3)  # standard stores get the truck on Monday and Thursday; community stores daily
POS_METHODS = (("wallet", 60), ("card", 20), ("cash", 20))
DELIVERY_MINUTE = 6 * 60  # the truck comes before any store opens
ONLINE_FULFIL_MINUTES = 90  # a storefront order leaves the store's stock room this long after it was placed


def issue_minute(plan) -> int:
    """When the order's goods leave the shelf, in minutes from its day's midnight (may pass midnight)."""
    return plan.minute + (0 if plan.channel == "pos" else ONLINE_FULFIL_MINUTES)


def midnight_utc(day: date) -> datetime:
    """The start of a local day as a UTC-naive datetime (how the history keeps times)."""
    return timezone.make_aware(datetime.combine(day, time())).astimezone(UTC).replace(tzinfo=None)


class Clock:
    """Local days to UTC-naive datetimes (the history's times are local store times)."""

    def __init__(self, days: list[date]):
        self.midnight = [midnight_utc(d) for d in days]

    def at(self, index: int, minute: int, second: int = 0) -> datetime:
        return self.midnight[index] + timedelta(minutes=minute, seconds=second)


def stock_pass(plans, days, stores, problems, existing: set, costs: dict[int, int], clock: Clock):
    """Walk the days in order: deliveries before opening, then each order takes its lines off the shelf (a line
    with no stock is lost). Every move carries its value at moving-average cost (receipts at `costs`, fen per unit
    or per kilogram). Returns (moves, on_hand, value, orders kept) of the history alone."""
    ndays = len(days)
    demand: dict[tuple[int, int], int] = defaultdict(int)
    weighed: dict[int, bool] = {}
    for plan in plans:
        for line in plan.lines:
            demand[(plan.store.wh_id, line.sku.id)] += line.quantity
            weighed[line.sku.id] = line.sku.weighed
    # the stock-out: the stockout store's best seller that no earlier step stocks (its balance is the history's)
    store = next((s for s in stores if s.id == problems.get("stockout_store")), None)
    if store is not None:
        ranked = sorted(((q, sku) for (wh, sku), q in demand.items()
                         if wh == store.wh_id and not weighed[sku] and (wh, sku) not in existing), reverse=True)
        if ranked:
            problems["stockout"] = {"store_id": store.id, "warehouse_id": store.wh_id, "sku_id": ranked[0][1],
                                    "since_day": max(ndays // 3, ndays - problems.pop("stockout_days"))}
    stop = problems.get("stockout", {})
    stop_key = (stop.get("warehouse_id"), stop.get("sku_id"))
    keys_by_wh: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key in sorted(demand):
        keys_by_wh[key[0]].append(key)
    community = {s.wh_id: s.hour_weights is model.HOURS_COMMUNITY for s in stores}
    by_day: list[list] = [[] for _d in days]
    for plan in plans:
        by_day[plan.day].append(plan)
    on_hand: dict[tuple[int, int], int] = defaultdict(int)
    value: dict[tuple[int, int], int] = defaultdict(int)
    moves: list[tuple] = []  # (sku, wh, kind, quantity, source_type, source_id, reason, actor, at, value)
    kept = []
    def sell(plan):
        wh = plan.store.wh_id
        lines = []
        for line in plan.lines:
            key = (wh, line.sku.id)
            held = on_hand[key]
            if held >= line.quantity:
                line.cost = value[key] if held == line.quantity else share(value[key], line.quantity, held)
                on_hand[key] -= line.quantity
                value[key] -= line.cost
                lines.append(line)
        if lines:
            plan.lines = lines
            kept.append(plan)

    for index in range(ndays):
        weekday = days[index].weekday()
        today = sorted(by_day[index], key=issue_minute)
        early = [p for p in today if issue_minute(p) < DELIVERY_MINUTE]  # online orders of the night: before the truck
        for plan in early:
            sell(plan)
        for wh, keys in keys_by_wh.items():
            daily = community[wh]
            if index and not daily and weekday not in DELIVERY_WEEKDAYS:
                continue
            cover_low, cover_high = (2, 4) if daily else (5, 10)
            when = clock.at(index, DELIVERY_MINUTE)
            for key in keys:
                if key == stop_key and index >= stop["since_day"]:
                    continue
                rate = demand[key] / ndays
                level = on_hand[key]
                if index and level >= rate * cover_low + 1:
                    continue
                target = math.ceil(rate * cover_high) + 2
                if weighed[key[1]]:
                    target = -(-max(target, 3000) // 1000) * 1000
                if target > level:
                    cost = share(costs[key[1]], target - level, 1000) if weighed[key[1]] else \
                        costs[key[1]] * (target - level)
                    moves.append((key[1], wh, "receipt", target - level, "demo_history", "replenish", "", None, when,
                                  cost))
                    on_hand[key] = target
                    value[key] += cost
        for plan in today[len(early):]:
            sell(plan)
    return moves, on_hand, value, kept


def post(ctx, days, stores, plans, campaigns, problems, rngs, progress=None) -> tuple[dict[str, int], list]:
    """Price, pay, earn and return the planned orders and write every row. Returns (rows written per table, the
    orders written)."""
    from yundian.catalog.models import Category
    from yundian.guides.models import CommissionBalance, CommissionEntry
    from yundian.inventory.models import StockBalance, StockMove
    from yundian.members.models import (GrowthEntry, Member, MemberProgram, PointsBalance, PointsEntry, PointsLot,
                                        PointsLotUse, StoredValueBalance, StoredValueEntry)
    from yundian.promotions.models import Promotion, PromotionUsage
    from yundian.sales.models import Order, OrderLine, OrderReturn, Payment, Refund, ReturnLine

    enterprise = ctx.enterprise
    clock = Clock(days)
    ndays = len(days)
    now = timezone.now().astimezone(UTC).replace(tzinfo=None)
    from yundian.inventory.models import SupplierPrice

    from .history_model import COST_SHARE

    existing = set(StockBalance.objects.filter(warehouse_id__in=[s.wh_id for s in stores])
                   .values_list("warehouse_id", "sku_id"))
    costs = {line.sku.id: max(1, round(line.sku.price * COST_SHARE.get(line.sku.top, 0.5)))
             for plan in plans for line in plan.lines}
    costs.update(SupplierPrice.objects.filter(enterprise=enterprise, is_preferred=True, sku_id__in=list(costs))
                 .values_list("sku_id", "unit_cost"))
    moves, on_hand, value, plans = stock_pass(plans, days, stores, problems, existing, costs, clock)
    plans.sort(key=lambda p: (p.day, p.minute, p.store.id))
    counts: dict[str, int] = defaultdict(int)

    # campaigns: real (ended) promotions, so Order.pricing and the usage rows point at something
    admin = ctx.created.get("admin")
    hq = ctx.created["hq"]
    if campaigns:
        cat_ids = dict(Category.objects.filter(enterprise=enterprise).values_list("code", "id"))
        rows = Promotion.objects.bulk_create([
            Promotion(enterprise=enterprise, node=hq, code=c["code"], name=c["name"], kind="percent_off",
                      status="ended", rate=c["rate"], category_ids=[cat_ids[x] for x in c["cats"]],
                      valid_from=clock.at(days.index(c["first"]), 0).replace(tzinfo=UTC),
                      valid_to=clock.at(days.index(c["last"]), 24 * 60 - 1).replace(tzinfo=UTC), created_by=admin)
            for c in campaigns])
        for c, row in zip(campaigns, rows):
            c["id"] = row.pk
        sql.update(Promotion, ["created_at", "updated_at"],
                   [(sql.at(clock.at(days.index(c["first"]), 0) - timedelta(days=7)),) * 2 + (c["id"],)
                    for c in campaigns])
        counts["history_campaigns"] = len(rows)

    # prices, ids, payments, points
    program = MemberProgram.objects.filter(enterprise=enterprise).first()
    per_yuan = Decimal(program.default_points_per_yuan) if program else Decimal(1)
    growth_per_yuan = program.growth_per_yuan if program else 1
    expiry = timedelta(days=(program.points_expiry_days or 0) if program else 365)
    order_ids = sql.allocate_ids(Order, len(plans))
    line_ids = iter(sql.allocate_ids(OrderLine, sum(len(p.lines) for p in plans)))
    payment_ids = sql.allocate_ids(Payment, len(plans))
    rng = rngs["pay"]
    usages, sv_rows, sv_touched = [], [], set()
    usages_of: dict[int, list[list]] = defaultdict(list)  # order id -> its usage rows (a full return reverses them)
    for plan, order_id, payment_id in zip(plans, order_ids, payment_ids):
        plan.id, plan.payment_id = order_id, payment_id
        plan.placed = clock.at(plan.day, plan.minute, rng.randrange(60))
        day = days[plan.day]
        promos = {}
        for c in campaigns:
            if c["first"] <= day <= c["last"]:
                promos.update({cat: c for cat in c["cats"]})
        discount_by_promo: dict[int, int] = defaultdict(int)
        promo_lines: dict[int, list[int]] = defaultdict(list)
        for n, line in enumerate(plan.lines, start=1):
            line.id = next(line_ids)
            sku = line.sku
            line.list_price = sku.price
            campaign = promos.get(sku.cat)
            line.unit_price = round_half_up(sku.price * campaign["rate"]) if campaign else sku.price
            units = Decimal(line.quantity) / 1000 if sku.weighed else Decimal(line.quantity)
            gross, line.line_total = round_half_up(sku.price * units), round_half_up(line.unit_price * units)
            line.discount = max(0, gross - line.line_total)
            line.guide_id = plan.seller.id if plan.seller else None
            if campaign and line.discount:
                discount_by_promo[campaign["id"]] += line.discount
                promo_lines[campaign["id"]].append(n)
        plan.total = sum(line.line_total for line in plan.lines)
        member = plan.member
        if member is not None and member.principal + member.bonus >= plan.total > 0 and rng.random() < 0.55:
            plan.method = "stored_value"
            from_principal = min(member.principal, plan.total)
            member.principal -= from_principal
            member.bonus -= plan.total - from_principal
            sv_rows.append((enterprise.pk, member.id, "spend", -from_principal, -(plan.total - from_principal), "CNY",
                            "payment", str(payment_id), plan.store.id, plan.seller.id if plan.channel == "pos" and
                            plan.seller else None, "", sql.at(plan.placed)))
            sv_touched.add(member.id)
        elif plan.channel == "storefront":
            plan.method = "wallet"
        else:
            plan.method = rng.choices([m for m, _w in POS_METHODS], weights=[w for _m, w in POS_METHODS])[0]
        if member is not None and plan.total >= 100:
            points = Decimal(plan.total) / 100 * per_yuan * member.multiplier
            plan.points = int(points.to_integral_value(rounding=ROUND_FLOOR))
        if discount_by_promo:
            applied = [{"rule_id": c["id"], "code": c["code"], "name": c["name"], "kind": "percent_off",
                        "source": "promotion", "source_id": c["id"], "priority": 0, "exclusive": False,
                        "amount": discount_by_promo[c["id"]], "lines": promo_lines[c["id"]]}
                       for c in campaigns if c["id"] in discount_by_promo]
            plan.promo = {"currency": "CNY", "channel": "store" if plan.channel == "pos" else "online",
                          "at": None, "lines": [], "applied": applied, "not_applicable": [],
                          "subtotal": plan.total + sum(discount_by_promo.values()),
                          "discount_total": sum(discount_by_promo.values()), "total": plan.total}
            for entry in applied:
                joined = member.joined if member is not None else None
                start = clock.at(days.index(next(c["first"] for c in campaigns if c["id"] == entry["rule_id"])), 0)
                usages.append([enterprise.pk, "promotion", entry["rule_id"], str(order_id), plan.store.id,
                               member.id if member else None, bool(joined and joined >= start), plan.total,
                               entry["amount"], False, plan.placed])
                usages_of[order_id].append(usages[-1])
    if progress is not None:
        progress("priced")

    # returns: chosen now (they change order status, refunds and the reversals below)
    rng = rngs["returns"]
    stockout = problems.get("stockout", {})
    returns = []  # (plan, [lines], day index, minute)
    from .history_model import RETURN_RATE, RETURN_REASONS, RETURNS_STORE_FACTOR
    for plan in plans:
        if plan.method == "stored_value":
            continue
        factor = RETURNS_STORE_FACTOR if plan.store.id == problems.get("returns_store") else 1.0
        back = [line for line in plan.lines if rng.random() < RETURN_RATE.get(line.sku.top, 0.02) * factor
                and not (plan.store.id == stockout.get("store_id") and line.sku.id == stockout.get("sku_id"))]
        if not back:
            continue
        index = plan.day + rng.randrange(1, 15)
        if index >= ndays:
            continue
        minute = model.minute_of_day(rng, model.parse_hours(plan.store.opening, days[index].weekday()),
                                     plan.store.hour_weights)
        returns.append((plan, back, index, minute))

    # points: one earn entry + lot per member order, one reverse entry (and lot use) per return of it
    earning = [p for p in plans if p.points > 0]
    reversing = [(p, back, i, m) for p, back, i, m in returns if p.points > 0]
    entry_ids = iter(sql.allocate_ids(PointsEntry, len(earning) + len(reversing)))
    lot_ids = iter(sql.allocate_ids(PointsLot, len(earning)))
    return_ids = iter(sql.allocate_ids(OrderReturn, len(returns)))
    points_rows, lot_rows, use_rows, growth_rows = [], [], [], []
    lot_of: dict[int, tuple[int, int]] = {}
    points_delta: dict[int, int] = defaultdict(int)
    lot_remaining: dict[int, int] = {}
    for plan in earning:
        entry_id, lot_id = next(entry_ids), next(lot_ids)
        at = sql.at(plan.placed)
        growth = plan.total // 100 * growth_per_yuan
        points_rows.append((entry_id, enterprise.pk, plan.member.id, "earn", plan.points, "order", str(plan.id),
                            plan.store.id, None, "", sql.as_json({"paid_fen": plan.total, "growth": growth}), at))
        lot_rows.append((lot_id, plan.member.id, entry_id, plan.points, plan.points,
                         sql.at(plan.placed + expiry) if expiry else None, at))
        lot_of[plan.id] = (lot_id, growth)
        lot_remaining[lot_id] = plan.points
        points_delta[plan.member.id] += plan.points
    for plan in plans:
        if plan.member is not None and plan.total >= 100:
            growth = plan.total // 100 * growth_per_yuan
            if growth:
                growth_rows.append((enterprise.pk, plan.member.id, "order", growth, plan.total, sql.at(plan.placed),
                                    "order", str(plan.id), sql.at(plan.placed)))

    # returns, refunds, stock back, points and growth back, commission back (below)
    return_rows, return_line_rows, refund_rows, order_updates, payment_refunds = [], [], [], [], []
    reverse_lines: list[tuple] = []  # (plan, line, quantity, return id, at)
    for plan, back, index, minute in returns:
        doc_id = next(return_ids)
        when = clock.at(index, minute, rng.randrange(60))
        at = sql.at(when)
        amount = 0
        for line in back:
            refund = line.line_total  # the whole line comes back
            line.returned, line.returned_amount = line.quantity, refund
            amount += refund
            return_line_rows.append((doc_id, line.id, line.sku.id, line.quantity, refund, plan.store.wh_id,
                                     line.quantity))
            moves.append((line.sku.id, plan.store.wh_id, "return", line.quantity, "return", str(doc_id),
                          f"order:{plan.id}", plan.seller.id if plan.seller and plan.channel == "pos" else None, when,
                          line.cost))  # back at the cost it left with
            on_hand[(plan.store.wh_id, line.sku.id)] += line.quantity
            value[(plan.store.wh_id, line.sku.id)] += line.cost
            reverse_lines.append((plan, line, line.quantity, doc_id, when))
        full = all(line.returned >= line.quantity for line in plan.lines)
        plan.returned = True
        clerk = plan.seller.id if plan.seller and plan.channel == "pos" else None
        return_rows.append((doc_id, at, at, enterprise.pk, plan.store.id, plan.id, f"hist-return-{ctx.seed}-{doc_id}",
                            "", amount, "", rng.choice(RETURN_REASONS), None, None, clerk))
        if amount:
            refund_rows.append((at, at, plan.id, plan.payment_id, amount, f"return:{doc_id}", clerk))
            payment_refunds.append((amount, plan.payment_id))
        order_updates.append((amount, "returned" if full else "partially_returned", plan.id))
        if full:
            for u in usages_of[plan.id]:
                u[9] = True
        if plan.id in lot_of and amount:
            lot_id, growth = lot_of[plan.id]
            take = plan.points * amount // plan.total
            entry_id = next(entry_ids)
            detail = {"order_ref": str(plan.id), "returned_fen": amount, "shortfall": 0}
            points_rows.append((entry_id, enterprise.pk, plan.member.id, "reverse", -take, "return", str(doc_id),
                                plan.store.id, clerk, "", sql.as_json(detail), at))
            if take:
                use_rows.append((entry_id, lot_id, take))
                lot_remaining[lot_id] -= take
                points_delta[plan.member.id] -= take
            growth_back = growth * amount // plan.total
            growth_rows.append((enterprise.pk, plan.member.id, "reverse", -growth_back, -amount, sql.at(plan.placed),
                                "return", str(doc_id), at))
    lot_rows = [(lot_id, m, e, p, lot_remaining[lot_id], x, c) for lot_id, m, e, p, _r, x, c in lot_rows]

    # commission: each guided line by the store's plan (category rule or default rate, + the monthly tier bonus)
    commission_rows = commission(enterprise, plans, reverse_lines, stores, days)
    commission_totals: dict[int, int] = defaultdict(int)
    for row in commission_rows:
        commission_totals[row[1]] += row[4]

    # write
    if progress is not None:
        progress("writing")
    counts["history_campaigns"] = counts.get("history_campaigns", 0)
    order_rows, line_rows, payment_rows = [], [], []
    for plan in plans:
        at = sql.at(plan.placed)
        pos = plan.channel == "pos"
        clerk = plan.seller.id if pos and plan.seller else None
        fulfilled = plan.placed if pos else min(plan.placed + timedelta(minutes=ONLINE_FULFIL_MINUTES),
                                                now - timedelta(minutes=1))
        subtotal = sum(l.line_total + l.discount for l in plan.lines)
        order_rows.append((plan.id, at, at, enterprise.pk, plan.store.id, plan.channel,
                           "take_now" if pos else "delivery", "completed" if pos else "fulfilled",
                           f"hist-{ctx.seed}-{plan.id}", "", clerk, plan.member.id if plan.member else None,
                           plan.store.wh_id, "CNY", subtotal, max(0, subtotal - plan.total), plan.total, plan.total, 0,
                           plan.points, "", sql.as_json({"address": "上海市黄浦区南京东路 1 号"} if not pos else {}), at,
                           at, sql.at(fulfilled), None, 0, sql.as_json(plan.promo or {}), "", at))
        for n, l in enumerate(plan.lines, start=1):
            line_rows.append((l.id, plan.id, n, l.sku.id, l.sku.code, l.sku.name, l.sku.category_id, l.sku.weighed,
                              l.quantity, l.list_price, l.unit_price, l.discount, l.line_total, l.guide_id,
                              plan.store.wh_id, l.quantity, 0, 0))
            moves.append((l.sku.id, plan.store.wh_id, "sale_issue", -l.quantity, "order", str(plan.id), "", clerk,
                          plan.placed if pos else fulfilled, -l.cost))
        tendered, change = plan.total, 0
        if plan.method == "cash":
            rng = rngs["pay"]
            tendered = -(-plan.total // 1000) * 1000 if rng.random() < 0.6 else -(-plan.total // 10000) * 10000
            change = tendered - plan.total
        if plan.total > 0:
            payment_rows.append((plan.payment_id, at, at, plan.id, plan.method, plan.total, tendered, change, 0,
                                 plan.method, "", clerk))
    counts["history_orders"] = sql.insert(Order, [
        "id", "created_at", "updated_at", "enterprise", "store", "channel", "mode", "status", "client_ref",
        "request_hash", "clerk", "member", "warehouse", "currency", "subtotal", "discount_total", "total", "paid_total",
        "refunded_total", "points_earned", "note", "delivery", "placed_at", "paid_at", "fulfilled_at", "cancelled_at",
        "receipt_prints", "pricing", "share_code", "received_at"], order_rows)
    counts["history_order_lines"] = sql.insert(OrderLine, [
        "id", "order", "line_no", "sku", "sku_code", "name", "category_id", "is_weighed", "quantity", "list_price",
        "unit_price", "discount", "line_total", "guide", "warehouse", "shipped_quantity", "returned_quantity",
        "returned_amount"], line_rows)
    counts["history_payments"] = sql.insert(Payment, [
        "id", "created_at", "updated_at", "order", "method", "amount", "tendered", "change", "refunded_amount",
        "client_ref", "reference", "taken_by"], payment_rows)
    counts["history_returns"] = sql.insert(OrderReturn, [
        "id", "created_at", "updated_at", "enterprise", "store", "order", "client_ref", "request_hash", "refund_total",
        "refund_method", "reason", "approval", "exchange_order", "created_by"], return_rows)
    sql.insert(ReturnLine, ["return_doc", "order_line", "sku", "quantity", "amount", "warehouse", "restocked"],
               return_line_rows)
    sql.insert(Refund, ["created_at", "updated_at", "order", "payment", "amount", "source_ref", "refunded_by"],
               refund_rows)
    sql.update(OrderLine, ["returned_quantity", "returned_amount"],
               [(l.returned, l.returned_amount, l.id) for _p, l, _q, _d, _w in reverse_lines])
    sql.update(Order, ["refunded_total", "status"], order_updates)
    sql.update(Payment, ["refunded_amount"], payment_refunds)
    counts["history_stock_moves"] = sql.insert(StockMove, [
        "enterprise", "sku", "warehouse", "kind", "quantity", "reserved_delta", "value", "source_type", "source_id",
        "reason", "actor", "occurred_at"], [(enterprise.pk, s, w, k, q, 0, v, st, si, r, a, sql.at(t))
                                            for s, w, k, q, st, si, r, a, t, v in moves])
    counts["history_points_entries"] = sql.insert(PointsEntry, [
        "id", "enterprise", "member", "kind", "points", "source_type", "source_id", "store", "actor", "reason",
        "detail", "created_at"], points_rows)
    sql.insert(PointsLot, ["id", "member", "entry", "points", "remaining", "expires_at", "created_at"], lot_rows)
    sql.insert(PointsLotUse, ["entry", "lot", "points"], use_rows)
    counts["history_growth_entries"] = sql.insert(GrowthEntry, [
        "enterprise", "member", "kind", "growth", "amount_fen", "occurred_at", "source_type", "source_id",
        "created_at"], growth_rows)
    counts["history_stored_value_entries"] = sql.insert(StoredValueEntry, [
        "enterprise", "member", "kind", "principal", "bonus", "currency", "source_type", "source_id", "store", "actor",
        "reason", "created_at"], sv_rows)
    counts["history_commission_entries"] = sql.insert(CommissionEntry, [
        "enterprise", "guide", "store", "kind", "amount", "sales_amount", "order", "order_line", "source_ref", "rate",
        "plan", "month", "reason", "actor", "occurred_at"], commission_rows)
    counts["history_promotion_usages"] = sql.insert(PromotionUsage, [
        "enterprise", "source", "source_id", "order_ref", "store", "member", "is_new_member", "gmv", "discount",
        "is_reversed", "at"], [(*u[:10], sql.at(u[10])) for u in usages])

    # balances: add what the history posted
    current = {(w, s): (pk, q, v) for pk, w, s, q, v in StockBalance.objects.filter(
        warehouse_id__in=[s.wh_id for s in stores]).values_list("pk", "warehouse_id", "sku_id", "on_hand", "value")}
    sql.update(StockBalance, ["on_hand", "value"],
               [(current[k][1] + q, current[k][2] + value[k], current[k][0]) for k, q in sorted(on_hand.items())
                if k in current and (q or value[k])])
    StockBalance.objects.bulk_create([StockBalance(warehouse_id=w, sku_id=s, on_hand=q, value=value[(w, s)])
                                      for (w, s), q in sorted(on_hand.items()) if (w, s) not in current],
                                     batch_size=sql.BATCH)
    points_now = dict(PointsBalance.objects.filter(member_id__in=list(points_delta)).values_list("member_id", "points"))
    sql.update(PointsBalance, ["points"], [(points_now[m] + d, m) for m, d in sorted(points_delta.items())
                                           if m in points_now])
    PointsBalance.objects.bulk_create([PointsBalance(member_id=m, points=d) for m, d in sorted(points_delta.items())
                                       if m not in points_now])
    members = {p.member.id: p.member for p in plans if p.member is not None}
    sql.update(StoredValueBalance, ["principal", "bonus"], [(members[m].principal, members[m].bonus, m)
                                                            for m in sorted(sv_touched)])
    have = dict(CommissionBalance.objects.filter(guide_id__in=list(commission_totals)).values_list("guide_id", "amount"))
    sql.update(CommissionBalance, ["amount"], [(have[g] + a, g) for g, a in sorted(commission_totals.items())
                                               if g in have])
    CommissionBalance.objects.bulk_create([CommissionBalance(guide_id=g, enterprise=enterprise, amount=a)
                                           for g, a in sorted(commission_totals.items()) if g not in have])
    # members joined when the history says (created_at is when they registered)
    dated = sorted((m for m in ctx.created.get("history_members", []) if m.joined is not None), key=lambda m: m.id)
    joined = [(sql.at(m.joined), sql.at(m.joined), m.id) for m in dated]
    sql.update(Member, ["created_at", "tier_since"], joined)
    sql.update(Member, ["guide_bound_at"], [(sql.at(m.joined), m.id) for m in dated if m.guide_id])
    counts["history_members_dated"] = len(joined)
    counts["history_tier_upgrades"] = tier_upgrades(enterprise, program, plans, now)  # after: sets tier_since
    return dict(counts), plans
