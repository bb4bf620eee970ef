"""Explicit hooks through which higher contexts (guides' commission) join an order's transaction.

Sales sits below guides, so it cannot import them; instead `yundian.guides` registers its functions here when
its app is ready. Hooks run inside the order's transaction after the order, stock and member writes (the global
lock order: orders -> inventory -> members -> commissions) and must raise to roll the whole change back.
"""
from collections.abc import Callable

_paid: list[Callable] = []
_returned: list[Callable] = []


def on_order_paid(fn: Callable) -> Callable:
    """Register fn(order, lines, actor): called once when an order becomes fully paid."""
    if fn not in _paid:
        _paid.append(fn)
    return fn


def on_return_posted(fn: Callable) -> Callable:
    """Register fn(order_return, return_lines, actor): called once per posted return (and per void)."""
    if fn not in _returned:
        _returned.append(fn)
    return fn


def run_order_paid(order, lines, actor) -> None:
    for fn in _paid:
        fn(order, lines, actor)


def run_return_posted(order_return, lines, actor) -> None:
    for fn in _returned:
        fn(order_return, lines, actor)
