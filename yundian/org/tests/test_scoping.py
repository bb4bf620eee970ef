"""The scoping matrix: exactly who may read and write which node and staff member, through services and the API.

The expectations are written out by hand below (not derived from the code under test). Outside an actor's scope
everything is 404, never 403, so existence does not leak; inside the scope but without the permission it is 403.
Pages are covered by test_pages.py with the same tables.
"""
import pytest

from yundian.core.errors import Forbidden, NotFound
from yundian.org import selectors, services
from yundian.org.tests.factories import fresh
from yundian.org.tests.utils import assert_error, call, client_for, state

ACTORS = ["admin", "east_manager", "west_manager", "dealer_staff", "manager_a", "manager_b", "guide_a", "auditor"]

# node short name -> Chain attribute (codes are "acme-<short name>")
NODES = {"HQ": "hq", "E": "east", "W": "west", "D1": "dealer", "A": "store_a", "B": "store_b"}
ALL_NODES = set(NODES)

# which nodes each actor can read
VISIBLE_NODES = {
    "admin": ALL_NODES,
    "east_manager": {"E", "D1", "A"},
    "west_manager": {"W", "B"},
    "dealer_staff": {"D1", "A"},
    "manager_a": {"A"},
    "manager_b": {"B"},
    "guide_a": {"A"},
    "auditor": ALL_NODES,
}
# which nodes each actor may add children under (holds org.manage there)
MANAGED_NODES = {
    "admin": ALL_NODES,
    "east_manager": {"E", "D1", "A"},
    "west_manager": {"W", "B"},
    "dealer_staff": {"D1", "A"},
    "manager_a": set(),
    "manager_b": set(),
    "guide_a": set(),
    "auditor": set(),
}
# which nodes each actor may rename or close (holds org.manage on the node's parent; HQ on itself)
EDITABLE_NODES = {
    "admin": ALL_NODES,
    "east_manager": {"D1", "A"},
    "west_manager": {"B"},
    "dealer_staff": {"A"},
    "manager_a": set(),
    "manager_b": set(),
    "guide_a": set(),
    "auditor": set(),
}

# staff short name -> Chain attribute (usernames are "acme-<short name>")
STAFF = {"admin": "admin", "east": "east_manager", "west": "west_manager", "dealer": "dealer_staff",
         "manager-a": "manager_a", "manager-b": "manager_b", "guide-a": "guide_a", "guide-b": "guide_b",
         "auditor": "auditor"}
ALL_STAFF = set(STAFF)

VISIBLE_STAFF = {
    "admin": ALL_STAFF,
    "east_manager": {"east", "dealer", "manager-a", "guide-a"},
    "west_manager": {"west", "manager-b", "guide-b"},
    "dealer_staff": {"dealer", "manager-a", "guide-a"},
    "manager_a": {"manager-a", "guide-a"},
    "manager_b": {"manager-b", "guide-b"},
    "guide_a": set(),  # guides hold org.view only
    "auditor": ALL_STAFF,
}
EDITABLE_STAFF = {
    "admin": ALL_STAFF,
    "east_manager": {"east", "dealer", "manager-a", "guide-a"},
    "west_manager": {"west", "manager-b", "guide-b"},
    "dealer_staff": {"dealer", "manager-a", "guide-a"},
    "manager_a": {"manager-a", "guide-a"},
    "manager_b": {"manager-b", "guide-b"},
    "guide_a": set(),
    "auditor": set(),
}

# POST /staff/{guide}/roles {"role": "store_manager", "node_id": <the guide's store>}
GRANT_STORE_MANAGER = {
    "admin": {"guide-a": 201, "guide-b": 201},
    "east_manager": {"guide-a": 201, "guide-b": 404},
    "west_manager": {"guide-a": 404, "guide-b": 201},
    "dealer_staff": {"guide-a": 201, "guide-b": 404},
    "manager_a": {"guide-a": 403, "guide-b": 404},
    "manager_b": {"guide-a": 404, "guide-b": 403},
    "guide_a": {"guide-a": 404, "guide-b": 404},
    "auditor": {"guide-a": 403, "guide-b": 403},
}
# DELETE /staff/{guide}/roles/{the guide's guide role}
REVOKE_GUIDE = {
    "admin": {"guide-a": 204, "guide-b": 204},
    "east_manager": {"guide-a": 204, "guide-b": 404},
    "west_manager": {"guide-a": 404, "guide-b": 204},
    "dealer_staff": {"guide-a": 204, "guide-b": 404},
    "manager_a": {"guide-a": 204, "guide-b": 404},
    "manager_b": {"guide-a": 404, "guide-b": 204},
    "guide_a": {"guide-a": 404, "guide-b": 404},
    "auditor": {"guide-a": 403, "guide-b": 403},
}


def expected_status(target, visible, allowed, ok):
    if target in allowed:
        return ok
    return 403 if target in visible else 404


def assert_scoped_read(client, url: str, visible: bool, read, expected, *, key: str, value, code: str) -> None:
    """In scope, the selector `read()` returns `expected` and GET `url` answers 200 with body[key] == value; out of
    scope, both are not found (the API's 404 with `code`)."""
    if visible:
        assert read() == expected
    else:
        with pytest.raises(NotFound):
            read()
    response = client.get(url)
    if visible:
        assert response.status_code == 200 and response.json()[key] == value
    else:
        assert_error(response, 404, code)


def assert_refused(response, status: int, before: dict, service=None) -> None:
    """The API answered the error `status` and changed nothing; so does the same write through `service()` (403 is
    Forbidden, 404 NotFound) when given."""
    assert_error(response, status)
    assert state() == before
    if service is not None:
        with pytest.raises(Forbidden if status == 403 else NotFound):
            service()
        assert state() == before


def test_the_tables_are_consistent():
    # editing or managing needs seeing; guards against a typo in the hand-written tables
    for actor in ACTORS:
        assert MANAGED_NODES[actor] <= VISIBLE_NODES[actor]
        assert EDITABLE_NODES[actor] <= VISIBLE_NODES[actor]
        assert EDITABLE_STAFF[actor] <= VISIBLE_STAFF[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_lists_show_exactly_the_actors_scope(chain, other_chain, actor):
    staff = fresh(getattr(chain, actor))
    expected_codes = {f"acme-{n}" for n in VISIBLE_NODES[actor]}
    expected_users = {f"acme-{s}" for s in VISIBLE_STAFF[actor]}
    # services
    assert set(selectors.org_node_list(actor=staff).values_list("code", flat=True)) == expected_codes
    assert {s.user.username for s in selectors.staff_list(actor=staff)} == expected_users

    def walk(entries):
        return [c for e in entries for c in [e["node"].code, *walk(e["children"])]]

    assert sorted(walk(selectors.org_tree(actor=staff))) == sorted(expected_codes)
    # API
    client = client_for(staff)
    response = client.get("/api/v1/org/nodes?limit=500")
    assert response.status_code == 200
    assert {n["code"] for n in response.json()["items"]} == expected_codes
    assert response.json()["count"] == len(expected_codes)
    response = client.get("/api/v1/staff?limit=500")
    assert response.status_code == 200
    assert {s["username"] for s in response.json()["items"]} == expected_users
    response = client.get("/api/v1/org/tree")
    assert response.status_code == 200

    def walk_json(entries):
        return [c for e in entries for c in [e["node"]["code"], *walk_json(e["children"])]]

    assert sorted(walk_json(response.json())) == sorted(expected_codes)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", sorted(NODES))
def test_node_read_and_write_matrix(chain, actor, target):
    staff = fresh(getattr(chain, actor))
    node = getattr(chain, NODES[target])
    visible = target in VISIBLE_NODES[actor]
    client = client_for(staff)

    # read: service and API
    assert_scoped_read(client, f"/api/v1/org/nodes/{node.id}", visible,
                       lambda: selectors.org_node_get(actor=staff, node_id=node.id), node,
                       key="code", value=f"acme-{target}", code="org_node_not_found")
    response = client.get(f"/api/v1/org/nodes?parent_id={node.id}")
    assert response.status_code == 200

    # create a child under it
    status = expected_status(target, VISIBLE_NODES[actor], MANAGED_NODES[actor], 201)
    if status == 201 and node.kind == "store":
        status = 422  # allowed to manage there, but nothing goes under a store
    before = state()
    response = call(client, "POST", "/api/v1/org/nodes", {"parent_id": node.id, "kind": "store", "name": "新店", "code": "NEW-1"})
    if status == 201:
        assert response.status_code == 201, response.content
        assert response.json()["parent_id"] == node.id
    else:
        assert_refused(response, status, before)

    # rename it
    status = expected_status(target, VISIBLE_NODES[actor], EDITABLE_NODES[actor], 200)
    before = state()
    response = call(client, "PATCH", f"/api/v1/org/nodes/{node.id}", {"name": "renamed"})
    if status == 200:
        assert response.status_code == 200 and response.json()["name"] == "renamed"
    else:  # and the same through the service
        assert_refused(response, status, before,
                       lambda: services.org_node_update(actor=staff, node_id=node.id, name="renamed"))


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", sorted(STAFF))
def test_staff_read_and_write_matrix(chain, actor, target):
    staff = fresh(getattr(chain, actor))
    other = getattr(chain, STAFF[target])
    visible = target in VISIBLE_STAFF[actor]
    client = client_for(staff)

    assert_scoped_read(client, f"/api/v1/staff/{other.id}", visible,
                       lambda: selectors.staff_get(actor=staff, staff_id=other.id), other,
                       key="username", value=f"acme-{target}", code="staff_not_found")
    response = client.get(f"/api/v1/staff/{other.id}/roles")
    if visible:
        assert response.status_code == 200 and len(response.json()) == 1
    else:
        assert_error(response, 404, "staff_not_found")

    status = expected_status(target, VISIBLE_STAFF[actor], EDITABLE_STAFF[actor], 200)
    before = state()
    response = call(client, "PATCH", f"/api/v1/staff/{other.id}", {"display_name": "改名", "phone": "13800000000"})
    if status == 200:
        assert response.status_code == 200
        assert (response.json()["display_name"], response.json()["phone"]) == ("改名", "13800000000")
    else:
        assert_refused(response, status, before,
                       lambda: services.staff_update(actor=staff, staff_id=other.id, display_name="改名"))


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", ["guide-a", "guide-b"])
def test_role_grant_matrix(chain, actor, target):
    staff = fresh(getattr(chain, actor))
    guide = getattr(chain, STAFF[target])
    status = GRANT_STORE_MANAGER[actor][target]
    before = state()
    response = call(client_for(staff), "POST", f"/api/v1/staff/{guide.id}/roles",
                    {"role": "store_manager", "node_id": guide.home_id})
    if status == 201:
        assert response.status_code == 201
        assert (response.json()["role"], response.json()["node_id"]) == ("store_manager", guide.home_id)
        assert guide.roles.filter(role="store_manager", node_id=guide.home_id).exists()
    else:
        assert_refused(response, status, before)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", ["guide-a", "guide-b"])
def test_role_revoke_matrix(chain, actor, target):
    staff = fresh(getattr(chain, actor))
    guide = getattr(chain, STAFF[target])
    assignment = guide.roles.get(role="guide")
    status = REVOKE_GUIDE[actor][target]
    before = state()
    response = call(client_for(staff), "DELETE", f"/api/v1/staff/{guide.id}/roles/{assignment.id}")
    if status == 204:
        assert response.status_code == 204
        assert not guide.roles.exists()
    else:
        assert_refused(response, status, before)


@pytest.mark.parametrize("actor", ACTORS)
def test_a_second_enterprise_is_invisible(chain, other_chain, actor):
    staff = fresh(getattr(chain, actor))
    client = client_for(staff)
    before = state()
    for attr in NODES.values():
        node = getattr(other_chain, attr)
        with pytest.raises(NotFound):
            selectors.org_node_get(actor=staff, node_id=node.id)
        assert_error(client.get(f"/api/v1/org/nodes/{node.id}"), 404)
        assert_error(call(client, "PATCH", f"/api/v1/org/nodes/{node.id}", {"name": "x"}), 404)
        assert_error(call(client, "POST", "/api/v1/org/nodes",
                          {"parent_id": node.id, "kind": "store", "name": "x", "code": "X-1"}), 404)
        assert_error(client.get(f"/api/v1/staff?node_id={node.id}"), 404)
    for attr in STAFF.values():
        other = getattr(other_chain, attr)
        with pytest.raises(NotFound):
            selectors.staff_get(actor=staff, staff_id=other.id)
        assert_error(client.get(f"/api/v1/staff/{other.id}"), 404)
        assert_error(client.get(f"/api/v1/staff/{other.id}/roles"), 404)
        assert_error(call(client, "PATCH", f"/api/v1/staff/{other.id}", {"display_name": "x"}), 404)
        assert_error(call(client, "POST", f"/api/v1/staff/{other.id}/roles", {"role": "guide", "node_id": chain.store_a.id}), 404)
        assignment = other.roles.first()
        assert_error(call(client, "DELETE", f"/api/v1/staff/{other.id}/roles/{assignment.id}"), 404)
    # nor can a staff member of ours be given a role on their nodes
    assert_error(call(client, "POST", f"/api/v1/staff/{chain.guide_a.id}/roles",
                      {"role": "guide", "node_id": other_chain.store_a.id}), 404)
    assert_error(call(client, "POST", "/api/v1/staff", {
        "home_id": other_chain.store_a.id, "username": "spy", "display_name": "spy", "password": "correct-horse-42",
        "role": "guide"}), 404)
    assert state() == before
    # and the other enterprise's admin sees exactly their own tree
    codes = set(selectors.org_node_list(actor=fresh(other_chain.admin)).values_list("code", flat=True))
    assert codes == {f"zeta-{n}" for n in NODES}


@pytest.mark.parametrize("actor", ACTORS)
def test_audit_log_is_scoped(chain, actor):
    """Audit entries of the chain's setup: each actor reads only entries under the subtree where they hold audit.view."""
    scope = {"admin": "HQ", "auditor": "HQ", "east_manager": "E", "west_manager": "W"}.get(actor)
    response = client_for(fresh(getattr(chain, actor))).get("/api/v1/audit?limit=500")
    assert response.status_code == 200
    targets = {(e["action"], e["target_type"], e["target_id"]) for e in response.json()["items"]}
    node_ids = {short: str(getattr(chain, attr).id) for short, attr in NODES.items()}
    staff_ids = {short: str(getattr(chain, attr).id) for short, attr in STAFF.items()}
    nodes_under = {"HQ": {"E", "W", "D1", "A", "B"}, "E": {"E", "D1", "A"}, "W": {"W", "B"}}
    staff_under = {"HQ": ALL_STAFF - {"admin"}, "E": {"east", "dealer", "manager-a", "guide-a"},
                   "W": {"west", "manager-b", "guide-b"}}
    if scope is None:
        assert targets == set()
        return
    wanted = {("org_node.create", "org.orgnode", node_ids[n]) for n in nodes_under[scope]}
    wanted |= {("staff.create", "org.staff", staff_ids[s]) for s in staff_under[scope]}
    if scope == "HQ":
        wanted.add(("enterprise.bootstrap", "org.enterprise", str(chain.hq.enterprise_id)))
    assert targets == wanted
