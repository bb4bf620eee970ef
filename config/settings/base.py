"""Settings for Yundian. The environment is read once, here.

DATABASE_URL   unset -> embedded SQLite (WAL, IMMEDIATE transactions) in var/
               postgresql://user@host:port/db -> PostgreSQL
YUNDIAN_DATA   folder for the SQLite file, the DuckDB warehouse and uploads (default ./var)
SECRET_KEY     required when DEBUG is off
DEBUG          "1" for development (the demo sets it)
DB_POOL_MAX, DB_POOL_MIN, DB_POOL_TIMEOUT, DB_PREPARE_THRESHOLD   PostgreSQL connections (see database_from_env)
"""
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("YUNDIAN_DATA", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
# the DuckDB warehouse (yundian.core.warehouse); WAREHOUSE_PATH overrides where it lives
WAREHOUSE_PATH = Path(os.environ.get("WAREHOUSE_PATH", DATA_DIR / "warehouse.duckdb"))
# when set, the minute sync also writes the warehouse as Parquet there (one folder per table) for Spark to read
WAREHOUSE_PARQUET_DIR = os.environ.get("WAREHOUSE_PARQUET_DIR") or None

DEBUG = os.environ.get("DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY") or ("dev-only-not-secret" if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
    "yundian.core",
    "yundian.org",
    "yundian.catalog",
    "yundian.stores",
    "yundian.inventory",
    "yundian.members",
    "yundian.messaging",
    "yundian.promotions",
    "yundian.sales",
    "yundian.guides",
    "yundian.pos",
    "yundian.cdp",
    "yundian.analytics",
    "yundian.journeys",
    "yundian.staffing",
    "yundian.recommend",
    "yundian.integrations",
    "yundian.web",
    "yundian.demo",
    "yundian.ops",
]

# yundian.core.middleware.* are Django's own, skipped for *light* requests (a rule in LIGHT_REQUESTS says which:
# bearer-token requests under /api/ carry their credential in a header, so they need no session, session user or
# messages; the API's views are CSRF-exempt to Django's CSRF middleware, which stays by name for the deploy checks); see docs/architecture.md, "The lighter path"
MIDDLEWARE = [
    "yundian.core.cache.CacheScope",  # one read of the cache versions per request (core.cache)
    "django.middleware.security.SecurityMiddleware",
    "yundian.core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "yundian.core.middleware.AuthenticationMiddleware",
    "yundian.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yundian.stores.middleware.StorefrontTimeZoneMiddleware",
]
LIGHT_REQUESTS = ["yundian.core.middleware.bearer_api_request"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "yundian.web.context.console",
                "yundian.cdp.context.tracking",
            ],
        },
    },
]


# measured with bench/checkout_http.py and bench/checkout_profile.py (README "Scaling out")
DB_POOL_MAX_DEFAULT = "8"  # gunicorn's threads per worker in the benches (README "Scaling out")
DB_PREPARE_THRESHOLD_DEFAULT = ""  # opt-in: pays for a sale (planning 5.0 -> 0.15 ms), no gain for the journeys runner (README)


def database_from_env(url: str | None, env=os.environ) -> dict:
    """PostgreSQL from a URL, else the embedded SQLite file (or the file of a sqlite:/// URL) with WAL and IMMEDIATE
    transactions.

    PostgreSQL connections (each process; README "Scaling out"):
    DB_POOL_MAX           > 0: Django's connection pool (psycopg_pool), at most this many connections per process,
                          shared by its threads; a request takes one for its duration and gives it back.
                          0: one persistent connection per thread (CONN_MAX_AGE 60 s) instead.
    DB_POOL_MIN           connections the pool keeps open (default 2, at most DB_POOL_MAX)
    DB_POOL_TIMEOUT       seconds a request waits for a free connection before failing (default 10)
    DB_PREPARE_THRESHOLD  unset or "": client-side binding, no prepared statements (Django's default).
                          N: server-side binding, and a statement run N times on a connection becomes a server-side
                          prepared statement (psycopg's prepare_threshold)
    Options in the URL's query string (?sslmode=require...) are passed on to psycopg as they are.
    """
    if url and not url.startswith("sqlite:"):
        pool_max = int(env.get("DB_POOL_MAX", DB_POOL_MAX_DEFAULT))
        config = dj_database_url.parse(url, conn_max_age=0 if pool_max > 0 else 60, conn_health_checks=True)
        options = config.setdefault("OPTIONS", {})
        if pool_max > 0:
            options["pool"] = {"min_size": min(pool_max, int(env.get("DB_POOL_MIN", "2"))), "max_size": pool_max,
                               "timeout": float(env.get("DB_POOL_TIMEOUT", "10"))}
        threshold = env.get("DB_PREPARE_THRESHOLD", DB_PREPARE_THRESHOLD_DEFAULT)
        if threshold != "":
            options["server_side_binding"] = True
            options["prepare_threshold"] = int(threshold)
        config["TEST"] = {"NAME": env.get("YUNDIAN_TEST_DB_NAME")} if env.get("YUNDIAN_TEST_DB_NAME") else {}
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        # a sqlite:///path URL names another file (a test's second process opens the test database this way)
        "NAME": dj_database_url.parse(url)["NAME"] if url else DATA_DIR / "yundian.sqlite3",
        # one connection per thread, kept between requests: opening one (Django registers its SQL functions, the
        # PRAGMAs run, WAL is mapped) and closing it cost more than a short request itself (bench/flash_sale_http.py)
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
    }


DATABASES = {"default": database_from_env(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "reports"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "yundian" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
SERVE_MEDIA = os.environ.get("SERVE_MEDIA", "0") == "1"  # let Django serve uploads (DEBUG always does)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; keep default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SESSION_COOKIE_SECURE = os.environ.get("SECURE_COOKIES", "1") == "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# sign-in lockout (yundian.ops.security): this many failures per username and address within the window lock them
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", str(15 * 60)))
# sign-in attempts older than this are deleted nightly (yundian.ops.tasks; never sooner than the lockout window)
LOGIN_ATTEMPT_RETENTION_DAYS = int(os.environ.get("LOGIN_ATTEMPT_RETENTION_DAYS", "30"))

UNFOLD = {
    "SITE_TITLE": "Yundian",
    "SITE_HEADER": "Yundian 云店",
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

# how storefront sign-in codes reach members' phones (yundian/members/senders.py): a class path with send(message);
# unset, codes are printed on the server's console (development)
MEMBER_CODE_SENDER = os.environ.get("MEMBER_CODE_SENDER") or None
# where members reach this site (links in messages: unsubscribe, storefront pages)
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000")
# the outbox's channel adapters (yundian/messaging/providers.py): a class path per channel; unset channels use the
# defaults (fake SMS and WeChat gateways, Django's email backend, the storefront inbox). Receipt webhooks are
# signed with MESSAGING_RECEIPT_SECRET (default: derived from SECRET_KEY)
MESSAGING_PROVIDERS = {k[len("MESSAGING_PROVIDER_"):].lower(): v for k, v in os.environ.items()
                       if k.startswith("MESSAGING_PROVIDER_") and v}
MESSAGING_RECEIPT_SECRET = os.environ.get("MESSAGING_RECEIPT_SECRET") or None
# webhooks may reach loopback and private addresses (development, tests, a receiver on the same host): "1" allows it;
# the default follows DEBUG, and production keeps it off (docs/webhooks.md, Addresses)
WEBHOOKS_ALLOW_PRIVATE_URLS = os.environ.get("WEBHOOKS_ALLOW_PRIVATE_URLS", "1" if DEBUG else "0") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # the level on the handler too: records propagated from child loggers (django.request) skip the root's level
    "handlers": {"console": {"class": "logging.StreamHandler", "level": os.environ.get("LOG_LEVEL", "WARNING")}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
