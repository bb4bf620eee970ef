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


# --- sections of the member's own pages (storefront "my account") ---------------------------------------
# A member-facing provider is fn(member) -> list[dict] of that member's own rows only (no staff actor: the member
# is signed in on the storefront). Contexts above members register them when their app is ready.

_member_sections: dict[str, Callable] = {}


def register_member_section(name: str) -> Callable[[Callable], Callable]:
    def decorator(fn: Callable) -> Callable:
        _member_sections[name] = fn
        return fn

    return decorator


def member_section(name: str, member) -> list[dict] | None:
    """The named section of the member's own rows, or None if no context provides it yet."""
    provider = _member_sections.get(name)
    return provider(member) if provider else None


def register_member_coupons(fn: Callable) -> Callable:
    """Promotions provides the member's coupons: fn(member) -> [{code, campaign, value, valid_from, valid_to,
    status, status_label}], newest first."""
    return register_member_section("coupons")(fn)


def member_coupons(member) -> list[dict] | None:
    return member_section("coupons", member)


def register_member_orders(fn: Callable) -> Callable:
    """Sales may provide the member's own orders: fn(member) -> [{number, placed_at, store, channel, status,
    total}], newest first. Until it does, the account page lists the paid orders from members' own ledgers."""
    return register_member_section("orders")(fn)


def member_orders(member) -> list[dict] | None:
    return member_section("orders", member)


# --- a new membership signed up on the storefront ------------------------------------------------------
# fn(request, member) is called once a phone new to the enterprise has signed up on a storefront (after the
# member row is committed); promotions records which share link brought them in (the link's cookie).

_signed_up: list[Callable] = []


def on_storefront_sign_up(fn: Callable) -> Callable:
    if fn not in _signed_up:
        _signed_up.append(fn)
    return fn


def run_storefront_sign_up(request, member) -> None:
    for fn in _signed_up:
        fn(request, member)
