"""Sign-in attempts: the record behind login lockout. Stored in the database so a lock holds across processes."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("Signed in")
    FAILED = "failed", _("Wrong username or password")
    LOCKED = "locked", _("Refused: locked out")


class LoginAttempt(models.Model):
    """One sign-in attempt by (username, client address). Insert-only."""

    username = models.CharField(_("username"), max_length=150, help_text="as typed, case-folded")
    ip = models.CharField(_("address"), max_length=45, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=LoginOutcome.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sign-in attempt")
        verbose_name_plural = _("sign-in attempts")
        indexes = [models.Index(fields=["username", "ip", "at"], name="ops_login_attempt_key")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}@{self.ip} {self.outcome}"
