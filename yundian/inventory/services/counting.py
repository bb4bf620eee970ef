"""Stocktakes (full or cycle counts, scanned by barcode) and adjustments with reason codes and approval."""
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Category, Sku
from yundian.catalog.selectors import scan_resolve
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require

from ..locks import lock_stocktake
from ..models import (Adjustment, AdjustmentLine, AdjustmentReason, MoveKind, StockBalance, Stocktake, StocktakeLine,
                      Warehouse)
from ._common import MAX_LINES, clean_id, clean_quantity, clean_text
from ._docs import assign_number, clean_sku_lines, get_scoped, temp_number
from .ledger import Posting, resolve_skus, resolve_warehouses

CHUNK = 2000


def approval_threshold() -> int:
    """Adjustments and stocktake variances worth more than this (fen, at base price) need stock.approve."""
    return int(getattr(settings, "INVENTORY_APPROVAL_THRESHOLD_FEN", 50_000))


def _value(quantities: dict[int, int]) -> int:
    """Sum of |quantity| x base price (fen) over {sku_id: quantity}."""
    total = 0
    ids = [s for s, q in quantities.items() if q]
    for i in range(0, len(ids), CHUNK):
        for sku_id, price in Sku.objects.filter(pk__in=ids[i:i + CHUNK]).values_list("pk", "base_price"):
            total += abs(quantities[sku_id]) * price
    return total


# --- stocktake ---------------------------------------------------------------------------------------------

@transaction.atomic
def stocktake_start(*, actor: Staff, warehouse_id: int, kind: str, sku_ids: list[int] | None = None,
                    category_id: int | None = None, note: str = "") -> Stocktake:
    """Open a count of a warehouse and freeze the system quantities of its lines.

    full: every SKU with a balance row in the warehouse (found SKUs are added when scanned); cycle: the given
    SKUs and/or a category subtree. One open stocktake per warehouse (409 `stocktake_open`).
    """
    warehouse = resolve_warehouses(actor=actor, warehouse_ids=[warehouse_id], perm=Perm.STOCK_MANAGE)[warehouse_id]
    if kind not in Stocktake.Kind.values:
        raise ValidationFailed(_("Unknown stocktake kind."), code="invalid_kind", details={"field": "kind"})
    balances = StockBalance.objects.filter(warehouse=warehouse)
    if kind == Stocktake.Kind.FULL:
        frozen = dict(balances.values_list("sku_id", "on_hand"))
    else:
        wanted: set[int] = set()
        if sku_ids:
            if not isinstance(sku_ids, list | tuple) or len(sku_ids) > MAX_LINES:
                raise ValidationFailed(_("Too many lines."), code="too_many_lines")
            wanted.update(clean_id(s, "sku_ids") for s in sku_ids)
            resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=wanted)
        if category_id is not None:
            category = Category.objects.filter(enterprise_id=actor.enterprise_id, pk=category_id).first()
            if category is None:
                raise NotFound(_("Category not found."), code="category_not_found")
            wanted.update(Sku.objects.filter(enterprise_id=actor.enterprise_id,
                                             product__category__path__startswith=category.path).values_list("pk", flat=True))
        if not wanted:
            raise ValidationFailed(_("A cycle count needs SKUs or a category."), code="no_lines")
        frozen = {s: 0 for s in wanted}
        for i in range(0, len(ordered := sorted(wanted)), CHUNK):
            frozen.update(balances.filter(sku_id__in=ordered[i:i + CHUNK]).values_list("sku_id", "on_hand"))
    try:
        with transaction.atomic():
            stocktake = Stocktake.objects.create(enterprise_id=actor.enterprise_id, number=temp_number(),
                                                 warehouse=warehouse, kind=kind, started_by=actor,
                                                 note=clean_text(note, "note", 255, required=False))
    except IntegrityError:
        raise Conflict(_("This warehouse already has a count in progress."), code="stocktake_open")
    assign_number(stocktake, "ST")
    StocktakeLine.objects.bulk_create([StocktakeLine(stocktake=stocktake, sku_id=s, frozen_on_hand=q)
                                       for s, q in sorted(frozen.items())], batch_size=2000)
    audit_record(actor=actor, action="stocktake.start", target=stocktake,
                 after={"kind": kind, "lines": len(frozen)}, scope_path=warehouse.node.path)
    return stocktake


def _stocktake_for(actor: Staff, stocktake_id: int) -> Stocktake:
    get_scoped(Stocktake, actor=actor, pk=stocktake_id, path_field="warehouse__node__path", code="stocktake_not_found")
    stocktake = lock_stocktake(stocktake_id)
    stocktake.warehouse = Warehouse.objects.select_related("node").get(pk=stocktake.warehouse_id)
    return stocktake


@transaction.atomic
def stocktake_count(*, actor: Staff, stocktake_id: int, lines: Any, mode: str = "add") -> int:
    """Record counts: lines of {"sku_id" or "barcode", "quantity"}; mode "add" adds (one scan = one unit),
    "set" replaces. Each counted line keeps the system quantity at that moment (sales during the count are
    then accounted for). Returns the number of lines recorded."""
    stocktake = _stocktake_for(actor, stocktake_id)
    require(actor, Perm.STOCK_MANAGE, stocktake.warehouse.node)
    if stocktake.status != Stocktake.Status.COUNTING:
        raise Conflict(_("Counting has ended for this stocktake."), code="stocktake_not_counting",
                       details={"status": stocktake.status})
    if mode not in ("add", "set"):
        raise ValidationFailed(_("Mode is add or set."), code="invalid_mode", details={"field": "mode"})
    if not isinstance(lines, list | tuple) or not lines or len(lines) > MAX_LINES:
        raise ValidationFailed(_("At least one line is needed."), code="no_lines")
    pairs = []
    for index, raw in enumerate(lines):
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Each line is {sku_id or barcode, quantity}."), code="invalid_line",
                                   details={"line": index})
        quantity = raw.get("quantity", 1)
        try:
            quantity = clean_quantity(quantity, allow_zero=(mode == "set"))
            if raw.get("barcode") is not None:
                sku_id = scan_resolve(enterprise_id=actor.enterprise_id, code=raw["barcode"],
                                      node=stocktake.warehouse.node).sku.pk
            else:
                sku_id = clean_id(raw.get("sku_id"), "sku_id")
        except (ValidationFailed, NotFound) as exc:
            exc.details["line"] = index
            raise
        pairs.append((sku_id, quantity))
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=[s for s, _q in pairs])
    sku_ids = sorted({s for s, _q in pairs})
    existing = {l.sku_id: l for l in StocktakeLine.objects.filter(stocktake=stocktake, sku_id__in=sku_ids)}
    outside = [s for s in sku_ids if s not in existing]
    if outside and stocktake.kind == Stocktake.Kind.CYCLE:
        raise ValidationFailed(_("These SKUs are not part of this count."), code="sku_not_in_count",
                               details={"sku_ids": outside})
    system = dict(StockBalance.objects.filter(warehouse_id=stocktake.warehouse_id, sku_id__in=sku_ids)
                  .values_list("sku_id", "on_hand"))
    now = timezone.now()
    for sku_id in outside:  # a full count finds something the system did not know was here
        existing[sku_id] = StocktakeLine.objects.create(stocktake=stocktake, sku_id=sku_id,
                                                        frozen_on_hand=system.get(sku_id, 0))
    for sku_id, quantity in pairs:
        line = existing[sku_id]
        line.counted = quantity if mode == "set" or line.counted is None else line.counted + quantity
        line.system_at_count = system.get(sku_id, 0)
        line.counted_at = now
    StocktakeLine.objects.bulk_update(list({existing[s] for s, _q in pairs}), ["counted", "system_at_count", "counted_at"])
    return len(pairs)


@transaction.atomic
def stocktake_submit(*, actor: Staff, stocktake_id: int) -> Stocktake:
    """End counting; the variances go to review."""
    stocktake = _stocktake_for(actor, stocktake_id)
    require(actor, Perm.STOCK_MANAGE, stocktake.warehouse.node)
    if stocktake.status != Stocktake.Status.COUNTING:
        raise Conflict(_("Counting has ended for this stocktake."), code="stocktake_not_counting",
                       details={"status": stocktake.status})
    stocktake.status = Stocktake.Status.REVIEW
    stocktake.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="stocktake.submit", target=stocktake, after={"status": stocktake.status},
                 scope_path=stocktake.warehouse.node.path)
    return stocktake


def stocktake_variances(stocktake: Stocktake) -> dict[int, int]:
    """{sku_id: counted - system when counted} for counted lines (a preview; posting fixes the final figures)."""
    return {s: c - (a or 0) for s, c, a in StocktakeLine.objects.filter(stocktake=stocktake, counted__isnull=False)
            .values_list("sku_id", "counted", "system_at_count") if c != (a or 0)}


@transaction.atomic
def stocktake_post(*, actor: Staff, stocktake_id: int) -> Stocktake:
    """Post a reviewed stocktake: one stocktake_correction move per line whose count differs.

    variance = counted - system quantity when counted, added to what is on hand now (sales since the count
    stay counted). A full count treats lines never counted as 0 (variance = -on hand now); a cycle count skips
    them. A correction never takes on hand below what is reserved (it is clamped; the line keeps the variance
    applied). Variances worth more than the approval threshold need stock.approve. Posting twice -> 409
    `stocktake_posted`. Locks the stocktake, then all its balance rows in (sku, warehouse) order.
    """
    stocktake = _stocktake_for(actor, stocktake_id)
    require(actor, Perm.STOCK_MANAGE, stocktake.warehouse.node)
    if stocktake.status == Stocktake.Status.POSTED:
        raise Conflict(_("This stocktake was already posted."), code="stocktake_posted")
    if stocktake.status != Stocktake.Status.REVIEW:
        raise Conflict(_("Submit the count for review first."), code="stocktake_not_in_review",
                       details={"status": stocktake.status})
    lines = list(StocktakeLine.objects.filter(stocktake=stocktake).only("id", "sku_id", "counted", "system_at_count"))
    full = stocktake.kind == Stocktake.Kind.FULL
    wanted = {}
    for line in lines:
        if line.counted is not None:
            if line.counted != line.system_at_count:
                wanted[line.sku_id] = line.counted - (line.system_at_count or 0)
        elif full:
            wanted[line.sku_id] = None  # uncounted in a full count: whatever is on hand now goes
    warehouse_id = stocktake.warehouse_id
    posting = Posting(enterprise_id=stocktake.enterprise_id, actor=actor, source_type="stocktake",
                      source_id=str(stocktake.pk))
    rows = posting.lock((s, warehouse_id) for s in wanted)
    applied: dict[int, int] = {}
    for sku_id, variance in wanted.items():
        row = rows[(sku_id, warehouse_id)]
        if variance is None:
            variance = -row.on_hand
        variance = max(variance, row.reserved - row.on_hand)
        if variance:
            applied[sku_id] = variance
    if _value(applied) > approval_threshold() and not has_perm(actor, Perm.STOCK_APPROVE, stocktake.warehouse.node):
        raise Forbidden(_("Variances this large need a manager's approval."), code="approval_required",
                        details={"value": _value(applied), "threshold": approval_threshold()})
    for sku_id, variance in applied.items():
        posting.add(sku_id, warehouse_id, MoveKind.STOCKTAKE_CORRECTION, quantity=variance, reason=stocktake.number)
    posting.commit()
    changed = []
    for line in lines:
        variance = applied.get(line.sku_id, 0)
        if variance:
            line.variance = variance
            changed.append(line)
    StocktakeLine.objects.bulk_update(changed, ["variance"], batch_size=2000)
    StocktakeLine.objects.filter(stocktake=stocktake, variance__isnull=True).update(variance=0)
    stocktake.status, stocktake.posted_by, stocktake.posted_at = Stocktake.Status.POSTED, actor, timezone.now()
    stocktake.save(update_fields=["status", "posted_by", "posted_at", "updated_at"])
    audit_record(actor=actor, action="stocktake.post", target=stocktake,
                 after={"lines": len(lines), "corrections": len(applied), "units": sum(applied.values())},
                 scope_path=stocktake.warehouse.node.path)
    return stocktake


@transaction.atomic
def stocktake_cancel(*, actor: Staff, stocktake_id: int) -> Stocktake:
    stocktake = _stocktake_for(actor, stocktake_id)
    require(actor, Perm.STOCK_MANAGE, stocktake.warehouse.node)
    if stocktake.status not in (Stocktake.Status.COUNTING, Stocktake.Status.REVIEW):
        raise Conflict(_("This stocktake was already posted or cancelled."), code="invalid_status",
                       details={"status": stocktake.status})
    stocktake.status = Stocktake.Status.CANCELLED
    stocktake.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="stocktake.cancel", target=stocktake, after={"status": stocktake.status},
                 scope_path=stocktake.warehouse.node.path)
    return stocktake


# --- adjustments --------------------------------------------------------------------------------------------

def _post_adjustment(actor: Staff, adjustment: Adjustment, lines: dict[int, int]) -> None:
    posting = Posting(enterprise_id=adjustment.enterprise_id, actor=actor, source_type="adjustment",
                      source_id=str(adjustment.pk))
    posting.lock((s, adjustment.warehouse_id) for s in lines)
    for sku_id, quantity in lines.items():
        posting.add(sku_id, adjustment.warehouse_id, MoveKind.ADJUSTMENT, quantity=quantity, reason=adjustment.reason)
    posting.commit()


@transaction.atomic
def adjustment_create(*, actor: Staff, warehouse_id: int, reason: str, lines: Any, note: str = "") -> Adjustment:
    """Change stock by hand with a reason code: lines of (sku_id, signed quantity, not 0).

    Worth up to the approval threshold (|quantity| x base price) it posts at once; above it waits for a
    manager (status pending). Audited with before/after on hand. Locks the balance rows in order.
    """
    warehouse = resolve_warehouses(actor=actor, warehouse_ids=[warehouse_id], perm=Perm.STOCK_ADJUST)[warehouse_id]
    if reason not in AdjustmentReason.values:
        raise ValidationFailed(_("Unknown reason code."), code="invalid_reason", details={"field": "reason"})
    cleaned = clean_sku_lines(lines, allow_negative=True)
    resolve_skus(enterprise_id=actor.enterprise_id, sku_ids=list(cleaned))
    value = _value(cleaned)
    pending = value > approval_threshold()
    adjustment = Adjustment.objects.create(
        enterprise_id=actor.enterprise_id, number=temp_number(), warehouse=warehouse, reason=reason,
        note=clean_text(note, "note", 255, required=False), value=value, created_by=actor,
        status=Adjustment.Status.PENDING if pending else Adjustment.Status.POSTED)
    assign_number(adjustment, "AD")
    AdjustmentLine.objects.bulk_create([AdjustmentLine(adjustment=adjustment, sku_id=s, quantity=q)
                                        for s, q in sorted(cleaned.items())])
    before = dict(StockBalance.objects.filter(warehouse=warehouse, sku_id__in=list(cleaned)).values_list("sku_id", "on_hand"))
    if not pending:
        _post_adjustment(actor, adjustment, cleaned)
    audit_record(actor=actor, action="adjustment.create", target=adjustment, reason=reason,
                 before={"on_hand": before}, after={"status": adjustment.status, "lines": cleaned, "value": value},
                 scope_path=warehouse.node.path)
    return adjustment


def _adjustment_for(actor: Staff, adjustment_id: int) -> Adjustment:
    get_scoped(Adjustment, actor=actor, pk=adjustment_id, path_field="warehouse__node__path",
               code="adjustment_not_found")
    adjustment = lock_one(Adjustment.objects.filter(pk=adjustment_id))
    adjustment.warehouse = Warehouse.objects.select_related("node").get(pk=adjustment.warehouse_id)
    return adjustment


@transaction.atomic
def adjustment_decide(*, actor: Staff, adjustment_id: int, approve: bool, note: str = "") -> Adjustment:
    """Approve (post) or reject a pending adjustment: stock.approve over the warehouse, not by its author."""
    adjustment = _adjustment_for(actor, adjustment_id)
    if not has_perm(actor, Perm.STOCK_APPROVE, adjustment.warehouse.node):
        raise Forbidden(_("Only a manager above the store may approve this."), code="approval_required")
    if adjustment.created_by_id == actor.pk:
        raise Forbidden(_("You cannot approve your own adjustment."), code="self_approval")
    if adjustment.status != Adjustment.Status.PENDING:
        raise Conflict(_("This adjustment was already decided."), code="invalid_status",
                       details={"status": adjustment.status})
    lines = dict(adjustment.lines.values_list("sku_id", "quantity"))
    before = dict(StockBalance.objects.filter(warehouse_id=adjustment.warehouse_id, sku_id__in=list(lines))
                  .values_list("sku_id", "on_hand"))
    if approve:
        _post_adjustment(actor, adjustment, lines)
    adjustment.status = Adjustment.Status.POSTED if approve else Adjustment.Status.REJECTED
    adjustment.decided_by, adjustment.decided_at = actor, timezone.now()
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_record(actor=actor, action="adjustment.approve" if approve else "adjustment.reject", target=adjustment,
                 before={"on_hand": before}, after={"status": adjustment.status},
                 reason=clean_text(note, "note", 255, required=False), scope_path=adjustment.warehouse.node.path)
    return adjustment


# --- targeted cycle counts (dynamic stocktake) ---------------------------------------------------------------

CYCLE_COUNT_REASONS = ("stopped_selling", "negative_adjustments", "count_disagrees")
CYCLE_COUNT_MAX_LINES = 30


@transaction.atomic
def cycle_count_request(*, warehouse_id: int, lines: dict[int, str], note: str = "") -> Stocktake | None:
    """A blind cycle count of the SKUs the data finds suspicious ({sku_id: reason}), asked by the system (the
    diagnosis), not a person: origin "diagnosis", the counter never sees the system quantity. At most
    CYCLE_COUNT_MAX_LINES lines. The warehouse's one-open-stocktake rule holds: while a count is open this returns
    None and changes nothing (the next night asks again). Freezes the system quantities like `stocktake_start`."""
    warehouse = Warehouse.objects.select_related("node").filter(pk=warehouse_id, is_active=True).first()
    if warehouse is None:
        raise NotFound(_("Warehouse not found."), code="warehouse_not_found")
    wanted = {int(s): r for s, r in sorted(lines.items())[:CYCLE_COUNT_MAX_LINES] if r in CYCLE_COUNT_REASONS}
    if not wanted:
        raise ValidationFailed(_("A cycle count needs SKUs or a category."), code="no_lines")
    resolve_skus(enterprise_id=warehouse.enterprise_id, sku_ids=list(wanted))
    try:
        with transaction.atomic():
            stocktake = Stocktake.objects.create(enterprise_id=warehouse.enterprise_id, number=temp_number(),
                                                 warehouse=warehouse, kind=Stocktake.Kind.CYCLE, origin="diagnosis",
                                                 is_blind=True, note=clean_text(note, "note", 255, required=False))
    except IntegrityError:
        return None
    assign_number(stocktake, "ST")
    frozen = dict(StockBalance.objects.filter(warehouse=warehouse, sku_id__in=list(wanted))
                  .values_list("sku_id", "on_hand"))
    StocktakeLine.objects.bulk_create([StocktakeLine(stocktake=stocktake, sku_id=s, frozen_on_hand=frozen.get(s, 0),
                                                     reason=reason) for s, reason in wanted.items()])
    audit_record(actor=None, action="stocktake.request", target=stocktake, enterprise=warehouse.enterprise,
                 after={"kind": "cycle", "origin": "diagnosis", "lines": wanted}, scope_path=warehouse.node.path)
    return stocktake
