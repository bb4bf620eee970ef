"""The stock ledger: every stock change is a `Posting` — lock the balance rows in order, check, update the
balances with one relative UPDATE and append the StockMove rows, all in the caller's transaction.

Public services the POS, storefront and ERP call: stock_issue, stock_reserve, stock_release, stock_return,
stock_receive; and the task-side reservations_expire.
"""
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Sku
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.outbox import outbox_emit
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_q

from ..locks import Key, lock_balances
from ..models import MoveKind, Reservation, ReservationStatus, StockBalance, StockMove, SupplierPrice, Warehouse
from ._common import MAX_LINES, clean_id, clean_quantity, clean_text

DEFAULT_RESERVATION_MINUTES = 15
MAX_RESERVATION = timedelta(days=7)
CHUNK = 2000


@dataclass(frozen=True)
class StockLine:
    sku_id: int
    warehouse_id: int
    quantity: int


def _chunked(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _line_tuple(raw: Any, index: int) -> tuple[Any, Any, Any]:
    if isinstance(raw, StockLine):
        return raw.sku_id, raw.warehouse_id, raw.quantity
    if isinstance(raw, dict):
        return raw.get("sku_id"), raw.get("warehouse_id"), raw.get("quantity")
    if isinstance(raw, list | tuple) and len(raw) == 3:
        return raw[0], raw[1], raw[2]
    raise ValidationFailed(_("Each line is (sku_id, warehouse_id, quantity)."), code="invalid_line",
                           details={"line": index})


def clean_lines(lines: Any) -> list[StockLine]:
    """Validate lines of (sku_id, warehouse_id, quantity > 0); duplicates of one key are added up."""
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed(_("At least one line is needed."), code="no_lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(_("Too many lines."), code="too_many_lines", details={"max": MAX_LINES})
    merged: dict[Key, int] = defaultdict(int)
    for index, raw in enumerate(lines):
        sku_id, warehouse_id, quantity = _line_tuple(raw, index)
        try:
            key = (clean_id(sku_id, "sku_id"), clean_id(warehouse_id, "warehouse_id"))
            merged[key] += clean_quantity(quantity)
        except ValidationFailed as exc:
            exc.details["line"] = index
            raise
    return [StockLine(s, w, q) for (s, w), q in sorted(merged.items())]


def resolve_warehouses(*, actor: Staff | None, warehouse_ids: Iterable[int], perm: str,
                       enterprise_id: int | None = None) -> dict[int, Warehouse]:
    """The warehouses by id: 404 if unknown or outside the actor's view, 403 without `perm`, 409 if closed.

    `actor=None` is a trusted system caller (a task, the storefront checkout after its own checks); then all
    warehouses must belong to one enterprise (`enterprise_id` when given).
    """
    ids = sorted(set(warehouse_ids))
    qs = Warehouse.objects.filter(pk__in=ids).select_related("node")
    if actor is not None:
        qs = qs.filter(scope_q(actor, Perm.STOCK_VIEW, "node__path"), enterprise_id=actor.enterprise_id)
    elif enterprise_id is not None:
        qs = qs.filter(enterprise_id=enterprise_id)
    found = {w.id: w for w in qs}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("Warehouse not found."), code="warehouse_not_found", details={"warehouse_ids": missing})
    if actor is None and len({w.enterprise_id for w in found.values()}) > 1:
        raise ValidationFailed(_("Warehouses of different enterprises cannot be mixed."), code="mixed_enterprises")
    if actor is not None:
        denied = [i for i in ids if not has_perm(actor, perm, found[i].node)]
        if denied:
            raise Forbidden(details={"warehouse_ids": denied})
    closed = [w.id for w in found.values() if not w.is_active]
    if closed:
        raise Conflict(_("The warehouse is closed."), code="warehouse_inactive", details={"warehouse_ids": closed})
    return found


def resolve_skus(*, enterprise_id: int, sku_ids: Iterable[int]) -> None:
    """404 `sku_not_found` unless every id is a SKU of the enterprise."""
    ids = sorted(set(sku_ids))
    found: set[int] = set()
    with connection.cursor() as cursor:  # plain SQL: on the checkout path the ORM costs more CPU than the query
        for chunk in _chunked(ids):
            cursor.execute(f"SELECT id FROM {Sku._meta.db_table} WHERE enterprise_id = %s AND id IN "
                           f"({', '.join(['%s'] * len(chunk))})", [enterprise_id, *chunk])
            found.update(row[0] for row in cursor.fetchall())
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("SKU not found."), code="sku_not_found", details={"sku_ids": missing[:50]})


def check_warehouses(*, actor: Staff | None, found: dict[int, Warehouse], perm: str) -> dict[int, Warehouse]:
    """`resolve_warehouses`' checks on warehouses the caller read in this request (each with its node set), without
    reading them again: the same 404 / 403 / 409 / mixed-enterprise answers."""
    ids = sorted(found)
    if actor is not None:
        hidden = [i for i in ids if found[i].enterprise_id != actor.enterprise_id
                  or not has_perm(actor, Perm.STOCK_VIEW, found[i].node)]
        if hidden:
            raise NotFound(_("Warehouse not found."), code="warehouse_not_found", details={"warehouse_ids": hidden})
        denied = [i for i in ids if not has_perm(actor, perm, found[i].node)]
        if denied:
            raise Forbidden(details={"warehouse_ids": denied})
    elif len({w.enterprise_id for w in found.values()}) > 1:
        raise ValidationFailed(_("Warehouses of different enterprises cannot be mixed."), code="mixed_enterprises")
    closed = [w.id for w in found.values() if not w.is_active]
    if closed:
        raise Conflict(_("The warehouse is closed."), code="warehouse_inactive", details={"warehouse_ids": closed})
    return found


def resolve(*, actor: Staff | None, lines: Any, perm: str, known: "Known | None" = None,
            ) -> tuple[int, list[StockLine], dict[int, Warehouse]]:
    """(enterprise id, cleaned lines, warehouses by id) with every check. `known` is what the caller already read in
    this request (its warehouses with their nodes, and SKU ids it found in `known.enterprise_id`): those are checked
    without being read again."""
    cleaned = clean_lines(lines)
    warehouse_ids = {l.warehouse_id for l in cleaned}
    if known is not None and warehouse_ids <= known.warehouses.keys():
        warehouses = check_warehouses(actor=actor, found={i: known.warehouses[i] for i in warehouse_ids}, perm=perm)
    else:
        warehouses = resolve_warehouses(actor=actor, warehouse_ids=warehouse_ids, perm=perm)
    enterprise_id = actor.enterprise_id if actor is not None else next(iter(warehouses.values())).enterprise_id
    sku_ids = {l.sku_id for l in cleaned}
    if known is None or known.enterprise_id != enterprise_id or not sku_ids <= known.sku_ids:
        resolve_skus(enterprise_id=enterprise_id, sku_ids=sku_ids)
    return enterprise_id, cleaned, warehouses


@dataclass(frozen=True)
class Known:
    """Warehouses (node set) and SKU ids (of `enterprise_id`) a caller has already read in this request."""

    enterprise_id: int
    warehouses: dict[int, Warehouse]
    sku_ids: frozenset[int]


def clean_source(source_type: Any, source_id: Any) -> tuple[str, str]:
    source_type = clean_text(source_type, "source_type", 32)
    source_id = clean_text(source_id if source_id is not None else "", "source_id", 64)
    return source_type, source_id


def share(total: int, part: int, whole: int) -> int:
    """total x part / whole in whole fen, rounded half up (total, part >= 0, whole > 0)."""
    return (2 * total * part + whole) // (2 * whole)


class Posting:
    """One ledger posting: lock rows, add moves, then `commit()` checks every row and writes balances + moves.

    Each move also carries its value (fen) for the moving-average cost: a move out takes value / on_hand per
    unit of the row as it stands (all the value with the last unit); a move in adds the value given, or with none
    given the row's current average (the preferred supplier's cost when the row is empty). `add` returns that
    value, so a transfer can carry what left one row into the next.

    Must run inside transaction.atomic(). A failed check raises 409 `insufficient_stock` before any write.
    """

    def __init__(self, *, enterprise_id: int, actor: Staff | None, source_type: str, source_id: str,
                 occurred_at: datetime | None = None):
        self.enterprise_id = enterprise_id
        self.actor_id = actor.pk if actor is not None else None
        self.source_type, self.source_id = source_type, str(source_id)
        self.occurred_at = occurred_at or timezone.now()
        self.rows: dict[Key, StockBalance] = {}
        self.moves: list[StockMove] = []
        self.running: dict[Key, list[int]] = {}  # key -> [on_hand, value] after the moves added so far
        self.fallback: dict[int, int] | None = None  # sku -> preferred supplier's cost, read once when first needed

    def lock(self, keys: Iterable[Key]) -> dict[Key, StockBalance]:
        if self.rows:
            raise RuntimeError("a posting locks all its rows at once")
        self.rows = lock_balances(keys)
        self.running = {key: [row.on_hand, row.value] for key, row in self.rows.items()}
        return self.rows

    def _fallback_cost(self, sku_id: int) -> int:
        """The preferred supplier's unit cost of a SKU (0 without one): one query for all the posting's SKUs, only
        when a move first comes into an empty row (a sale issue never asks)."""
        if self.fallback is None:
            self.fallback = dict(SupplierPrice.objects.filter(
                enterprise_id=self.enterprise_id, sku_id__in={sku for sku, _w in self.rows}, is_preferred=True)
                .values_list("sku_id", "unit_cost"))
        return self.fallback.get(sku_id, 0)

    def _value(self, key: Key, quantity: int, value: int | None) -> int:
        on_hand, held = self.running[key]
        if quantity < 0:
            if on_hand + quantity <= 0:
                return -held  # the last units take what is left, so an empty row has no value
            taken = share(held, -quantity, on_hand) if value is None else min(-value, held)
            return -max(taken, 0)
        if quantity > 0 and value is None:
            return share(held, quantity, on_hand) if on_hand > 0 else quantity * self._fallback_cost(key[0])
        return max(value or 0, 0)

    def average_cost(self, sku_id: int, warehouse_id: int) -> int:
        """The row's moving-average unit cost (fen) after the moves added so far."""
        on_hand, held = self.running[(sku_id, warehouse_id)]
        return share(held, 1, on_hand) if on_hand > 0 else 0

    def add(self, sku_id: int, warehouse_id: int, kind: str, *, quantity: int = 0, reserved_delta: int = 0,
            reason: str = "", value: int | None = None) -> int:
        """Append a move; returns its value change in fen. `value`, when known, is that signed change: the cost
        of units coming in, or minus the cost a transfer carries out (capped at what the row holds)."""
        key = (sku_id, warehouse_id)
        if key not in self.rows:
            raise RuntimeError("add a move only for a locked row")
        if quantity == 0 and reserved_delta == 0:
            return 0
        change = self._value(key, quantity, value) if quantity else 0
        self.running[key][0] += quantity
        self.running[key][1] += change
        self.moves.append(StockMove(
            enterprise_id=self.enterprise_id, sku_id=sku_id, warehouse_id=warehouse_id, kind=kind,
            quantity=quantity, reserved_delta=reserved_delta, value=change, source_type=self.source_type,
            source_id=self.source_id, reason=reason, actor_id=self.actor_id, occurred_at=self.occurred_at))
        return change

    def deltas(self) -> dict[Key, tuple[int, int, int]]:
        out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
        for move in self.moves:
            triple = out[(move.sku_id, move.warehouse_id)]
            triple[0] += move.quantity
            triple[1] += move.reserved_delta
            triple[2] += move.value
        return {k: (v[0], v[1], v[2]) for k, v in out.items()}

    def commit(self) -> list[StockMove]:
        deltas = self.deltas()
        short = []
        for key, (dq, dr, _dv) in deltas.items():
            row = self.rows[key]
            on_hand, reserved = row.on_hand + dq, row.reserved + dr
            if on_hand < 0 or reserved < 0 or reserved > on_hand:
                short.append({"sku_id": key[0], "warehouse_id": key[1], "on_hand": row.on_hand,
                              "reserved": row.reserved, "available": row.on_hand - row.reserved,
                              "change": dq, "reserved_change": dr})
        if short:
            raise Conflict(_("Not enough stock."), code="insufficient_stock", details={"lines": short[:50]})
        # one conditional relative UPDATE per chunk of rows (the checked bounds in its WHERE: a row that would break
        # them is not updated, and a short row count is a 409 that rolls the posting back)
        changes = [(self.rows[key].pk, *delta) for key, delta in deltas.items() if delta != (0, 0, 0)]
        now = timezone.now()
        for chunk in _chunked(changes, 500):
            if _update_balances(chunk, now) != len(chunk):
                raise Conflict(_("Not enough stock."), code="insufficient_stock", details={"lines": []})
        for key, (dq, dr, dv) in deltas.items():
            self.rows[key].on_hand += dq
            self.rows[key].reserved += dr
            self.rows[key].value += dv
        StockMove.objects.bulk_create(self.moves, batch_size=1000)
        moved = [[key[0], key[1], dq, self.rows[key].on_hand] for key, (dq, _dr, _dv) in deltas.items() if dq]
        if moved:  # one outbox row per posting that moved units (webhooks' stock.changed); reservations alone do not
            outbox_emit(enterprise_id=self.enterprise_id, topic="stock.changed",
                        key=f"{self.source_type}:{self.source_id}"[:64],
                        payload={"source_type": self.source_type, "source_id": self.source_id, "lines": moved})
        return self.moves


def _update_balances(changes: Sequence[tuple[int, int, int, int]], now: datetime) -> int:
    """on_hand += dq, reserved += dr, value += dv for each (balance pk, dq, dr, dv), relative to the locked rows,
    in one UPDATE through the ORM whose WHERE keeps each row inside its bounds (on_hand >= 0, 0 <= reserved <=
    on_hand, value >= 0 after the change). Returns the number of rows updated: fewer than given means a row would
    have gone out of bounds and none of those was changed."""
    if len(changes) == 1:  # one row: no CASE
        pk, dq, dr, dv = changes[0]
        return StockBalance.objects.filter(_bounds(pk, dq, dr, dv)).update(
            on_hand=F("on_hand") + dq, reserved=F("reserved") + dr, value=F("value") + dv, updated_at=now)
    where = reduce(or_, (_bounds(*change) for change in changes))

    def per_row(column: int):
        return Case(*(When(pk=change[0], then=Value(change[column])) for change in changes if change[column]),
                    default=Value(0), output_field=BigIntegerField())

    return StockBalance.objects.filter(where).update(
        on_hand=F("on_hand") + per_row(1), reserved=F("reserved") + per_row(2), value=F("value") + per_row(3),
        updated_at=now)


def _bounds(pk: int, dq: int, dr: int, dv: int) -> Q:
    """The row `pk`, only while it can take this change without leaving its bounds."""
    q = Q(pk=pk)
    if dq < 0:
        q &= Q(on_hand__gte=-dq)
    if dr < 0:
        q &= Q(reserved__gte=-dr)
    if dr > dq:  # reserved may not pass on hand
        q &= Q(on_hand__gte=F("reserved") + (dr - dq))
    if dv < 0:
        q &= Q(value__gte=-dv)
    return q


def _active_on_rows(posting: Posting) -> list[Reservation]:
    """Active reservations sitting on the posting's locked rows (read under the lock). A row whose reserved count
    is 0 has none (reserved is the sum of its active holds), so a sale from unreserved shelves reads nothing."""
    keys = [key for key, row in posting.rows.items() if row.reserved]
    found: list[Reservation] = []
    for chunk in _chunked(keys, 500):  # Model.objects.raw: on the checkout path the ORM costs more than the query
        pairs = " OR ".join(["(sku_id = %s AND warehouse_id = %s)"] * len(chunk))
        found += list(Reservation.objects.raw(
            f"SELECT * FROM {Reservation._meta.db_table} WHERE status = %s AND ({pairs}) ORDER BY id",
            [ReservationStatus.ACTIVE, *(v for key in chunk for v in key)]))
    return found


def _expire(posting: Posting, active: list[Reservation], now: datetime) -> list[Reservation]:
    """Release the expired ones among `active` (an expired hold never blocks); returns those still live."""
    expired = [r for r in active if r.expires_at <= now]
    for res in expired:
        posting.add(res.sku_id, res.warehouse_id, MoveKind.RELEASE, reserved_delta=-res.quantity, reason="expired")
    if expired:
        Reservation.objects.filter(pk__in=[r.pk for r in expired]).update(status=ReservationStatus.EXPIRED, closed_at=now)
    return [r for r in active if r.expires_at > now]


def stock_issue(*, actor: Staff | None, lines: Any, source_type: str, source_id: str | int,
                known: Known | None = None, savepoint: bool = True) -> list[StockMove]:
    """Take sold units out of stock (sale_issue moves); never below what others hold reserved.

    Active reservations of the same source on these rows are consumed first (released in full). Locks the
    balance rows in (sku, warehouse) order; 409 `insufficient_stock` and nothing written if any line is short.
    `known`: warehouses and SKUs the caller read in this request (checked, not read again). `savepoint=False`:
    the caller's transaction rolls back as a whole if this fails (a sale), so no savepoint is set around it.
    """
    with transaction.atomic(savepoint=savepoint):
        return _issue(actor=actor, lines=lines, source_type=source_type, source_id=source_id, known=known)


def _issue(*, actor: Staff | None, lines: Any, source_type: str, source_id: str | int,
           known: Known | None) -> list[StockMove]:
    enterprise_id, cleaned, _w = resolve(actor=actor, lines=lines, perm=Perm.STOCK_SELL, known=known)
    source_type, source_id = clean_source(source_type, source_id)
    posting = Posting(enterprise_id=enterprise_id, actor=actor, source_type=source_type, source_id=source_id)
    posting.lock((l.sku_id, l.warehouse_id) for l in cleaned)
    now = posting.occurred_at
    live = _expire(posting, _active_on_rows(posting), now)
    held = [r for r in live if (r.source_type, r.source_id) == (source_type, source_id)]
    for res in held:
        posting.add(res.sku_id, res.warehouse_id, MoveKind.RELEASE, reserved_delta=-res.quantity, reason="consumed")
    for line in cleaned:
        posting.add(line.sku_id, line.warehouse_id, MoveKind.SALE_ISSUE, quantity=-line.quantity)
    moves = posting.commit()
    if held:
        Reservation.objects.filter(pk__in=[r.pk for r in held]).update(status=ReservationStatus.CONSUMED, closed_at=now)
    return moves


@transaction.atomic
def stock_reserve(*, actor: Staff | None, lines: Any, source_type: str, source_id: str | int,
                  expires_at: datetime | None = None) -> list[Reservation]:
    """Hold units for an order until `expires_at` (default 15 minutes, at most 7 days).

    Reserved never exceeds on hand (ordered locks + re-check + check constraint); 409 `insufficient_stock` else.
    """
    enterprise_id, cleaned, _w = resolve(actor=actor, lines=lines, perm=Perm.STOCK_SELL)
    source_type, source_id = clean_source(source_type, source_id)
    now = timezone.now()
    expires_at = expires_at or now + timedelta(minutes=DEFAULT_RESERVATION_MINUTES)
    if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at) or not now < expires_at <= now + MAX_RESERVATION:
        raise ValidationFailed(_("A reservation expires in the future, within 7 days."), code="invalid_expiry",
                               details={"field": "expires_at"})
    posting = Posting(enterprise_id=enterprise_id, actor=actor, source_type=source_type, source_id=source_id,
                      occurred_at=now)
    posting.lock((l.sku_id, l.warehouse_id) for l in cleaned)
    _expire(posting, _active_on_rows(posting), now)
    for line in cleaned:
        posting.add(line.sku_id, line.warehouse_id, MoveKind.RESERVATION, reserved_delta=line.quantity)
    posting.commit()
    return Reservation.objects.bulk_create([
        Reservation(enterprise_id=enterprise_id, sku_id=l.sku_id, warehouse_id=l.warehouse_id, quantity=l.quantity,
                    source_type=source_type, source_id=source_id, expires_at=expires_at) for l in cleaned])


def _release(reservations: list[Reservation], *, actor: Staff | None, status: str, reason: str,
             source_type: str, source_id: str) -> int:
    if not reservations:
        return 0
    now = timezone.now()
    posting = Posting(enterprise_id=reservations[0].enterprise_id, actor=actor, source_type=source_type,
                      source_id=source_id, occurred_at=now)
    posting.lock((r.sku_id, r.warehouse_id) for r in reservations)
    # re-read under the lock: a concurrent issue or expiry may have closed some of them
    still = list(Reservation.objects.filter(pk__in=[r.pk for r in reservations], status=ReservationStatus.ACTIVE))
    for res in still:
        posting.add(res.sku_id, res.warehouse_id, MoveKind.RELEASE, reserved_delta=-res.quantity, reason=reason)
    posting.commit()
    Reservation.objects.filter(pk__in=[r.pk for r in still]).update(status=status, closed_at=now)
    return sum(r.quantity for r in still)


@transaction.atomic
def stock_release(*, actor: Staff | None, source_type: str, source_id: str | int) -> int:
    """Release every active reservation of a source (an order cancelled or timed out); returns units released."""
    source_type, source_id = clean_source(source_type, source_id)
    qs = Reservation.objects.filter(source_type=source_type, source_id=source_id, status=ReservationStatus.ACTIVE)
    if actor is not None:
        qs = qs.filter(enterprise_id=actor.enterprise_id)
    reservations = list(qs)
    if actor is not None and reservations:
        resolve_warehouses(actor=actor, warehouse_ids={r.warehouse_id for r in reservations}, perm=Perm.STOCK_SELL)
    return _release(reservations, actor=actor, status=ReservationStatus.RELEASED, reason="released",
                    source_type=source_type, source_id=source_id)


@transaction.atomic
def stock_return(*, actor: Staff | None, lines: Any, source_type: str, source_id: str | int,
                 sale_source_type: str | None = None, sale_source_id: str | int | None = None) -> list[StockMove]:
    """Put returned units back (return moves). Given the sale's source, at most what that sale issued of each
    SKU (less what came back before) may return: 409 `return_exceeds_sale` otherwise; they come back at the cost
    the sale took out (else at the row's average). Locks balances in order."""
    enterprise_id, cleaned, _w = resolve(actor=actor, lines=lines, perm=Perm.STOCK_SELL)
    source_type, source_id = clean_source(source_type, source_id)
    posting = Posting(enterprise_id=enterprise_id, actor=actor, source_type=source_type, source_id=source_id)
    posting.lock((l.sku_id, l.warehouse_id) for l in cleaned)
    reason = ""
    values: dict[int, int] = {}
    if sale_source_type is not None or sale_source_id is not None:
        sale_type, sale_id = clean_source(sale_source_type, sale_source_id)
        reason = f"{sale_type}:{sale_id}"[:32]
        sku_ids = sorted({l.sku_id for l in cleaned})
        base = StockMove.objects.filter(enterprise_id=enterprise_id, sku_id__in=sku_ids)
        sold = {s: (-n, -v) for s, n, v in base.filter(kind=MoveKind.SALE_ISSUE, source_type=sale_type,
                                                        source_id=sale_id)
                .values("sku_id").annotate(n=Sum("quantity"), v=Sum("value")).values_list("sku_id", "n", "v")}
        back = dict(base.filter(kind=MoveKind.RETURN, reason=reason)
                    .values("sku_id").annotate(n=Sum("quantity")).values_list("sku_id", "n"))
        wanted: dict[int, int] = defaultdict(int)
        for line in cleaned:
            wanted[line.sku_id] += line.quantity
        over = [{"sku_id": s, "sold": sold.get(s, (0, 0))[0], "returned": back.get(s) or 0, "requested": q}
                for s, q in sorted(wanted.items()) if q > sold.get(s, (0, 0))[0] - (back.get(s) or 0)]
        if over:
            raise Conflict(_("More would come back than was sold."), code="return_exceeds_sale", details={"lines": over})
        # back at the cost they left with: the k-th returned unit of a SKU is worth the sale's cost x k / sold,
        # so returning everything puts back exactly what the sale took out
        counted = {s: back.get(s) or 0 for s in wanted}
        for index, line in enumerate(cleaned):
            units, cost = sold[line.sku_id]
            before, counted[line.sku_id] = counted[line.sku_id], counted[line.sku_id] + line.quantity
            values[index] = share(cost, counted[line.sku_id], units) - share(cost, before, units)
    for index, line in enumerate(cleaned):
        posting.add(line.sku_id, line.warehouse_id, MoveKind.RETURN, quantity=line.quantity, reason=reason,
                    value=values.get(index))
    return posting.commit()


def reservations_expire(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Release reservations past their expiry (a scheduled task); returns how many were expired."""
    now = now or timezone.now()
    done = 0
    while done < limit:
        batch = list(Reservation.objects.filter(status=ReservationStatus.ACTIVE, expires_at__lte=now)
                     .order_by("enterprise_id", "id")[:500])
        if not batch:
            break
        enterprise_id = batch[0].enterprise_id
        batch = [r for r in batch if r.enterprise_id == enterprise_id]
        with transaction.atomic():
            _release(batch, actor=None, status=ReservationStatus.EXPIRED, reason="expired",
                     source_type="reservation_expiry", source_id=now.strftime("%Y%m%dT%H%M"))
        done += len(batch)
    return done
