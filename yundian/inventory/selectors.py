"""Reads of warehouses and stock, scoped to the acting staff member (out of scope -> 404)."""
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import NotFound
from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_q

from .models import Warehouse


def warehouse_list(*, actor: Staff, kind: str | None = None, node_id: int | None = None,
                   perm: str = Perm.STOCK_VIEW) -> QuerySet[Warehouse]:
    qs = Warehouse.objects.filter(scope_q(actor, perm, "node__path"), enterprise_id=actor.enterprise_id)
    if kind:
        qs = qs.filter(kind=kind)
    if node_id is not None:
        qs = qs.filter(node_id=node_id)
    return qs.select_related("node").order_by("id")


def warehouse_get(*, actor: Staff, warehouse_id: int, perm: str = Perm.STOCK_VIEW) -> Warehouse:
    warehouse = warehouse_list(actor=actor, perm=perm).filter(pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound(_("Warehouse not found."), code="warehouse_not_found")
    return warehouse
