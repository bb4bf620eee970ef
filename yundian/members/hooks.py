"""Sections of the 360° profile that higher contexts fill (orders from sales, tags from the CDP).

Members sits below sales, so it cannot import orders; instead a higher context registers a provider here when
its app is ready. A provider is fn(actor, member) -> dict with the section's rows, scoped to the actor.
"""
from collections.abc import Callable

_sections: dict[str, Callable] = {}


def register_profile_section(name: str) -> Callable[[Callable], Callable]:
    def decorator(fn: Callable) -> Callable:
        _sections[name] = fn
        return fn

    return decorator


def profile_section(name: str, actor, member) -> dict | None:
    """The named section for this member as the actor may see it, or None if no context provides it yet."""
    provider = _sections.get(name)
    return provider(actor, member) if provider else None
