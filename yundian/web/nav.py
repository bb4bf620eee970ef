"""The console's navigation: groups (sales, goods, stock, ...) of entries, each entry shown only to staff holding
its permission somewhere; a group with no entry the actor may open is not shown.

Adding a page is one line in NAV, e.g. `NavItem("analytics:warehouse", pgettext_lazy("nav", "Warehouse status"),
Perm.STOCK_VIEW, "analytics")`. Icons are inline SVG path data (24×24, stroked), so the console loads nothing
from a CDN.
"""
from dataclasses import dataclass

from django.utils.translation import pgettext_lazy

from yundian.org.roles import Perm

# labels carry the context "nav", so a short word here ("Orders") never takes another page's translation of the
# same word (a column's "订单数")


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    icon: str  # SVG path data, 24×24 viewBox, drawn with stroke="currentColor"


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    perm: str | None  # None: everyone signed in
    group: str
    args: tuple = ()


ICONS = {
    "inbox": "M3 13h5l2 3h4l2-3h5M5.5 5h13L21 13v6H3v-6z",
    "sales": "M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6M9 16h3",
    "goods": "M3 7.5 12 3l9 4.5v9L12 21l-9-4.5zM3 7.5 12 12l9-4.5M12 12v9",
    "stock": "M3 21V8.5L12 3l9 5.5V21M7 21v-8h10v8M7 17h10",
    "members": "M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5",
    "marketing": "M3 9.5v5l12 5.5v-16zM15 8.5a3.5 3.5 0 0 1 0 7M6 15l1.5 5h3L9 15.5",
    "guides": "M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1-4.4-4.3 6.1-.9z",
    "analytics": "M3 21h18M6 17v-6M11 17V5M16 17v-9M21 17v-4",
    "settings": "M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1M15 4v4M9 10v4M17 16v4",
}

GROUPS: list[NavGroup] = [
    NavGroup("sales", pgettext_lazy("nav", "Sales"), ICONS["sales"]),
    NavGroup("goods", pgettext_lazy("nav", "Goods"), ICONS["goods"]),
    NavGroup("stock", pgettext_lazy("nav", "Stock"), ICONS["stock"]),
    NavGroup("members", pgettext_lazy("nav", "Members"), ICONS["members"]),
    NavGroup("marketing", pgettext_lazy("nav", "Marketing"), ICONS["marketing"]),
    NavGroup("guides", pgettext_lazy("nav", "Guides"), ICONS["guides"]),
    NavGroup("analytics", pgettext_lazy("nav", "Analytics"), ICONS["analytics"]),
    NavGroup("settings", pgettext_lazy("nav", "Settings"), ICONS["settings"]),
]

NAV: list[NavItem] = [
    NavItem("pos:home", pgettext_lazy("nav", "POS"), Perm.ORDER_SELL, "sales"),
    NavItem("sales:order_list", pgettext_lazy("nav", "Orders"), Perm.ORDER_VIEW, "sales"),
    NavItem("sales:approval_list", pgettext_lazy("nav", "Approvals"), Perm.ORDER_APPROVE, "sales"),
    NavItem("catalog:product_list", pgettext_lazy("nav", "Catalogue"), Perm.CATALOG_VIEW, "goods"),
    NavItem("catalog:price_list_list", pgettext_lazy("nav", "Prices"), Perm.CATALOG_VIEW, "goods"),
    NavItem("inventory:overview", pgettext_lazy("nav", "Stock overview"), Perm.STOCK_VIEW, "stock"),
    NavItem("inventory:purchase_orders", pgettext_lazy("nav", "Purchase orders"), Perm.STOCK_VIEW, "stock"),
    NavItem("inventory:transfers", pgettext_lazy("nav", "Transfers"), Perm.STOCK_VIEW, "stock"),
    NavItem("inventory:adjustments", pgettext_lazy("nav", "Adjustments"), Perm.STOCK_VIEW, "stock"),
    NavItem("inventory:cycle_counts", pgettext_lazy("nav", "Cycle counts"), Perm.STOCK_MANAGE, "stock"),
    NavItem("members:member_list", pgettext_lazy("nav", "Members"), Perm.MEMBER_VIEW, "members"),
    NavItem("cdp:tags", pgettext_lazy("nav", "Tags"), Perm.MEMBER_VIEW, "members"),
    NavItem("segments:list", pgettext_lazy("nav", "Segments"), Perm.MEMBER_VIEW, "members"),
    NavItem("promotions:overview", pgettext_lazy("nav", "Promotions"), Perm.PROMOTION_VIEW, "marketing"),
    NavItem("promotions:coupons", pgettext_lazy("nav", "Coupons"), Perm.PROMOTION_VIEW, "marketing"),
    NavItem("promotions:flash_groups", pgettext_lazy("nav", "Flash sales and group buys"), Perm.PROMOTION_VIEW,
            "marketing"),
    NavItem("journeys:list", pgettext_lazy("nav", "Journeys"), Perm.JOURNEY_VIEW, "marketing"),
    NavItem("guides:home", pgettext_lazy("nav", "Guide home (phone)"), Perm.TASK_WORK, "guides"),
    NavItem("guides:plans", pgettext_lazy("nav", "Guide tasks"), Perm.TASK_MANAGE, "guides"),
    NavItem("guides:accounting", pgettext_lazy("nav", "Guides' month"), Perm.COMMISSION_VIEW_ALL, "guides"),
    NavItem("guides:handover", pgettext_lazy("nav", "Handover"), Perm.STAFF_MANAGE, "guides"),
    NavItem("messaging:outbox", pgettext_lazy("nav", "Outbox"), Perm.MESSAGE_VIEW, "marketing"),
    NavItem("messaging:templates", pgettext_lazy("nav", "Message templates"), Perm.MESSAGE_TEMPLATE_MANAGE,
            "marketing"),
    NavItem("guides:my_commission", pgettext_lazy("nav", "My commission"), Perm.COMMISSION_VIEW_OWN, "guides"),
    NavItem("guides:store_commission", pgettext_lazy("nav", "Guides' commission"), Perm.COMMISSION_VIEW_ALL, "guides"),
    NavItem("guides:my_calls", pgettext_lazy("nav", "My call list"), Perm.CALL_LIST_WORK, "guides"),
    NavItem("guides:call_lists", pgettext_lazy("nav", "Call lists"), Perm.CALL_LIST_MANAGE, "guides"),
    NavItem("staffing:index", pgettext_lazy("nav", "Staffing"), Perm.STAFFING_VIEW, "guides"),
    NavItem("staffing:me", pgettext_lazy("nav", "My shifts"), Perm.SHIFT_OWN, "guides"),
    NavItem("guides:share_home", pgettext_lazy("nav", "Share materials"), Perm.MATERIAL_SHARE, "guides"),
    NavItem("guides:my_groups", pgettext_lazy("nav", "My groups"), Perm.MATERIAL_SHARE, "guides"),
    NavItem("guides:material_library", pgettext_lazy("nav", "Materials library"), Perm.MATERIAL_MANAGE, "guides"),
    NavItem("guides:share_funnels", pgettext_lazy("nav", "Share funnels"), Perm.COMMISSION_VIEW_ALL, "guides"),
    NavItem("guides:competition_list", pgettext_lazy("nav", "Competitions"), Perm.ORG_VIEW, "guides"),
    NavItem("inventory:report", pgettext_lazy("nav", "Stock reports"), Perm.STOCK_VIEW, "analytics",
            ("on-hand-by-store",)),
    NavItem("analytics:reports", pgettext_lazy("nav", "Reports"), Perm.ANALYTICS_VIEW, "analytics"),
    NavItem("analytics:findings", pgettext_lazy("nav", "Findings"), None, "analytics"),
    NavItem("analytics:clv", pgettext_lazy("nav", "Customer lifetime value"), Perm.ANALYTICS_VIEW, "analytics"),
    NavItem("recommend:overview", pgettext_lazy("nav", "Recommendations"), Perm.ANALYTICS_VIEW, "analytics"),
    NavItem("analytics:warehouse", pgettext_lazy("nav", "Warehouse status"), Perm.ANALYTICS_VIEW, "analytics"),
    NavItem("web:org_tree", pgettext_lazy("nav", "Organisation"), Perm.ORG_VIEW, "settings"),
    NavItem("web:staff_list", pgettext_lazy("nav", "Staff"), Perm.STAFF_VIEW, "settings"),
    NavItem("stores:store_list", pgettext_lazy("nav", "Stores"), Perm.STORE_MANAGE, "settings"),
    NavItem("stores:template_list", pgettext_lazy("nav", "Store templates"), Perm.TEMPLATE_MANAGE, "settings"),
    NavItem("web:audit_list", pgettext_lazy("nav", "Audit log"), Perm.AUDIT_VIEW, "settings"),
    NavItem("integrations:webhooks", pgettext_lazy("nav", "Webhooks"), Perm.WEBHOOK_MANAGE, "settings"),
    NavItem("integrations:erp", pgettext_lazy("nav", "ERP sync"), Perm.STOCK_VIEW, "settings"),
    NavItem("integrations:channels", pgettext_lazy("nav", "Sales channels"), Perm.ORDER_MANAGE, "settings"),
]
