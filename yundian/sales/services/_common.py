"""Input cleaning and lookups shared by the sales services; every failure is a 4xx domain error."""
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from yundian.catalog.models import Product, Sku
from yundian.core.cache import CATALOG, WAREHOUSES, VersionCache, clone
from yundian.core.errors import Conflict, NotFound, ValidationFailed
from yundian.core.outbox import outbox_emit
from yundian.inventory.models import Warehouse, WarehouseKind
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import NodeKind, Perm
from yundian.org.selectors import has_perm, node_cached, require, scope_q, staff_cached
from yundian.core.text import clean_text as core_clean_text

from ..models import Order, SalesPolicy
from ..pricing import clean_codes  # noqa: F401  (re-exported for the services)

MAX_LINES = 500
MAX_QUANTITY = 1_000_000  # units (grams for weighed SKUs) in one line
MAX_AMOUNT = 10**11  # fen: a billion yuan, far above any till
MAX_REF = 128
ORDER_SOURCE = "order"
RETURN_SOURCE = "return"
RESERVATION_DAYS = 7  # pickup / delivery / ship holds: the longest a reservation may last
OFFLINE_MAX_AGE = timedelta(days=30)  # a till's offline sale older than this is refused: sync sooner
CLOCK_SKEW = timedelta(minutes=5)  # a till's clock may run this much ahead of the server's


def raw_rows(model, where: str, params: list) -> list:
    """Rows of `model` matching a fixed WHERE clause, through Model.objects.raw. For the few reads on the checkout
    path: building a query with the ORM costs ~0.4-0.8 ms of CPU, far more than the database's work; raw() still
    converts the columns to field values."""
    return list(model.objects.raw(f"SELECT * FROM {model._meta.db_table} WHERE {where}", params))


def placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def fingerprint(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def clean_int(value: Any, field: str, *, low: int = 0, high: int = MAX_AMOUNT, code: str = "invalid_amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(_("Not a valid whole number here."), code=code,
                               details={"field": field, "min": low, "max": high})
    return value


def clean_id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationFailed(_("Not a valid id."), code="invalid_id", details={"field": field})
    return value


def clean_optional_id(value: Any, field: str) -> int | None:
    return None if value is None else clean_id(value, field)


def clean_text(value: Any, field: str, max_length: int, *, required: bool = False) -> str:
    return core_clean_text(value, field, max_length, required=required, multiline=False)


def clean_ref(value: Any, field: str = "client_ref", *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value or len(value) > MAX_REF or not value.isprintable() or value != value.strip():
        raise ValidationFailed(_("A client key is 1 to 128 printable characters."), code="invalid_client_ref",
                               details={"field": field})
    return value


def clean_share_code(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 40 or not value.isalnum():
        raise ValidationFailed(_("Not a valid share link."), code="invalid_share_code", details={"field": "share_code"})
    return value


def clean_sold_at(value: Any, now: datetime) -> datetime | None:
    """When a till rang the sale up (offline sales sync later): an aware date-time, not ahead of the server by more
    than the clock skew and not older than OFFLINE_MAX_AGE."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = parse_datetime(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationFailed(_("Give the time of sale with its time zone."), code="invalid_placed_at",
                               details={"field": "placed_at"})
    if value > now + CLOCK_SKEW:
        raise ValidationFailed(_("The time of sale is in the future: check the till's clock."),
                               code="placed_at_in_future", details={"field": "placed_at"})
    if value < now - OFFLINE_MAX_AGE:
        raise ValidationFailed(_("This sale is too old to book: ask the office to enter it."),
                               code="placed_at_too_old", details={"field": "placed_at", "max_days": OFFLINE_MAX_AGE.days})
    return min(value, now)


def store_for(actor: Staff | None, store_id: Any, perm: str, *, enterprise_id: int | None = None) -> OrgNode:
    """The store node: 404 outside the actor's view, 403 without `perm`, 422 if not a store, 409 if closed."""
    store_id = clean_id(store_id, "store_id")
    node = node_cached(store_id)  # with its enterprise; per process until the org changes
    if node is None or (actor is None and node.enterprise_id != enterprise_id):
        raise NotFound(_("Store not found."), code="store_not_found")
    if actor is not None:
        require(actor, perm, node)
    if node.kind != NodeKind.STORE:
        raise ValidationFailed(_("Orders are placed at a store."), code="not_a_store", details={"field": "store_id"})
    if not node.is_active:
        raise Conflict(_("This store is closed."), code="store_inactive")
    return node


def order_for(actor: Staff, order_id: Any, perm: str = Perm.ORDER_VIEW) -> Order:
    """An order in the actor's view (404 otherwise), without lock; 403 if visible but `perm` is missing there."""
    order_id = clean_id(order_id, "order_id")
    order = (Order.objects.filter(scope_q(actor, Perm.ORDER_VIEW, "store__path"), enterprise_id=actor.enterprise_id,
                                  pk=order_id).select_related("store").first())
    if order is None:
        raise NotFound(_("Order not found."), code="order_not_found")
    require(actor, perm, order.store)
    return order


# per process, by id: SKUs with their product (a catalogue change bumps CATALOG in its transaction)
_SKUS = VersionCache("sales.skus", CATALOG)
# per process, by store id: the store's open stock room (a warehouse change bumps WAREHOUSES)
_STORE_WAREHOUSES = VersionCache("sales.store_warehouse", WAREHOUSES)


def _load_skus(ids: list[int]) -> dict[int, Sku]:
    found = {s.pk: s for s in raw_rows(Sku, f"id IN ({placeholders(ids)})", ids)}
    products = {p.pk: p for p in raw_rows(Product, f"id IN ({placeholders(found)})",
                                          [s.product_id for s in found.values()])} if found else {}
    for sku in found.values():
        sku.product = products[sku.product_id]
    return found


def skus_for(enterprise_id: int, sku_ids: list[int]) -> dict[int, Sku]:
    ids = sorted(set(sku_ids))
    found = {pk: clone(sku) for pk, sku in _SKUS.get_many(ids, _load_skus).items()
             if sku.enterprise_id == enterprise_id}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_("SKU not found."), code="sku_not_found", details={"sku_ids": missing[:50]})
    inactive = [s.pk for s in found.values() if not s.is_active or not s.product.is_active]
    if inactive:
        raise Conflict(_("This SKU is no longer sold."), code="sku_inactive", details={"sku_ids": inactive[:50]})
    return found


def guide_check(guide_id: int, store: OrgNode, cache: dict[int, Staff]) -> Staff:
    """A guide who may sell at the store (holds order.sell there); 422 `invalid_guide` otherwise."""
    if guide_id in cache:
        return cache[guide_id]
    guide = staff_cached(guide_id)  # per process until the org changes (a deactivation bumps it)
    if guide is not None and (guide.enterprise_id != store.enterprise_id or not guide.is_active):
        guide = None
    if guide is None or not has_perm(guide, Perm.ORDER_SELL, store):
        raise ValidationFailed(_("This guide does not sell at this store."), code="invalid_guide",
                               details={"guide_id": guide_id})
    cache[guide_id] = guide
    return guide


def store_warehouse(store: OrgNode) -> Warehouse:
    wh = clone(_STORE_WAREHOUSES.get(store.pk, lambda pk: next(iter(raw_rows(
        Warehouse, "node_id = %s AND kind = %s AND is_active = %s ORDER BY id", [pk, WarehouseKind.STORE, True])), None)))
    if wh is None:
        raise Conflict(_("This store has no open stock room."), code="no_store_warehouse")
    return wh


def ship_pool(store: OrgNode, warehouse_id: int | None) -> Warehouse:
    """The pool a ship-from-warehouse order sells from: the given virtual/central warehouse on the store's
    ancestors, else the nearest ancestor's virtual warehouse, else its central one (inventory's ATP pools)."""
    ancestors = [int(p) for p in store.path.strip("/").split("/") if p and int(p) != store.id]
    pools = Warehouse.objects.filter(node_id__in=ancestors, enterprise_id=store.enterprise_id, is_active=True,
                                     kind__in=[WarehouseKind.VIRTUAL, WarehouseKind.CENTRAL])
    if warehouse_id is not None:
        wh = pools.filter(pk=warehouse_id).first()
        if wh is None:
            raise ValidationFailed(_("This warehouse cannot ship for this store."), code="invalid_warehouse",
                                   details={"field": "warehouse_id"})
        return wh
    depth = {node_id: i for i, node_id in enumerate(reversed(ancestors))}
    ranked = sorted(pools, key=lambda w: (depth[w.node_id], w.kind != WarehouseKind.VIRTUAL, w.pk))
    if not ranked:
        raise Conflict(_("No warehouse ships for this store."), code="no_ship_warehouse")
    return ranked[0]


def policy_for(store: OrgNode) -> SalesPolicy:
    """The nearest node's sales policy, else the defaults (an unsaved SalesPolicy)."""
    ids = [int(p) for p in store.path.strip("/").split("/") if p]
    policies = {p.node_id: p for p in SalesPolicy.objects.filter(node_id__in=ids)}
    for node_id in reversed(ids):
        if node_id in policies:
            return policies[node_id]
    return SalesPolicy(enterprise_id=store.enterprise_id, node=store)


def order_changed(order) -> None:
    """Tell the warehouse (through the transactional outbox) that this order changed; in the change's transaction."""
    outbox_emit(enterprise_id=order.enterprise_id, topic="order.changed", key=order.pk)
