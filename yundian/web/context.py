"""Template context for console pages: the acting staff member, the navigation groups they may see and the count
of what waits for them (the inbox badge)."""
from functools import cache

from django.urls import reverse

from yundian.org.selectors import has_perm, staff_for_user

from .inbox import inbox_count
from .nav import GROUPS, ICONS, NAV


def nav_for(staff, current: str) -> list[dict]:
    """The groups with at least one entry the actor may open, in order; the group holding the current page is
    marked active."""
    groups = []
    for group in GROUPS:
        items = [{"url": reverse(item.url_name, args=item.args), "label": item.label,
                  "active": item.url_name == current}
                 for item in NAV if item.group == group.key and (item.perm is None or has_perm(staff, item.perm))]
        if items:
            groups.append({"key": group.key, "label": group.label, "icon": group.icon, "items": items,
                           "active": any(i["active"] for i in items)})
    return groups


def console(request):
    staff = getattr(request, "_yundian_staff", None)
    if staff is None and hasattr(request, "user"):
        staff = staff_for_user(request.user)
        request._yundian_staff = staff
    if staff is None:
        return {"actor": None, "nav": []}
    current = request.resolver_match.view_name if getattr(request, "resolver_match", None) else ""
    # computed only when a template reads them (storefront pages run this processor too, and never do)
    return {"actor": staff, "nav": cache(lambda: nav_for(staff, current)), "inbox_icon": ICONS["inbox"],
            "inbox_count": cache(lambda: inbox_count(actor=staff)), "inbox_active": current == "web:inbox"}
