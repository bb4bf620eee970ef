"""Test helpers shared by every context: the race harness of the concurrency tests (PostgreSQL, real row locks).

    results = race(lambda: stock_issue(...), lambda: stock_issue(...))       # two different calls at once
    results = race_n(20, lambda i: coupon_redeem(..., order_ref=f"o-{i}"))   # the same call, n times at once

Each racer runs in its own thread, so with its own database connection, which is closed when it is done (a test
database cannot be dropped while a thread still holds a connection). The racers wait on a barrier and start
together. Each result is ("ok", value) or ("error", exception), in call order; with `conflict_codes=True` a
Conflict is ("conflict", its code). A racer still running after the join timeout fails the test (a deadlock)."""
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection

from .errors import Conflict

Outcome = tuple[str, Any]

BARRIER_TIMEOUT = 20  # seconds for every racer to be ready
JOIN_TIMEOUT = 60  # seconds for every racer to finish


def attempt(fn: Callable[[], Any], *, conflict_codes: bool = False) -> Outcome:
    """Call `fn` in this thread and close this thread's connection after; the outcome, never an exception."""
    try:
        return ("ok", fn())
    except Conflict as exc:
        return ("conflict", exc.code) if conflict_codes else ("error", exc)
    except Exception as exc:  # noqa: BLE001 - the test inspects what each racer got
        return ("error", exc)
    finally:
        connection.close()


def race(*calls: Callable[[], Any], conflict_codes: bool = False) -> list[Outcome]:
    """Run the calls at once, each in its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[Outcome | None] = [None] * len(calls)

    def racer(i: int, fn: Callable[[], Any]) -> None:
        def ready_then_call():
            barrier.wait(timeout=BARRIER_TIMEOUT)
            return fn()

        results[i] = attempt(ready_then_call, conflict_codes=conflict_codes)

    threads = [threading.Thread(target=racer, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN_TIMEOUT)
    assert all(not t.is_alive() for t in threads), "a racer hung (deadlock?)"
    return results


def race_n(n: int, fn: Callable[[int], Any], *, conflict_codes: bool = False) -> list[Outcome]:
    """`fn(i)` for i in 0..n-1, all at once (see `race`)."""
    return race(*(partial(fn, i) for i in range(n)), conflict_codes=conflict_codes)


def database_url() -> str:
    """The URL of the database this process uses, for a second process (a worker to kill, another web process) to
    open the same one: the SQLite file, or the PostgreSQL test database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgresql://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
