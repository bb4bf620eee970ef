"""Security basics: hashed passwords, sign-in lockout and audit, CSRF on pages, production cookies and headers,
scoped and revocable API tokens."""
import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.db import connection
from django.test import Client
from django.utils import timezone

from yundian.core.models import AuditEntry
from yundian.ops.models import LoginAttempt, LoginOutcome
from yundian.org import services as org_services
from yundian.org.models import ApiToken, OrgNode
from yundian.org.tests.factories import PASSWORD
from yundian.org.tests.utils import assert_error, client_for

ROOT = Path(__file__).resolve().parents[2]


def login(client: Client, username: str, password: str, ip: str = "10.1.1.1", lang: str = "en"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip,
                       HTTP_ACCEPT_LANGUAGE=lang)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- passwords -------------------------------------------------------------------------------------------------

def test_passwords_are_stored_as_hashes_never_in_plaintext(chain):
    users = list(get_user_model().objects.all())
    assert len(users) == 9
    for user in users:
        assert PASSWORD not in user.password
        identify_hasher(user.password)  # a known Django hasher's encoding (raises if plaintext)
        assert user.check_password(PASSWORD)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auth_user")
        assert not any(PASSWORD in str(value) for row in cursor.fetchall() for value in row)


@pytest.mark.once  # a production process on its own SQLite: the same on either suite database
def test_production_hashes_passwords_with_a_slow_hasher():
    # the test settings use MD5 for speed; production keeps Django's default (PBKDF2 first)
    from django.conf import global_settings

    assert global_settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")
    out = _production("from django.conf import settings; print(json.dumps(settings.PASSWORD_HASHERS))")
    assert json.loads(out)[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"


# --- sign-in lockout and audit -----------------------------------------------------------------------------------

def test_five_failed_sign_ins_lock_the_account_from_that_address_even_with_the_right_password(chain):
    client = Client()
    username = chain.guide_a.user.username
    for _ in range(5):
        response = login(client, username, "wrong-password")
        assert response.status_code == 200 and not signed_in(client)
        assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content
    response = login(client, username, PASSWORD)
    assert response.status_code == 429
    assert not signed_in(client)
    assert "Too many failed sign-in attempts for this account from your address. Try again in 15 minutes." \
        in response.content.decode()
    outcomes = list(LoginAttempt.objects.filter(username=username).order_by("id").values_list("outcome", flat=True))
    assert outcomes == [LoginOutcome.FAILED] * 5 + [LoginOutcome.LOCKED]


def test_the_lockout_message_is_translated(chain):
    client = Client()
    username = chain.guide_a.user.username
    for _ in range(5):
        login(client, username, "nope-nope", lang="zh-hans")
    response = login(client, username, PASSWORD, lang="zh-hans")
    assert response.status_code == 429
    assert response["Content-Language"] == "zh-hans"
    # the message goes through gettext in the request's language (the zh-Hans text comes with the catalogues)
    from django.utils.functional import Promise
    from django.utils.html import escape
    from django.utils.translation import override

    from yundian.ops.security import LoginForm

    assert isinstance(LoginForm.error_messages["locked"], Promise)
    with override("zh-hans"):
        expected = str(LoginForm.error_messages["locked"]) % {"minutes": 15}
    assert escape(expected) in response.content.decode()


def test_lockout_is_per_username_and_address_and_ends_after_the_window(chain):
    username = chain.guide_a.user.username
    for _ in range(5):
        login(Client(), username, "wrong-password", ip="10.9.9.9")
    # the same username from another address, and another username from the same address, still sign in
    other_address = Client()
    assert login(other_address, username, PASSWORD, ip="10.9.9.8").status_code == 302 and signed_in(other_address)
    other_user = Client()
    login(other_user, chain.guide_b.user.username, PASSWORD, ip="10.9.9.9")
    assert signed_in(other_user)
    # locked from 10.9.9.9 ...
    locked = Client()
    assert login(locked, username, PASSWORD, ip="10.9.9.9").status_code == 429 and not signed_in(locked)
    # ... until the failures are older than the window (15 minutes); refused attempts did not extend it
    LoginAttempt.objects.filter(outcome=LoginOutcome.FAILED).update(at=timezone.now() - timedelta(minutes=15, seconds=1))
    assert login(locked, username, PASSWORD, ip="10.9.9.9").status_code == 302 and signed_in(locked)


def test_a_successful_sign_in_clears_the_failure_count(chain):
    username = chain.guide_a.user.username
    for _ in range(4):
        login(Client(), username, "wrong-password")
    assert login(Client(), username, PASSWORD).status_code == 302
    for _ in range(4):
        login(Client(), username, "wrong-password")
    client = Client()
    assert login(client, username, PASSWORD).status_code == 302 and signed_in(client)


def test_username_case_does_not_bypass_the_lockout(chain):
    username = chain.guide_a.user.username
    for variant in (username.upper(), username.title(), username, username.upper(), username.swapcase()):
        login(Client(), variant, "wrong-password")
    assert login(Client(), username, PASSWORD).status_code == 429


def test_the_lock_is_stored_in_the_database_for_every_process(chain):
    from yundian.ops.security import login_locked

    username = chain.guide_a.user.username
    for _ in range(5):
        login(Client(), username, "wrong-password", ip="10.2.2.2")
    # what another server process would read: the attempts table, not anything in this process's memory
    assert LoginAttempt.objects.filter(username=username, ip="10.2.2.2", outcome=LoginOutcome.FAILED).count() == 5
    assert login_locked(username, "10.2.2.2") and not login_locked(username, "10.2.2.3")


def test_sign_ins_and_failures_are_audited(chain):
    user = chain.manager_a.user
    before = AuditEntry.objects.count()
    login(Client(), user.username, "wrong-password", ip="10.3.3.3")
    login(Client(), "nobody-at-all", "wrong-password", ip="10.3.3.3")
    login(Client(), user.username, PASSWORD, ip="10.3.3.3")
    entries = list(AuditEntry.objects.filter(action__startswith="auth.").order_by("id"))
    assert AuditEntry.objects.count() == before + 3
    failed, unknown, ok = entries
    assert (failed.action, failed.actor_user_id, failed.enterprise_id, failed.scope_path) == \
        ("auth.login_failed", user.pk, chain.hq.enterprise_id, chain.store_a.path)
    assert failed.after == {"username": user.username, "ip": "10.3.3.3", "outcome": "failed", "reason": "bad_credentials"}
    assert (unknown.action, unknown.actor_user_id, unknown.enterprise_id, unknown.actor_label) == \
        ("auth.login_failed", None, None, "nobody-at-all")
    assert (ok.action, ok.actor_user_id, ok.target_type, ok.target_id) == ("auth.login", user.pk, "auth.user", str(user.pk))
    assert ok.after == {"username": user.username, "ip": "10.3.3.3", "outcome": "success"}
    # the HQ auditor reads them through the audit API; the other chain's auditor does not
    actions = [e["action"] for e in client_for(chain.auditor).get("/api/v1/audit?limit=500").json()["items"]]
    assert actions.count("auth.login_failed") == 1 and actions.count("auth.login") == 1


def test_another_enterprise_does_not_see_our_sign_ins(chain, other_chain):
    login(Client(), chain.manager_a.user.username, PASSWORD)
    actions = [e["action"] for e in client_for(other_chain.auditor).get("/api/v1/audit?limit=500").json()["items"]]
    assert "auth.login" not in actions


def test_inactive_staff_cannot_sign_in_and_the_failure_is_audited(chain):
    user = chain.guide_a.user
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    client = Client()
    assert login(client, user.username, PASSWORD).status_code == 200 and not signed_in(client)
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.after["username"] == user.username


# --- CSRF on pages ----------------------------------------------------------------------------------------------

def test_pages_refuse_posts_without_the_csrf_token(chain):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/login/", {"username": chain.admin.user.username, "password": PASSWORD}).status_code == 403
    assert LoginAttempt.objects.count() == 0
    client = client_for(chain.admin, enforce_csrf_checks=True)
    nodes = OrgNode.objects.count()
    response = client.post("/org/nodes/new/", {"parent_id": chain.hq.id, "kind": "region", "name": "N", "code": "n-1"})
    assert response.status_code == 403
    assert OrgNode.objects.count() == nodes
    # the same form with the page's token goes through
    client.get("/org/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/org/nodes/new/", {"parent_id": chain.hq.id, "kind": "region", "name": "N", "code": "n-1",
                                               "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and OrgNode.objects.count() == nodes + 1


def test_the_login_form_works_with_its_csrf_token(chain):
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/login/", {"username": chain.admin.user.username, "password": PASSWORD,
                                       "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and signed_in(client)


# --- production settings -----------------------------------------------------------------------------------------

def _production(code: str, **env) -> str:
    data_dir = Path(os.environ.get("YUNDIAN_DATA", ROOT / "var")) / "proof-production"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "YUNDIAN_DATA": str(data_dir),
                "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "shop.example.com", "DEBUG": "1", **env}
    full_env.pop("DATABASE_URL", None)
    script = "import json, django; django.setup()\n" + code
    out = subprocess.run([sys.executable, "-c", script], env=full_env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.once  # a production process on its own SQLite: the same on either suite database
def test_production_settings_secure_cookies_hsts_and_headers():
    out = _production(
        "from django.conf import settings as s\n"
        "print(json.dumps({k: getattr(s, k) for k in ('DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE',"
        " 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS',"
        " 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY',"
        " 'X_FRAME_OPTIONS', 'SECURE_PROXY_SSL_HEADER')}))")
    assert json.loads(out) == {
        "DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax", "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin", "X_FRAME_OPTIONS": "DENY",
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


@pytest.mark.once  # a production process on its own SQLite: the same on either suite database
def test_production_responses_carry_the_security_headers_and_secure_cookies():
    out = _production(
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='shop.example.com')\n"
        "plain = c.get('/login/')\n"
        "tls = c.get('/login/', secure=True)\n"
        "cookie = tls.cookies['csrftoken']\n"
        "print(json.dumps({'plain': [plain.status_code, plain.get('Location')], 'tls': tls.status_code,"
        " 'hsts': tls.get('Strict-Transport-Security'), 'frame': tls.get('X-Frame-Options'),"
        " 'nosniff': tls.get('X-Content-Type-Options'), 'referrer': tls.get('Referrer-Policy'),"
        " 'coop': tls.get('Cross-Origin-Opener-Policy'), 'cookie_secure': bool(cookie['secure']),"
        " 'cookie_samesite': cookie['samesite']}))")
    assert json.loads(out) == {
        "plain": [301, "https://shop.example.com/login/"], "tls": 200,
        "hsts": "max-age=31536000; includeSubDomains", "frame": "DENY", "nosniff": "nosniff",
        "referrer": "same-origin", "coop": "same-origin", "cookie_secure": True, "cookie_samesite": "Lax",
    }


@pytest.mark.once  # a production process on its own SQLite: the same on either suite database
def test_production_passes_the_deploy_checks():
    data_dir = Path(os.environ.get("YUNDIAN_DATA", ROOT / "var")) / "proof-production"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "YUNDIAN_DATA": str(data_dir),
           "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "shop.example.com"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by scripts/test for the browser tests; never in a deployment
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.once
@pytest.mark.parametrize("key", ["", "short", "dev-only-not-secret" + "x" * 60, "a" * 64])
def test_production_refuses_a_weak_secret_key(key):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": key,
           "YUNDIAN_DATA": str(Path(os.environ.get("YUNDIAN_DATA", ROOT / "var")) / "proof-production")}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr


# --- API tokens ---------------------------------------------------------------------------------------------------

def test_api_tokens_act_within_their_staff_scope_and_stop_when_revoked_or_expired(chain, other_chain):
    token, plaintext = org_services.api_token_create(actor=chain.admin, name="ERP")
    bearer = Client()
    auth = {"Authorization": f"Bearer {plaintext}"}
    assert bearer.get(f"/api/v1/org/nodes/{chain.store_b.id}", headers=auth).status_code == 200
    # another enterprise's node does not exist for this token
    assert_error(bearer.get(f"/api/v1/org/nodes/{other_chain.store_b.id}", headers=auth), 404)
    # a tampered secret with the right prefix is refused
    assert_error(bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext[:-2]}xx"}), 401)
    # only a hash is stored
    stored = ApiToken.objects.get(pk=token.pk)
    assert plaintext.split("_", 2)[2] not in stored.key_hash and len(stored.key_hash) == 64
    org_services.api_token_revoke(actor=chain.admin, token_id=token.pk)
    assert_error(bearer.get("/api/v1/me", headers=auth), 401, "unauthenticated")
    token2, plaintext2 = org_services.api_token_create(actor=chain.admin, name="ERP 2")
    ApiToken.objects.filter(pk=token2.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext2}"}), 401, "unauthenticated")
    # a deactivated staff member's token stops too
    token3, plaintext3 = org_services.api_token_create(actor=chain.admin, name="ERP 3")
    chain.admin.__class__.objects.filter(pk=chain.admin.pk).update(is_active=False)
    assert_error(bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext3}"}), 401, "unauthenticated")
