"""Helpers shared by the org tests: row-count snapshots (to prove a failure changed nothing) and API clients."""
import json

from django.contrib.auth import get_user_model
from django.test import Client

from yundian.core.models import AuditEntry, IdempotencyRecord
from yundian.org.models import ApiToken, OrgNode, RoleAssignment, Staff


def counts() -> dict[str, int]:
    """Row counts of every table an org write may touch."""
    return {
        "nodes": OrgNode.objects.count(),
        "staff": Staff.objects.count(),
        "users": get_user_model().objects.count(),
        "roles": RoleAssignment.objects.count(),
        "audit": AuditEntry.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


def state() -> dict:
    """Counts plus the editable fields of every node and staff member, to prove nothing was modified either."""
    return {
        **counts(),
        "node_rows": list(OrgNode.objects.order_by("id").values_list("id", "name", "code", "is_active", "path")),
        "staff_rows": list(Staff.objects.order_by("id").values_list("id", "display_name", "phone", "is_active")),
        "role_rows": list(RoleAssignment.objects.order_by("id").values_list("id", "staff_id", "role", "node_id")),
    }


def client_for(staff, **kwargs) -> Client:
    """A test client signed in as the staff member's user (session auth)."""
    client = Client(**kwargs)
    client.force_login(staff.user)
    return client


def call(client: Client, method: str, url: str, body=None, **headers):
    """Send a JSON request; `body` may be a dict (encoded) or a str/bytes (sent as is)."""
    kwargs = {}
    if body is not None:
        kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    if headers:
        kwargs["headers"] = headers
    return getattr(client, method.lower())(url, **kwargs)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is an error of `status` with the one error shape; returns the error object."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error
