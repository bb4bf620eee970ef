"""Sign-in security: lockout after repeated failures per (username, client address), and an audit entry for every
attempt ("auth.login" / "auth.login_failed").

Policy (settings, with defaults): LOGIN_MAX_FAILURES = 5 failures within LOGIN_LOCKOUT_SECONDS = 900 (15 minutes)
for one username from one address lock that pair until the oldest of those failures leaves the window; a success
clears the count. Refused attempts while locked are recorded but do not extend the lock. Attempts live in the
database (ops.LoginAttempt), so every server process sees the same count.

The client address is REMOTE_ADDR: behind a reverse proxy, let the proxy set it (e.g. gunicorn's
--forwarded-allow-ips), never trust a client-sent X-Forwarded-For here.
"""
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yundian.core.models import AuditEntry

from .models import LoginAttempt, LoginOutcome

ACTION_LOGIN = "auth.login"
ACTION_LOGIN_FAILED = "auth.login_failed"


def max_failures() -> int:
    return int(getattr(settings, "LOGIN_MAX_FAILURES", 5))


def lockout_seconds() -> int:
    return int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 15 * 60))


def client_ip(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "")[:45] if request is not None else ""


def _key(username: str) -> str:
    return (username or "").strip().casefold()[:150]


def login_failures(username: str, ip: str, *, now=None) -> int:
    """Failed attempts for (username, ip) inside the window and after the last success."""
    now = now or timezone.now()
    attempts = LoginAttempt.objects.filter(username=_key(username), ip=ip, at__gt=now - timedelta(seconds=lockout_seconds()))
    last_success = attempts.filter(outcome=LoginOutcome.SUCCESS).order_by("-at").values_list("at", flat=True).first()
    failures = attempts.filter(outcome=LoginOutcome.FAILED)
    if last_success is not None:
        failures = failures.filter(at__gt=last_success)
    return failures.count()


def login_locked(username: str, ip: str, *, now=None) -> bool:
    return login_failures(username, ip, now=now) >= max_failures()


def login_record(*, username: str, ip: str, outcome: str, user=None, reason: str = "") -> LoginAttempt:
    """Record one attempt and its audit entry (who, from where, why refused)."""
    attempt = LoginAttempt.objects.create(username=_key(username), ip=ip, outcome=outcome, user=user)
    staff = getattr(user, "staff", None) if user is not None else None
    AuditEntry.objects.create(
        enterprise_id=getattr(staff, "enterprise_id", None),
        actor_user=user,
        actor_label=(username or "")[:150],
        action=ACTION_LOGIN if outcome == LoginOutcome.SUCCESS else ACTION_LOGIN_FAILED,
        target_type="auth.user",
        target_id=str(user.pk) if user is not None else "",
        scope_path=staff.home.path if staff is not None else "",
        after={"username": (username or "")[:150], "ip": ip, "outcome": outcome, **({"reason": reason} if reason else {})},
    )
    return attempt


def _user_named(username: str):
    from django.contrib.auth import get_user_model

    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).select_related("staff__home").first()


class LoginForm(AuthenticationForm):
    """Django's sign-in form with lockout and audit. `locked` tells the view to answer 429."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed sign-in attempts for this account from your address. "
                    "Try again in %(minutes)s minutes."),
    }

    locked = False

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        ip = client_ip(self.request)
        if login_locked(username, ip):
            self.locked = True
            login_record(username=username, ip=ip, outcome=LoginOutcome.LOCKED, user=_user_named(username),
                         reason="locked")
            minutes = max(1, lockout_seconds() // 60)
            raise forms.ValidationError(self.error_messages["locked"], code="locked", params={"minutes": minutes})
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            user = self.user_cache or _user_named(username)
            reason = "inactive" if getattr(exc, "code", "") == "inactive" else "bad_credentials"
            login_record(username=username, ip=ip, outcome=LoginOutcome.FAILED, user=user, reason=reason)
            raise
        login_record(username=username, ip=ip, outcome=LoginOutcome.SUCCESS, user=self.get_user())
        return cleaned

