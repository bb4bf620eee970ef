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


# --- blocks of storefront pages that higher contexts render (recommendations) -------------------------------
# A provider is fn(request, profile, **context) -> HTML (a safe string, "" for nothing) for one page: "home",
# "product" (context: product) or "cart" (context: product_ids, sold by sales' cart page). Registered when the
# higher context's app is ready; a page shows what its providers return, in registration order.

_blocks: dict[str, list[Callable]] = {}


def register_storefront_block(page: str) -> Callable[[Callable], Callable]:
    def decorator(fn: Callable) -> Callable:
        providers = _blocks.setdefault(page, [])
        if fn not in providers:
            providers.append(fn)
        return fn

    return decorator


def storefront_blocks(page: str, request, profile, **context):
    from django.utils.safestring import mark_safe

    return mark_safe("".join(str(provider(request, profile, **context) or "") for provider in _blocks.get(page, ())))
