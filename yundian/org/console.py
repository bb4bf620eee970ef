"""The console's door: every console page of every context is a view wrapped in `console_view(perm)`.

It lives in `org` (who the signed-in person is as staff, and whether they hold a permission somewhere) so that each
context's pages can use it without importing the `web` layer that sits above them all."""
from functools import wraps

from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from yundian.core.errors import NotFound

from .selectors import has_perm, staff_for_user


def console_view(perm: str | None = None):
    """Require a signed-in, active staff member (and `perm` somewhere in their scope); sets request.actor."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect(f"{auth_views.redirect_to_login(request.get_full_path()).url}")
            actor = staff_for_user(request.user)
            if actor is None:
                raise Http404
            if perm and not has_perm(actor, perm):
                raise Http404
            request.actor = actor
            request._yundian_staff = actor
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                raise Http404

        return wrapped

    return decorator
