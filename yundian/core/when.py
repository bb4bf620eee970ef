"""Moments as a person reads them: one format for pages (`|when`), exports and receipts; and the project's clock.

`now()` is the time code that schedules work reads (journeys' waits and triggers): `timezone.now()` moved by
`travel(delta)`, which tests (and a demo) use to let hours or days pass without sleeping. `travel_reset()` undoes it.
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

FORMATS = {"minutes": "%Y-%m-%d %H:%M", "seconds": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d", "time": "%H:%M"}


def _zone(zone):
    if zone is None or zone == "":
        return timezone.get_current_timezone()
    name = zone if isinstance(zone, str) else getattr(zone, "time_zone", "")
    return ZoneInfo(name) if name else timezone.get_current_timezone()


def format_when(value, style: str = "minutes", zone=None) -> str:
    """A moment as a person reads it, in `zone` (else the active time zone); a date as the day."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(_zone(zone))
        return value.strftime(FORMATS[style])
    if isinstance(value, date):
        return value.strftime(FORMATS["date"])
    return str(value)


_shift = timedelta(0)


def now() -> datetime:
    """The current moment (aware, UTC), as moved by `travel`."""
    return timezone.now() + _shift


def travel(delta: timedelta) -> datetime:
    """Move the clock forward (or back) by `delta` for this process; returns the new now."""
    global _shift
    _shift += delta
    return now()


def travel_reset() -> None:
    global _shift
    _shift = timedelta(0)
