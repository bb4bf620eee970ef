"""Warehouses: creation (called by store opening too) and deactivation."""
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import WAREHOUSES, cache_bump
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, ValidationFailed
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import org_node_get, require

from ..models import Warehouse, WarehouseKind
from ._common import clean_code, clean_text

IN_TRANSIT_CODE = "IN-TRANSIT"


def warehouse_snapshot(warehouse: Warehouse) -> dict:
    return {"id": warehouse.id, "node": warehouse.node_id, "kind": warehouse.kind, "code": warehouse.code,
            "name": warehouse.name, "is_active": warehouse.is_active}


def _check_kind(kind: str, node: OrgNode) -> None:
    if kind not in WarehouseKind.values:
        raise ValidationFailed(_("Unknown warehouse kind."), code="invalid_kind", details={"field": "kind"})
    if kind == WarehouseKind.STORE and node.kind != NodeKind.STORE:
        raise ValidationFailed(_("A store warehouse belongs to a store."), code="kind_not_allowed_here",
                               details={"node_kind": node.kind, "kind": kind})
    if kind != WarehouseKind.STORE and node.kind == NodeKind.STORE:
        raise ValidationFailed(_("A store has only its store warehouse."), code="kind_not_allowed_here",
                               details={"node_kind": node.kind, "kind": kind})
    if kind == WarehouseKind.IN_TRANSIT and node.parent_id is not None:
        raise ValidationFailed(_("The in-transit warehouse belongs to headquarters."), code="kind_not_allowed_here",
                               details={"node_kind": node.kind, "kind": kind})


def _existing_conflict(*, enterprise_id: int, node: OrgNode, kind: str, code: str, name: str) -> Conflict | None:
    same_code = Warehouse.objects.filter(enterprise_id=enterprise_id, code=code).first()
    if same_code is not None:
        if (same_code.node_id, same_code.kind, same_code.name) == (node.id, kind, name):
            return Conflict(_("This warehouse already exists."), code="warehouse_exists",
                            details={"warehouse_id": same_code.id})
        return Conflict(_("This code is already used by another warehouse."), code="warehouse_code_taken",
                        details={"field": "code", "warehouse_id": same_code.id})
    if kind == WarehouseKind.STORE:
        other = Warehouse.objects.filter(node=node, kind=WarehouseKind.STORE).first()
        if other is not None:
            return Conflict(_("This store already has its warehouse."), code="store_warehouse_exists",
                            details={"warehouse_id": other.id})
    if kind == WarehouseKind.IN_TRANSIT:
        other = Warehouse.objects.filter(enterprise_id=enterprise_id, kind=WarehouseKind.IN_TRANSIT).first()
        if other is not None:
            return Conflict(_("The enterprise already has its in-transit warehouse."),
                            code="in_transit_warehouse_exists", details={"warehouse_id": other.id})
    return None


@transaction.atomic
def warehouse_create(*, actor: Staff, node_id: int, kind: str, code: str, name: str) -> Warehouse:
    """Create a warehouse on an org node in the actor's warehouse.manage scope (404 outside view, 403 without it).

    Idempotent by code: asking again for an identical warehouse is a 409 `warehouse_exists` whose details carry
    `warehouse_id`; the same code with other fields is 409 `warehouse_code_taken`. A store node has exactly one
    store warehouse (unique constraint), the enterprise one in-transit warehouse. Audited. Takes no row locks.
    """
    node = org_node_get(actor=actor, node_id=node_id)
    require(actor, Perm.WAREHOUSE_MANAGE, node)
    _check_kind(kind, node)
    code = clean_code(code)
    name = clean_text(name, "name", 120)
    if not node.is_active:
        raise Conflict(_("The org node is closed."), code="node_inactive")
    conflict = _existing_conflict(enterprise_id=actor.enterprise_id, node=node, kind=kind, code=code, name=name)
    if conflict is not None:
        raise conflict
    try:
        with transaction.atomic():
            warehouse = Warehouse.objects.create(enterprise_id=actor.enterprise_id, node=node, kind=kind, code=code,
                                                 name=name)
    except IntegrityError:
        # a concurrent create won the unique constraint: answer as if we had seen it first
        conflict = _existing_conflict(enterprise_id=actor.enterprise_id, node=node, kind=kind, code=code, name=name)
        raise conflict or Conflict(_("This code is already used by another warehouse."), code="warehouse_code_taken")
    audit_record(actor=actor, action="warehouse.create", target=warehouse, after=warehouse_snapshot(warehouse),
                 scope_path=node.path)
    return warehouse


@transaction.atomic
def warehouse_set_active(*, actor: Staff, warehouse_id: int, is_active: bool) -> Warehouse:
    """Open or close a warehouse (closed warehouses take no new moves). Audited."""
    from ..selectors import warehouse_get

    warehouse = warehouse_get(actor=actor, warehouse_id=warehouse_id)
    require(actor, Perm.WAREHOUSE_MANAGE, warehouse.node)
    before = warehouse_snapshot(warehouse)
    Warehouse.objects.filter(pk=warehouse.pk).update(is_active=bool(is_active))
    cache_bump(WAREHOUSES)
    warehouse.is_active = bool(is_active)
    audit_record(actor=actor, action="warehouse.update", target=warehouse, before=before,
                 after=warehouse_snapshot(warehouse), scope_path=warehouse.node.path)
    return warehouse


def in_transit_warehouse(enterprise_id: int) -> Warehouse:
    """The enterprise's in-transit warehouse, created at HQ on first use (system action, no actor check)."""
    found = Warehouse.objects.filter(enterprise_id=enterprise_id, kind=WarehouseKind.IN_TRANSIT).first()
    if found is not None:
        return found
    hq = OrgNode.objects.get(enterprise_id=enterprise_id, parent__isnull=True)
    code = IN_TRANSIT_CODE
    if Warehouse.objects.filter(enterprise_id=enterprise_id, code=code).exists():
        code = f"{IN_TRANSIT_CODE}-{hq.id}"
    try:
        with transaction.atomic():
            return Warehouse.objects.create(enterprise_id=enterprise_id, node=hq, kind=WarehouseKind.IN_TRANSIT,
                                            code=code, name=str(_("In transit")))
    except IntegrityError:
        return Warehouse.objects.get(enterprise_id=enterprise_id, kind=WarehouseKind.IN_TRANSIT)
