"""The console's navigation: each entry shows only to staff holding its permission somewhere.

Later contexts append their entries here (catalogue, stock, POS, members, ...).
"""
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from yundian.org.roles import Perm


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    perm: str | None  # None: everyone signed in


NAV: list[NavItem] = [
    NavItem("web:home", _("Overview"), None),
    NavItem("web:org_tree", _("Organisation"), Perm.ORG_VIEW),
    NavItem("web:staff_list", _("Staff"), Perm.STAFF_VIEW),
    NavItem("catalog:product_list", _("Catalogue"), Perm.CATALOG_VIEW),
    NavItem("catalog:price_list_list", _("Prices"), Perm.CATALOG_VIEW),
    NavItem("stores:store_list", _("Stores"), Perm.STORE_MANAGE),
    NavItem("stores:template_list", _("Store templates"), Perm.TEMPLATE_MANAGE),
    NavItem("inventory:overview", _("Stock"), Perm.STOCK_VIEW),
    NavItem("members:member_list", _("Members"), Perm.MEMBER_VIEW),
    NavItem("promotions:overview", _("Promotions"), Perm.PROMOTION_VIEW),
    NavItem("pos:home", _("POS"), Perm.ORDER_SELL),
    NavItem("sales:order_list", _("Orders"), Perm.ORDER_VIEW),
    NavItem("sales:approval_list", _("Approvals"), Perm.ORDER_APPROVE),
    NavItem("guides:my_commission", _("My commission"), Perm.COMMISSION_VIEW_OWN),
    NavItem("guides:store_commission", _("Guides' commission"), Perm.COMMISSION_VIEW_ALL),
    NavItem("web:audit_list", _("Audit log"), Perm.AUDIT_VIEW),
]
