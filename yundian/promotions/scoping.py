"""Who sees which promotion: staff see the promotions that reach their part of the tree — those of their own
subtree and those of the nodes above it (an HQ campaign is visible to the store that runs it), never a sibling's."""
from functools import reduce
from operator import or_

from django.db.models import Q

from yundian.core.errors import Forbidden
from yundian.org.models import OrgNode, Staff
from yundian.org.roles import Perm
from yundian.org.selectors import has_perm, scope_paths


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def visible_q(actor: Staff, path_field: str = "node__path", perm: str = Perm.PROMOTION_VIEW) -> Q:
    paths = scope_paths(actor, perm)
    if not paths:
        return Q(pk__in=[])
    clauses = [Q(**{f"{path_field}__startswith": p}) for p in paths]
    above = sorted({a for p in paths for a in _ancestors(p)})
    clauses.append(Q(**{f"{path_field}__in": above}))
    return reduce(or_, clauses) & Q(enterprise_id=actor.enterprise_id)


def may_view(actor: Staff, node: OrgNode, perm: str = Perm.PROMOTION_VIEW) -> bool:
    if node.enterprise_id != actor.enterprise_id:
        return False
    return any(node.path.startswith(p) or p.startswith(node.path) for p in scope_paths(actor, perm))


def require_manage(actor: Staff, node: OrgNode, perm: str = Perm.PROMOTION_MANAGE) -> None:
    """For a promotion the actor can see (visible_q): 403 unless they hold `perm` on its node's subtree."""
    if not has_perm(actor, perm, node):
        raise Forbidden()
