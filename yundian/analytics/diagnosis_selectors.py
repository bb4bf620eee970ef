"""Reading findings: each person sees the findings routed to them, and a manager (analytics.view) every finding
of their part of the tree."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from yundian.org.models import Staff
from yundian.org.roles import Perm
from yundian.org.selectors import scope_paths, scope_q

from .models import Finding, FindingStatus


def finding_visible(actor: Staff, finding: Finding) -> bool:
    if finding.enterprise_id != actor.enterprise_id:
        return False
    return finding.owner_id == actor.pk or any(finding.node.path.startswith(p)
                                               for p in scope_paths(actor, Perm.ANALYTICS_VIEW))


def finding_list(*, actor: Staff, status: str | None = FindingStatus.OPEN, mine: bool = False) -> QuerySet[Finding]:
    """The actor's findings (routed to them), and with `mine` False also every finding in their analytics scope;
    newest window first."""
    visible = Q(owner=actor)
    if not mine:
        visible |= scope_q(actor, Perm.ANALYTICS_VIEW, "node__path")
    qs = Finding.objects.filter(visible, enterprise_id=actor.enterprise_id)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("node", "owner", "category", "guide").order_by("-window_end", "-id")


def finding_get(*, actor: Staff, finding_id: int) -> Finding | None:
    finding = (Finding.objects.select_related("node", "owner", "category", "guide", "resolved_by")
               .filter(pk=finding_id, enterprise_id=actor.enterprise_id).first())
    return finding if finding is not None and finding_visible(actor, finding) else None
