import pytest
from django.contrib.auth.models import AnonymousUser

from yundian.core.audit import audit_record
from yundian.core.errors import Forbidden, NotFound
from yundian.core.models import AuditEntry
from yundian.org import selectors, services
from yundian.org.models import AuditDigest, OrgNode
from yundian.org.roles import Perm
from yundian.org.tests.factories import PASSWORD, fresh


def codes(qs) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_actor_roles_lists_active_roles_and_is_cached_until_forgotten(chain):
    actor = fresh(chain.east_manager)
    assert selectors.actor_roles(actor) == [("region_manager", chain.east.path, chain.east.id)]
    services.role_assign(actor=chain.admin, staff_id=actor.id, role="auditor", node_id=chain.west.id)
    assert len(selectors.actor_roles(actor)) == 1  # cached for the life of the request
    selectors.forget_actor_roles(actor)
    assert sorted(selectors.actor_roles(actor)) == [("auditor", chain.west.path, chain.west.id),
                                                    ("region_manager", chain.east.path, chain.east.id)]


def test_scope_paths_collapse_nested_subtrees(chain):
    services.role_assign(actor=chain.admin, staff_id=chain.east_manager.id, role="auditor", node_id=chain.hq.id)
    services.role_assign(actor=chain.admin, staff_id=chain.east_manager.id, role="auditor", node_id=chain.store_b.id)
    actor = fresh(chain.east_manager)
    assert selectors.scope_paths(actor, Perm.ORG_VIEW) == [chain.hq.path]
    assert selectors.scope_paths(actor, Perm.ORG_MANAGE) == [chain.east.path]
    assert selectors.scope_paths(actor, Perm.TOKEN_MANAGE) == []


def test_scope_paths_do_not_confuse_ids_that_share_digits(chain):
    # nodes with ids like 1 and 10..19 share a textual prefix; the trailing "/" keeps subtrees apart
    for i in range(12):
        services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind="store", name=f"S{i}", code=f"W-{i}")
    east_codes = codes(selectors.org_node_list(actor=fresh(chain.east_manager)))
    assert east_codes == {"acme-E", "acme-D1", "acme-A"}


def test_has_perm_with_and_without_a_node(chain):
    assert selectors.has_perm(chain.manager_a, Perm.STAFF_MANAGE)
    assert selectors.has_perm(chain.manager_a, Perm.STAFF_MANAGE, chain.store_a)
    assert not selectors.has_perm(chain.manager_a, Perm.STAFF_MANAGE, chain.store_b)
    assert not selectors.has_perm(chain.manager_a, Perm.STAFF_MANAGE, chain.dealer)
    assert not selectors.has_perm(chain.manager_a, Perm.ORG_MANAGE)
    assert not selectors.has_perm(chain.guide_a, Perm.STAFF_VIEW)
    assert selectors.has_perm(chain.auditor, Perm.AUDIT_VIEW, chain.store_b)


def test_require_is_404_outside_view_and_403_inside_without_the_permission(chain, other_chain):
    selectors.require(chain.east_manager, Perm.ORG_MANAGE, chain.store_a)
    with pytest.raises(NotFound):
        selectors.require(chain.east_manager, Perm.ORG_MANAGE, chain.store_b)
    with pytest.raises(NotFound):
        selectors.require(chain.admin, Perm.ORG_VIEW, other_chain.store_a)
    with pytest.raises(Forbidden):
        selectors.require(chain.guide_a, Perm.STAFF_VIEW, chain.store_a)
    with pytest.raises(Forbidden):
        selectors.require(chain.auditor, Perm.ORG_MANAGE, chain.store_a)


def test_org_node_list_filters(chain):
    admin = chain.admin
    assert codes(selectors.org_node_list(actor=admin, kind="store")) == {"acme-A", "acme-B"}
    assert codes(selectors.org_node_list(actor=admin, parent_id=chain.hq.id)) == {"acme-E", "acme-W"}
    assert codes(selectors.org_node_list(actor=admin, search="store")) == {"acme-A", "acme-B"}
    assert codes(selectors.org_node_list(actor=admin, search="d1")) == {"acme-D1"}
    assert codes(selectors.org_node_list(actor=admin, search="华")) == {"acme-E", "acme-W"}
    assert codes(selectors.org_node_list(actor=admin, search="%")) == set()
    assert codes(selectors.org_node_list(actor=admin, search="_")) == set()
    assert codes(selectors.org_node_list(actor=admin, search="' OR 1=1 --")) == set()
    services.org_node_update(actor=admin, node_id=chain.store_b.id, is_active=False)
    assert "acme-B" in codes(selectors.org_node_list(actor=admin))
    assert "acme-B" not in codes(selectors.org_node_list(actor=admin, include_inactive=False))
    # ordered by path: every parent before its children
    assert [n.code for n in selectors.org_node_list(actor=admin)] == ["acme-HQ", "acme-E", "acme-D1", "acme-A",
                                                                      "acme-W", "acme-B"]


def test_org_tree_is_rooted_where_the_actor_sees(chain):
    def shape(entries):
        return [(e["node"].code, shape(e["children"])) for e in entries]

    assert shape(selectors.org_tree(actor=chain.east_manager)) == [("acme-E", [("acme-D1", [("acme-A", [])])])]
    assert shape(selectors.org_tree(actor=chain.manager_b)) == [("acme-B", [])]
    assert shape(selectors.org_tree(actor=chain.admin)) == [
        ("acme-HQ", [("acme-E", [("acme-D1", [("acme-A", [])])]), ("acme-W", [("acme-B", [])])])]


def test_org_tree_with_two_separate_roots(chain):
    services.role_assign(actor=chain.admin, staff_id=chain.manager_a.id, role="auditor", node_id=chain.store_b.id)
    roots = selectors.org_tree(actor=fresh(chain.manager_a))
    assert [r["node"].code for r in roots] == ["acme-A", "acme-B"]


def test_staff_list_filters_by_node_and_search(chain):
    def names(qs):
        return {s.user.username for s in qs}

    assert names(selectors.staff_list(actor=chain.admin, node_id=chain.dealer.id)) == {
        "acme-dealer", "acme-manager-a", "acme-guide-a"}
    assert names(selectors.staff_list(actor=chain.admin, search="guide")) == {"acme-guide-a", "acme-guide-b"}
    assert names(selectors.staff_list(actor=chain.east_manager, search="guide")) == {"acme-guide-a"}
    with pytest.raises(NotFound):
        selectors.staff_list(actor=chain.east_manager, node_id=chain.west.id)
    assert names(selectors.staff_list(actor=chain.guide_a)) == set()


def test_staff_get_is_scoped(chain, other_chain):
    assert selectors.staff_get(actor=chain.manager_a, staff_id=chain.guide_a.id) == chain.guide_a
    for actor, target in [(chain.manager_a, chain.guide_b), (chain.manager_a, chain.dealer_staff),
                          (chain.guide_a, chain.guide_a), (chain.admin, other_chain.guide_a)]:
        with pytest.raises(NotFound) as exc:
            selectors.staff_get(actor=actor, staff_id=target.id)
        assert exc.value.code == "staff_not_found"


def test_role_assignment_list(chain):
    services.role_assign(actor=chain.admin, staff_id=chain.guide_a.id, role="auditor", node_id=chain.store_a.id)
    assert [(r.role, r.node_id) for r in selectors.role_assignment_list(actor=chain.manager_a, staff_id=chain.guide_a.id)] == [
        ("guide", chain.store_a.id), ("auditor", chain.store_a.id)]
    with pytest.raises(NotFound):
        selectors.role_assignment_list(actor=chain.manager_b, staff_id=chain.guide_a.id)


def test_audit_list_is_scoped_by_subtree_and_enterprise(chain, other_chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_a.id, name="A2")
    services.org_node_update(actor=chain.admin, node_id=chain.store_b.id, name="B2")
    services.org_node_update(actor=other_chain.admin, node_id=other_chain.store_a.id, name="Z-A2")

    def targets(actor):
        return {(e.target_type, e.target_id) for e in selectors.audit_list(actor=actor, action="org_node.update")}

    assert targets(chain.auditor) == {("org.orgnode", str(chain.store_a.id)), ("org.orgnode", str(chain.store_b.id))}
    assert targets(chain.east_manager) == {("org.orgnode", str(chain.store_a.id))}
    assert targets(chain.west_manager) == {("org.orgnode", str(chain.store_b.id))}
    assert targets(chain.manager_a) == set()  # no audit.view
    assert targets(chain.dealer_staff) == set()  # dealers do not hold audit.view
    assert targets(other_chain.admin) == {("org.orgnode", str(other_chain.store_a.id))}
    # everything the east manager sees is inside East
    assert all(e.scope_path.startswith(chain.east.path) for e in selectors.audit_list(actor=chain.east_manager))
    assert selectors.audit_list(actor=chain.auditor, target_type="org.staff").count() == 8


def test_audit_entries_without_scope_are_visible_to_nobody_scoped(chain):
    audit_record(actor=chain.admin, action="odd", target=chain.hq, scope_path="")
    assert not selectors.audit_list(actor=chain.east_manager, action="odd").exists()
    assert not selectors.audit_list(actor=chain.admin, action="odd").exists()
    assert AuditEntry.objects.filter(action="odd").count() == 1


def test_audit_digest_list_needs_audit_view(chain, other_chain):
    import datetime

    AuditDigest.objects.create(enterprise=chain.hq.enterprise, day=datetime.date(2024, 1, 1), total=3)
    AuditDigest.objects.create(enterprise=other_chain.hq.enterprise, day=datetime.date(2024, 1, 1), total=5)
    assert [d.total for d in selectors.audit_digest_list(actor=chain.auditor)] == [3]
    assert [d.total for d in selectors.audit_digest_list(actor=other_chain.admin)] == [5]
    assert list(selectors.audit_digest_list(actor=chain.manager_a)) == []


def test_staff_for_user(chain):
    assert selectors.staff_for_user(AnonymousUser()) is None
    assert selectors.staff_for_user(None) is None
    assert selectors.staff_for_user(chain.guide_a.user) == chain.guide_a
    from django.contrib.auth import get_user_model

    loner = get_user_model().objects.create_user(username="no-staff", password=PASSWORD)
    assert selectors.staff_for_user(loner) is None


def test_inactive_actor_sees_nothing(chain):
    services.staff_update(actor=chain.admin, staff_id=chain.east_manager.id, is_active=False)
    actor = fresh(chain.east_manager)
    assert selectors.actor_roles(actor) == []
    assert not OrgNode.objects.filter(selectors.scope_q(actor)).exists()
