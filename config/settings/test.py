"""Test settings: fast hashing, local in-memory cache; same database rules as production."""
import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret")
os.environ.setdefault("SECURE_COOKIES", "0")

from .base import *  # noqa: E402,F401,F403
from .base import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # a file (not :memory:) so live-server browser tests and threads share it
    DATABASES["default"]["TEST"] = {"NAME": str(DATABASES["default"]["NAME"]).replace(".sqlite3", "-test.sqlite3")}
else:
    pool = DATABASES["default"]["OPTIONS"].get("pool")
    if pool:
        # the pool as in production, but never smaller than the race tests' threads (up to 24 at once, each with its
        # own connection): a smaller pool would queue racers and make the races less of a race
        pool["max_size"] = max(pool["max_size"], 32)
