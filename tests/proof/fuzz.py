"""Shared by the schemathesis test (tests/proof/test_api_fuzz.py) and its bigger pass (bench/store_day.py fuzz):
the OpenAPI schema, a bearer token per role, a fuzz run that records 5xx and undocumented statuses with the exact
request, and the IDOR matrix."""
import hashlib
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field

# the five roles of the brief, as the test chain's staff member holding each
ROLES = {"hq_admin": "admin", "region_manager": "east_manager", "store_manager": "manager_a", "guide": "guide_a",
         "auditor": "auditor"}
# which of the world's objects each role must not see: "b" (store B, region West) and "x" (another enterprise)
OUT_OF_SCOPE = {"hq_admin": ("x",), "auditor": ("x",), "region_manager": ("b", "x"), "store_manager": ("b", "x"),
                "guide": ("b", "x")}
# GET /{id} endpoints -> the kind of object their id names (see World.ids); enterprise-wide kinds (catalogue,
# transfers between two stores) are only out of scope for another enterprise
ID_PATHS = {
    "/api/v1/integrations/erp/jobs/{job_id}": "erp_job",
    "/api/v1/integrations/erp/jobs/{job_id}/errors": "erp_job",
    "/api/v1/integrations/erp/jobs/{job_id}/file": "erp_job",
    "/api/v1/sales/orders/{order_id}": "order",
    "/api/v1/sales/orders/{order_id}/receipt.escpos": "order",
    "/api/v1/sales/returns/{return_id}": "return",
    "/api/v1/members/{member_id}": "member",
    "/api/v1/members/{member_id}/identities": "member",
    "/api/v1/members/{member_id}/benefits": "member",
    "/api/v1/members/{member_id}/points": "member",
    "/api/v1/members/{member_id}/stored-value": "member",
    "/api/v1/members/{member_id}/consents": "member",
    "/api/v1/members/{member_id}/export": "member",
    "/api/v1/inventory/stocktakes/{stocktake_id}": "stocktake",
    "/api/v1/inventory/transfers/{transfer_id}": "transfer",
    "/api/v1/stores/{store_id}": "store",
    "/api/v1/stores/{store_id}/theme": "store",
    "/api/v1/org/nodes/{node_id}": "node",
    "/api/v1/staff/{staff_id}": "staff",
    "/api/v1/staff/{staff_id}/roles": "staff",
    "/api/v1/guides/commission/guides/{guide_id}": "staff",
    "/api/v1/promotions/flash-sales/{flash_sale_id}": "flash_sale",
    "/api/v1/promotions/{promotion_id}": "promotion",
    "/api/v1/catalog/price-lists/{price_list_id}": "price_list",
    "/api/v1/catalog/price-lists/{price_list_id}/entries": "price_list",
    "/api/v1/catalog/products/{product_id}": "product",
    "/api/v1/catalog/skus/{sku_id}": "sku",
    "/api/v1/catalog/skus/{sku_id}/label.svg": "sku",
    "/api/v1/inventory/suppliers/{supplier_id}": "supplier",
    "/api/v1/inventory/suppliers/{supplier_id}/prices": "supplier",
    "/api/v1/cdp/members/{member_id}/tags": "member",
    "/api/v1/cdp/tags/{tag_id}": "tag",
    "/api/v1/journeys/{journey_id}": "journey",
    "/api/v1/journeys/{journey_id}/results": "journey",
    "/api/v1/guides/tasks/{task_id}": "guide_task",
    "/api/v1/guides/task-plans/{plan_id}": "task_plan",
    "/api/v1/guides/materials/{material_id}": "material",
    "/api/v1/guides/groups/{group_id}": "community_group",
    "/api/v1/guides/competitions/{competition_id}": "competition",
    "/api/v1/messaging/templates/{template_id}": "message_template",
    "/api/v1/messaging/messages/{message_id}": "message",
}
ENTERPRISE_WIDE = {"transfer", "product", "sku", "supplier"}
# GET /{id} endpoints outside the matrix, with why
NOT_IN_MATRIX = {
    "/api/v1/integrations/erp/{entity}": "the path names a kind of data (products, stock ...), not an object; its rows "
                                         "are scoped (integrations/tests/test_erp_export.py)",
    "/api/v1/integrations/webhooks/subscriptions/{subscription_id}": "HQ's only: every other role is refused 403 "
                                                                      "whatever the id, another enterprise's HQ gets "
                                                                      "404 (integrations/tests/test_webhooks.py)",
    "/api/v1/integrations/webhooks/deliveries/{delivery_id}": "as /integrations/webhooks/subscriptions/{id}",
    "/api/v1/sales/approvals/{approval_id}": "no approval request in the test world",
    "/api/v1/inventory/purchase-orders/{order_id}": "no purchase order in the test world",
    "/api/v1/catalog/imports/{run_id}": "no import run in the test world",
    "/api/v1/stores/templates/{template_id}": "templates are HQ's (enterprise-wide); none in the test world",
    "/api/v1/catalog/scan/{code}": "a barcode or PLU, not an object id (catalogue: enterprise-wide)",
    "/api/v1/cdp/segments/{segment_id}/coupon-issues": "no segment in the test world (scope: cdp test_segment_actions)",
    "/api/v1/cdp/segments/{segment_id}/export": "no segment in the test world (scope: cdp test_segment_actions)",
    "/api/v1/cdp/segments/{segment_id}": "a segment is evaluated in the warehouse, which the world has not (scope: cdp "
                                         "test_segment_api)",
    "/api/v1/cdp/segments/{segment_id}/members": "as /cdp/segments/{segment_id}",
    "/api/v1/cdp/segments/{segment_id}/sizes": "as /cdp/segments/{segment_id}",
    "/api/v1/analytics/findings/{finding_id}": "no finding in the test world (scope: analytics test_diagnosis_api)",
    "/api/v1/staffing/stores/{store_id}/weeks/{week}": "two path parameters (scope: staffing test_api)",
    "/api/v1/staffing/stores/{store_id}/setup": "no staffing set-up in the test world (scope: staffing test_api)",
}
# writes on objects by id: (method, path, body) -> the kind of object
ID_WRITES = [
    ("PATCH", "/api/v1/sales/orders/{}", {"note": "x"}, "order"),
    ("POST", "/api/v1/sales/orders/{}/cancel", {"reason": "x"}, "order"),
    ("POST", "/api/v1/sales/orders/{}/payments", {"method": "cash", "client_ref": "idor", "tendered": 100}, "order"),
    ("PATCH", "/api/v1/members/{}", {"name": "x"}, "member"),
    ("POST", "/api/v1/members/{}/points/adjustments", {"points": 5, "reason": "x"}, "member"),
    ("POST", "/api/v1/members/{}/stored-value/top-ups", {"amount_fen": 100, "store_id": 0, "payment_ref": "idor"},
     "member"),
    ("PUT", "/api/v1/members/{}/consents/sms", {"granted": True}, "member"),
    ("POST", "/api/v1/inventory/stocktakes/{}/counts", {"lines": [{"sku_id": 0, "quantity": 1}]}, "stocktake"),
    ("POST", "/api/v1/inventory/stocktakes/{}/cancel", {}, "stocktake"),
    ("PATCH", "/api/v1/org/nodes/{}", {"name": "x"}, "node"),
    ("PATCH", "/api/v1/staff/{}", {"display_name": "x"}, "staff"),
    ("PATCH", "/api/v1/stores/{}/theme", {"notice": "x"}, "store"),
    ("POST", "/api/v1/promotions/flash-sales/{}/stop", {}, "flash_sale"),
    ("POST", "/api/v1/promotions/{}/status", {"status": "paused"}, "promotion"),
    ("PATCH", "/api/v1/catalog/price-lists/{}", {"name": "x"}, "price_list"),
    ("PATCH", "/api/v1/journeys/{}", {"name": "x"}, "journey"),
    ("POST", "/api/v1/journeys/{}/publish", {}, "journey"),
    ("POST", "/api/v1/journeys/{}/stop", {}, "journey"),
    ("POST", "/api/v1/journeys/{}/enrol", {"member_id": 1, "key": "idor"}, "journey"),
    ("POST", "/api/v1/guides/tasks/{}/done", {"note": "x"}, "guide_task"),
    ("POST", "/api/v1/guides/task-targets/{}/split", {"parts": [{"node_id": 1, "target": 3}]}, "task_target"),
    ("POST", "/api/v1/guides/materials/{}/share", {}, "material"),
    ("POST", "/api/v1/guides/competitions/{}/close", {}, "competition"),
    ("PUT", "/api/v1/messaging/templates/{}", {"name": "x", "bodies": [{"channel": "sms", "body": "x"}]},
     "message_template"),
    ("DELETE", "/api/v1/messaging/templates/{}", {}, "message_template"),
]

# console pages by id (journeys' canvas and its actions, recommendations' boxes for a member and the experiments):
# path -> the kind of object; "{store_a}" is the actor's own store (the till's box asks for one). Refused = 403 or
# 404 (a page may say "not yours" or "not found"), never the object, and a write changes nothing.
PAGE_READS = {
    "/journeys/{}/": "journey",
    "/recommend/members/{}/next-best/": "member",
    "/recommend/till/{}/?store={store_a}": "member",
    "/recommend/till/{member_a}/?store={}": "store",
}
PAGE_WRITES = [
    ("/journeys/{}/validate/", {"graph": {"nodes": [], "edges": []}}, "journey"),
    ("/journeys/{}/save/", {"graph": {"nodes": [], "edges": []}, "name": "x"}, "journey"),
    ("/journeys/{}/publish/", None, "journey"),
    ("/journeys/{}/pause/", None, "journey"),
    ("/journeys/{}/resume/", None, "journey"),
    ("/journeys/{}/stop/", None, "journey"),
    ("/recommend/experiments/{}/stop/", None, "experiment"),
]
PAGE_ENTERPRISE_WIDE = {"experiment"}


def openapi_schema(client) -> tuple[dict, list[str]]:
    """The served /api/v1/openapi.json; if it cannot be served, the schema of every operation whose schema can be
    built, and the operations left out (each one a bug to report)."""
    response = client.get("/api/v1/openapi.json")
    if response.status_code == 200:
        return response.json(), []
    from ninja.openapi.schema import OpenAPISchema

    from yundian.api import api

    left_out: list[str] = []

    class Tolerant(OpenAPISchema):
        def methods(self, operations):
            result = {}
            for op in operations:
                if not op.include_in_schema:
                    continue
                try:
                    details = self.operation_details(op)
                except Exception as exc:  # noqa: BLE001 - recorded and reported
                    left_out.append(f"{','.join(op.methods)} {op.view_func.__module__}.{op.view_func.__name__}: "
                                    f"{type(exc).__name__}: {str(exc)[:160]}")
                    continue
                for method in op.methods:
                    result[method.lower()] = details
            return result

    schema = json.loads(json.dumps(Tolerant(api, "api/v1/"), default=str))
    return schema, left_out


def bearer_for(staff) -> str:
    """A bearer token acting as `staff` (made directly: only HQ may issue tokens through the service)."""
    from yundian.org.models import ApiToken

    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
    ApiToken.objects.create(staff=staff, name="fuzz", prefix=prefix, key_hash=hashlib.sha256(secret.encode()).hexdigest())
    return f"yd_{prefix}_{secret}"


@contextmanager
def in_test_transaction():
    """Let a WSGI call run inside the test's transaction: Django's handler would otherwise close the connection
    at each request start and end (as django.test.Client also avoids)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class FuzzResult:
    requests: int = 0
    statuses: dict = field(default_factory=dict)
    server_errors: list = field(default_factory=list)
    known_server_errors: list = field(default_factory=list)
    undocumented: list = field(default_factory=list)


def describe(case, response) -> str:
    body = case.body if not isinstance(case.body, bytes) else case.body[:200]
    text = json.dumps(body, default=str, ensure_ascii=False)[:400] if body is not None and str(body) != "NOT_SET" else ""
    return (f"{case.method} {case.formatted_path} query={case.query or {}} body={text} -> {response.status_code} "
            f"{response.text[:200] if hasattr(response, 'text') else ''}")


# revoking tokens by id: a fuzzed id may hit the fuzzing token itself (revocation is tested in test_security)
SKIP = frozenset({"DELETE /api/v1/tokens/{token_id}"})


def fuzz(raw_schema: dict, token: str, *, max_examples: int, seed: int | None = 0, skip: set[str] = SKIP,
         modes=("positive", "negative")) -> FuzzResult:
    """Send `max_examples` generated requests per generation mode, across all operations, as the token's staff
    (a bearer client: no cookies). Each request runs in a savepoint of the test's transaction that is rolled back
    after it, so one that fails in the database cannot abort every later one (PostgreSQL)."""
    import schemathesis
    from django.db import transaction
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    from config.wsgi import application

    result = FuzzResult()
    schema = schemathesis.openapi.from_dict(raw_schema)
    schema.app = application
    headers = {"Authorization": f"Bearer {token}"}
    for mode in modes:
        strategy = schema.as_strategy(GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE,
                                      headers=headers)

        @settings(max_examples=max_examples, deadline=None, derandomize=seed is not None, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            if f"{case.method} {case.operation.path}" in skip:
                return
            case.headers = {**(case.headers or {}), **headers}
            case.cookies = {}
            savepoint = transaction.savepoint_create()
            try:
                response = case.call()
            finally:
                # every request's writes are undone: a refused value (PostgreSQL DataError answered 422) leaves the
                # test's transaction aborted, which a server's per-request transaction never carries over
                transaction.savepoint_rollback(savepoint)
            status = response.status_code
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 500:
                result.server_errors.append(describe(case, response))
            documented = case.operation.responses.status_codes
            if status < 500 and str(status) not in documented and f"{str(status)[0]}XX" not in documented and "default" not in documented:
                result.undocumented.append(describe(case, response))

        with in_test_transaction():
            run()
    return result
