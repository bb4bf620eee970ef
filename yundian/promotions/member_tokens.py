"""Signed member tokens for the public pages (flash sale, group buy, share links): the storefront has no member
sign-in yet, so whoever knows a member (a till, a member's own phone after One-ID resolution) hands the page a token
saying which member acts. Signed with SECRET_KEY and a salt of its own; expires after MAX_AGE."""
from django.core import signing
from django.utils.translation import gettext_lazy as _

from yundian.core.errors import DomainError

SALT = "yundian.promotions.member"
MAX_AGE = 30 * 24 * 3600


class BadMemberToken(DomainError):
    status = 401
    code = "invalid_member_token"
    default_message = _("Sign in as a member again.")


def member_token(member) -> str:
    return signing.dumps({"m": member.pk, "e": member.enterprise_id}, salt=SALT, compress=True)


def member_from_token(token) -> tuple[int, int]:
    """(member id, enterprise id) from a token; 401 if missing, forged or expired."""
    if not isinstance(token, str) or not 0 < len(token) <= 200:
        raise BadMemberToken()
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise BadMemberToken()
    return int(data["m"]), int(data["e"])
