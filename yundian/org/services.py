"""Writes to the org tree, staff, roles and API tokens. Each takes the acting staff member and is atomic."""
import hashlib
import re
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import ORG, cache_bump
from yundian.core.audit import audit_record
from yundian.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yundian.core.locking import lock_one
from yundian.core.text import is_clean_text

from . import selectors
from .models import ApiToken, Enterprise, OrgNode, RoleAssignment, Staff
from .roles import ALLOWED_CHILDREN, GRANTABLE, ROLE_NODE_KINDS, NodeKind, Perm, Role

# used with fullmatch: "$" would also match before a trailing newline
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
ENTERPRISE_CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
USERNAME_RE = re.compile(r"[A-Za-z0-9._@+-]{3,150}")
PHONE_RE = re.compile(r"\+?[0-9]{6,15}")
TOKEN_PREFIX_RE = re.compile(r"[0-9a-f]{8}")
EMPLOYEE_NO_RE = re.compile(r"[A-Za-z0-9._/-]{0,32}")


def _clean_name(value: str, field: str, max_length: int = 120) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(_("This field is required."), code="required", details={"field": field})
    if len(value) > max_length or not is_clean_text(value):
        raise ValidationFailed(_("Too long or contains control characters."), code="invalid_text", details={"field": field})
    return value


def _clean_code(value: str) -> str:
    code = (value or "").strip() if isinstance(value, str) else ""
    if not CODE_RE.fullmatch(code):
        raise ValidationFailed(_("Codes are 1 to 32 letters, digits, '-' or '_'."), code="invalid_code", details={"field": "code"})
    return code


def _clean_username(value: str) -> str:
    username = (value or "").strip() if isinstance(value, str) else ""
    if not USERNAME_RE.fullmatch(username):
        raise ValidationFailed(_("Usernames are 3 to 150 letters, digits or . _ @ + -."), code="invalid_username",
                               details={"field": "username"})
    return username


def _clean_phone(value: str) -> str:
    phone = (value or "").strip()
    if phone and not PHONE_RE.fullmatch(phone):
        raise ValidationFailed(_("Not a phone number."), code="invalid_phone", details={"field": "phone"})
    return phone


def _role_snapshot(staff: Staff) -> list[dict]:
    return [{"role": r.role, "node": r.node_id}
            for r in RoleAssignment.objects.filter(staff=staff).order_by("node_id", "role")]


def _node_snapshot(node: OrgNode) -> dict:
    return {"id": node.id, "kind": node.kind, "name": node.name, "code": node.code,
            "parent": node.parent_id, "is_active": node.is_active}


# --- enterprise bootstrap (system action: no actor) -------------------------------------------------

@transaction.atomic
def enterprise_bootstrap(*, name: str, code: str, hq_name: str, hq_code: str, admin_username: str,
                         admin_password: str, admin_display_name: str, currency: str = "CNY") -> tuple[Enterprise, Staff]:
    """Create an enterprise, its HQ root node and its first HQ administrator, all or nothing."""
    if not ENTERPRISE_CODE_RE.fullmatch(code or ""):
        raise ValidationFailed(_("Enterprise codes are 1 to 32 lower-case letters, digits or '-'."), code="invalid_code",
                               details={"field": "code"})
    name = _clean_name(name, "name")
    hq_name = _clean_name(hq_name, "hq_name")
    hq_code = _clean_code(hq_code)
    admin_username = _clean_username(admin_username)
    admin_display_name = _clean_name(admin_display_name, "admin_display_name", 80)
    if Enterprise.objects.filter(code=code).exists():
        raise Conflict(_("An enterprise with this code already exists."), code="enterprise_exists")
    if get_user_model().objects.filter(username__iexact=admin_username).exists():
        raise Conflict(_("This username is taken."), code="username_taken", details={"field": "username"})
    enterprise = Enterprise.objects.create(name=name, code=code, currency=currency)
    hq = OrgNode.objects.create(enterprise=enterprise, kind=NodeKind.HQ, name=hq_name, code=hq_code, path="", depth=0)
    OrgNode.objects.filter(pk=hq.pk).update(path=f"/{hq.pk}/")
    cache_bump(ORG)
    hq.path = f"/{hq.pk}/"
    user = get_user_model().objects.create_user(username=admin_username, password=admin_password)
    admin = Staff.objects.create(user=user, enterprise=enterprise, home=hq, display_name=admin_display_name)
    RoleAssignment.objects.create(staff=admin, role=Role.HQ_ADMIN, node=hq)
    audit_record(actor=None, enterprise=enterprise, action="enterprise.bootstrap", target=enterprise,
                 after={"code": code, "admin": admin_username}, scope_path=hq.path)
    return enterprise, admin


# --- org nodes ----------------------------------------------------------------------------------------

@transaction.atomic
def org_node_create(*, actor: Staff, parent_id: int, kind: str, name: str, code: str) -> OrgNode:
    """Add a node under `parent_id` (which must be in the actor's org.manage scope); kinds follow ALLOWED_CHILDREN."""
    parent = selectors.org_node_get(actor=actor, node_id=parent_id)
    selectors.require(actor, Perm.ORG_MANAGE, parent)
    if kind not in NodeKind.values:
        raise ValidationFailed(_("Unknown node kind."), code="invalid_kind", details={"field": "kind"})
    if kind not in ALLOWED_CHILDREN[parent.kind]:
        raise ValidationFailed(_("A node of this kind cannot be placed there."), code="kind_not_allowed_here",
                               details={"parent_kind": parent.kind, "kind": kind})
    if not parent.is_active:
        raise Conflict(_("The parent node is closed."), code="parent_inactive")
    name = _clean_name(name, "name")
    code = _clean_code(code)
    if OrgNode.objects.filter(enterprise_id=actor.enterprise_id, code=code).exists():
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    try:
        with transaction.atomic():
            node = OrgNode.objects.create(enterprise_id=actor.enterprise_id, parent=parent, kind=kind, name=name,
                                          code=code, path="", depth=parent.depth + 1)
    except IntegrityError:
        raise Conflict(_("This code is already used."), code="code_taken", details={"field": "code"})
    node.path = f"{parent.path}{node.pk}/"
    if len(node.path) > 255:
        raise ValidationFailed(_("The tree is too deep."), code="tree_too_deep")
    OrgNode.objects.filter(pk=node.pk).update(path=node.path)
    cache_bump(ORG)
    audit_record(actor=actor, action="org_node.create", target=node, after=_node_snapshot(node), scope_path=node.path)
    return node


@transaction.atomic
def org_node_update(*, actor: Staff, node_id: int, name: str | None = None, is_active: bool | None = None) -> OrgNode:
    """Rename or open/close a node. Closing is refused while active children remain."""
    node = selectors.org_node_get(actor=actor, node_id=node_id)  # 404 outside the actor's view
    # managing a node means holding org.manage on its parent (or on itself for the root); the parent may lie
    # outside what the actor sees (a region manager and their own region), which is a 403 on a visible node
    if not selectors.has_perm(actor, Perm.ORG_MANAGE, node.parent if node.parent_id else node):
        raise Forbidden()
    node = lock_one(OrgNode.objects.filter(pk=node.pk))
    before = _node_snapshot(node)
    if name is not None:
        node.name = _clean_name(name, "name")
    if is_active is not None:
        if not is_active and node.parent_id is None:
            raise Conflict(_("Headquarters cannot be closed."), code="cannot_close_root")
        if not is_active and node.children.filter(is_active=True).exists():
            raise Conflict(_("Close the nodes under it first."), code="has_active_children")
        if is_active and not node.is_active and node.parent_id and not node.parent.is_active:
            raise Conflict(_("The parent node is closed."), code="parent_inactive")
        node.is_active = is_active
    node.save(update_fields=["name", "is_active", "updated_at"])
    audit_record(actor=actor, action="org_node.update", target=node, before=before, after=_node_snapshot(node),
                 scope_path=node.path)
    return node


# --- staff and roles ------------------------------------------------------------------------------------

def _check_grant(actor: Staff, role: str, node: OrgNode) -> None:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), code="invalid_role", details={"field": "role"})
    if node.kind not in ROLE_NODE_KINDS[role]:
        raise ValidationFailed(_("This role cannot be held on a node of this kind."), code="role_not_allowed_on_node",
                               details={"role": role, "node_kind": node.kind})
    selectors.require(actor, Perm.STAFF_MANAGE, node)
    may_grant = any(
        role in GRANTABLE.get(held, ()) and node.path.startswith(path)
        for held, path, _id in selectors.actor_roles(actor)
    )
    if not may_grant:
        raise Forbidden(_("You may not grant this role here."), code="role_not_grantable")


def _check_manage_staff(actor: Staff, staff: Staff) -> None:
    """403 unless the actor manages staff where `staff` works and could grant every role `staff` holds.

    So nobody edits or deactivates a peer or a superior who happens to work inside their subtree (a store
    manager cannot switch off the region manager based at their store). Editing oneself is allowed.
    """
    selectors.require(actor, Perm.STAFF_MANAGE, staff.home)
    if staff.pk == actor.pk:
        return
    held = selectors.actor_roles(actor)
    for assignment in RoleAssignment.objects.filter(staff=staff).select_related("node"):
        if not any(assignment.role in GRANTABLE.get(role, ()) and assignment.node.path.startswith(path)
                   for role, path, _id in held):
            raise Forbidden(_("This staff member holds a role you may not manage."), code="staff_outranks_actor")


@transaction.atomic
def staff_create(*, actor: Staff, home_id: int, username: str, display_name: str, password: str,
                 role: str, phone: str = "", employee_no: str = "") -> Staff:
    """Create a staff member working at `home_id` with a first role there. Audited."""
    home = selectors.org_node_get(actor=actor, node_id=home_id)
    _check_grant(actor, role, home)
    if not home.is_active:
        raise Conflict(_("This node is closed."), code="node_inactive", details={"field": "home_id"})
    username = _clean_username(username)
    display_name = _clean_name(display_name, "display_name", 80)
    phone = _clean_phone(phone)
    employee_no = (employee_no or "").strip()
    if not EMPLOYEE_NO_RE.fullmatch(employee_no):
        raise ValidationFailed(_("Employee numbers are up to 32 letters, digits or . _ / -."), code="invalid_employee_no",
                               details={"field": "employee_no"})
    if not isinstance(password, str) or not password or len(password) > 128:
        raise ValidationFailed(_("The password is too weak."), code="weak_password", details={"field": "password"})
    User = get_user_model()
    candidate = User(username=username)
    try:
        validate_password(password, candidate)
    except DjangoValidationError as exc:
        raise ValidationFailed(_("The password is too weak."), code="weak_password",
                               details={"field": "password", "reasons": [str(m) for m in exc.messages]})
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(_("This username is taken."), code="username_taken", details={"field": "username"})
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError:
        raise Conflict(_("This username is taken."), code="username_taken", details={"field": "username"})
    staff = Staff.objects.create(user=user, enterprise_id=actor.enterprise_id, home=home, display_name=display_name,
                                 phone=phone, employee_no=employee_no)
    RoleAssignment.objects.create(staff=staff, role=role, node=home)
    audit_record(actor=actor, action="staff.create", target=staff,
                 after={"username": username, "home": home.id, "role": role}, scope_path=home.path)
    return staff


@transaction.atomic
def staff_update(*, actor: Staff, staff_id: int, display_name: str | None = None, is_active: bool | None = None,
                 phone: str | None = None) -> Staff:
    staff = selectors.staff_get(actor=actor, staff_id=staff_id)
    _check_manage_staff(actor, staff)
    if staff.pk == actor.pk and is_active is False:
        raise Conflict(_("You cannot deactivate yourself."), code="cannot_deactivate_self")
    before = {"display_name": staff.display_name, "is_active": staff.is_active, "phone": staff.phone}
    if display_name is not None:
        staff.display_name = _clean_name(display_name, "display_name", 80)
    if phone is not None:
        staff.phone = _clean_phone(phone)
    if is_active is not None:
        staff.is_active = is_active
        staff.user.is_active = is_active
        staff.user.save(update_fields=["is_active"])
    staff.save()
    audit_record(actor=actor, action="staff.update", target=staff, before=before,
                 after={"display_name": staff.display_name, "is_active": staff.is_active, "phone": staff.phone},
                 scope_path=staff.home.path)
    return staff


@transaction.atomic
def role_assign(*, actor: Staff, staff_id: int, role: str, node_id: int) -> RoleAssignment:
    """Give a staff member a role on a node. The actor must be allowed to grant it there. Audited."""
    staff = selectors.staff_get(actor=actor, staff_id=staff_id)
    node = selectors.org_node_get(actor=actor, node_id=node_id)
    _check_grant(actor, role, node)
    if not node.is_active:
        raise Conflict(_("This node is closed."), code="node_inactive", details={"field": "node_id"})
    if RoleAssignment.objects.filter(staff=staff, role=role, node=node).exists():
        raise Conflict(_("The staff member already has this role here."), code="role_already_assigned")
    before = _role_snapshot(staff)
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(staff=staff, role=role, node=node)
    except IntegrityError:  # a concurrent identical grant won
        raise Conflict(_("The staff member already has this role here."), code="role_already_assigned")
    audit_record(actor=actor, action="role.assign", target=staff, before={"roles": before},
                 after={"roles": _role_snapshot(staff), "granted": {"role": role, "node": node.id}},
                 scope_path=node.path)
    if staff.pk == actor.pk:
        selectors.forget_actor_roles(actor)
    return assignment


@transaction.atomic
def role_revoke(*, actor: Staff, staff_id: int, assignment_id: int) -> None:
    """Take a role away. Nobody revokes their own roles (no accidental lock-out). Audited."""
    staff = selectors.staff_get(actor=actor, staff_id=staff_id)
    assignment = RoleAssignment.objects.filter(pk=assignment_id, staff=staff).select_related("node").first()
    if assignment is None:
        raise NotFound(_("Role assignment not found."), code="role_assignment_not_found")
    _check_grant(actor, assignment.role, assignment.node)
    if staff.pk == actor.pk:
        raise Conflict(_("You cannot revoke your own role."), code="cannot_revoke_own_role")
    before = _role_snapshot(staff)
    revoked = {"role": assignment.role, "node": assignment.node_id}
    assignment.delete()
    audit_record(actor=actor, action="role.revoke", target=staff, before={"roles": before},
                 after={"roles": _role_snapshot(staff), "revoked": revoked}, scope_path=assignment.node.path)


# --- API tokens ---------------------------------------------------------------------------------------

def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Staff, name: str, days_valid: int | None = 90) -> tuple[ApiToken, str]:
    """Issue a token acting as the actor; returns (token, plaintext). The plaintext is shown once, never stored.

    Needs token.manage: a token outlives a browser session and is handed to machines, so only roles trusted
    with integrations may mint one.
    """
    if not selectors.has_perm(actor, Perm.TOKEN_MANAGE):
        raise Forbidden(_("You may not issue API tokens."), code="token_not_allowed")
    name = _clean_name(name, "name", 80)
    if days_valid is not None and (isinstance(days_valid, bool) or not isinstance(days_valid, int)
                                   or not 1 <= days_valid <= 3650):
        raise ValidationFailed(_("Validity must be 1 to 3650 days."), code="invalid_validity", details={"field": "days_valid"})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        staff=actor, name=name, prefix=prefix, key_hash=_hash_token(secret),
        expires_at=timezone.now() + timedelta(days=days_valid) if days_valid else None,
    )
    audit_record(actor=actor, action="api_token.create", target=token, after={"name": name, "prefix": prefix},
                 scope_path=actor.home.path)
    return token, f"yd_{prefix}_{secret}"


@transaction.atomic
def api_token_revoke(*, actor: Staff, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, staff=actor).first()
    if token is None:
        raise NotFound(_("Token not found."), code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(actor=actor, action="api_token.revoke", target=token, scope_path=actor.home.path)
    return token


def api_token_authenticate(raw: str) -> Staff | None:
    """The staff member a bearer token acts for, or None if unknown, revoked, expired or inactive."""
    parts = (raw or "").split("_")
    if len(parts) < 3 or parts[0] != "yd":
        return None
    prefix, secret = parts[1], "_".join(parts[2:])
    if not TOKEN_PREFIX_RE.fullmatch(prefix) or not secret or len(secret) > 128:
        return None
    # the prefix is unique: a slice, not first() (whose ORDER BY is work for nothing); token, staff, enterprise,
    # home and user in one statement, read fresh on every request (a revocation counts from the next one)
    rows = ApiToken.objects.filter(prefix=prefix).select_related("staff__enterprise", "staff__home", "staff__user")[:1]
    token = rows[0] if rows else None
    if token is None or not secrets.compare_digest(token.key_hash, _hash_token(secret)):
        return None
    now = timezone.now()
    if token.revoked_at or (token.expires_at and token.expires_at <= now) or not token.staff.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.staff
