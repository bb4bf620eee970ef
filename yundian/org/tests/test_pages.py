"""Console pages keep the same scope as the API: out-of-scope objects are 404 pages, lists show exactly the scope."""
import re

import pytest
from django.test import Client

from yundian.org.tests.factories import PASSWORD, fresh
from yundian.org.tests.test_scoping import ACTORS, NODES, VISIBLE_NODES, VISIBLE_STAFF
from yundian.org.tests.utils import client_for, state

USERNAME_CELL = re.compile(r"<td>((?:acme|zeta)-[a-z0-9-]+)</td>")
NODE_CODE = re.compile(r'data-code="([^"]+)"')

# which console pages each actor may open at all (the rest are 404 pages)
PAGES = {
    "admin": {"/", "/org/", "/staff/", "/audit/"},
    "east_manager": {"/", "/org/", "/staff/", "/audit/"},
    "west_manager": {"/", "/org/", "/staff/", "/audit/"},
    "dealer_staff": {"/", "/org/", "/staff/"},
    "manager_a": {"/", "/org/", "/staff/"},
    "manager_b": {"/", "/org/", "/staff/"},
    "guide_a": {"/", "/org/"},
    "auditor": {"/", "/org/", "/staff/", "/audit/"},
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("target", sorted(NODES))
def test_node_page_is_404_outside_scope(chain, actor, target):
    node = getattr(chain, NODES[target])
    response = client_for(fresh(getattr(chain, actor))).get(f"/org/nodes/{node.id}/")
    if target in VISIBLE_NODES[actor]:
        assert response.status_code == 200
        assert f"acme-{target}" in response.content.decode()
    else:
        assert response.status_code == 404
        assert f"acme-{target}" not in response.content.decode()
        assert f">{node.name}<" not in response.content.decode()


@pytest.mark.parametrize("actor", ACTORS)
def test_console_pages_show_exactly_the_scope(chain, other_chain, actor):
    client = client_for(fresh(getattr(chain, actor)))
    for url in ["/", "/org/", "/staff/", "/audit/"]:
        response = client.get(url)
        assert response.status_code == (200 if url in PAGES[actor] else 404), url
        assert "zeta" not in response.content.decode()
    tree = client.get("/org/").content.decode()
    assert set(NODE_CODE.findall(tree)) == {f"acme-{n}" for n in VISIBLE_NODES[actor]}
    if "/staff/" in PAGES[actor]:
        page = client.get("/staff/?q=").content.decode()
        assert set(USERNAME_CELL.findall(page)) == {f"acme-{s}" for s in VISIBLE_STAFF[actor]}
    for attr in NODES.values():
        assert client.get(f"/org/nodes/{getattr(other_chain, attr).id}/").status_code == 404


def test_node_page_lists_only_staff_in_scope(chain):
    page = client_for(chain.manager_a).get(f"/org/nodes/{chain.store_a.id}/").content.decode()
    assert set(USERNAME_CELL.findall(page)) == {"acme-manager-a", "acme-guide-a"}
    page = client_for(chain.guide_a).get(f"/org/nodes/{chain.store_a.id}/").content.decode()
    assert USERNAME_CELL.findall(page) == []  # guides do not see staff


@pytest.mark.parametrize(("actor", "parent", "status"), [
    ("manager_a", "store_b", 404),   # no org.manage anywhere: the page itself is closed
    ("east_manager", "west", 404),
    ("east_manager", "hq", 404),
    ("west_manager", "dealer", 404),
])
def test_node_create_page_cannot_reach_outside_scope(chain, actor, parent, status):
    before = state()
    response = client_for(fresh(getattr(chain, actor))).post(
        "/org/nodes/new/", {"parent_id": getattr(chain, parent).id, "kind": "store", "name": "x", "code": "X-1"})
    assert response.status_code == status
    assert state() == before


def test_node_create_page_in_scope_creates_the_node(chain):
    response = client_for(chain.east_manager).post(
        "/org/nodes/new/", {"parent_id": chain.dealer.id, "kind": "store", "name": "新店", "code": "E-NEW"})
    assert response.status_code == 302
    assert chain.dealer.children.filter(code="E-NEW", name="新店").exists()


@pytest.mark.parametrize(("actor", "home", "role", "status"), [
    ("manager_a", "store_b", "guide", 404),
    ("east_manager", "store_b", "guide", 404),
    ("manager_a", "store_a", "store_manager", 403),
    ("guide_a", "store_a", "guide", 404),   # no staff.manage: the page is closed
    ("auditor", "store_a", "guide", 404),
])
def test_staff_create_page_cannot_reach_outside_scope(chain, actor, home, role, status):
    before = state()
    response = client_for(fresh(getattr(chain, actor))).post("/staff/new/", {
        "home_id": getattr(chain, home).id, "username": "new-guide", "display_name": "x", "password": PASSWORD,
        "role": role})
    assert response.status_code == status
    assert state() == before


def test_signed_out_visitors_are_sent_to_sign_in(chain):
    client = Client()
    for url in ["/", "/org/", "/staff/", "/audit/", f"/org/nodes/{chain.store_a.id}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    before = state()
    response = client.post("/org/nodes/new/", {"parent_id": chain.hq.id, "kind": "store", "name": "x", "code": "X-1"})
    assert response.status_code == 302
    assert state() == before


def test_a_user_without_staff_record_gets_404_pages(chain):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.create_user(username="loner", password=PASSWORD))
    assert client.get("/org/").status_code == 404
    assert client.get(f"/org/nodes/{chain.hq.id}/").status_code == 404
