"""Periodic work of the members context (listed in yundian.core.scheduler.SCHEDULE). Each is idempotent and
restartable: lots expire once (unique source per lot), reviews move the next review a window ahead, a birthday
gift is keyed by member and year."""
from datetime import date

from django.tasks import task

from .services import growth, points


@task()
def expire_points() -> int:
    """Expire every points lot whose expiry has passed (FIFO lots; one EXPIRE entry per lot)."""
    return points.points_expire_due()


@task()
def review_tiers() -> dict[str, int]:
    """Review members whose tier review date has come: downgrade (or upgrade) to what the window's growth earns."""
    return growth.tier_review_due()


@task()
def birthday_gifts(day_iso: str | None = None) -> int:
    """Give today's birthday members their tier's birthday points (once a year)."""
    return points.points_birthday_gifts(day=date.fromisoformat(day_iso) if day_iso else None)
