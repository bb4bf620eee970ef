"""Org API: me, tree, nodes, staff, roles, audit, API tokens. Parse -> one service/selector -> schema."""
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from yundian.core.pagination import LimitOffsetPagination
from yundian.core.schemas import SafeStr, errors, idempotent_response

from . import selectors, services
from .roles import PERMISSIONS

router = Router(tags=["org"])


class NodeOut(Schema):
    id: int
    parent_id: int | None
    kind: str
    name: str
    code: str
    path: str
    depth: int
    is_active: bool


class NodeIn(Schema):
    parent_id: int
    kind: str = Field(..., max_length=16)
    name: str = Field(..., max_length=120)
    code: str = Field(..., max_length=32)


class NodePatch(Schema):
    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None


class NodeFilter(Schema):
    kind: SafeStr | None = Field(None, max_length=16)
    parent_id: int | None = None
    q: SafeStr | None = Field(None, max_length=64)


class TreeOut(Schema):
    node: NodeOut
    children: list["TreeOut"]


TreeOut.model_rebuild()


class RoleOut(Schema):
    id: int
    role: str
    node_id: int


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    home_id: int
    phone: str
    employee_no: str
    is_active: bool

    @staticmethod
    def resolve_username(obj) -> str:
        # a Staff row, or the stored body of an idempotent create being replayed
        return obj["username"] if isinstance(obj, dict) else obj.user.username


class StaffIn(Schema):
    home_id: int
    username: str = Field(..., max_length=150)
    display_name: str = Field(..., max_length=80)
    password: str = Field(..., max_length=128)
    role: str = Field(..., max_length=32)
    phone: str = Field("", max_length=20)
    employee_no: str = Field("", max_length=32)


class StaffPatch(Schema):
    display_name: str | None = Field(None, max_length=80)
    phone: str | None = Field(None, max_length=20)
    is_active: bool | None = None


class StaffFilter(Schema):
    node_id: int | None = None
    q: SafeStr | None = Field(None, max_length=64)


class RoleIn(Schema):
    role: str = Field(..., max_length=32)
    node_id: int


class MeOut(Schema):
    staff: StaffOut
    enterprise: str
    roles: list[RoleOut]
    permissions: list[str]


class AuditOut(Schema):
    id: int
    at: datetime
    actor_label: str
    action: str
    target_type: str
    target_id: str
    before: dict | None
    after: dict | None
    reason: str


class AuditFilter(Schema):
    action: SafeStr | None = Field(None, max_length=64)
    target_type: SafeStr | None = Field(None, max_length=64)


class TokenIn(Schema):
    name: str = Field(..., max_length=80)
    days_valid: int | None = 90


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


def _me_roles(actor):
    return [RoleOut(id=r.id, role=r.role, node_id=r.node_id) for r in actor.roles.order_by("id")]


@router.get("/me", response={200: MeOut, **errors()})
def me(request: HttpRequest):
    actor = request.auth
    perms = sorted({p for role, _path, _id in selectors.actor_roles(actor) for p in PERMISSIONS.get(role, ())})
    return {"staff": actor, "enterprise": actor.enterprise.name, "roles": _me_roles(actor), "permissions": perms}


@router.get("/org/tree", response={200: list[TreeOut], **errors()})
def org_tree(request: HttpRequest):
    return selectors.org_tree(actor=request.auth)


@router.get("/org/nodes", response={200: list[NodeOut], **errors()})
@paginate(LimitOffsetPagination)
def org_node_list(request: HttpRequest, filters: Query[NodeFilter]):
    return selectors.org_node_list(actor=request.auth, kind=filters.kind, parent_id=filters.parent_id, search=filters.q)


@router.post("/org/nodes", response={201: NodeOut, **errors(403, 404, 409)})
def org_node_create(request: HttpRequest, payload: NodeIn):
    def work():
        node = services.org_node_create(actor=request.auth, **payload.dict())
        return 201, NodeOut.from_orm(node).dict()

    return idempotent_response(request, scope="org_node_create", payload=payload.dict(), work=work)


@router.get("/org/nodes/{node_id}", response={200: NodeOut, **errors(404)})
def org_node_get(request: HttpRequest, node_id: int):
    return selectors.org_node_get(actor=request.auth, node_id=node_id)


@router.patch("/org/nodes/{node_id}", response={200: NodeOut, **errors(403, 404, 409)})
def org_node_update(request: HttpRequest, node_id: int, payload: NodePatch):
    return services.org_node_update(actor=request.auth, node_id=node_id, **payload.dict(exclude_unset=True))


@router.get("/staff", response={200: list[StaffOut], **errors(404)})
@paginate(LimitOffsetPagination)
def staff_list(request: HttpRequest, filters: Query[StaffFilter]):
    return selectors.staff_list(actor=request.auth, node_id=filters.node_id, search=filters.q)


@router.post("/staff", response={201: StaffOut, **errors(403, 404, 409)})
def staff_create(request: HttpRequest, payload: StaffIn):
    def work():
        staff = services.staff_create(actor=request.auth, **payload.dict())
        return 201, StaffOut.from_orm(staff).dict()

    fingerprint = payload.dict()
    fingerprint.pop("password")  # never stored, even hashed, in the idempotency record
    return idempotent_response(request, scope="staff_create", payload=fingerprint, work=work)


@router.get("/staff/{staff_id}", response={200: StaffOut, **errors(404)})
def staff_get(request: HttpRequest, staff_id: int):
    return selectors.staff_get(actor=request.auth, staff_id=staff_id)


@router.patch("/staff/{staff_id}", response={200: StaffOut, **errors(403, 404, 409)})
def staff_update(request: HttpRequest, staff_id: int, payload: StaffPatch):
    return services.staff_update(actor=request.auth, staff_id=staff_id, **payload.dict(exclude_unset=True))


@router.get("/staff/{staff_id}/roles", response={200: list[RoleOut], **errors(404)})
def role_list(request: HttpRequest, staff_id: int):
    return list(selectors.role_assignment_list(actor=request.auth, staff_id=staff_id))


@router.post("/staff/{staff_id}/roles", response={201: RoleOut, **errors(403, 404, 409)})
def role_assign(request: HttpRequest, staff_id: int, payload: RoleIn):
    return Status(201, services.role_assign(actor=request.auth, staff_id=staff_id, role=payload.role,
                                            node_id=payload.node_id))


@router.delete("/staff/{staff_id}/roles/{assignment_id}", response={204: None, **errors(403, 404, 409)})
def role_revoke(request: HttpRequest, staff_id: int, assignment_id: int):
    services.role_revoke(actor=request.auth, staff_id=staff_id, assignment_id=assignment_id)
    return Status(204, None)


@router.get("/audit", response={200: list[AuditOut], **errors()})
@paginate(LimitOffsetPagination)
def audit_list(request: HttpRequest, filters: Query[AuditFilter]):
    return selectors.audit_list(actor=request.auth, action=filters.action, target_type=filters.target_type)


@router.get("/tokens", response={200: list[TokenOut], **errors()})
def token_list(request: HttpRequest):
    return list(request.auth.api_tokens.order_by("id"))


@router.post("/tokens", response={201: TokenCreatedOut, **errors(403)})
def token_create(request: HttpRequest, payload: TokenIn):
    token, plaintext = services.api_token_create(actor=request.auth, name=payload.name, days_valid=payload.days_valid)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": plaintext})


@router.delete("/tokens/{token_id}", response={204: None, **errors(404)})
def token_revoke(request: HttpRequest, token_id: int):
    services.api_token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)
