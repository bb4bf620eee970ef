import re
from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from yundian.core.errors import Conflict, NotFound
from yundian.core.models import AuditEntry
from yundian.demo import generators
from yundian.demo.generators import DEFAULT_PASSWORD, run_seed, shape
from yundian.demo.generators import org as org_generator
from yundian.org import selectors
from yundian.org.models import Enterprise, OrgNode, RoleAssignment, Staff
from yundian.org.roles import NodeKind, Role
from yundian.org.tests.factories import fresh

User = get_user_model()


def _snapshot(code: str) -> tuple[list, list]:
    """What a seed produced, free of database ids and of the enterprise code."""
    nodes = [(n.kind, n.code, n.name, n.parent.code if n.parent else None, n.depth)
             for n in OrgNode.objects.filter(enterprise__code=code).select_related("parent").order_by("code")]
    staff = [(r.staff.user.username.removeprefix(f"{code}-"), r.staff.display_name, r.staff.phone, r.staff.employee_no,
              r.staff.home.code, r.role)
             for r in RoleAssignment.objects.filter(staff__enterprise__code=code)
             .select_related("staff__user", "staff__home").order_by("staff__employee_no")]
    return nodes, staff


def _descendants(root: OrgNode) -> set[str]:
    """Codes of root's subtree, walked through parent links (independent of `path`)."""
    children = defaultdict(list)
    for node_id, parent_id, code in OrgNode.objects.filter(enterprise=root.enterprise).values_list("id", "parent_id", "code"):
        children[parent_id].append((node_id, code))
    found, todo = {root.code}, [root.id]
    while todo:
        for node_id, code in children[todo.pop()]:
            found.add(code)
            todo.append(node_id)
    return found


@pytest.fixture
def org_only(monkeypatch):
    """Run just the org step: these tests are about the tree and the staff (other steps test themselves)."""
    monkeypatch.setattr(generators, "STEPS", lambda: [org_generator.step])


def test_every_step_writes_exactly_the_shape_it_announces(db):
    ctx = run_seed(scale=1, seed=1, code="acme")

    assert ctx.counts == shape(1)
    assert [step.name for step in generators.STEPS()][0] == "org"


def test_seed_at_scale_1_creates_the_documented_counts(org_only, db):
    ctx = run_seed(scale=1, seed=1, code="acme")

    enterprise = Enterprise.objects.get(code="acme")
    kinds = Counter(OrgNode.objects.filter(enterprise=enterprise).values_list("kind", flat=True))
    assert kinds == {NodeKind.HQ: 1, NodeKind.REGION: 2, NodeKind.DEALER: 2, NodeKind.STORE: 6}
    roles = Counter(RoleAssignment.objects.filter(staff__enterprise=enterprise).values_list("role", flat=True))
    assert roles == {Role.HQ_ADMIN: 1, Role.AUDITOR: 1, Role.REGION_MANAGER: 2, Role.DEALER: 2,
                     Role.STORE_MANAGER: 6, Role.GUIDE: 12}
    assert Staff.objects.filter(enterprise=enterprise).count() == 24
    assert User.objects.filter(staff__enterprise=enterprise).count() == 24
    stores = OrgNode.objects.filter(enterprise=enterprise, kind=NodeKind.STORE)
    assert stores.filter(parent__kind=NodeKind.DEALER).count() == 2
    assert stores.filter(parent__kind=NodeKind.REGION).count() == 4
    per_store = Counter(RoleAssignment.objects.filter(node__in=stores).values_list("node_id", "role"))
    assert set(per_store.values()) == {1, 2}
    assert {(role, n) for (_node, role), n in per_store.items()} == {(Role.STORE_MANAGER, 1), (Role.GUIDE, 2)}
    assert len(per_store) == 12  # 6 stores x (manager, guide)
    org_counts = {"regions": 2, "dealers": 2, "stores": 6, "stores_franchised": 2, "stores_direct": 4,
                  "org_nodes": 11, "staff": 24, "users": 24, "role_assignments": 24}
    assert {key: shape(1)[key] for key in org_counts} == {key: ctx.counts[key] for key in org_counts} == org_counts
    assert AuditEntry.objects.filter(enterprise=enterprise, action="demo.seed").count() == 1


def test_seed_at_scale_20_writes_exactly_its_shape_with_unique_codes_and_names(org_only, db):
    run_seed(scale=20, seed=3, code="big")

    expected = shape(20)
    nodes = OrgNode.objects.filter(enterprise__code="big")
    assert nodes.filter(kind=NodeKind.REGION).count() == expected["regions"] == 6
    assert nodes.filter(kind=NodeKind.DEALER).count() == expected["dealers"] == 12
    assert nodes.filter(kind=NodeKind.STORE).count() == expected["stores"] == 101
    assert nodes.filter(kind=NodeKind.STORE, parent__kind=NodeKind.DEALER).count() == expected["stores_franchised"]
    assert nodes.count() == expected["org_nodes"]
    assert Staff.objects.filter(enterprise__code="big").count() == expected["staff"] == 323
    # every dealer runs a store; every region runs a store directly
    assert not nodes.filter(kind=NodeKind.DEALER, children__isnull=True).exists()
    for region in nodes.filter(kind=NodeKind.REGION):
        assert region.children.filter(kind=NodeKind.STORE).exists()
    store_names = list(nodes.filter(kind=NodeKind.STORE).values_list("name", flat=True))
    assert len(set(store_names)) == len(store_names)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+店", name) for name in store_names)
    dealer_names = list(nodes.filter(kind=NodeKind.DEALER).values_list("name", flat=True))
    assert len(set(dealer_names)) == len(dealer_names)
    usernames = list(User.objects.filter(staff__enterprise__code="big").values_list("username", flat=True))
    assert all(u.startswith("big-") for u in usernames) and len(set(usernames)) == len(usernames)


def test_seed_is_deterministic_for_the_same_seed_and_differs_for_another(org_only, db):
    run_seed(scale=3, seed=42, code="first")
    run_seed(scale=3, seed=42, code="second")
    run_seed(scale=3, seed=43, code="third")

    assert _snapshot("first") == _snapshot("second")
    assert _snapshot("first")[0] != _snapshot("third")[0]
    assert _snapshot("first")[1] != _snapshot("third")[1]


@pytest.mark.parametrize("scale", [1, 5])
def test_every_seeded_path_is_the_parent_path_plus_own_id(org_only, db, scale):
    run_seed(scale=scale, seed=1, code="tree")

    nodes = {n.id: n for n in OrgNode.objects.filter(enterprise__code="tree")}
    assert len(nodes) == shape(scale)["org_nodes"]
    for node in nodes.values():
        if node.parent_id is None:
            assert (node.kind, node.path, node.depth) == (NodeKind.HQ, f"/{node.id}/", 0)
        else:
            parent = nodes[node.parent_id]
            assert node.path == f"{parent.path}{node.id}/"
            assert node.depth == parent.depth + 1


def test_one_staff_member_of_every_role_signs_in_with_the_seed_password(org_only, db):
    run_seed(scale=1, seed=1, code="acme", password="another-Strong-pw-9")

    for role in Role.values:
        assignment = RoleAssignment.objects.filter(role=role, staff__enterprise__code="acme").select_related("staff__user").first()
        client = Client()
        assert not client.login(username=assignment.staff.user.username, password=DEFAULT_PASSWORD)
        assert client.login(username=assignment.staff.user.username, password="another-Strong-pw-9"), role
        assert client.get("/").status_code == 200


def test_seeded_region_managers_see_exactly_their_subtree(org_only, db):
    run_seed(scale=5, seed=9, code="scope")
    other = run_seed(scale=1, seed=9, code="other")

    managers = RoleAssignment.objects.filter(role=Role.REGION_MANAGER, staff__enterprise__code="scope").select_related("node", "staff")
    assert managers.count() == 4
    for assignment in managers:
        manager = fresh(assignment.staff)
        subtree = _descendants(assignment.node)
        assert set(selectors.org_node_list(actor=manager).values_list("code", flat=True)) == subtree
        visible_staff = set(selectors.staff_list(actor=manager).values_list("home__code", flat=True))
        assert visible_staff and visible_staff <= subtree
        assert selectors.staff_list(actor=manager).count() == Staff.objects.filter(
            enterprise__code="scope", home__code__in=subtree).count()
        outside = OrgNode.objects.filter(enterprise__code="scope").exclude(code__in=subtree).first()
        with pytest.raises(NotFound):
            selectors.org_node_get(actor=manager, node_id=outside.id)
        with pytest.raises(NotFound):
            selectors.org_node_get(actor=manager, node_id=other.created["stores"][0].id)


def test_shape_for_scale_400_shows_about_2000_stores_and_writes_nothing(db):
    out = StringIO()

    with translation.override("en"):
        call_command("seed", "--shape", "--scale", "1", "400", stdout=out)

    stores_row = next(line for line in out.getvalue().splitlines() if re.match(r"^stores\s", line))
    at_scale_1, at_scale_400 = (int(v.replace(",", "")) for v in stores_row.split()[1:])
    assert at_scale_1 == 6
    assert 1900 <= at_scale_400 <= 2100
    assert Enterprise.objects.count() == 0 and OrgNode.objects.count() == 0


def test_seed_command_writes_once_and_refuses_a_taken_enterprise_code(org_only, db):
    out = StringIO()
    call_command("seed", "--scale", "2", "--enterprise", "cmd", "--seed", "5", stdout=out)
    assert "cmd" in out.getvalue()
    nodes, users = OrgNode.objects.count(), User.objects.count()
    assert nodes == shape(2)["org_nodes"] and users == shape(2)["users"]

    with pytest.raises(CommandError):
        call_command("seed", "--scale", "1", "--enterprise", "cmd", stdout=StringIO())

    assert (OrgNode.objects.count(), User.objects.count(), Enterprise.objects.count()) == (nodes, users, 1)


@pytest.mark.parametrize("args", [["--scale", "0"], ["--scale", "1", "2"], ["--enterprise", "Bad Code!"],
                                  ["--password", "123"]])
def test_seed_command_rejects_bad_input_and_writes_nothing(db, args):
    with pytest.raises(CommandError):
        call_command("seed", *args, stdout=StringIO())

    assert (Enterprise.objects.count(), OrgNode.objects.count(), User.objects.count()) == (0, 0, 0)


def test_a_taken_generated_username_rolls_the_whole_seed_back(org_only, db):
    User.objects.create_user(username="clash-guide-3", password="x")

    with pytest.raises(Conflict):
        run_seed(scale=1, seed=1, code="clash")

    assert (Enterprise.objects.count(), OrgNode.objects.count(), Staff.objects.count(), User.objects.count()) == (0, 0, 0, 1)
    assert AuditEntry.objects.count() == 0
