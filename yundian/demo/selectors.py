"""Reads for the demo banner."""
from yundian.org.models import RoleAssignment

from .services import DEMO_CODE

WELL_KNOWN = ["admin", "region", "dealer", "manager", "guide", "auditor"]


def demo_logins(code: str = DEMO_CODE) -> list[dict[str, str]]:
    """The well-known demo sign-ins (role label, username, where they work), in WELL_KNOWN order."""
    usernames = [f"{code}-{local}" for local in WELL_KNOWN]
    rows = (RoleAssignment.objects.filter(staff__user__username__in=usernames, staff__enterprise__code=code)
            .select_related("staff__user", "node").order_by("id"))
    by_username = {r.staff.user.username: r for r in rows}
    return [
        {"role": str(by_username[u].get_role_display()), "username": u, "where": by_username[u].node.name}
        for u in usernames if u in by_username
    ]
