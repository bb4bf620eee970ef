"""Per-process caches of master data that a sale re-reads, kept right by versions the writers bump.

A cache depends on named versions (`core.CacheVersion`: one row per name). Every writer of the data behind a name
calls `cache_bump(name)` in its own transaction (`F("version") + 1`), so the new version commits with the change
or rolls back with it; the models' saves and deletes bump through `watch` (signals, a safety net for the admin
and plain ORM saves), bulk `update()`s and `bulk_create`s bump explicitly. A reader reads all versions in one
query per request (`CacheScope` middleware) or per sale (`cache_scope()`), else once per read, and reloads what
is stale: a change committed in any process is seen by every other process's next request, with no time-to-live.

Rules that keep it right:
- data is stamped with the versions read *before* it was loaded, so a concurrent commit can only make the
  stamp older than the data (a harmless reload), never newer;
- a process that bumped a name inside a transaction bypasses that name's caches until the transaction ends
  (it sees its own uncommitted change; nothing it loads meanwhile is kept, so a rollback leaves nothing stale),
  and the request's versions are read again after it;
- a version row is created with a random start, so versions are not reused after the table is emptied.
"""
import contextlib
import contextvars
import random
import threading
from collections.abc import Callable, Hashable, Iterable

from django.db import connection, transaction
from django.db.models import F, Model
from django.db.models.base import ModelState
from django.db.models.signals import post_delete, post_save

# the names (each documents what bumps it)
ORG = "org"  # enterprises, org nodes, staff, role assignments
CATALOG = "catalog"  # products, SKUs, categories
PRICES = "prices"  # price lists and their entries
WAREHOUSES = "warehouses"  # inventory warehouses
PROMOTIONS = "promotions"  # promotions, price floors, flash sales, group buys, live sessions and their items
PROGRAMME = "members.programme"  # the member programme, points rules, tiers
PLANS = "guides.plans"  # commission plans
NAMES = (ORG, CATALOG, PRICES, WAREHOUSES, PROMOTIONS, PROGRAMME, PLANS)

_DIRTY_ATTR = "_yundian_cache_dirty"
_scope: contextvars.ContextVar[dict | None] = contextvars.ContextVar("yundian_cache_scope", default=None)
_caches: list["VersionCache"] = []


def _read_versions() -> dict[str, int]:
    from .models import CacheVersion

    # one small table, read on every request that uses a cache: a fixed statement, no query building
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, version FROM {CacheVersion._meta.db_table}")
        return dict(cursor.fetchall())


def _dirty() -> set[str]:
    """Names this connection bumped in its open transaction (forgotten once no transaction is open)."""
    dirty = getattr(connection, _DIRTY_ATTR, None)
    if dirty is None:
        dirty = set()
        setattr(connection, _DIRTY_ATTR, dirty)
    elif dirty and not connection.in_atomic_block:
        # the transaction ended (committed or rolled back) since: the request's versions are read again
        dirty.clear()
        scope = _scope.get()
        if scope is not None:
            scope.clear()
    return dirty


def versions() -> dict[str, int]:
    """The current versions: read once per scope (request or sale), else on every call."""
    scope = _scope.get()
    if scope is None:
        return _read_versions()
    if "versions" not in scope:
        scope["versions"] = _read_versions()
    return scope["versions"]


@contextlib.contextmanager
def cache_scope():
    """Read the versions at most once inside (nested scopes share the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


class CacheScope:
    """Middleware: one version read per request, at the first cached read (requests that read none pay nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _scope.set({})
        try:
            return self.get_response(request)
        finally:
            _scope.reset(token)


def cache_bump(*names: str) -> None:
    """Move these versions on, in the caller's transaction: every process reloads what depends on them once the
    transaction commits (and nothing changes if it rolls back)."""
    from .models import CacheVersion

    names = tuple(sorted(set(names)))  # one order for the row locks
    updated = CacheVersion.objects.filter(name__in=names).update(version=F("version") + 1)
    if updated < len(names):
        CacheVersion.objects.bulk_create([CacheVersion(name=n, version=random.getrandbits(40)) for n in names],
                                         ignore_conflicts=True)
    scope = _scope.get()
    if scope is not None:
        scope.clear()
    if connection.in_atomic_block:
        dirty = _dirty()
        dirty.update(names)

        def committed() -> None:
            dirty.difference_update(names)
            current = _scope.get()
            if current is not None:
                current.clear()

        transaction.on_commit(committed)


def watch(model, *names: str) -> None:
    """Bump `names` on every save and delete of `model` (a safety net: bulk writes bump explicitly)."""

    def bump(sender, **kwargs) -> None:
        cache_bump(*names)

    post_save.connect(bump, sender=model, weak=False, dispatch_uid=f"yundian-cache-{model._meta.label}-save")
    post_delete.connect(bump, sender=model, weak=False, dispatch_uid=f"yundian-cache-{model._meta.label}-delete")


class VersionCache:
    """A process-local {key: value} valid while its versions stay put. Values are shared between requests and
    threads: keep them immutable, or hand out copies (`clone`)."""

    def __init__(self, label: str, *names: str, max_entries: int = 50_000):
        self.label, self.names, self.max_entries = label, names, max_entries
        self._stamp: tuple | None = None
        self._data: dict = {}
        self._lock = threading.Lock()
        _caches.append(self)

    def _current(self) -> tuple | None:
        """The versions this cache depends on, or None when it must not be used (a name bumped in this
        connection's open transaction, or a name with no version row yet)."""
        dirty = _dirty()
        if dirty and not dirty.isdisjoint(self.names):
            return None
        found = versions()
        stamp = tuple(found.get(n) for n in self.names)
        return None if None in stamp else stamp

    def get_many(self, keys: Iterable[Hashable], load: Callable[[list], dict]) -> dict:
        """{key: value} for the keys `load` knows (it gets the missing keys and returns what it found)."""
        keys = list(keys)
        stamp = self._current()
        if stamp is None:
            return load(keys) if keys else {}
        data = self._data
        if self._stamp != stamp:
            with self._lock:
                if self._stamp != stamp:
                    self._data, self._stamp = {}, stamp
                data = self._data
        out, missing = {}, []
        for key in keys:
            value = data.get(key, _MISSING)
            if value is _MISSING:
                missing.append(key)
            elif value is not _ABSENT:
                out[key] = value
        if missing:
            loaded = load(missing)
            with self._lock:
                if self._stamp == stamp:
                    if len(self._data) + len(missing) > self.max_entries:
                        self._data = {}
                    for key in missing:
                        self._data[key] = loaded.get(key, _ABSENT)
            out.update(loaded)
        return out

    def get(self, key: Hashable, load: Callable[[Hashable], object]):
        """The value for `key` (`load(key)` when not cached; None is cached as "not found")."""
        found = self.get_many([key], lambda keys: {k: v for k in keys if (v := load(k)) is not None})
        return found.get(key)

    def clear(self) -> None:
        with self._lock:
            self._data, self._stamp = {}, None


_MISSING = object()
_ABSENT = object()


def clear_all() -> None:
    """Empty every cache and forget this connection's bumps (tests: the test database is rolled back under the
    caches' feet, which never happens to committed data)."""
    for cache in _caches:
        cache.clear()
    dirty = getattr(connection, _DIRTY_ATTR, None)
    if dirty is not None:
        dirty.clear()


def clone(instance):
    """A copy of a cached model instance (and of the related instances cached on it) that the caller may change
    freely."""
    if instance is None:
        return None
    cls = instance.__class__
    new = cls.__new__(cls)
    new.__dict__.update(instance.__dict__)
    state = new._state = ModelState()
    state.db, state.adding = instance._state.db, False
    cached = instance._state.fields_cache
    if cached:
        state.fields_cache = {name: clone(value) if isinstance(value, Model) else value
                              for name, value in cached.items()}
    return new
