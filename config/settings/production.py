"""Production settings: the base settings behind TLS, with secure cookies, HSTS and security headers.

    DJANGO_SETTINGS_MODULE=config.settings.production
    SECRET_KEY        required, at least 50 characters, not a development key
    ALLOWED_HOSTS     the public host names, comma separated
    CSRF_TRUSTED_ORIGINS   e.g. https://shop.example.com (comma separated), when the site is behind a proxy
    HSTS_SECONDS      Strict-Transport-Security max-age (default one year; 0 turns HSTS off while trying TLS out)
    SECURE_SSL_REDIRECT   "0" when the proxy already redirects http to https (default "1")

Put a TLS-terminating proxy (nginx, a load balancer) in front; it must set X-Forwarded-Proto.
`python manage.py check --deploy --settings=config.settings.production` passes with these settings.
"""
import os

os.environ["DEBUG"] = "0"  # never DEBUG in production, whatever the environment says

from .base import *  # noqa: E402,F401,F403
from .base import SECRET_KEY  # noqa: E402

if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only") or len(set(SECRET_KEY)) < 5:
    raise RuntimeError("SECRET_KEY must be a long random value in production (50+ characters)")

DEBUG = False

# cookies only over TLS, not readable by scripts (the session), not sent on cross-site requests
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 60 * 60  # one shift

# TLS: redirect http, tell browsers to use https only (HSTS), trust the proxy's X-Forwarded-Proto
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 60 * 60)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# preloading is a one-way decision for the operator's whole domain: opt in with HSTS_PRELOAD=1
SECURE_HSTS_PRELOAD = os.environ.get("HSTS_PRELOAD", "0") == "1"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
