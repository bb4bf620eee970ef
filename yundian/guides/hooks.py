"""Registers the commission functions with the sales hooks (imported by GuidesConfig.ready)."""
from yundian.sales import hooks

from .services import commission_post_for_order, commission_reverse_for_return

hooks.on_order_paid(commission_post_for_order)
hooks.on_return_posted(commission_reverse_for_return)
