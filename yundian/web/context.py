"""Template context for console pages: the acting staff member and the navigation they may see."""
from django.urls import reverse

from yundian.org.selectors import has_perm, staff_for_user

from .nav import NAV


def console(request):
    staff = getattr(request, "_yundian_staff", None)
    if staff is None and hasattr(request, "user"):
        staff = staff_for_user(request.user)
        request._yundian_staff = staff
    if staff is None:
        return {"actor": None, "nav": []}
    current = request.resolver_match.view_name if getattr(request, "resolver_match", None) else ""
    nav = [
        {"url": reverse(item.url_name), "label": item.label, "active": item.url_name == current}
        for item in NAV
        if item.perm is None or has_perm(staff, item.perm)
    ]
    return {"actor": staff, "nav": nav}
