import pytest

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.inventory.models import Warehouse, WarehouseKind
from yundian.inventory.selectors import warehouse_list
from yundian.inventory.services import in_transit_warehouse, warehouse_create

pytestmark = pytest.mark.django_db


def test_admin_creates_a_store_warehouse_which_is_audited(chain):
    wh = warehouse_create(actor=chain.admin, node_id=chain.store_a.id, kind="store", code="WH-A", name="Store A room")
    assert (wh.node_id, wh.kind, wh.code, wh.enterprise_id) == (chain.store_a.id, "store", "WH-A", chain.admin.enterprise_id)
    entry = AuditEntry.objects.get(action="warehouse.create")
    assert entry.target_id == str(wh.id) and entry.scope_path == chain.store_a.path


def test_creating_the_same_warehouse_again_is_a_conflict_naming_it(chain):
    wh = warehouse_create(actor=chain.admin, node_id=chain.store_a.id, kind="store", code="WH-A", name="A")
    with pytest.raises(Conflict) as err:
        warehouse_create(actor=chain.admin, node_id=chain.store_a.id, kind="store", code="WH-A", name="A")
    assert err.value.code == "warehouse_exists" and err.value.details == {"warehouse_id": wh.id}
    with pytest.raises(Conflict) as err:
        warehouse_create(actor=chain.admin, node_id=chain.store_b.id, kind="store", code="WH-A", name="B")
    assert err.value.code == "warehouse_code_taken"
    with pytest.raises(Conflict) as err:
        warehouse_create(actor=chain.admin, node_id=chain.store_a.id, kind="store", code="WH-A2", name="A")
    assert err.value.code == "store_warehouse_exists"
    assert Warehouse.objects.count() == 1


@pytest.mark.parametrize("node, kind, code", [
    ("hq", "store", "X1"), ("store_a", "central", "X2"), ("east", "in_transit", "X3"), ("hq", "bogus", "X4"),
    ("hq", "central", ""), ("hq", "central", "bad code"),
])
def test_bad_kind_or_code_is_refused_and_nothing_is_created(chain, node, kind, code):
    with pytest.raises(ValidationFailed):
        warehouse_create(actor=chain.admin, node_id=getattr(chain, node).id, kind=kind, code=code, name="n")
    assert Warehouse.objects.count() == 0


def test_scope_out_of_view_is_404_and_without_permission_is_403(chain):
    with pytest.raises(NotFound):
        warehouse_create(actor=chain.east_manager, node_id=chain.store_b.id, kind="store", code="B", name="B")
    with pytest.raises(Forbidden):
        warehouse_create(actor=chain.manager_a, node_id=chain.store_a.id, kind="store", code="A", name="A")
    wh = warehouse_create(actor=chain.east_manager, node_id=chain.store_a.id, kind="store", code="A", name="A")
    assert list(warehouse_list(actor=chain.manager_a)) == [wh]
    assert list(warehouse_list(actor=chain.manager_b)) == []


def test_the_in_transit_warehouse_is_one_per_enterprise_at_hq(chain):
    first = in_transit_warehouse(chain.admin.enterprise_id)
    assert (first.kind, first.node_id) == (WarehouseKind.IN_TRANSIT, chain.hq.id)
    assert in_transit_warehouse(chain.admin.enterprise_id) == first
