from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.models import AuditEntry
from yundian.org import selectors, services
from yundian.org.models import ApiToken, Enterprise, OrgNode, RoleAssignment, Staff
from yundian.org.roles import NodeKind, Role
from yundian.org.tests.factories import PASSWORD, fresh
from yundian.org.tests.utils import counts, state

# --- enterprise bootstrap ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bootstrap_creates_enterprise_root_and_first_admin_with_an_audit_entry():
    enterprise, admin = services.enterprise_bootstrap(
        name="Lotus Mart", code="lotus", hq_name="总部", hq_code="L-HQ", admin_username="lotus-boss",
        admin_password=PASSWORD, admin_display_name="老板")
    hq = OrgNode.objects.get(enterprise=enterprise)
    assert (hq.kind, hq.parent_id, hq.path, hq.depth, hq.code) == ("hq", None, f"/{hq.id}/", 0, "L-HQ")
    assert admin.home == hq and admin.user.check_password(PASSWORD)
    assert list(admin.roles.values_list("role", "node_id")) == [("hq_admin", hq.id)]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_user, entry.actor_label, entry.enterprise) == ("enterprise.bootstrap", None, "system", enterprise)
    assert entry.after == {"code": "lotus", "admin": "lotus-boss"}
    assert entry.scope_path == hq.path


@pytest.mark.parametrize(("field", "value", "error"), [
    ("code", "Lotus Mart", "invalid_code"),
    ("code", "", "invalid_code"),
    ("hq_code", "bad code", "invalid_code"),
    ("admin_username", "a b", "invalid_username"),
    ("name", "   ", "required"),
])
@pytest.mark.django_db
def test_bootstrap_refuses_bad_input_and_creates_nothing(field, value, error):
    args = dict(name="Lotus Mart", code="lotus", hq_name="总部", hq_code="L-HQ", admin_username="lotus-boss",
                admin_password=PASSWORD, admin_display_name="老板")
    args[field] = value
    with pytest.raises(ValidationFailed) as exc:
        services.enterprise_bootstrap(**args)
    assert exc.value.code == error
    assert counts() == {k: 0 for k in counts()}
    assert Enterprise.objects.count() == 0


def test_bootstrap_refuses_a_taken_enterprise_code(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.enterprise_bootstrap(name="Again", code="acme", hq_name="HQ", hq_code="X-HQ", admin_username="x-admin",
                                      admin_password=PASSWORD, admin_display_name="X")
    assert exc.value.code == "enterprise_exists"
    assert state() == before and Enterprise.objects.count() == 1


# --- org nodes -----------------------------------------------------------------------------------------------

ALLOWED = [
    ("hq", "region"), ("hq", "dealer"), ("hq", "store"),
    ("east", "region"), ("east", "dealer"), ("east", "store"),
    ("dealer", "dealer"), ("dealer", "store"),
]
REFUSED = [
    ("hq", "hq"), ("east", "hq"), ("dealer", "region"), ("dealer", "hq"),
    ("store_a", "store"), ("store_a", "dealer"), ("store_a", "region"), ("store_a", "hq"),
]


@pytest.mark.parametrize(("parent", "kind"), ALLOWED)
def test_node_kinds_follow_the_hierarchy(chain, parent, kind):
    parent_node = getattr(chain, parent)
    node = services.org_node_create(actor=chain.admin, parent_id=parent_node.id, kind=kind, name="新节点", code="NEW-1")
    node.refresh_from_db()
    assert (node.kind, node.parent_id, node.enterprise_id) == (kind, parent_node.id, chain.hq.enterprise_id)
    assert node.path == f"{parent_node.path}{node.id}/"
    assert node.depth == parent_node.depth + 1
    assert node.is_active


@pytest.mark.parametrize(("parent", "kind"), REFUSED)
def test_node_kind_not_allowed_under_parent_is_refused(chain, parent, kind):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        services.org_node_create(actor=chain.admin, parent_id=getattr(chain, parent).id, kind=kind, name="x", code="NEW-1")
    assert exc.value.code == "kind_not_allowed_here"
    assert exc.value.details == {"parent_kind": getattr(chain, parent).kind, "kind": kind}
    assert state() == before


@pytest.mark.parametrize("kind", ["shop", "", "STORE", "store ", "warehouse"])
def test_unknown_node_kind_is_refused(chain, kind):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind=kind, name="x", code="NEW-1")
    assert exc.value.code == "invalid_kind"
    assert state() == before


@pytest.mark.parametrize("code", ["", "   ", "-abc", "_abc", "a b", "x" * 33, "门店", "a/b", "a.b", "a\nb", "a\x00"])
def test_bad_node_codes_are_refused(chain, code):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name="x", code=code)
    assert exc.value.code == "invalid_code"
    assert state() == before


@pytest.mark.parametrize("code", ["A", "a-b_c", "x" * 32, "0042", "SH-001"])
def test_good_node_codes_are_accepted(chain, code):
    node = services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name="x", code=code)
    assert OrgNode.objects.get(pk=node.pk).code == code


def test_node_code_is_trimmed(chain):
    node = services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name="  门店 ", code=" S-9 ")
    assert (node.name, node.code) == ("门店", "S-9")


def test_duplicate_node_code_in_the_enterprise_is_a_409(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind="store", name="again", code="acme-A")
    assert (exc.value.status, exc.value.code) == (409, "code_taken")
    assert state() == before


def test_same_node_code_in_another_enterprise_is_fine(chain, other_chain):
    node = services.org_node_create(actor=other_chain.admin, parent_id=other_chain.west.id, kind="store",
                                    name="copycat", code="acme-A")
    assert node.enterprise_id == other_chain.hq.enterprise_id
    assert OrgNode.objects.filter(code="acme-A").count() == 2


def test_no_node_under_a_closed_parent(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_b.id, is_active=False)
    services.org_node_update(actor=chain.admin, node_id=chain.west.id, is_active=False)
    before = state()
    with pytest.raises(Conflict) as exc:
        services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind="store", name="x", code="NEW-1")
    assert exc.value.code == "parent_inactive"
    assert state() == before


@pytest.mark.parametrize(("name", "error"), [
    ("", "required"), ("   ", "required"), ("x" * 121, "invalid_text"), ("a\x00b", "invalid_text"),
    ("two\nlines", "invalid_text"), ("bell\x07", "invalid_text"), ("\u202eevil", "invalid_text"),
])
def test_bad_node_names_are_refused(chain, name, error):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name=name, code="NEW-1")
    assert exc.value.code == error
    assert exc.value.details == {"field": "name"}
    assert state() == before


@pytest.mark.parametrize("name", [
    "上海南京路店", "Café Müller", "🛒 Store", "👨‍👩‍👧 Family", "张　三", "x" * 120, "Robert'); DROP TABLE org_orgnode;--",
    "<script>alert(1)</script>", "مرحبا", "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
])
def test_any_script_emoji_and_injection_text_is_stored_literally(chain, name):
    node = services.org_node_create(actor=chain.admin, parent_id=chain.east.id, kind="store", name=name, code="NEW-1")
    assert OrgNode.objects.get(pk=node.pk).name == name


def test_node_create_writes_an_audit_entry_with_who_and_after(chain):
    node = services.org_node_create(actor=chain.east_manager, parent_id=chain.east.id, kind="store", name="新店", code="E-9")
    entry = AuditEntry.objects.get(action="org_node.create", target_id=str(node.id))
    assert entry.actor_user == chain.east_manager.user
    assert entry.actor_label == "acme-east"
    assert entry.enterprise_id == chain.hq.enterprise_id
    assert (entry.target_type, entry.scope_path) == ("org.orgnode", node.path)
    assert entry.before is None
    assert entry.after == {"id": node.id, "kind": "store", "name": "新店", "code": "E-9", "parent": chain.east.id,
                           "is_active": True}


def test_node_rename_is_audited_with_before_and_after(chain):
    services.org_node_update(actor=chain.dealer_staff, node_id=chain.store_a.id, name="A 店（新）")
    assert OrgNode.objects.get(pk=chain.store_a.id).name == "A 店（新）"
    entry = AuditEntry.objects.get(action="org_node.update")
    assert entry.actor_user == chain.dealer_staff.user
    assert entry.before["name"] == "Store A" and entry.after["name"] == "A 店（新）"
    assert entry.before["is_active"] is True and entry.after["is_active"] is True
    assert entry.scope_path == chain.store_a.path


def test_closing_a_node_with_open_children_is_refused(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.org_node_update(actor=chain.admin, node_id=chain.dealer.id, is_active=False)
    assert exc.value.code == "has_active_children"
    assert state() == before


def test_headquarters_cannot_be_closed(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.org_node_update(actor=chain.admin, node_id=chain.hq.id, is_active=False)
    assert exc.value.code == "cannot_close_root"
    assert state() == before


def test_closing_bottom_up_then_reopening_top_down(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_a.id, is_active=False)
    services.org_node_update(actor=chain.admin, node_id=chain.dealer.id, is_active=False)
    assert list(OrgNode.objects.filter(is_active=False).order_by("id").values_list("code", flat=True)) == ["acme-D1", "acme-A"]
    entry = AuditEntry.objects.filter(action="org_node.update").first()
    assert (entry.before["is_active"], entry.after["is_active"]) == (True, False)
    # a store cannot reopen while its dealer is closed
    before = state()
    with pytest.raises(Conflict) as exc:
        services.org_node_update(actor=chain.admin, node_id=chain.store_a.id, is_active=True)
    assert exc.value.code == "parent_inactive"
    assert state() == before
    services.org_node_update(actor=chain.admin, node_id=chain.dealer.id, is_active=True)
    services.org_node_update(actor=chain.admin, node_id=chain.store_a.id, is_active=True)
    assert not OrgNode.objects.filter(is_active=False).exists()


def test_roles_held_on_a_closed_node_stop_granting_anything(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_a.id, is_active=False)
    manager = fresh(chain.manager_a)
    assert selectors.actor_roles(manager) == []
    assert list(selectors.org_node_list(actor=manager)) == []
    with pytest.raises(NotFound):
        selectors.org_node_get(actor=manager, node_id=chain.store_a.id)


def test_region_manager_manages_below_their_region_but_not_the_region_itself(chain):
    services.org_node_update(actor=chain.east_manager, node_id=chain.dealer.id, name="D1 renamed")
    before = state()
    with pytest.raises(Forbidden):
        services.org_node_update(actor=chain.east_manager, node_id=chain.east.id, name="mine now")
    with pytest.raises(NotFound):
        services.org_node_update(actor=chain.east_manager, node_id=chain.west.id, name="theirs")
    with pytest.raises(NotFound):
        services.org_node_update(actor=chain.east_manager, node_id=chain.hq.id, name="everyone")
    assert state() == before


def test_store_manager_cannot_create_nodes(chain):
    before = state()
    with pytest.raises(Forbidden):
        services.org_node_create(actor=chain.manager_a, parent_id=chain.store_a.id, kind="store", name="x", code="X-1")
    with pytest.raises(NotFound):
        services.org_node_create(actor=chain.manager_a, parent_id=chain.dealer.id, kind="store", name="x", code="X-1")
    assert state() == before


# --- staff ---------------------------------------------------------------------------------------------------

def new_guide(chain, actor=None, **overrides):
    args = dict(home_id=chain.store_a.id, username="new-guide", display_name="小王", password=PASSWORD, role="guide")
    args.update(overrides)
    return services.staff_create(actor=actor or chain.manager_a, **args)


def test_store_manager_creates_a_guide_in_their_store(chain):
    staff = new_guide(chain, phone="13800138000", employee_no="E-007")
    staff = fresh(staff)
    assert (staff.home, staff.enterprise_id, staff.display_name, staff.phone, staff.employee_no) == (
        chain.store_a, chain.hq.enterprise_id, "小王", "13800138000", "E-007")
    assert staff.user.username == "new-guide" and staff.user.check_password(PASSWORD)
    assert list(staff.roles.values_list("role", "node_id")) == [("guide", chain.store_a.id)]
    entry = AuditEntry.objects.get(action="staff.create", target_id=str(staff.id))
    assert (entry.actor_user, entry.target_type, entry.target_id) == (chain.manager_a.user, "org.staff", str(staff.id))
    assert entry.after == {"username": "new-guide", "home": chain.store_a.id, "role": "guide"}
    assert entry.scope_path == chain.store_a.path
    assert "password" not in str(entry.after) and PASSWORD not in str(entry.after)


@pytest.mark.parametrize("password", ["short1", "12345678", "password", "new-guide1", "", "x" * 129])
def test_weak_password_is_refused(chain, password):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, password=password)
    assert exc.value.code == "weak_password"
    assert exc.value.details["field"] == "password"
    assert state() == before


def test_weak_password_lists_the_reasons(chain):
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, password="1234")
    assert len(exc.value.details["reasons"]) == 2  # too short and too common


@pytest.mark.parametrize("username", ["ab", "a b", "名字", "x" * 151, "a/b", "a:b", "<b>", "bob\nx", "", "   "])
def test_bad_username_is_refused(chain, username):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, username=username)
    assert exc.value.code == "invalid_username"
    assert state() == before


@pytest.mark.parametrize("username", ["acme-guide-a", "ACME-GUIDE-A", "acme-admin"])
def test_duplicate_username_is_a_409_case_insensitively(chain, username):
    before = state()
    with pytest.raises(Conflict) as exc:
        new_guide(chain, username=username)
    assert exc.value.code == "username_taken"
    assert state() == before


@pytest.mark.parametrize(("field", "value", "error"), [
    ("phone", "12345", "invalid_phone"), ("phone", "138-0013-8000", "invalid_phone"), ("phone", "1380013800\n", None),
    ("phone", "phone", "invalid_phone"), ("employee_no", "x" * 33, "invalid_employee_no"),
    ("employee_no", "E\x00", "invalid_employee_no"), ("employee_no", "工号", "invalid_employee_no"),
    ("display_name", "", "required"), ("display_name", "x" * 81, "invalid_text"),
])
def test_bad_staff_fields_are_refused(chain, field, value, error):
    before = state()
    if error is None:  # surrounding whitespace is trimmed, not refused
        staff = new_guide(chain, **{field: value})
        assert getattr(staff, field) == value.strip()
        return
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, **{field: value})
    assert exc.value.code == error
    assert state() == before


def test_staff_cannot_be_created_at_a_closed_node(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_b.id, is_active=False)
    before = state()
    with pytest.raises(Conflict) as exc:
        new_guide(chain, actor=chain.admin, home_id=chain.store_b.id)
    assert exc.value.code == "node_inactive"
    assert state() == before


# who may grant which role where: (actor, home, role) -> expected outcome
GRANTS = [
    ("manager_a", "store_a", "guide", None),
    ("manager_a", "store_a", "store_manager", Forbidden),
    ("manager_a", "store_a", "auditor", Forbidden),
    ("manager_a", "store_b", "guide", NotFound),
    ("manager_a", "dealer", "dealer", NotFound),
    ("dealer_staff", "store_a", "store_manager", None),
    ("dealer_staff", "store_a", "guide", None),
    ("dealer_staff", "dealer", "dealer", Forbidden),
    ("dealer_staff", "store_b", "guide", NotFound),
    ("east_manager", "east", "region_manager", None),
    ("east_manager", "dealer", "dealer", None),
    ("east_manager", "store_a", "auditor", None),
    ("east_manager", "store_b", "guide", NotFound),
    ("east_manager", "west", "region_manager", NotFound),
    ("east_manager", "hq", "hq_admin", NotFound),
    ("west_manager", "store_a", "guide", NotFound),
    ("west_manager", "store_b", "store_manager", None),
    ("guide_a", "store_a", "guide", Forbidden),
    ("auditor", "store_a", "guide", Forbidden),
    ("admin", "hq", "hq_admin", None),
    ("admin", "hq", "auditor", None),
    ("admin", "store_b", "store_manager", None),
]


@pytest.mark.parametrize(("actor", "home", "role", "error"), GRANTS)
def test_grant_rules_for_staff_create(chain, actor, home, role, error):
    actor_staff, home_node = getattr(chain, actor), getattr(chain, home)
    before = state()
    if error is None:
        staff = new_guide(chain, actor=actor_staff, home_id=home_node.id, role=role)
        assert list(staff.roles.values_list("role", "node_id")) == [(role, home_node.id)]
        return
    with pytest.raises(error):
        new_guide(chain, actor=actor_staff, home_id=home_node.id, role=role)
    assert state() == before


@pytest.mark.parametrize(("home", "role"), [
    ("east", "guide"), ("store_a", "region_manager"), ("store_a", "dealer"), ("store_a", "hq_admin"),
    ("hq", "store_manager"), ("dealer", "guide"),
])
def test_role_must_suit_the_node_kind(chain, home, role):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, actor=chain.admin, home_id=getattr(chain, home).id, role=role)
    assert exc.value.code == "role_not_allowed_on_node"
    assert state() == before


@pytest.mark.parametrize("role", ["owner", "", "HQ_ADMIN", "guide "])
def test_unknown_role_is_refused(chain, role):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        new_guide(chain, actor=chain.admin, role=role)
    assert exc.value.code == "invalid_role"
    assert state() == before


def test_staff_update_is_audited_with_before_and_after(chain):
    services.staff_update(actor=chain.manager_a, staff_id=chain.guide_a.id, display_name="导购甲", phone="13900000000")
    guide = fresh(chain.guide_a)
    assert (guide.display_name, guide.phone) == ("导购甲", "13900000000")
    entry = AuditEntry.objects.get(action="staff.update")
    assert entry.actor_user == chain.manager_a.user
    assert entry.before == {"display_name": "guide-a", "is_active": True, "phone": ""}
    assert entry.after == {"display_name": "导购甲", "is_active": True, "phone": "13900000000"}
    assert entry.scope_path == chain.store_a.path


def test_deactivated_staff_lose_access_everywhere(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="x")
    services.staff_update(actor=chain.admin, staff_id=chain.manager_a.id, is_active=False)
    manager = fresh(chain.manager_a)
    assert not manager.is_active and not manager.user.is_active
    assert selectors.staff_for_user(manager.user) is None
    assert selectors.actor_roles(manager) == []
    assert list(selectors.org_node_list(actor=manager)) == []
    assert services.api_token_authenticate(plaintext) == chain.admin  # other people's tokens unaffected


def test_nobody_deactivates_themselves(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.staff_update(actor=chain.admin, staff_id=chain.admin.id, is_active=False)
    assert exc.value.code == "cannot_deactivate_self"
    assert state() == before


def test_staff_may_rename_themselves(chain):
    services.staff_update(actor=chain.manager_a, staff_id=chain.manager_a.id, display_name="店长 A")
    assert fresh(chain.manager_a).display_name == "店长 A"


def test_a_store_manager_cannot_edit_a_peer_or_a_superior_based_in_their_store(chain):
    peer = services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-manager-a2",
                                 display_name="peer", password=PASSWORD, role="store_manager")
    boss = services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-roaming",
                                 display_name="boss", password=PASSWORD, role="guide")
    services.role_assign(actor=chain.admin, staff_id=boss.id, role="region_manager", node_id=chain.east.id)
    before = state()
    for target in (peer, boss):
        with pytest.raises(Forbidden) as exc:
            services.staff_update(actor=fresh(chain.manager_a), staff_id=target.id, is_active=False)
        assert exc.value.code == "staff_outranks_actor"
    assert state() == before
    services.staff_update(actor=chain.east_manager, staff_id=peer.id, is_active=False)  # the region may
    assert not fresh(peer).is_active


def test_auditor_sees_staff_but_cannot_edit_them(chain):
    before = state()
    with pytest.raises(Forbidden):
        services.staff_update(actor=chain.auditor, staff_id=chain.guide_a.id, display_name="x")
    assert state() == before


def test_manager_a_cannot_touch_store_b_staff(chain):
    before = state()
    with pytest.raises(NotFound):
        services.staff_update(actor=chain.manager_a, staff_id=chain.guide_b.id, display_name="x")
    with pytest.raises(NotFound):
        services.role_assign(actor=chain.manager_a, staff_id=chain.guide_b.id, role="guide", node_id=chain.store_a.id)
    with pytest.raises(NotFound):
        services.role_assign(actor=chain.manager_a, staff_id=chain.guide_a.id, role="guide", node_id=chain.store_b.id)
    assignment = chain.guide_b.roles.get()
    with pytest.raises(NotFound):
        services.role_revoke(actor=chain.manager_a, staff_id=chain.guide_b.id, assignment_id=assignment.id)
    assert state() == before


# --- roles ---------------------------------------------------------------------------------------------------

def test_role_assign_is_audited_with_before_and_after(chain):
    assignment = services.role_assign(actor=chain.east_manager, staff_id=chain.guide_a.id, role="store_manager",
                                      node_id=chain.store_a.id)
    assert (assignment.staff_id, assignment.role, assignment.node_id) == (chain.guide_a.id, "store_manager", chain.store_a.id)
    entry = AuditEntry.objects.get(action="role.assign")
    assert entry.actor_user == chain.east_manager.user
    assert (entry.target_type, entry.target_id) == ("org.staff", str(chain.guide_a.id))
    assert entry.before == {"roles": [{"role": "guide", "node": chain.store_a.id}]}
    assert entry.after == {
        "roles": [{"role": "guide", "node": chain.store_a.id}, {"role": "store_manager", "node": chain.store_a.id}],
        "granted": {"role": "store_manager", "node": chain.store_a.id},
    }
    assert entry.scope_path == chain.store_a.path
    # the new role takes effect on the next request
    assert selectors.has_perm(fresh(chain.guide_a), "staff.manage", chain.store_a)


def test_assigning_a_role_twice_is_a_409(chain):
    before = state()
    with pytest.raises(Conflict) as exc:
        services.role_assign(actor=chain.admin, staff_id=chain.guide_a.id, role="guide", node_id=chain.store_a.id)
    assert exc.value.code == "role_already_assigned"
    assert state() == before


def test_no_role_on_a_closed_node(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_b.id, is_active=False)
    before = state()
    with pytest.raises(Conflict) as exc:
        services.role_assign(actor=chain.admin, staff_id=chain.guide_a.id, role="guide", node_id=chain.store_b.id)
    assert exc.value.code == "node_inactive"
    assert state() == before


def test_role_revoke_is_audited_with_before_and_after(chain):
    assignment = chain.guide_a.roles.get()
    services.role_revoke(actor=chain.manager_a, staff_id=chain.guide_a.id, assignment_id=assignment.id)
    assert not RoleAssignment.objects.filter(pk=assignment.id).exists()
    entry = AuditEntry.objects.get(action="role.revoke")
    assert entry.actor_user == chain.manager_a.user
    assert entry.before == {"roles": [{"role": "guide", "node": chain.store_a.id}]}
    assert entry.after == {"roles": [], "revoked": {"role": "guide", "node": chain.store_a.id}}
    assert entry.scope_path == chain.store_a.path
    assert list(selectors.org_node_list(actor=fresh(chain.guide_a))) == []


def test_nobody_revokes_their_own_role(chain):
    assignment = chain.admin.roles.get()
    before = state()
    with pytest.raises(Conflict) as exc:
        services.role_revoke(actor=chain.admin, staff_id=chain.admin.id, assignment_id=assignment.id)
    assert exc.value.code == "cannot_revoke_own_role"
    assert state() == before


def test_revoking_a_role_one_may_not_grant_is_forbidden(chain):
    peer = services.staff_create(actor=chain.admin, home_id=chain.store_a.id, username="acme-manager-a2",
                                 display_name="peer", password=PASSWORD, role="store_manager")
    assignment = peer.roles.get()
    before = state()
    with pytest.raises(Forbidden) as exc:
        services.role_revoke(actor=chain.manager_a, staff_id=peer.id, assignment_id=assignment.id)
    assert exc.value.code == "role_not_grantable"
    with pytest.raises(Forbidden) as exc:
        services.role_revoke(actor=chain.auditor, staff_id=peer.id, assignment_id=assignment.id)
    assert exc.value.code == "forbidden"
    assert state() == before
    services.role_revoke(actor=chain.dealer_staff, staff_id=peer.id, assignment_id=assignment.id)
    assert not peer.roles.exists()


def test_revoking_an_assignment_of_someone_else_is_not_found(chain):
    assignment = chain.guide_a.roles.get()
    before = state()
    with pytest.raises(NotFound) as exc:
        services.role_revoke(actor=chain.admin, staff_id=chain.manager_a.id, assignment_id=assignment.id)
    assert exc.value.code == "role_assignment_not_found"
    with pytest.raises(NotFound):
        services.role_revoke(actor=chain.admin, staff_id=chain.manager_a.id, assignment_id=10**12)
    assert state() == before


# --- API tokens ----------------------------------------------------------------------------------------------

def test_api_token_is_shown_once_and_only_its_hash_is_stored(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP sync", days_valid=30)
    prefix, secret = plaintext.split("_", 2)[1:]
    assert plaintext.startswith(f"yd_{token.prefix}_") and prefix == token.prefix and len(prefix) == 8
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in stored.key_hash and stored.key_hash != secret and len(stored.key_hash) == 64
    assert stored.revoked_at is None and stored.last_used_at is None
    assert timedelta(days=29, hours=23) < stored.expires_at - timezone.now() <= timedelta(days=30)
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.actor_user == chain.admin.user and entry.after == {"name": "ERP sync", "prefix": token.prefix}
    assert secret not in str(entry.after)


def test_api_token_authenticates_as_its_staff_member_and_records_use(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP")
    assert services.api_token_authenticate(plaintext) == chain.admin
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_api_token_without_expiry(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="forever", days_valid=None)
    assert token.expires_at is None
    assert services.api_token_authenticate(plaintext) == chain.admin


def test_revoked_token_stops_working_and_revoking_twice_is_harmless(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP")
    services.api_token_revoke(actor=chain.admin, token_id=token.id)
    assert services.api_token_authenticate(plaintext) is None
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    assert revoked_at is not None
    services.api_token_revoke(actor=chain.admin, token_id=token.id)
    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


def test_expired_token_stops_working(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP", days_valid=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.api_token_authenticate(plaintext) is None


def test_token_of_a_deactivated_staff_member_stops_working(chain):
    other_admin = services.staff_create(actor=chain.admin, home_id=chain.hq.id, username="acme-admin2",
                                        display_name="admin 2", password=PASSWORD, role="hq_admin")
    _token, plaintext = services.api_token_create(actor=fresh(other_admin), name="ERP")
    services.staff_update(actor=chain.admin, staff_id=other_admin.id, is_active=False)
    assert services.api_token_authenticate(plaintext) is None


def test_garbage_tokens_authenticate_nobody(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP")
    prefix = token.prefix
    for raw in ["", "yd_", "yd__", f"yd_{prefix}_", f"yd_{prefix}_wrong", plaintext + "x", plaintext[:-1],
                plaintext.replace("yd_", "xx_"), f"yd_{prefix.upper()}_{plaintext.split('_', 2)[2]}",
                "yd_\x00_abc", "yd_00000000_" + "a" * 200, "Bearer " + plaintext, "雲店"]:
        if raw == plaintext:
            continue  # an all-digit prefix (hex, ~2% of tokens) reads the same upper-cased: that is the real token
        assert services.api_token_authenticate(raw) is None, raw


def test_only_token_managers_issue_tokens(chain):
    before = state()
    for actor in (chain.east_manager, chain.manager_a, chain.guide_a, chain.auditor):
        with pytest.raises(Forbidden) as exc:
            services.api_token_create(actor=actor, name="mine")
        assert exc.value.code == "token_not_allowed"
    assert state() == before


@pytest.mark.parametrize(("name", "days", "error"), [
    ("", 30, "required"), ("x" * 81, 30, "invalid_text"), ("ok", 0, "invalid_validity"),
    ("ok", 3651, "invalid_validity"), ("ok", -1, "invalid_validity"),
])
def test_bad_token_requests_are_refused(chain, name, days, error):
    before = state()
    with pytest.raises(ValidationFailed) as exc:
        services.api_token_create(actor=chain.admin, name=name, days_valid=days)
    assert exc.value.code == error
    assert state() == before


def test_nobody_revokes_another_persons_token(chain):
    other_admin = services.staff_create(actor=chain.admin, home_id=chain.hq.id, username="acme-admin2",
                                        display_name="admin 2", password=PASSWORD, role="hq_admin")
    token, plaintext = services.api_token_create(actor=fresh(other_admin), name="ERP")
    before = state()
    with pytest.raises(NotFound):
        services.api_token_revoke(actor=chain.admin, token_id=token.id)
    assert state() == before
    assert services.api_token_authenticate(plaintext) == other_admin


def test_staff_create_rejects_unknown_home(chain):
    before = state()
    for home_id in (-1, 0, 10**12, 2**63):
        with pytest.raises(NotFound):
            new_guide(chain, actor=chain.admin, home_id=home_id)
    assert state() == before
    assert not get_user_model().objects.filter(username="new-guide").exists()
    assert Staff.objects.filter(display_name="小王").count() == 0
