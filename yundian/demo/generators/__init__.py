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


def _steps() -> list[Step]:
    from . import catalog, members, org, promotions, sales, stock, stores

    return [org.step, catalog.step, stores.step, stock.step, members.step, sales.step, promotions.step]


STEPS: Callable[[], list[Step]] = _steps  # a function, so step modules import Django models lazily


def shape(scale: int) -> dict[str, int]:
    """Rows each step would write at `scale`, in step order (no database access)."""
    check_scale(scale)
    rows: dict[str, int] = {}
    for step in STEPS():
        rows.update(step.shape(scale))
    return rows


def labels() -> dict[str, str | Promise]:
    merged: dict[str, str | Promise] = {}
    for step in STEPS():
        merged.update(step.labels)
    return merged


def check_scale(scale: int) -> None:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
        raise ValueError("scale must be an integer >= 1")


def run_seed(*, scale: int, seed: int = 1, code: str = "demo", password: str = DEFAULT_PASSWORD,
             enterprise_name: str | None = None) -> SeedContext:
    """Generate a whole enterprise at `scale`, deterministically for `seed`; all or nothing.

    Raises yundian.core.errors.Conflict when the enterprise code (or a generated username) is taken.
    """
    check_scale(scale)
    ctx = SeedContext(scale=scale, seed=seed, code=code, password=password, enterprise_name=enterprise_name)
    ctx.password_hash = make_password(password)
    with transaction.atomic():
        for step in STEPS():
            ctx.rng = random.Random(f"{seed}:{step.name}")
            step.run(ctx)
    return ctx
