"""The documented error responses: every write a session cookie may call documents the 403 its CSRF check answers
(csrf_failed), reads are not widened, and the documented 403 is the one a session really gets."""
from django.test import Client

from yundian.core.schemas import document_csrf_failures
from yundian.org import services as org_services
from yundian.org.models import ApiToken
from yundian.org.tests.utils import assert_error

UNSAFE = {"post", "put", "patch", "delete"}
ERROR_OUT = {"$ref": "#/components/schemas/ErrorOut"}


def openapi() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def session_client(staff) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff.user)
    return client


def test_every_write_a_session_may_call_documents_403_with_the_error_shape(db):
    schema = openapi()
    writes = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
              if method in UNSAFE and {"StaffSessionAuth": []} in op.get("security", [])]
    assert len(writes) > 50
    missing = [f"{method.upper()} {path}" for path, method, op in writes
               if op["responses"].get("403", {}).get("content", {}).get("application/json", {}).get("schema") != ERROR_OUT]
    assert missing == []
    # the two writes whose handlers answer no 403 of their own have it now
    assert "403" in schema["paths"]["/api/v1/catalog/prices/resolve-batch"]["post"]["responses"]
    assert "403" in schema["paths"]["/api/v1/tokens/{token_id}"]["delete"]["responses"]


def test_reads_document_only_their_own_statuses(db):
    schema = openapi()
    assert sorted(schema["paths"]["/api/v1/guides/commission/me"]["get"]["responses"]) == ["200", "400", "401", "404",
                                                                                          "422"]
    assert "403" not in schema["paths"]["/api/v1/catalog/scan/{code}"]["get"]["responses"]
    # the public store finder has no session, so no CSRF check either
    assert "403" not in schema["paths"]["/api/v1/stores/nearest"]["get"]["responses"]


def test_documenting_is_idempotent(db):
    from yundian.api import api

    openapi()
    assert document_csrf_failures(api) == 0


def test_a_session_write_without_the_csrf_token_answers_the_documented_403_and_changes_nothing(chain):
    token, _plaintext = org_services.api_token_create(actor=chain.admin, name="erp")
    client = session_client(chain.admin)
    response = client.delete(f"/api/v1/tokens/{token.id}")
    assert assert_error(response, 403)["code"] == "csrf_failed"
    token.refresh_from_db()
    assert token.revoked_at is None
    batch = client.post("/api/v1/catalog/prices/resolve-batch", data={"sku_ids": [1], "store_id": chain.store_a.id},
                        content_type="application/json")
    assert assert_error(batch, 403)["code"] == "csrf_failed"
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
    # with the token the same session may revoke it
    client.get("/")
    csrf = client.cookies["csrftoken"].value
    ok = client.delete(f"/api/v1/tokens/{token.id}", headers={"X-CSRFToken": csrf})
    assert ok.status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
