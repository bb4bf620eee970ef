"""Till shifts and cash (交班, 日结): open a shift with a counted float, cash in / out with a reason, a blind close
(the clerk counts the drawer by denomination without being shown what it should hold), the day's settlement.

A clerk has at most one open shift per store (a partial unique index). While it is open, every payment the clerk
takes and every refund they give at that store is tied to it (`current_shift`, under the shift's lock, so a close
cannot miss a payment committed a moment later). The close locks the shift, takes the Z report from those rows
(yundian.sales.shifts.shift_report), freezes expected cash, the count and over/short on the row and audits it;
a second close is refused. Every write is once per client key.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, IdempotencyConflict, NotFound, ValidationFailed
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require, scope_q
from yundian.stores.selectors import store_time_zone

from .. import locks
from ..models import CashMove, CashMoveKind, DailySettlement, ShiftStatus, TillShift
from ..shifts import counted_total, denominations, shift_report
from ._common import MAX_AMOUNT, clean_id, clean_int, clean_ref, clean_text, fingerprint, store_for

MAX_PIECES = 100_000  # of one note or coin in one drawer


@dataclass(frozen=True)
class ShiftResult:
    shift: TillShift
    replayed: bool


def clean_count(raw: Any, currency: str, field: str) -> dict[str, int]:
    """A drawer count {denomination in fen: pieces}: known denominations only, whole pieces; zero rows dropped."""
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Count the cash by note and coin."), code="invalid_count", details={"field": field})
    allowed = denominations(currency)
    out: dict[str, int] = {}
    for key, pieces in raw.items():
        value = int(key) if isinstance(key, str) and key.isascii() and key.isdigit() else key
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValidationFailed(_("Not a note or coin of this currency."), code="invalid_denomination",
                                   details={"field": field, "denomination": str(key)[:16], "allowed": list(allowed)})
        pieces = clean_int(pieces, f"{field}.{value}", low=0, high=MAX_PIECES, code="invalid_count")
        if pieces:
            out[str(value)] = pieces
    return dict(sorted(out.items(), key=lambda kv: -int(kv[0])))


def current_shift(actor: Staff | None, store_id: int) -> TillShift | None:
    """The actor's open shift at the store, locked (the caller is inside the payment's or refund's transaction);
    None for the storefront (no actor) or a clerk with no shift open."""
    if actor is None:
        return None
    return locks.lock_open_shift(store_id, actor.pk)


def shift_for(actor: Staff, shift_id: Any, *, manage: bool = False) -> TillShift:
    """A shift in the actor's view: 404 outside it; the clerk's own shift, or any shift of a store where the
    actor manages orders (403 otherwise)."""
    shift_id = clean_id(shift_id, "shift_id")
    shift = (TillShift.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id,
                                      pk=shift_id).select_related("store", "store__enterprise", "opened_by").first())
    if shift is None:
        raise NotFound(_("Shift not found."), code="shift_not_found")
    if manage or shift.opened_by_id != actor.pk:
        require(actor, Perm.ORDER_MANAGE, shift.store)
    else:
        require(actor, Perm.ORDER_SELL, shift.store)
    return shift


def shift_open(*, actor: Staff, store_id: int, float_count: Any, client_ref: str, note: str = "") -> ShiftResult:
    """Open the actor's shift at the store with a float counted by denomination. Once per (store, client_ref);
    409 `shift_already_open` if the actor already has one open there. Locks: none (the partial unique index on
    (store, clerk) while open decides two racing opens)."""
    client_ref = clean_ref(client_ref, required=True)
    store = store_for(actor, store_id, Perm.ORDER_SELL)
    counts = clean_count(float_count, store.enterprise.currency, "float_count")
    note = clean_text(note, "note", 255)
    opening_float = counted_total(counts)
    if opening_float > MAX_AMOUNT:
        raise ValidationFailed(_("Not a valid whole number here."), code="invalid_amount", details={"field": "float_count"})
    existing = TillShift.objects.filter(store=store, client_ref=client_ref).first()
    if existing is not None:
        return _replay_open(existing, actor, counts)
    try:
        with transaction.atomic():
            shift = TillShift.objects.create(
                enterprise_id=store.enterprise_id, store=store, opened_by=actor, opened_at=timezone.now(),
                opening_float=opening_float, opening_count=counts, client_ref=client_ref, note=note)
            audit_record(actor=actor, action="sales.shift.opened", target=shift, scope_path=store.path,
                         after={"opening_float": opening_float, "count": counts})
    except IntegrityError:
        existing = TillShift.objects.filter(store=store, client_ref=client_ref).first()
        if existing is not None:
            return _replay_open(existing, actor, counts)
        open_one = TillShift.objects.filter(store=store, opened_by=actor, status=ShiftStatus.OPEN).first()
        raise Conflict(_("You already have a shift open at this store: close it first."), code="shift_already_open",
                       details={"shift_id": open_one.pk if open_one else None})
    return ShiftResult(shift, False)


def _replay_open(existing: TillShift, actor: Staff, counts: dict) -> ShiftResult:
    if existing.opened_by_id != actor.pk or existing.opening_count != counts:
        raise IdempotencyConflict(details={"shift_id": existing.pk})
    return ShiftResult(existing, True)


def cash_move_add(*, actor: Staff, shift_id: int, kind: str, amount: int, reason: str, client_ref: str) -> CashMove:
    """Put cash into (kind cash_in) or take it out of (cash_out) an open shift's drawer, with a reason; `amount`
    is positive fen. Insert-only, once per (shift, client_ref). 409 `shift_closed` on a closed shift, 409
    `cash_out_exceeds_drawer` when more would leave than the drawer should hold. Locks: the shift."""
    client_ref = clean_ref(client_ref, required=True)
    if kind not in CashMoveKind.values:
        raise ValidationFailed(_("Cash goes in or out."), code="invalid_kind", details={"allowed": list(CashMoveKind.values)})
    amount = clean_int(amount, "amount", low=1)
    reason = clean_text(reason, "reason", 255, required=True)
    shift = shift_for(actor, shift_id)
    signed = amount if kind == CashMoveKind.CASH_IN else -amount
    request_hash = fingerprint({"kind": kind, "amount": amount, "reason": reason})
    try:
        with transaction.atomic():
            locked = locks.lock_shift(shift.pk)
            existing = CashMove.objects.filter(shift=locked, client_ref=client_ref).first()
            if existing is not None:
                if existing.request_hash != request_hash:
                    raise IdempotencyConflict(details={"cash_move_id": existing.pk})
                return existing
            if locked.status != ShiftStatus.OPEN:
                raise Conflict(_("This shift is closed."), code="shift_closed")
            if signed < 0:
                expected = shift_report(locked)["cash"]["expected"]
                if expected + signed < 0:
                    raise Conflict(_("More cash would leave the drawer than it holds."), code="cash_out_exceeds_drawer",
                                   details={"amount": amount})
            move = CashMove.objects.create(shift=locked, kind=kind, amount=signed, reason=reason, client_ref=client_ref,
                                           request_hash=request_hash, created_by=actor, created_at=timezone.now())
    except IntegrityError:
        existing = CashMove.objects.filter(shift_id=shift.pk, client_ref=client_ref).first()
        if existing is None or existing.request_hash != request_hash:
            raise
        return existing
    return move


def shift_close(*, actor: Staff, shift_id: int, counts: Any, client_ref: str, note: str = "") -> ShiftResult:
    """Close a shift blind: the drawer counted by denomination; expected cash, the count and over/short (count
    minus expected) and the Z report are frozen on the shift and audited. The same client key replays the close;
    any other close of a closed shift is 409 `shift_closed`. Locks: the shift."""
    client_ref = clean_ref(client_ref, required=True)
    note = clean_text(note, "note", 255)
    shift = shift_for(actor, shift_id)
    counts = clean_count(counts, shift.store.enterprise.currency, "counts")
    counted = counted_total(counts)
    if counted > MAX_AMOUNT:
        raise ValidationFailed(_("Not a valid whole number here."), code="invalid_amount", details={"field": "counts"})
    with transaction.atomic():
        locked = locks.lock_shift(shift.pk)
        if locked.status != ShiftStatus.OPEN:
            if locked.close_ref == client_ref and locked.closing_count == counts:
                return ShiftResult(locked, True)
            raise Conflict(_("This shift is already closed."), code="shift_closed",
                           details={"shift_id": locked.pk, "closed_at": locked.closed_at.isoformat()})
        now = timezone.now()
        report = shift_report(locked, at=now)
        expected = report["cash"]["expected"]
        report.update(counted=counted, over_short=counted - expected, counts=counts)
        locked.status, locked.closed_by, locked.closed_at, locked.close_ref = ShiftStatus.CLOSED, actor, now, client_ref
        locked.closing_count, locked.counted_cash, locked.expected_cash = counts, counted, expected
        locked.over_short, locked.report = counted - expected, report
        if note:
            locked.note = note
        locked.save()
        audit_record(actor=actor, action="sales.shift.closed", target=locked, scope_path=shift.store.path,
                     before={"expected_cash": expected},
                     after={"counted_cash": counted, "over_short": counted - expected, "count": counts},
                     reason=note)
    return ShiftResult(locked, False)


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # a day outside these is a typing slip


def clean_business_date(value: Any) -> date:
    """A business day given as YYYY-MM-DD; 422 `invalid_date` for anything else, a day that does not exist
    (2026-02-30) or one far out of range (its midnight would not fit in a datetime)."""
    try:
        parsed = value if isinstance(value, date) else (
            parse_date(value) if isinstance(value, str) and len(value) <= 10 else None)
    except ValueError:  # well formed but not a day
        parsed = None
    if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValidationFailed(_("Give the day as YYYY-MM-DD."), code="invalid_date", details={"field": "business_date"})
    return parsed


def business_date_of(shift: TillShift) -> date:
    """The business day a shift belongs to: the date it was opened on in its store's time zone."""
    return timezone.localtime(shift.opened_at, ZoneInfo(store_time_zone(shift.store_id))).date()


def business_day_bounds(store_id: int, day: date) -> tuple[datetime, datetime]:
    """When a store's business day starts and the next one starts: midnights in the store's time zone."""
    zone = ZoneInfo(store_time_zone(store_id))
    return (datetime.combine(day, time.min, tzinfo=zone),
            datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone))


def settlement_create(*, actor: Staff, store_id: int, business_date: Any, client_ref: str | None = None) -> DailySettlement:
    """Settle a store's day (日结): add up the Z reports of the shifts opened that day, once per (store, day).
    409 `shifts_still_open` while any of them is open, `no_shifts` for a day without shifts, `already_settled`
    for a second settlement (the same client key replays the first). Needs order.manage at the store.
    Locks: the day's shifts."""
    client_ref = clean_ref(client_ref)
    store = store_for(actor, store_id, Perm.ORDER_MANAGE)
    day = clean_business_date(business_date)
    done = DailySettlement.objects.filter(store=store, business_date=day).first()
    if done is not None:
        if client_ref and done.client_ref == client_ref:
            return done
        raise Conflict(_("This day is already settled."), code="already_settled", details={"settlement_id": done.pk})
    try:
        with transaction.atomic():
            shifts = locks.lock_shifts_opened(store.pk, *business_day_bounds(store.pk, day))
            if not shifts:
                raise Conflict(_("No shift was opened at this store that day."), code="no_shifts")
            still_open = [s.number for s in shifts if s.status == ShiftStatus.OPEN]
            if still_open:
                raise Conflict(_("Close every shift of the day first."), code="shifts_still_open",
                               details={"shifts": still_open})
            report = settlement_report(shifts)
            settlement = DailySettlement.objects.create(
                enterprise_id=store.enterprise_id, store=store, business_date=day, shift_count=len(shifts),
                expected_cash=report["cash"]["expected"], counted_cash=report["counted"],
                over_short=report["over_short"], report=report, client_ref=client_ref, settled_by=actor)
            settlement.shifts.set(shifts)
            audit_record(actor=actor, action="sales.day.settled", target=settlement, scope_path=store.path,
                         after={"business_date": day.isoformat(), "shifts": len(shifts),
                                "expected_cash": report["cash"]["expected"], "counted_cash": report["counted"],
                                "over_short": report["over_short"]})
    except IntegrityError:
        done = DailySettlement.objects.filter(store=store, business_date=day).first()
        if done is None:
            raise
        if client_ref and done.client_ref == client_ref:
            return done
        raise Conflict(_("This day is already settled."), code="already_settled", details={"settlement_id": done.pk})
    return settlement


def settlement_report(shifts: list[TillShift]) -> dict:
    """The day's figures: the closed shifts' frozen Z reports added up (per method and the cash lines)."""
    methods: dict[str, dict] = {}
    cash = {"float": 0, "sales": 0, "refunds": 0, "cash_in": 0, "cash_in_count": 0, "cash_out": 0, "cash_out_count": 0,
            "expected": 0}
    out = {"orders": 0, "returns": 0, "voids": 0, "sales_total": 0, "refunds_total": 0, "net_total": 0,
           "counted": 0, "over_short": 0}
    for shift in shifts:
        report = shift.report
        for key in out:
            out[key] += report[key]
        for key in cash:
            cash[key] += report["cash"][key]
        for row in report["methods"]:
            entry = methods.setdefault(row["method"], {"method": row["method"], "payments": 0, "taken": 0,
                                                       "refunds": 0, "refunded": 0, "net": 0})
            for key in ("payments", "taken", "refunds", "refunded", "net"):
                entry[key] += row[key]
    return {**out, "cash": cash, "methods": list(methods.values()),
            "shifts": [{"shift": s.number, "opened_by_id": s.opened_by_id, "expected": s.expected_cash,
                        "counted": s.counted_cash, "over_short": s.over_short} for s in shifts]}


def may_see_expected(actor: Staff, shift: TillShift) -> bool:
    """Blind close: a clerk does not see what their open drawer should hold; a manager of the store does."""
    return shift.status == ShiftStatus.CLOSED or has_perm(actor, Perm.ORDER_MANAGE, shift.store)


__all__ = ["ShiftResult", "business_day_bounds", "cash_move_add", "clean_count", "current_shift", "may_see_expected",
           "settlement_create", "shift_close", "shift_for", "shift_open"]
