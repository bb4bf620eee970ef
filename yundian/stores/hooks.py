"""Blocks of the public storefront that higher contexts fill (promotions' live flash sales and group buys).

Stores sits below promotions and sales, so it cannot import them; a higher context registers a provider here when
its app is ready. A provider is fn(profile) -> list[dict] of cards {title, subtitle, price (a Money), url, badge}, the
deals live at that store now; the storefront's home page shows them above the catalogue.
"""
from collections.abc import Callable

_deals: list[Callable] = []


def register_storefront_deals(fn: Callable) -> Callable:
    if fn not in _deals:
        _deals.append(fn)
    return fn


def storefront_deals(profile) -> list[dict]:
    out: list[dict] = []
    for provider in _deals:
        out.extend(provider(profile))
    return out
