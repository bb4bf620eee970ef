"""Replenishment on live data: daily sales per SKU, inventory position, suggestions, and the scheduled run that
turns suggestions into draft purchase orders (maths in ..replenishment)."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from yundian.org.models import Staff
from yundian.org.roles import Perm

from .. import replenishment as maths
from ..models import (MoveKind, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, ReplenishmentRule, StockBalance,
                      StockMove, TransferLine, TransferStatus, Warehouse, WarehouseKind)
from .ledger import resolve_warehouses
from .purchasing import purchase_order_create


@dataclass(frozen=True)
class Suggestion:
    sku_id: int
    method: str  # velocity | minmax
    on_hand: int
    reserved: int
    on_order: int
    mean_daily: float
    quantity: int

    @property
    def position(self) -> int:
        return self.on_hand - self.reserved + self.on_order


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def daily_sales(*, warehouse_id: int, days: int, until: date, sku_ids: list[int] | None = None) -> dict[int, list[int]]:
    """Units sold per SKU on each of the `days` days before `until` (oldest first; zeros on days without sales)."""
    start = until - timedelta(days=days)
    qs = StockMove.objects.filter(warehouse_id=warehouse_id, kind=MoveKind.SALE_ISSUE,
                                  occurred_at__gte=_day_start(start), occurred_at__lt=_day_start(until))
    if sku_ids is not None:
        qs = qs.filter(sku_id__in=sku_ids)
    rows = (qs.annotate(day=TruncDate("occurred_at", tzinfo=timezone.get_current_timezone()))
            .values("sku_id", "day").annotate(units=Sum("quantity")).order_by())
    out: dict[int, list[int]] = defaultdict(lambda: [0] * days)
    for row in rows:
        index = (row["day"] - start).days
        if 0 <= index < days:
            out[row["sku_id"]][index] = -row["units"]
    return dict(out)


def on_order(warehouse_id: int) -> dict[int, int]:
    """Units on the way into a warehouse: open supplier orders (and orders to HQ not yet approved) plus open
    transfers in (an approved order to HQ is counted through its transfer)."""
    totals: dict[int, int] = defaultdict(int)
    open_po = Q(order__status__in=[PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SUBMITTED]) | Q(
        order__supplier__isnull=False, order__status__in=[PurchaseOrderStatus.APPROVED, PurchaseOrderStatus.PARTIAL])
    for sku_id, quantity, received in PurchaseOrderLine.objects.filter(open_po, order__warehouse_id=warehouse_id) \
            .values_list("sku_id", "quantity", "received"):
        totals[sku_id] += max(quantity - received, 0)
    lines = TransferLine.objects.filter(transfer__to_warehouse_id=warehouse_id)
    for sku_id, quantity in lines.filter(transfer__status__in=[TransferStatus.REQUESTED, TransferStatus.APPROVED]) \
            .values_list("sku_id", "quantity"):
        totals[sku_id] += quantity
    for sku_id, shipped in lines.filter(transfer__status=TransferStatus.SHIPPED).values_list("sku_id", "shipped"):
        totals[sku_id] += shipped
    return dict(totals)


def _policy(rule: ReplenishmentRule) -> maths.Policy:
    return maths.Policy(rule.lead_time_days, rule.review_period_days, rule.safety_factor, rule.window_days,
                        rule.min_quantity, rule.max_quantity)


def suggestions_for(warehouse: Warehouse, *, today: date | None = None) -> list[tuple[ReplenishmentRule, Suggestion]]:
    """A suggestion for every active rule of the warehouse (quantity 0 when nothing is needed)."""
    today = today or timezone.localdate()
    rules = list(ReplenishmentRule.objects.filter(warehouse=warehouse, is_active=True).order_by("sku_id"))
    if not rules:
        return []
    window = max(r.window_days for r in rules)
    sales = daily_sales(warehouse_id=warehouse.id, days=window, until=today, sku_ids=[r.sku_id for r in rules])
    first_sale = dict(StockMove.objects.filter(warehouse=warehouse, kind=MoveKind.SALE_ISSUE,
                                               sku_id__in=[r.sku_id for r in rules])
                      .values("sku_id").annotate(first=Min("occurred_at")).values_list("sku_id", "first"))
    balances = {s: (q, r) for s, q, r in StockBalance.objects.filter(warehouse=warehouse).values_list(
        "sku_id", "on_hand", "reserved")}
    incoming = on_order(warehouse.id)
    out = []
    for rule in rules:
        history = sales.get(rule.sku_id, [0] * window)[-rule.window_days:]
        # only days since the SKU first sold here count as history (a new SKU has none: min/max)
        first = first_sale.get(rule.sku_id)
        known = 0 if first is None else min((today - timezone.localdate(first)).days, rule.window_days)
        history = history[len(history) - known:] if known else []
        on_hand, reserved = balances.get(rule.sku_id, (0, 0))
        position = on_hand - reserved + incoming.get(rule.sku_id, 0)
        method, quantity = maths.suggest(history, position, _policy(rule))
        mean = sum(history) / len(history) if history else 0.0
        out.append((rule, Suggestion(rule.sku_id, method, on_hand, reserved, incoming.get(rule.sku_id, 0),
                                     round(mean, 2), quantity)))
    return out


def replenishment_suggest(*, actor: Staff, warehouse_id: int, today: date | None = None) -> list[Suggestion]:
    """Suggested order quantities for a warehouse in the actor's stock.view scope."""
    warehouse = resolve_warehouses(actor=actor, warehouse_ids=[warehouse_id], perm=Perm.STOCK_VIEW)[warehouse_id]
    return [s for _r, s in suggestions_for(warehouse, today=today)]


def _default_source(warehouse: Warehouse) -> Warehouse | None:
    """The nearest central warehouse above the warehouse's node (a store orders from its region or HQ)."""
    ids = [int(p) for p in warehouse.node.path.strip("/").split("/") if p]
    centrals = {w.node_id: w for w in Warehouse.objects.filter(node_id__in=ids, kind=WarehouseKind.CENTRAL,
                                                              is_active=True).order_by("-id")}
    for node_id in reversed(ids):
        if node_id in centrals and centrals[node_id].id != warehouse.id:
            return centrals[node_id]
    return None


def replenishment_run(*, enterprise_id: int | None = None, today: date | None = None) -> list[PurchaseOrder]:
    """Draft purchase orders for every warehouse with active rules (a system task; one transaction per warehouse).

    Idempotent: draft orders count as on order, so a second run the same day suggests nothing more.
    """
    created = []
    warehouses = Warehouse.objects.filter(is_active=True, replenishment_rules__is_active=True).distinct()
    if enterprise_id is not None:
        warehouses = warehouses.filter(enterprise_id=enterprise_id)
    for warehouse in warehouses.select_related("node").order_by("id"):
        with transaction.atomic():
            groups: dict[tuple, list] = defaultdict(list)
            for rule, suggestion in suggestions_for(warehouse, today=today):
                if suggestion.quantity <= 0:
                    continue
                source = (rule.supplier_id, None) if rule.supplier_id else (
                    None, rule.source_warehouse_id or getattr(_default_source(warehouse), "id", None))
                if source == (None, None):
                    continue
                groups[source].append((suggestion.sku_id, suggestion.quantity))
            for (supplier_id, source_id), lines in sorted(groups.items(), key=lambda g: (g[0][0] or 0, g[0][1] or 0)):
                created.append(purchase_order_create(
                    actor=None, enterprise_id=warehouse.enterprise_id, warehouse_id=warehouse.id, lines=lines,
                    supplier_id=supplier_id, source_warehouse_id=source_id, origin="replenishment",
                    note="auto-replenishment"))
    return created
