"""Hooks through which a higher context (sales) joins promotions' transactions.

Promotions sits below sales and cannot import it. When a group buy fails, each paid member must get their money
back: sales registers a refund function here when its app is ready, and `group_buy_expire_due` calls it once per
paid member, inside the transaction that records the GroupBuyRefund row (unique per member, so exactly once).
A hook raises to roll the whole group's failure back (the task retries it on its next run).

    # yundian/sales/apps.py, in ready():
    from yundian.promotions.hooks import on_group_buy_refund
    on_group_buy_refund(refund_group_buy_order)    # fn(refund: GroupBuyRefund) -> None
"""
from collections.abc import Callable

_group_refund: list[Callable] = []


def on_group_buy_refund(fn: Callable) -> Callable:
    """Register fn(refund): refund `refund.amount` fen of order `refund.order_ref` (the group failed)."""
    if fn not in _group_refund:
        _group_refund.append(fn)
    return fn


def forget_group_buy_refund(fn: Callable) -> None:
    if fn in _group_refund:
        _group_refund.remove(fn)


def run_group_buy_refund(refund) -> None:
    for fn in list(_group_refund):
        fn(refund)
