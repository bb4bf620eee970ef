"""Manager approval (审批) of sensitive actions: price below the floor, discount beyond the clerk's limit, void,
return without receipt, order edits.

A sensitive service runs its work through `run_with_approval`. The work calls `gate.require(kind, payload, ...)`
when it finds it needs approval; the gate passes when
- the actor holds order.approve at the store (audited as a self-approval), or
- the request carries a manager's id and PIN, checked before the work (an ApprovalRequest is written as
  approved-and-used via the PIN, in the action's own transaction), or
- the request carries the id of an ApprovalRequest that a manager approved remotely for exactly this action
  (same store, kind and payload fingerprint, not expired, not used): it is marked used.
Otherwise the work is rolled back, a pending ApprovalRequest is stored (one per identical action) and the
caller hears 403 `approval_required` with its id. Every decision and use is audited.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, require, scope_q

from .. import locks
from ..models import ApprovalKind, ApprovalRequest, ApprovalStatus, ApprovalVia, ManagerPin
from ._common import clean_id, clean_text, fingerprint, policy_for

PIN_MAX_FAILURES = 5
PIN_LOCK_MINUTES = 15
T = TypeVar("T")


@dataclass(frozen=True)
class ApprovalIn:
    """What a request may carry to satisfy an approval: a remote approval's id, or a manager's id and PIN."""

    approval_id: int | None = None
    manager_id: int | None = None
    pin: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> "ApprovalIn | None":
        if raw is None or isinstance(raw, ApprovalIn):
            return raw
        if not isinstance(raw, dict):
            raise ValidationFailed(_("Not a valid approval."), code="invalid_approval", details={"field": "approval"})
        approval_id = raw.get("approval_id")
        manager_id, pin = raw.get("manager_id"), raw.get("pin")
        if approval_id is not None:
            clean_id(approval_id, "approval_id")
        if (manager_id is None) != (pin is None):
            raise ValidationFailed(_("A manager PIN needs the manager too."), code="invalid_approval",
                                   details={"field": "approval"})
        if manager_id is not None:
            clean_id(manager_id, "manager_id")
            if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 8:
                raise ValidationFailed(_("A PIN is 4 to 8 digits."), code="invalid_pin", details={"field": "pin"})
        return cls(approval_id=approval_id, manager_id=manager_id, pin=pin)


class ApprovalNeeded(Exception):
    def __init__(self, kind: str, payload: dict, summary: str):
        self.kind, self.payload, self.summary = kind, payload, summary
        super().__init__(kind)


@dataclass
class ApprovalGate:
    actor: Staff
    store: OrgNode
    given: ApprovalIn | None
    pin_manager: Staff | None = None
    used: list[ApprovalRequest] = field(default_factory=list)

    def require(self, kind: str, payload: dict, *, summary: str = "", target=None) -> ApprovalRequest | None:
        """Pass (and audit) or raise ApprovalNeeded. Called inside the action's transaction."""
        digest = fingerprint({"kind": kind, **payload})
        now = timezone.now()
        scope_path = self.store.path
        if has_perm(self.actor, Perm.ORDER_APPROVE, self.store):
            audit_record(actor=self.actor, action=f"sales.approval.{kind}", target=target or self.store,
                         after={"via": "self", "payload": payload}, reason=summary, scope_path=scope_path)
            return None
        if self.pin_manager is not None:
            approval = ApprovalRequest.objects.create(
                enterprise_id=self.store.enterprise_id, store=self.store, kind=kind, status=ApprovalStatus.USED,
                payload=payload, payload_hash=digest, summary=summary[:255], requested_by=self.actor,
                decided_by=self.pin_manager, decided_at=now, via=ApprovalVia.PIN, used_at=now, expires_at=now)
            audit_record(actor=self.pin_manager, action=f"sales.approval.{kind}", target=approval,
                         after={"via": "pin", "requested_by": self.actor.pk, "payload": payload}, reason=summary,
                         scope_path=scope_path)
            self.used.append(approval)
            return approval
        if self.given is not None and self.given.approval_id is not None:
            approval = locks.lock_approval(self.given.approval_id)
            if (approval is None or approval.store_id != self.store.pk or approval.kind != kind
                    or approval.payload_hash != digest):
                raise Conflict(_("This approval is for another action."), code="approval_mismatch",
                               details={"approval_id": self.given.approval_id})
            if approval.status == ApprovalStatus.PENDING:
                raise Forbidden(_("The approval is still pending."), code="approval_pending",
                                details={"approval_request_id": approval.pk})
            if approval.status != ApprovalStatus.APPROVED or approval.expires_at <= now:
                raise Conflict(_("This approval was rejected, used or has expired."), code="approval_unusable",
                               details={"approval_id": approval.pk, "status": approval.status})
            ApprovalRequest.objects.filter(pk=approval.pk).update(status=ApprovalStatus.USED, used_at=now, updated_at=now)
            audit_record(actor=self.actor, action="sales.approval.used", target=approval,
                         before={"status": ApprovalStatus.APPROVED}, after={"status": ApprovalStatus.USED},
                         reason=summary, scope_path=scope_path)
            self.used.append(approval)
            return approval
        raise ApprovalNeeded(kind, payload, summary)


def _verify_pin(*, actor: Staff, store: OrgNode, manager_id: int, pin: str) -> Staff:
    """Check a manager's PIN (in its own transaction, so a miss is counted and audited even though the action
    fails). 403 `invalid_pin` on a wrong PIN or a manager who may not approve here; 423-like 403 when locked."""
    with transaction.atomic():
        manager = Staff.objects.filter(pk=manager_id, enterprise_id=store.enterprise_id, is_active=True).first()
        record = locks.lock_pin(manager_id) if manager is not None else None
        now = timezone.now()
        if record is not None and record.locked_until and record.locked_until > now:
            raise Forbidden(_("Too many wrong PINs; try again later."), code="pin_locked")
        ok = (record is not None and manager is not None and has_perm(manager, Perm.ORDER_APPROVE, store)
              and check_password(pin, record.pin_hash))
        if ok:
            if record.failed_attempts:
                ManagerPin.objects.filter(pk=record.pk).update(failed_attempts=0, locked_until=None)
            return manager
        if record is not None:
            failures = record.failed_attempts + 1
            ManagerPin.objects.filter(pk=record.pk).update(
                failed_attempts=0 if failures >= PIN_MAX_FAILURES else failures,
                locked_until=now + timedelta(minutes=PIN_LOCK_MINUTES) if failures >= PIN_MAX_FAILURES else None)
        audit_record(actor=actor, action="sales.approval.pin_failed", target=store,
                     after={"manager_id": manager_id}, scope_path=store.path)
    raise Forbidden(_("Wrong manager or PIN."), code="invalid_pin")


def _store_pending(*, actor: Staff, store: OrgNode, need: ApprovalNeeded) -> ApprovalRequest:
    digest = fingerprint({"kind": need.kind, **need.payload})
    minutes = policy_for(store).approval_minutes
    pending = ApprovalRequest.objects.filter(store=store, kind=need.kind, payload_hash=digest, requested_by=actor,
                                             status=ApprovalStatus.PENDING).first()
    if pending is not None:
        return pending
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                enterprise_id=store.enterprise_id, store=store, kind=need.kind, payload=need.payload,
                payload_hash=digest, summary=need.summary[:255], requested_by=actor,
                expires_at=timezone.now() + timedelta(minutes=minutes))
            audit_record(actor=actor, action="sales.approval.requested", target=approval,
                         after={"kind": need.kind, "payload": need.payload}, reason=need.summary, scope_path=store.path)
            return approval
    except IntegrityError:
        return ApprovalRequest.objects.get(store=store, kind=need.kind, payload_hash=digest, requested_by=actor,
                                           status=ApprovalStatus.PENDING)


def run_with_approval(*, actor: Staff, store: OrgNode, approval: ApprovalIn | None,
                      work: Callable[[ApprovalGate], T]) -> T:
    """Run `work(gate)` in a transaction; if it needs an approval it does not have, roll it back, store a pending
    ApprovalRequest and raise 403 `approval_required` with the request's id."""
    pin_manager = None
    if approval is not None and approval.manager_id is not None:
        pin_manager = _verify_pin(actor=actor, store=store, manager_id=approval.manager_id, pin=approval.pin)
    gate = ApprovalGate(actor=actor, store=store, given=approval, pin_manager=pin_manager)
    try:
        with transaction.atomic():
            return work(gate)
    except ApprovalNeeded as need:
        pending = _store_pending(actor=actor, store=store, need=need)
        raise Forbidden(_("A manager's approval is required."), code="approval_required",
                        details={"approval_request_id": pending.pk, "kind": need.kind, "summary": need.summary})


# --- managing approvals -----------------------------------------------------------------------------

def _approval_for(actor: Staff, approval_id: Any) -> ApprovalRequest:
    approval_id = clean_id(approval_id, "approval_id")
    approval = (ApprovalRequest.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), pk=approval_id,
                                               enterprise_id=actor.enterprise_id).select_related("store").first())
    if approval is None:
        raise NotFound(_("Approval request not found."), code="approval_not_found")
    return approval


@transaction.atomic
def approval_decide(*, actor: Staff, approval_id: int, approve: bool, reason: str = "") -> ApprovalRequest:
    """A manager approves or rejects a pending request remotely (order.approve at its store; never one's own).
    Locks: the request row."""
    approval = _approval_for(actor, approval_id)
    require(actor, Perm.ORDER_APPROVE, approval.store)
    reason = clean_text(reason, "reason", 255)
    approval = locks.lock_approval(approval.pk)
    if approval.requested_by_id == actor.pk:
        raise Forbidden(_("Nobody approves their own request."), code="own_request")
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(_("This request was already decided."), code="approval_decided",
                       details={"status": approval.status})
    now = timezone.now()
    if approval.expires_at <= now:
        raise Conflict(_("This request has expired."), code="approval_expired")
    before = {"status": approval.status}
    approval.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    approval.decided_by, approval.decided_at, approval.via, approval.reason = actor, now, ApprovalVia.REMOTE, reason
    approval.save(update_fields=["status", "decided_by", "decided_at", "via", "reason", "updated_at"])
    audit_record(actor=actor, action="sales.approval.approved" if approve else "sales.approval.rejected",
                 target=approval, before=before, after={"status": approval.status, "kind": approval.kind},
                 reason=reason, scope_path=approval.store.path)
    return approval


@transaction.atomic
def manager_pin_set(*, actor: Staff, store_id: int, pin: str) -> ManagerPin:
    """Set the actor's own approval PIN (only someone who may approve orders somewhere). Audited, never the PIN."""
    from ._common import store_for

    store = store_for(actor, store_id, Perm.ORDER_APPROVE)
    if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 8 or len(set(pin)) == 1:
        raise ValidationFailed(_("A PIN is 4 to 8 digits, not all the same."), code="invalid_pin",
                               details={"field": "pin"})
    record, _created = ManagerPin.objects.update_or_create(
        staff=actor, defaults={"pin_hash": make_password(pin), "failed_attempts": 0, "locked_until": None})
    audit_record(actor=actor, action="sales.manager_pin.set", target=record, scope_path=store.path)
    return record


KINDS = ApprovalKind
