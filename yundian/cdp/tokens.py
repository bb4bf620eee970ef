"""The member token: a signed statement "this page is shown to member M of enterprise E", given to the storefront's
tracker so that its events carry the member without the events API reading the shopper's session.

Signed with Django's signing (SECRET_KEY, a salt of its own) and time-stamped; a token older than MAX_AGE, from
another enterprise or altered by one character is refused.
"""
from datetime import timedelta

from django.core import signing

SALT = "yundian.cdp.member-token"
MAX_AGE = timedelta(days=30)


def member_token_issue(*, enterprise_id: int, member_id: int) -> str:
    return signing.dumps({"e": enterprise_id, "m": member_id}, salt=SALT)


def member_token_read(token: str, *, enterprise_id: int) -> int | None:
    """The member id in a valid token of `enterprise_id`, else None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e") != enterprise_id or not isinstance(data.get("m"), int):
        return None
    return data["m"]
