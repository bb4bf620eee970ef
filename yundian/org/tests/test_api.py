"""The org API: happy paths, bad input on every endpoint (4xx, one error shape, nothing changed), auth and CSRF,
translated messages, idempotent creates."""
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from yundian.core.models import IdempotencyRecord
from yundian.core.testing import race_n
from yundian.org import services
from yundian.org.models import ApiToken, OrgNode, Staff
from yundian.org.tests.factories import PASSWORD, fresh, make_chain
from yundian.org.tests.utils import assert_error, call, client_for, counts, state

NODE = {"kind": "store", "name": "新店", "code": "NEW-1"}


def new_staff_body(chain, **overrides):
    body = {"home_id": chain.store_a.id, "username": "new-guide", "display_name": "小王", "password": PASSWORD,
            "role": "guide"}
    body.update(overrides)
    return body


# --- happy paths ---------------------------------------------------------------------------------------------

def test_me(chain):
    response = client_for(chain.manager_a).get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["staff"]["username"] == "acme-manager-a"
    assert body["enterprise"] == "Acme Retail"
    assert [(r["role"], r["node_id"]) for r in body["roles"]] == [("store_manager", chain.store_a.id)]
    assert {"org.view", "staff.view", "staff.manage"} <= set(body["permissions"])
    assert "org.manage" not in body["permissions"]


def test_node_create_get_update_roundtrip(chain):
    client = client_for(chain.east_manager)
    response = call(client, "POST", "/api/v1/org/nodes", {"parent_id": chain.dealer.id, **NODE})
    assert response.status_code == 201
    created = response.json()
    node = OrgNode.objects.get(code="NEW-1")
    assert created == {"id": node.id, "parent_id": chain.dealer.id, "kind": "store", "name": "新店", "code": "NEW-1",
                       "path": f"{chain.dealer.path}{node.id}/", "depth": 3, "is_active": True}
    assert client.get(f"/api/v1/org/nodes/{node.id}").json() == created
    response = call(client, "PATCH", f"/api/v1/org/nodes/{node.id}", {"name": "新店二", "is_active": False})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["is_active"]) == ("新店二", False)
    response = client.get("/api/v1/org/nodes?kind=store&q=新店&limit=10&offset=0")
    assert [n["code"] for n in response.json()["items"]] == ["NEW-1"]


def test_node_list_paginates(chain):
    client = client_for(chain.admin)
    page = client.get("/api/v1/org/nodes?limit=2&offset=1").json()
    assert page["count"] == 6
    assert [n["code"] for n in page["items"]] == ["acme-E", "acme-D1"]
    assert client.get("/api/v1/org/nodes?offset=100").json() == {"items": [], "count": 6}


def test_staff_create_get_update_and_roles(chain):
    client = client_for(chain.manager_a)
    response = call(client, "POST", "/api/v1/staff", new_staff_body(chain, phone="13800138000", employee_no="E-1"))
    assert response.status_code == 201, response.content
    staff = Staff.objects.get(user__username="new-guide")
    assert response.json() == {"id": staff.id, "username": "new-guide", "display_name": "小王",
                               "home_id": chain.store_a.id, "phone": "13800138000", "employee_no": "E-1",
                               "is_active": True}
    assert "password" not in response.content.decode() and PASSWORD not in response.content.decode()
    assert client.get(f"/api/v1/staff/{staff.id}").json()["username"] == "new-guide"
    response = call(client, "PATCH", f"/api/v1/staff/{staff.id}", {"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] is False
    roles = client.get(f"/api/v1/staff/{staff.id}/roles").json()
    assert [(r["role"], r["node_id"]) for r in roles] == [("guide", chain.store_a.id)]
    assert call(client, "DELETE", f"/api/v1/staff/{staff.id}/roles/{roles[0]['id']}").status_code == 204
    assert client.get(f"/api/v1/staff/{staff.id}/roles").json() == []
    response = call(client_for(chain.admin), "POST", f"/api/v1/staff/{staff.id}/roles",
                    {"role": "auditor", "node_id": chain.store_a.id})
    assert response.status_code == 201
    assert (response.json()["role"], response.json()["node_id"]) == ("auditor", chain.store_a.id)
    names = [s["username"] for s in client.get(f"/api/v1/staff?node_id={chain.store_a.id}&q=guide").json()["items"]]
    assert names == ["acme-guide-a", "new-guide"]


def test_audit_api(chain):
    services.org_node_update(actor=chain.admin, node_id=chain.store_b.id, name="B2")
    response = client_for(chain.west_manager).get("/api/v1/audit?action=org_node.update")
    assert response.status_code == 200
    (entry,) = response.json()["items"]
    assert (entry["actor_label"], entry["action"], entry["target_type"], entry["target_id"]) == (
        "acme-admin", "org_node.update", "org.orgnode", str(chain.store_b.id))
    assert (entry["before"]["name"], entry["after"]["name"]) == ("Store B", "B2")
    assert client_for(chain.east_manager).get("/api/v1/audit?action=org_node.update").json()["items"] == []


def test_tokens_api_and_bearer_auth(chain):
    client = client_for(chain.admin)
    response = call(client, "POST", "/api/v1/tokens", {"name": "ERP", "days_valid": 7})
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get()
    assert body["id"] == token.id and body["token"].startswith(f"yd_{token.prefix}_") and body["revoked_at"] is None
    listed = client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [token.id] and "token" not in listed[0]
    bearer = Client(enforce_csrf_checks=True)
    auth = {"Authorization": f"Bearer {body['token']}"}
    assert bearer.get("/api/v1/me", headers=auth).json()["staff"]["username"] == "acme-admin"
    # bearer writes need no CSRF token
    response = call(bearer, "POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE}, **auth)
    assert response.status_code == 201
    assert call(client, "DELETE", f"/api/v1/tokens/{token.id}").status_code == 204
    before = state()
    assert_error(bearer.get("/api/v1/me", headers=auth), 401, "unauthenticated")
    assert_error(call(bearer, "POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE, "code": "NEW-2"},
                      **auth), 401, "unauthenticated")
    assert state() == before


def test_expired_bearer_token_is_401(chain):
    token, plaintext = services.api_token_create(actor=chain.admin, name="ERP")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert_error(Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}), 401, "unauthenticated")


def test_token_of_a_non_manager_is_refused(chain):
    before = state()
    assert_error(call(client_for(chain.manager_a), "POST", "/api/v1/tokens", {"name": "mine"}), 403, "token_not_allowed")
    assert state() == before


# --- authentication and CSRF -----------------------------------------------------------------------------------

def endpoints(chain):
    assignment = chain.guide_a.roles.get()
    return [
        ("GET", "/api/v1/me", None),
        ("GET", "/api/v1/org/tree", None),
        ("GET", "/api/v1/org/nodes", None),
        ("POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE}),
        ("GET", f"/api/v1/org/nodes/{chain.store_a.id}", None),
        ("PATCH", f"/api/v1/org/nodes/{chain.store_a.id}", {"name": "x"}),
        ("GET", "/api/v1/staff", None),
        ("POST", "/api/v1/staff", new_staff_body(chain)),
        ("GET", f"/api/v1/staff/{chain.guide_a.id}", None),
        ("PATCH", f"/api/v1/staff/{chain.guide_a.id}", {"display_name": "x"}),
        ("GET", f"/api/v1/staff/{chain.guide_a.id}/roles", None),
        ("POST", f"/api/v1/staff/{chain.guide_a.id}/roles", {"role": "auditor", "node_id": chain.store_a.id}),
        ("DELETE", f"/api/v1/staff/{chain.guide_a.id}/roles/{assignment.id}", None),
        ("GET", "/api/v1/audit", None),
        ("GET", "/api/v1/tokens", None),
        ("POST", "/api/v1/tokens", {"name": "x"}),
        ("DELETE", "/api/v1/tokens/1", None),
    ]


def test_every_endpoint_needs_authentication(chain):
    services.api_token_create(actor=chain.admin, name="existing")
    before = state()
    for method, url, body in endpoints(chain):
        for headers in ({}, {"Authorization": "Bearer yd_00000000_nope"}, {"Authorization": "Basic YTpi"}):
            response = call(Client(enforce_csrf_checks=True), method, url, body, **headers)
            assert_error(response, 401, "unauthenticated")
    assert state() == before


def test_inactive_staff_session_is_401(chain):
    client = client_for(chain.guide_a)
    services.staff_update(actor=chain.admin, staff_id=chain.guide_a.id, is_active=False)
    assert_error(client.get("/api/v1/me"), 401)


def test_session_writes_need_the_csrf_token(chain):
    services.api_token_create(actor=chain.admin, name="existing")
    client = client_for(chain.admin, enforce_csrf_checks=True)
    before = state()
    for method, url, body in endpoints(chain):
        if method == "GET":
            assert client.get(url).status_code == 200, url
            continue
        assert_error(call(client, method, url, body), 403, "csrf_failed")
    assert state() == before
    # with the token from the cookie the same write goes through
    client.get("/")  # sets the csrftoken cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = call(client, "POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE}, **{"X-CSRFToken": token})
    assert response.status_code == 201


# --- bad input on every endpoint -----------------------------------------------------------------------------

MALFORMED = ["{bad", "{'a': 1}", '{"name": "x",}', "x=1&y=2", b"\xff\xfe\x00{", "{" * 10]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_json_is_400_on_every_body_endpoint(chain, raw):
    client = client_for(chain.admin)
    before = state()
    for method, url, body in endpoints(chain):
        if body is None:
            continue
        response = call(client, method, url, raw, **{"Idempotency-Key": "k-1"})
        assert_error(response, 400, "malformed_body")
    assert state() == before


def bad_inputs(chain):
    """(method, url, body, status, error code) — every one must change nothing."""
    west, a = chain.west.id, chain.store_a.id
    guide = chain.guide_a.id
    assignment = chain.guide_a.roles.get().id
    long = "x" * 121
    return [
        # POST /org/nodes
        ("POST", "/api/v1/org/nodes", {}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", [], 422, "invalid"),
        ("POST", "/api/v1/org/nodes", "null", 422, "invalid"),
        ("POST", "/api/v1/org/nodes", '"a string"', 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"kind": "store", "name": "x", "code": "X"}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": "abc", **NODE}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": 1.5, **NODE}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": [west], **NODE}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "name": 123}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "name": {"zh": "x"}}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "name": long}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "name": ""}, 422, "required"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "name": "a\u0000b"}, 422, "invalid_text"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "code": "x" * 33}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "code": "a b"}, 422, "invalid_code"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "code": "'; DROP TABLE x;--"}, 422, "invalid_code"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "code": "acme-A"}, 409, "code_taken"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "kind": "castle"}, 422, "invalid_kind"),
        ("POST", "/api/v1/org/nodes", {"parent_id": west, **NODE, "kind": "x" * 17}, 422, "invalid"),
        ("POST", "/api/v1/org/nodes", {"parent_id": a, **NODE}, 422, "kind_not_allowed_here"),
        ("POST", "/api/v1/org/nodes", {"parent_id": -1, **NODE}, 404, "org_node_not_found"),
        ("POST", "/api/v1/org/nodes", {"parent_id": 0, **NODE}, 404, "org_node_not_found"),
        ("POST", "/api/v1/org/nodes", {"parent_id": 2**63, **NODE}, 404, "org_node_not_found"),
        ("POST", "/api/v1/org/nodes", {"parent_id": 10**30, **NODE}, 404, "org_node_not_found"),
        # GET /org/nodes
        ("GET", "/api/v1/org/nodes?limit=0", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?limit=-1", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?limit=501", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?limit=abc", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?offset=-1", None, 422, "invalid"),
        ("GET", f"/api/v1/org/nodes?offset={10**13}", None, 422, "invalid"),
        ("GET", f"/api/v1/org/nodes?offset={10**30}", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?parent_id=abc", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?q=" + "x" * 65, None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?q=a%00b", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?kind=%00", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes?kind=" + "x" * 17, None, 422, "invalid"),
        # GET/PATCH /org/nodes/{id}
        ("GET", "/api/v1/org/nodes/abc", None, 422, "invalid"),
        ("GET", "/api/v1/org/nodes/-1", None, 404, "org_node_not_found"),
        ("GET", f"/api/v1/org/nodes/{2**63}", None, 404, "org_node_not_found"),
        ("GET", f"/api/v1/org/nodes/{10**30}", None, 404, "org_node_not_found"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"name": long}, 422, "invalid"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"name": ""}, 422, "required"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"name": "line\nbreak"}, 422, "invalid_text"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"name": 5}, 422, "invalid"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"is_active": "maybe"}, 422, "invalid"),
        ("PATCH", f"/api/v1/org/nodes/{a}", {"is_active": [True]}, 422, "invalid"),
        ("PATCH", f"/api/v1/org/nodes/{chain.dealer.id}", {"is_active": False}, 409, "has_active_children"),
        ("PATCH", f"/api/v1/org/nodes/{chain.hq.id}", {"is_active": False}, 409, "cannot_close_root"),
        ("PATCH", f"/api/v1/org/nodes/{10**30}", {"name": "x"}, 404, "org_node_not_found"),
        ("PATCH", "/api/v1/org/nodes/-5", {"name": "x"}, 404, "org_node_not_found"),
        # GET /staff
        ("GET", "/api/v1/staff?node_id=abc", None, 422, "invalid"),
        ("GET", f"/api/v1/staff?node_id={10**30}", None, 404, "org_node_not_found"),
        ("GET", "/api/v1/staff?limit=1000", None, 422, "invalid"),
        ("GET", "/api/v1/staff?offset=-3", None, 422, "invalid"),
        ("GET", "/api/v1/staff?q=%00", None, 422, "invalid"),
        # POST /staff
        ("POST", "/api/v1/staff", {}, 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, home_id="store a"), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, home_id=10**30), 404, "org_node_not_found"),
        ("POST", "/api/v1/staff", new_staff_body(chain, username="a b"), 422, "invalid_username"),
        ("POST", "/api/v1/staff", new_staff_body(chain, username="<script>"), 422, "invalid_username"),
        ("POST", "/api/v1/staff", new_staff_body(chain, username="x" * 151), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, username="acme-guide-a"), 409, "username_taken"),
        ("POST", "/api/v1/staff", new_staff_body(chain, password="12345678"), 422, "weak_password"),
        ("POST", "/api/v1/staff", new_staff_body(chain, password="x" * 129), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, password=12345678), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, role="boss"), 422, "invalid_role"),
        ("POST", "/api/v1/staff", new_staff_body(chain, role="region_manager"), 422, "role_not_allowed_on_node"),
        ("POST", "/api/v1/staff", new_staff_body(chain, display_name="x" * 81), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, display_name="\u0007"), 422, "invalid_text"),
        ("POST", "/api/v1/staff", new_staff_body(chain, phone="call me"), 422, "invalid_phone"),
        ("POST", "/api/v1/staff", new_staff_body(chain, phone="1" * 21), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, employee_no="x" * 33), 422, "invalid"),
        ("POST", "/api/v1/staff", new_staff_body(chain, employee_no="a\u0000"), 422, "invalid_employee_no"),
        # GET/PATCH /staff/{id}
        ("GET", "/api/v1/staff/abc", None, 422, "invalid"),
        ("GET", f"/api/v1/staff/{10**30}", None, 404, "staff_not_found"),
        ("GET", "/api/v1/staff/-1", None, 404, "staff_not_found"),
        ("PATCH", f"/api/v1/staff/{guide}", {"display_name": "x" * 81}, 422, "invalid"),
        ("PATCH", f"/api/v1/staff/{guide}", {"display_name": ""}, 422, "required"),
        ("PATCH", f"/api/v1/staff/{guide}", {"phone": "12"}, 422, "invalid_phone"),
        ("PATCH", f"/api/v1/staff/{guide}", {"is_active": "perhaps"}, 422, "invalid"),
        ("PATCH", f"/api/v1/staff/{chain.admin.id}", {"is_active": False}, 409, "cannot_deactivate_self"),
        ("PATCH", f"/api/v1/staff/{10**30}", {"display_name": "x"}, 404, "staff_not_found"),
        # roles
        ("GET", f"/api/v1/staff/{10**30}/roles", None, 404, "staff_not_found"),
        ("POST", f"/api/v1/staff/{guide}/roles", {}, 422, "invalid"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "guide"}, 422, "invalid"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "guide", "node_id": "A"}, 422, "invalid"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "wizard", "node_id": a}, 422, "invalid_role"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "x" * 33, "node_id": a}, 422, "invalid"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "guide", "node_id": a}, 409, "role_already_assigned"),
        ("POST", f"/api/v1/staff/{guide}/roles", {"role": "guide", "node_id": 10**30}, 404, "org_node_not_found"),
        ("POST", f"/api/v1/staff/{10**30}/roles", {"role": "guide", "node_id": a}, 404, "staff_not_found"),
        ("DELETE", f"/api/v1/staff/{guide}/roles/abc", None, 422, "invalid"),
        ("DELETE", f"/api/v1/staff/{guide}/roles/{10**30}", None, 404, "role_assignment_not_found"),
        ("DELETE", f"/api/v1/staff/{chain.guide_b.id}/roles/{assignment}", None, 404, "role_assignment_not_found"),
        ("DELETE", f"/api/v1/staff/{chain.admin.id}/roles/{chain.admin.roles.get().id}", None, 409,
         "cannot_revoke_own_role"),
        # audit
        ("GET", "/api/v1/audit?limit=0", None, 422, "invalid"),
        ("GET", "/api/v1/audit?action=" + "x" * 65, None, 422, "invalid"),
        ("GET", "/api/v1/audit?target_type=%00", None, 422, "invalid"),
        # tokens
        ("POST", "/api/v1/tokens", {}, 422, "invalid"),
        ("POST", "/api/v1/tokens", {"name": "x", "days_valid": "soon"}, 422, "invalid"),
        ("POST", "/api/v1/tokens", {"name": "x", "days_valid": 0}, 422, "invalid_validity"),
        ("POST", "/api/v1/tokens", {"name": "x", "days_valid": 10**30}, 422, "invalid_validity"),
        ("POST", "/api/v1/tokens", {"name": "x" * 81}, 422, "invalid"),
        ("POST", "/api/v1/tokens", {"name": " "}, 422, "required"),
        ("DELETE", "/api/v1/tokens/abc", None, 422, "invalid"),
        ("DELETE", f"/api/v1/tokens/{10**30}", None, 404, "token_not_found"),
    ]


def test_bad_input_on_every_endpoint_is_a_4xx_with_the_error_shape_and_changes_nothing(chain):
    client = client_for(chain.admin)
    cases = bad_inputs(chain)
    before = state()
    for method, url, body, status, code in cases:
        response = call(client, method, url, body)
        error = assert_error(response, status, code)
        assert state() == before, (method, url, body)
        if status == 422 and code == "invalid":
            assert error["details"]["fields"], (method, url, body)


def test_bad_input_with_an_idempotency_key_keeps_no_key(chain):
    client = client_for(chain.admin)
    before = state()
    for method, url, body, status, code in bad_inputs(chain):
        if method == "POST" and url in ("/api/v1/org/nodes", "/api/v1/staff"):
            assert_error(call(client, method, url, body, **{"Idempotency-Key": "retry-1"}), status, code)
    assert state() == before
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize("name", [
    "上海南京路旗舰店", "Café Zürich", "🛒🥬 Fresh", "👩‍👩‍👧‍👦 Family Store", "김밥천국", "מכולת", "张　三店",
    "Robert'); DROP TABLE org_orgnode;--", "<script>alert('x')</script>", "\" OR \"1\"=\"1", "${jndi:ldap://x}",
    "{{ 7*7 }}", "%s%s%n", "../../etc/passwd", "x" * 120,
])
def test_any_text_name_is_stored_and_returned_literally(chain, name):
    client = client_for(chain.admin)
    response = call(client, "POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE, "name": name})
    assert response.status_code == 201, response.content
    node_id = response.json()["id"]
    assert response.json()["name"] == name
    assert OrgNode.objects.get(pk=node_id).name == name
    assert client.get(f"/api/v1/org/nodes/{node_id}").json()["name"] == name
    response = call(client, "PATCH", f"/api/v1/staff/{chain.guide_b.id}", {"display_name": name[:80]})
    assert response.status_code == 200 and response.json()["display_name"] == name[:80]
    # searching for the same text is harmless too
    response = client.get("/api/v1/org/nodes", {"q": name[:64]})
    assert response.status_code == 200 and node_id in [n["id"] for n in response.json()["items"]]


def test_html_in_names_is_escaped_on_pages(chain):
    services.org_node_create(actor=chain.admin, parent_id=chain.west.id, kind="store", name="<script>alert(1)</script>",
                             code="XSS")
    page = client_for(chain.admin).get("/org/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_unknown_api_path_and_method_answer_in_the_error_shape(chain):
    client = client_for(chain.admin)
    before = state()
    assert_error(client.get("/api/v1/no/such/thing"), 404, "not_found")
    assert_error(call(client, "POST", "/api/v1/org/nodes/1/children", {"x": 1}), 404, "not_found")
    assert_error(Client(enforce_csrf_checks=True).post("/api/v1/nope"), 404, "not_found")
    response = call(client, "PUT", f"/api/v1/org/nodes/{chain.hq.id}", {"name": "x"})
    assert_error(response, 405, "method_not_allowed")
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert_error(call(client, "DELETE", "/api/v1/org/nodes"), 405, "method_not_allowed")
    assert state() == before


# --- translated messages -------------------------------------------------------------------------------------

MO_FILE = Path(settings.BASE_DIR) / "yundian" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"


@pytest.mark.xfail(not MO_FILE.exists(), reason="translations not compiled yet", strict=False)
def test_error_messages_follow_the_requested_language(chain):
    client = client_for(chain.admin)
    english = client.get("/api/v1/org/nodes/999999", headers={"Accept-Language": "en"})
    chinese = client.get("/api/v1/org/nodes/999999", headers={"Accept-Language": "zh-hans"})
    assert english.json()["error"]["code"] == chinese.json()["error"]["code"] == "org_node_not_found"
    assert english.json()["error"]["message"] == "Org node not found."
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.json()["error"]["message"])
    english = call(client, "POST", "/api/v1/org/nodes", {}, **{"Accept-Language": "en"})
    chinese = call(client, "POST", "/api/v1/org/nodes", {}, **{"Accept-Language": "zh-hans"})
    assert english.json()["error"]["message"] == "Some fields are not valid."
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
    unauthenticated = Client().get("/api/v1/me", headers={"Accept-Language": "en"})
    assert unauthenticated.json()["error"]["message"] == "Sign in or send a valid API token."
    assert Client().get("/api/v1/me", headers={"Accept-Language": "zh-hans"}).json()["error"]["message"] != (
        "Sign in or send a valid API token.")


# --- idempotency through the API -----------------------------------------------------------------------------

def test_same_idempotency_key_twice_creates_one_node_and_replays_the_answer(chain):
    client = client_for(chain.admin)
    body = {"parent_id": chain.west.id, **NODE}
    first = call(client, "POST", "/api/v1/org/nodes", body, **{"Idempotency-Key": "order-7"})
    nodes = OrgNode.objects.count()
    second = call(client, "POST", "/api/v1/org/nodes", body, **{"Idempotency-Key": "order-7"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert OrgNode.objects.count() == nodes
    assert OrgNode.objects.filter(code="NEW-1").count() == 1
    # the same key with a different payload is refused
    before = state()
    other = call(client, "POST", "/api/v1/org/nodes", {**body, "name": "另一家"}, **{"Idempotency-Key": "order-7"})
    assert_error(other, 409, "idempotency_key_reused")
    assert state() == before
    # the same key through a bearer token of the same staff member is the same owner
    _token, plaintext = services.api_token_create(actor=chain.admin, name="ERP")
    third = call(Client(), "POST", "/api/v1/org/nodes", body,
                 **{"Idempotency-Key": "order-7", "Authorization": f"Bearer {plaintext}"})
    assert third.status_code == 201 and third.json() == first.json()


def test_idempotency_keys_belong_to_one_staff_member(chain):
    body = {"parent_id": chain.dealer.id, **NODE}
    first = call(client_for(chain.admin), "POST", "/api/v1/org/nodes", body, **{"Idempotency-Key": "k"})
    second = call(client_for(chain.east_manager), "POST", "/api/v1/org/nodes", body, **{"Idempotency-Key": "k"})
    assert first.status_code == 201
    assert_error(second, 409, "code_taken")  # not a replay of someone else's answer


@pytest.mark.parametrize("key", ["", "x" * 129, "a\tb"])
def test_invalid_idempotency_key_is_422(chain, key):
    before = state()
    response = call(client_for(chain.admin), "POST", "/api/v1/org/nodes", {"parent_id": chain.west.id, **NODE},
                    **{"Idempotency-Key": key})
    assert_error(response, 422, "invalid_idempotency_key")
    assert state() == before


def test_staff_create_is_idempotent_and_stores_no_password(chain):
    client = client_for(chain.manager_a)
    first = call(client, "POST", "/api/v1/staff", new_staff_body(chain), **{"Idempotency-Key": "hire-1"})
    counts_after_first = counts()
    second = call(client, "POST", "/api/v1/staff", new_staff_body(chain), **{"Idempotency-Key": "hire-1"})
    assert first.status_code == second.status_code == 201, second.content
    assert first.json() == second.json()
    assert second.json()["username"] == "new-guide"
    assert counts() == counts_after_first
    record = IdempotencyRecord.objects.get()
    assert PASSWORD not in str(record.response_body) and "password" not in record.response_body


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_posts_with_one_key_create_one_node():
    chain = make_chain()
    body = {"parent_id": chain.west.id, **NODE}
    clients = [client_for(chain.admin) for _ in range(8)]  # signed in before the race

    results = race_n(8, lambda i: call(clients[i], "POST", "/api/v1/org/nodes", body, **{"Idempotency-Key": "race-1"}))

    assert [outcome for outcome, _ in results] == ["ok"] * 8, results
    responses = [(response.status_code, response.json()) for _, response in results]
    assert OrgNode.objects.filter(code="NEW-1").count() == 1
    node = OrgNode.objects.get(code="NEW-1")
    assert {status for status, _ in responses} == {201}
    assert all(body == responses[0][1] for _, body in responses)
    assert responses[0][1]["id"] == node.id
    assert IdempotencyRecord.objects.count() == 1
    assert fresh(chain.admin).enterprise_id == node.enterprise_id
