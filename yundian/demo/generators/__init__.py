"""The demo data generator: an ordered list of steps, one per bounded context, all driven by one scale factor.

    yundian seed --scale N [--seed S] [--enterprise CODE]      write an enterprise of that size
    yundian seed --shape --scale 1 20 400                       print what each scale would write

A step is a `Step`:
- `name`                          unique; also salts the step's own random stream,
- `shape(scale) -> {key: rows}`   exactly the rows it writes at that scale (what `--shape` prints),
- `run(ctx)`                      writes them; reads what earlier steps left in `ctx.created`.

Each step draws from its own `random.Random(f"{seed}:{name}")`, so adding a step later (catalog, stock,
members, orders) never changes what the earlier steps generate for the same seed. All steps run in STEPS
order inside one transaction: a seed that fails leaves nothing behind.

To add a context: write `generators/<context>.py` exposing `step = Step(...)` and append it to STEPS.
"""
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.functional import Promise

DEFAULT_PASSWORD = "yundian-demo-2026"


@dataclass
class SeedContext:
    """What a step needs: its random stream, the scale, the enterprise and what earlier steps created."""

    scale: int
    seed: int
    code: str
    password: str
    enterprise_name: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    enterprise: Any = None  # yundian.org.models.Enterprise once the org step ran
    password_hash: str = ""  # hashed once, reused for every generated user
    created: dict[str, Any] = field(default_factory=dict)  # objects by key, e.g. created["stores"]
    counts: dict[str, int] = field(default_factory=dict)  # rows written, same keys as Step.shape
    logins: list[dict[str, str]] = field(default_factory=list)  # well-known sign-ins: role, username, where


@dataclass(frozen=True)
class Step:
    name: str
    shape: Callable[[int], dict[str, int]]
    run: Callable[[SeedContext], None]
    labels: dict[str, str | Promise] = field(default_factory=dict)  # translatable row labels for `--shape`
    after_history: bool = False  # runs after `--history` (so the history's draws stay the same for a seed)


def _steps() -> list[Step]:
    from . import (catalog, guide_tasks, guide_workbench, journeys, live, members, messaging, org, promotions, sales,
                   staffing, stock, stores, suppliers, todo)

    return [org.step, catalog.step, stores.step, suppliers.step, stock.step, members.step, sales.step, promotions.step,
            messaging.step, todo.step, guide_tasks.step, staffing.step, guide_workbench.step, live.step, journeys.step]


STEPS: Callable[[], list[Step]] = _steps  # a function, so step modules import Django models lazily


def shape(scale: int, history: int = 0) -> dict[str, int]:
    """Rows each step would write at `scale`, in step order (no database access); with `history` days, the
    history's rows too (an estimate: how many orders a year brings is drawn, not fixed)."""
    check_scale(scale)
    rows: dict[str, int] = {}
    for step in STEPS():
        rows.update(step.shape(scale))
    if history:
        from .history import estimate

        rows.update(estimate(scale, history))
    return rows


def labels() -> dict[str, str | Promise]:
    from .history import LABELS as history_labels

    merged: dict[str, str | Promise] = {}
    for step in STEPS():
        merged.update(step.labels)
    merged.update(history_labels)
    return merged


def check_scale(scale: int) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError("scale must be an integer >= 1")


def run_seed(*, scale: int, seed: int = 1, code: str = "demo", password: str = DEFAULT_PASSWORD,
             enterprise_name: str | None = None, history: int = 0, events: bool = False,
             history_until: date | None = None, progress: Callable[..., None] | None = None) -> SeedContext:
    """Generate a whole enterprise at `scale`, deterministically for `seed`; all or nothing.

    With `history` > 0, also that many days of orders, returns and their ledgers up to `history_until` (default:
    yesterday; history.py), in the same transaction; with `events`, their behaviour events are handed to the warehouse once it commits.
    `progress(stage, done, total)` hears how far the history got. Raises yundian.core.errors.Conflict when the
    enterprise code (or a generated username) is taken.
    """
    check_scale(scale)
    if not isinstance(history, int) or isinstance(history, bool) or history < 0:
        raise ValueError("history must be a whole number of days >= 0")
    ctx = SeedContext(scale=scale, seed=seed, code=code, password=password, enterprise_name=enterprise_name)
    ctx.password_hash = make_password(password)
    with transaction.atomic():
        # the steps write master data in bulk (no signals): every process's caches reload once this commits, and
        # this transaction reads past them meanwhile
        from yundian.core.cache import NAMES, cache_bump

        cache_bump(*NAMES)
        for step in (s for s in STEPS() if not s.after_history):
            ctx.rng = random.Random(f"{seed}:{step.name}")
            step.run(ctx)
        if history:
            from .history import run_history

            result = run_history(ctx, history, events=events, until=history_until, progress=progress)
            if result.events is not None:
                transaction.on_commit(lambda: load_events(ctx, result.events))
        for step in (s for s in STEPS() if s.after_history):
            ctx.rng = random.Random(f"{seed}:{step.name}")
            step.run(ctx)
    return ctx


def load_events(ctx: SeedContext, table) -> int:
    """Hand the history's events to the warehouse (bulk Arrow ingest); the rows it kept, or 0 without one."""
    try:
        from yundian.cdp.ingest import events_load_bulk
    except ImportError:  # no warehouse in this build: the events stay unloaded
        ctx.counts["history_events_loaded"] = 0
        return 0
    kept = events_load_bulk(table)
    ctx.counts["history_events_loaded"] = kept
    return kept
