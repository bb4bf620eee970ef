"""Storefront sign-in for members: a one-time code to the phone, then One-ID by the phone identity.

`login_code_send` keeps an HMAC of a fresh 6-digit code (expires after CODE_TTL) and hands the code to the
configured sender after commit (`yundian.members.senders`). Sends are limited per phone (one a minute, a few an
hour) and per client address, by counting recent codes; over the limit is a 429 and nothing is written.

`login_code_verify` checks the phone's latest unused code. Every try takes one of the code's attempts first (a
conditional UPDATE that commits even when the code is wrong), so guessing stops after MAX_ATTEMPTS; a wrong,
expired or exhausted code changes nothing else. The right code is used once (a conditional UPDATE), together with
every older code of that phone, and signs in the member holding the phone identity (following merges) or
registers a new member at the store with the consents they chose.
"""
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, gettext_lazy as _

from yundian.core.errors import Conflict, TooManyRequests, ValidationFailed
from yundian.org.models import OrgNode

from .. import selectors
from ..models import Channel, IdentityKind, LoginCode, Member, MemberIdentity, MemberStatus
from ..normalize import normalize_phone
from ..senders import CodeMessage, get_sender
from .members import IdentityIn, _clean_consents, member_register

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PHONE_COOLDOWN = timedelta(seconds=60)
PHONE_PER_HOUR = 5
IP_PER_HOUR = 20
SALT = "yundian.members.login_code"


@dataclass(frozen=True)
class CodeSent:
    phone: str
    expires_at: datetime


@dataclass(frozen=True)
class SignIn:
    member: Member
    created: bool


def _hash(enterprise_id: int, phone: str, code: str) -> str:
    return salted_hmac(SALT, f"{enterprise_id}:{phone}:{code}", algorithm="sha256").hexdigest()


def _clean_ip(ip) -> str | None:
    try:
        return str(ipaddress.ip_address(ip)) if isinstance(ip, str) and ip else None
    except ValueError:
        return None


def _store(store: OrgNode) -> OrgNode:
    if not isinstance(store, OrgNode) or not store.is_active:
        raise ValidationFailed(_("This store is closed."), code="store_inactive")
    return store


@transaction.atomic
def login_code_send(*, store: OrgNode, phone, ip: str | None = None) -> CodeSent:
    """Send a sign-in code to a mainland mobile number for the store's enterprise. 422 for a bad number, 429 when
    the phone or the client address asked too often (nothing written). No locks; the code leaves after commit."""
    store = _store(store)
    phone = normalize_phone(phone)
    ip = _clean_ip(ip)
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    recent = LoginCode.objects.filter(enterprise_id=store.enterprise_id, phone=phone, created_at__gt=hour_ago)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and last > now - PHONE_COOLDOWN:
        wait = int((last + PHONE_COOLDOWN - now).total_seconds()) + 1
        raise TooManyRequests(_("A code was sent a moment ago. Ask again in %(seconds)d seconds.") % {"seconds": wait},
                              code="login_code_too_soon", details={"retry_after": wait})
    if recent.count() >= PHONE_PER_HOUR or (
            ip and LoginCode.objects.filter(ip=ip, created_at__gt=hour_ago).count() >= IP_PER_HOUR):
        raise TooManyRequests(_("Too many codes were asked for. Try again in an hour."), code="login_code_rate_limited",
                              details={"retry_after": 3600})
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    expires_at = now + CODE_TTL
    LoginCode.objects.create(enterprise_id=store.enterprise_id, phone=phone, code_hash=_hash(store.enterprise_id, phone, code),
                             ip=ip, expires_at=expires_at)
    text = gettext("%(store)s: your sign-in code is %(code)s. It expires in %(minutes)d minutes; never share it.") % {
        "store": store.name, "code": code, "minutes": int(CODE_TTL.total_seconds() // 60)}
    message = CodeMessage(phone=phone, code=code, text=text)
    transaction.on_commit(lambda: get_sender().send(message))
    return CodeSent(phone=phone, expires_at=expires_at)


def login_code_verify(*, store: OrgNode, phone, code, consents=None) -> SignIn:
    """Sign in with the phone's latest code: 422 `login_code_expired` (none, used or past its time), 429
    `login_code_attempts_exhausted`, 422 `login_code_wrong` (the attempt is counted, nothing else changes). The right
    code signs in the phone's member (One-ID, following merges) or registers a new storefront member of the store
    with `consents` (applied to new members only). Locks: none beyond the conditional UPDATEs of the code rows."""
    store = _store(store)
    phone = normalize_phone(phone)
    code = code.strip() if isinstance(code, str) else ""
    consents = _clean_consents(consents)
    now = timezone.now()
    login = (LoginCode.objects.filter(enterprise_id=store.enterprise_id, phone=phone, used_at__isnull=True)
             .order_by("-id").first())
    if login is None or login.expires_at <= now:
        raise ValidationFailed(_("This code has expired. Ask for a new one."), code="login_code_expired",
                               details={"field": "code"})
    # take one attempt first, committed on its own: a wrong code cannot be retried for free
    with transaction.atomic():
        claimed = (LoginCode.objects.filter(pk=login.pk, used_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
                   .update(attempts=F("attempts") + 1))
    if not claimed:
        raise TooManyRequests(_("Too many wrong codes. Ask for a new one."), code="login_code_attempts_exhausted",
                              details={"field": "code"})
    if not (len(code) == CODE_DIGITS and code.isdigit()
            and constant_time_compare(login.code_hash, _hash(store.enterprise_id, phone, code))):
        raise ValidationFailed(_("This code is not right."), code="login_code_wrong",
                               details={"field": "code", "attempts_left": max(0, MAX_ATTEMPTS - login.attempts - 1)})
    with transaction.atomic():
        used = LoginCode.objects.filter(pk=login.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        if not used:  # a concurrent sign-in with the same code won
            raise ValidationFailed(_("This code has expired. Ask for a new one."), code="login_code_expired",
                                   details={"field": "code"})
        LoginCode.objects.filter(enterprise_id=store.enterprise_id, phone=phone, used_at__isnull=True,
                                 pk__lt=login.pk).update(used_at=now)
        return _member_for_phone(store, phone, consents)


def _member_for_phone(store: OrgNode, phone: str, consents: dict[str, bool]) -> SignIn:
    identity = (MemberIdentity.objects.filter(enterprise_id=store.enterprise_id, kind=IdentityKind.PHONE, value=phone)
                .select_related("member").first())
    if identity is None:
        member = member_register(actor=None, store_id=store.pk, channel=Channel.STOREFRONT,
                                 identities=[IdentityIn(IdentityKind.PHONE, phone, True)], consents=consents,
                                 enterprise_id=store.enterprise_id)
        return SignIn(member, True)
    member = selectors.resolve_active(identity.member)
    if member.status != MemberStatus.ACTIVE:
        raise Conflict(_("This membership cannot be used. Ask the store for help."), code="member_unavailable")
    if not identity.is_verified:  # the member just proved they hold this phone
        MemberIdentity.objects.filter(pk=identity.pk).update(is_verified=True, updated_at=timezone.now())
    return SignIn(member, False)
