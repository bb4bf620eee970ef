"""Reads of the org tree, scoped to the acting staff member. Every other context scopes through `scope_q`.

Objects outside the actor's scope are reported as not found (404), never as forbidden, so their
existence does not leak.
"""
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from yundian.core.cache import ORG, VersionCache, clone
from yundian.core.errors import Forbidden, NotFound, ValidationFailed

from .models import AuditDigest, OrgNode, RoleAssignment, Staff
from .roles import PERMISSIONS, Perm

_CACHE_ATTR = "_yundian_roles"
# per process, by staff id: the role assignments (a role, node or staff change bumps ORG in its transaction)
_ROLES = VersionCache("org.roles", ORG)
# per process, by id: org nodes with their enterprise, active staff (the store and guide checks of a sale)
_NODES = VersionCache("org.nodes", ORG)
_STAFF = VersionCache("org.staff", ORG)


def _load_roles(staff_id: int) -> list[tuple[str, str, int]]:
    return list(RoleAssignment.objects.filter(staff_id=staff_id, node__is_active=True)
                .values_list("role", "node__path", "node_id"))


def actor_roles(actor: Staff) -> list[tuple[str, str, int]]:
    """(role, node path, node id) for each active role the actor holds; cached on the actor object and per process
    (until the org changes). An inactive actor (as read with the request) holds none."""
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is None:
        cached = list(_ROLES.get(actor.pk, _load_roles)) if actor.is_active else []
        setattr(actor, _CACHE_ATTR, cached)
    return cached


def node_cached(node_id: int) -> OrgNode | None:
    """The org node with its enterprise (a copy the caller may change), from the per-process cache."""
    return clone(_NODES.get(node_id, lambda pk: OrgNode.objects.filter(pk=pk).select_related("enterprise").first()))


def staff_cached(staff_id: int) -> Staff | None:
    """The staff member (a copy), from the per-process cache; None if unknown."""
    return clone(_STAFF.get(staff_id, lambda pk: Staff.objects.filter(pk=pk).first()))


def forget_actor_roles(actor: Staff) -> None:
    if hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def scope_paths(actor: Staff, perm: str) -> list[str]:
    """The minimal set of subtree paths where the actor holds `perm` (nested paths collapsed)."""
    paths = sorted({path for role, path, _ in actor_roles(actor) if perm in PERMISSIONS.get(role, ())})
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(kept) for kept in minimal):
            minimal.append(path)
    return minimal


def has_perm(actor: Staff, perm: str, node: OrgNode | None = None) -> bool:
    paths = scope_paths(actor, perm)
    if node is None:
        return bool(paths)
    return any(node.path.startswith(p) for p in paths)


def scope_q(actor: Staff, perm: str = Perm.ORG_VIEW, path_field: str = "path") -> Q:
    """A filter restricting a queryset to rows whose org path lies in the actor's scope for `perm`.

    `path_field` names the path column relative to the queried model, e.g. "node__path" or "home__path".
    """
    paths = scope_paths(actor, perm)
    if not paths:
        return Q(pk__in=[])
    # paths are chains of global ids, so a path prefix never crosses enterprises
    return reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in paths))


def require(actor: Staff, perm: str, node: OrgNode) -> None:
    """404 if the node is outside what the actor may see; 403 if visible but `perm` is missing there."""
    if node.enterprise_id != actor.enterprise_id or not has_perm(actor, Perm.ORG_VIEW, node):
        raise NotFound()
    if not has_perm(actor, perm, node):
        raise Forbidden()


def org_node_list(*, actor: Staff, kind: str | None = None, parent_id: int | None = None,
                  search: str | None = None, include_inactive: bool = True) -> QuerySet[OrgNode]:
    qs = OrgNode.objects.filter(scope_q(actor, Perm.ORG_VIEW))
    if kind:
        qs = qs.filter(kind=kind)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("path")


def org_node_get(*, actor: Staff, node_id: int) -> OrgNode:
    node = OrgNode.objects.filter(scope_q(actor, Perm.ORG_VIEW), pk=node_id).first()
    if node is None:
        raise NotFound(_("Org node not found."), code="org_node_not_found")
    return node


def node_to_manage(actor: Staff, node_id, *, view: str, manage: str, messages: dict) -> OrgNode:
    """The node a record (a segment, a journey …) is built over: `node_id` where the actor holds `manage` (404
    outside what they see with `view`, 403 where they see but may not manage), or, when None, the actor's own top
    node for `manage`. `messages` gives each refusal's translated text under its code: "missing" (no scope at all),
    "invalid" (not an id) and "outside" (seen but not managed) — {"missing": (text, code), ...}."""
    if node_id is None:
        paths = scope_paths(actor, manage)
        node = (OrgNode.objects.filter(enterprise_id=actor.enterprise_id, path__in=paths).order_by("depth", "id")
                .first() if paths else None)
        if node is None:
            text, code = messages["missing"]
            raise Forbidden(text, code=code)
        return node
    if isinstance(node_id, bool) or not isinstance(node_id, int):
        text, code = messages["invalid"]
        raise ValidationFailed(text, code=code, details={"field": "node_id"})
    node = OrgNode.objects.filter(pk=node_id, enterprise_id=actor.enterprise_id).first()
    if node is None or not has_perm(actor, view, node):
        raise NotFound(_("Org node not found."), code="node_not_found")
    if not has_perm(actor, manage, node):
        text, code = messages["outside"]
        raise Forbidden(text, code=code, details={"field": "node_id"})
    return node


def org_tree(*, actor: Staff) -> list[dict]:
    """The visible part of the tree as nested dicts, roots first (a region manager's root is their region)."""
    nodes = list(org_node_list(actor=actor))
    by_id = {n.id: {"node": n, "children": []} for n in nodes}
    roots = []
    for n in nodes:
        entry = by_id[n.id]
        if n.parent_id in by_id:
            by_id[n.parent_id]["children"].append(entry)
        else:
            roots.append(entry)
    return roots


def staff_list(*, actor: Staff, node_id: int | None = None, search: str | None = None) -> QuerySet[Staff]:
    qs = Staff.objects.filter(scope_q(actor, Perm.STAFF_VIEW, "home__path")).select_related("home", "user")
    if node_id is not None:
        node = org_node_get(actor=actor, node_id=node_id)
        qs = qs.filter(home__path__startswith=node.path)
    if search:
        qs = qs.filter(Q(display_name__icontains=search) | Q(user__username__icontains=search) | Q(employee_no=search))
    return qs.order_by("id")


def staff_get(*, actor: Staff, staff_id: int) -> Staff:
    staff = Staff.objects.filter(scope_q(actor, Perm.STAFF_VIEW, "home__path"), pk=staff_id).select_related("home", "user").first()
    if staff is None:
        raise NotFound(_("Staff member not found."), code="staff_not_found")
    return staff


def role_assignment_list(*, actor: Staff, staff_id: int) -> QuerySet[RoleAssignment]:
    staff = staff_get(actor=actor, staff_id=staff_id)
    return staff.roles.select_related("node").order_by("id")


def audit_list(*, actor: Staff, action: str | None = None, target_type: str | None = None):
    from yundian.core.models import AuditEntry

    paths = scope_paths(actor, Perm.AUDIT_VIEW)
    if not paths:
        return AuditEntry.objects.none()
    q = reduce(or_, (Q(scope_path__startswith=p) for p in paths))
    qs = AuditEntry.objects.filter(q, enterprise_id=actor.enterprise_id)
    if action:
        qs = qs.filter(action=action)
    if target_type:
        qs = qs.filter(target_type=target_type)
    return qs.order_by("-at", "-id")


def audit_digest_list(*, actor: Staff):
    if not has_perm(actor, Perm.AUDIT_VIEW):
        return AuditDigest.objects.none()
    return AuditDigest.objects.filter(enterprise_id=actor.enterprise_id).order_by("-day")


def staff_for_user(user) -> Staff | None:
    if not getattr(user, "is_authenticated", False):
        return None
    staff = Staff.objects.filter(user=user, is_active=True).select_related("enterprise", "home").first()
    return staff
