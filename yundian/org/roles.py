"""Roles, what each may do, which node kinds each sits on, and who may grant which role.

A role is held on one org node and applies to that node's whole subtree. Other contexts add their
permission codes to PERMISSIONS here when they land, so one table answers "may this role do X".
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeKind(models.TextChoices):
    HQ = "hq", _("Headquarters")
    REGION = "region", _("Region")
    DEALER = "dealer", _("Dealer")
    STORE = "store", _("Store")


# which kinds may sit under which (any depth: regions may nest, dealers may nest)
ALLOWED_CHILDREN: dict[str, set[str]] = {
    NodeKind.HQ: {NodeKind.REGION, NodeKind.DEALER, NodeKind.STORE},
    NodeKind.REGION: {NodeKind.REGION, NodeKind.DEALER, NodeKind.STORE},
    NodeKind.DEALER: {NodeKind.DEALER, NodeKind.STORE},
    NodeKind.STORE: set(),
}


class Role(models.TextChoices):
    HQ_ADMIN = "hq_admin", _("HQ administrator")
    REGION_MANAGER = "region_manager", _("Region manager")
    DEALER = "dealer", _("Dealer")
    STORE_MANAGER = "store_manager", _("Store manager")
    GUIDE = "guide", _("Guide / clerk")
    AUDITOR = "auditor", _("Auditor")


class Perm:
    ORG_VIEW = "org.view"
    ORG_MANAGE = "org.manage"
    STAFF_VIEW = "staff.view"
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    TOKEN_MANAGE = "token.manage"
    PERSONAL_DATA_VIEW = "personal_data.view"
    PERSONAL_DATA_EXPORT = "personal_data.export"
    # catalogue (yundian.catalog): everyone reads; HQ writes the catalogue; price lists are written by HQ,
    # regions and dealers for nodes inside their own subtree (store managers do not set prices)
    CATALOG_VIEW = "catalog.view"
    CATALOG_MANAGE = "catalog.manage"
    PRICE_MANAGE = "price.manage"
    # stock (yundian.inventory): everyone sees stock; clerks sell (issue/reserve); store managers and above
    # receive, transfer, count and adjust; approvals (adjustments above the threshold, transfers, stocktake
    # variances) need a manager above the store; purchase orders are approved by HQ and regions
    STOCK_VIEW = "stock.view"
    STOCK_SELL = "stock.sell"
    STOCK_MANAGE = "stock.manage"
    STOCK_ADJUST = "stock.adjust"
    STOCK_APPROVE = "stock.approve"
    PURCHASE_APPROVE = "purchase.approve"
    WAREHOUSE_MANAGE = "warehouse.manage"
    # members (yundian.members): everyone but auditors registers and serves members of their subtree; store
    # managers and above adjust points, rebind guides and merge; approvals of large adjustments need a manager
    # above the store; the programme (tiers, rules, gift cards) and erasure are HQ's
    MEMBER_VIEW = "member.view"
    MEMBER_MANAGE = "member.manage"
    MEMBER_MERGE = "member.merge"
    MEMBER_REBIND = "member.rebind"
    MEMBER_ERASE = "member.erase"
    MEMBER_PROGRAM_MANAGE = "member_program.manage"
    POINTS_ADJUST = "points.adjust"
    POINTS_APPROVE = "points.approve"
    STORED_VALUE_MANAGE = "stored_value.manage"
    # stores (yundian.stores): HQ opens stores and manages templates and the storefront policy; store managers
    # (and HQ) edit a storefront's look within that policy; store.manage edits a store's profile (hours, status)
    STORE_OPEN = "store.open"
    STORE_MANAGE = "store.manage"
    STOREFRONT_EDIT = "storefront.edit"
    TEMPLATE_MANAGE = "template.manage"
    # orders (yundian.sales): everyone sees the orders of their subtree; clerks and managers sell (create, pay,
    # return with receipt); store managers and above manage orders (ship, cancel) and approve sensitive edits
    ORDER_VIEW = "order.view"
    ORDER_SELL = "order.sell"
    ORDER_MANAGE = "order.manage"
    ORDER_APPROVE = "order.approve"
    # commission (yundian.guides): guides see their own; managers and auditors all of their subtree; HQ and
    # regions set the plans
    COMMISSION_VIEW_OWN = "commission.view_own"
    COMMISSION_VIEW_ALL = "commission.view_all"
    COMMISSION_MANAGE = "commission.manage"
    # call lists (yundian.guides): managers make them from a segment and follow progress; guides (and store
    # managers, for members without a guide) work their own calls
    CALL_LIST_MANAGE = "call_list.manage"
    CALL_LIST_WORK = "call_list.work"
    # segments (yundian.cdp): managers export a segment's members (audited); phones stay masked unless the role
    # may export personal data (personal_data.export)
    SEGMENT_EXPORT = "segment.export"
    # promotions (yundian.promotions): everyone sees the promotions of their subtree and their results; HQ, regions,
    # dealers and store managers create them on nodes of their subtree; guides (and above) issue coupons to members
    PROMOTION_VIEW = "promotion.view"
    PROMOTION_MANAGE = "promotion.manage"
    COUPON_ISSUE = "coupon.issue"
    # analytics (yundian.analytics): everyone but guides reads the analytics of their subtree; HQ runs the
    # warehouse (sync now, rebuild)
    ANALYTICS_VIEW = "analytics.view"
    WAREHOUSE_RUN = "warehouse.run"
    # tags (yundian.cdp): everyone who sees members sees the tags of their part of the tree; HQ and regions
    # define tags and groups within their subtree (tagging a member by hand needs member.manage)
    TAG_MANAGE = "tag.manage"
    # segments (yundian.cdp): everyone who sees members sees the segments of their part of the tree; managers
    # (store and above) build, refresh and snapshot segments over the members of their own subtree
    SEGMENT_MANAGE = "segment.manage"
    # journeys (yundian.journeys): everyone who sees members sees the journeys of their part of the tree and their
    # results; HQ and regions build, publish, pause and stop journeys over the members of their own subtree
    JOURNEY_VIEW = "journey.view"
    JOURNEY_MANAGE = "journey.manage"
    # guide tasks (yundian.guides): HQ, regions, dealers and store managers set tasks and split targets over their
    # subtree and follow progress; guides (and store managers, for members without a guide) work their own tasks
    TASK_MANAGE = "task.manage"
    TASK_WORK = "task.work"
    # staffing (yundian.staffing): store managers and above see and plan their stores' shifts and edit them;
    # guides and managers see their own shifts and sign in and out
    STAFFING_VIEW = "staffing.view"
    STAFFING_MANAGE = "staffing.manage"
    SHIFT_OWN = "shift.own"
    # guide workbench (yundian.guides): HQ and regions upload materials for the stores under them; guides (and
    # store managers) share them and run their community groups; managers (store and above) set up competitions
    MATERIAL_MANAGE = "material.manage"
    MATERIAL_SHARE = "material.share"
    COMPETITION_MANAGE = "competition.manage"
    # messages (yundian.messaging): everyone but guides reads the outbox of their subtree's members (guides see a
    # member's messages on the 360° page); HQ and regions write message templates for their subtree
    MESSAGE_VIEW = "message.view"
    MESSAGE_TEMPLATE_MANAGE = "message_template.manage"
    # webhooks (yundian.integrations): HQ admins manage the enterprise's webhook subscriptions, their secrets,
    # the delivery log, retries and replays
    WEBHOOK_MANAGE = "webhook.manage"


_VIEW = {Perm.ORG_VIEW, Perm.STAFF_VIEW}
PERMISSIONS: dict[str, set[str]] = {
    Role.HQ_ADMIN: _VIEW | {Perm.ORG_MANAGE, Perm.STAFF_MANAGE, Perm.AUDIT_VIEW, Perm.TOKEN_MANAGE,
                            Perm.PERSONAL_DATA_VIEW, Perm.PERSONAL_DATA_EXPORT},
    Role.REGION_MANAGER: _VIEW | {Perm.ORG_MANAGE, Perm.STAFF_MANAGE, Perm.AUDIT_VIEW, Perm.PERSONAL_DATA_VIEW},
    Role.DEALER: _VIEW | {Perm.ORG_MANAGE, Perm.STAFF_MANAGE, Perm.PERSONAL_DATA_VIEW},
    Role.STORE_MANAGER: _VIEW | {Perm.STAFF_MANAGE, Perm.PERSONAL_DATA_VIEW},
    Role.GUIDE: {Perm.ORG_VIEW},
    Role.AUDITOR: _VIEW | {Perm.AUDIT_VIEW},
}
# catalogue permissions (yundian.catalog)
for _role in Role.values:
    PERMISSIONS[_role].add(Perm.CATALOG_VIEW)
PERMISSIONS[Role.HQ_ADMIN] |= {Perm.CATALOG_MANAGE, Perm.PRICE_MANAGE}
PERMISSIONS[Role.REGION_MANAGER].add(Perm.PRICE_MANAGE)
PERMISSIONS[Role.DEALER].add(Perm.PRICE_MANAGE)
# stock permissions (yundian.inventory)
for _role in Role.values:
    PERMISSIONS[_role].add(Perm.STOCK_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.GUIDE):
    PERMISSIONS[_role].add(Perm.STOCK_SELL)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role] |= {Perm.STOCK_MANAGE, Perm.STOCK_ADJUST}
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER):
    PERMISSIONS[_role] |= {Perm.STOCK_APPROVE, Perm.WAREHOUSE_MANAGE}
PERMISSIONS[Role.HQ_ADMIN].add(Perm.PURCHASE_APPROVE)
PERMISSIONS[Role.REGION_MANAGER].add(Perm.PURCHASE_APPROVE)
# member permissions (yundian.members)
for _role in Role.values:
    PERMISSIONS[_role].add(Perm.MEMBER_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.GUIDE):
    PERMISSIONS[_role] |= {Perm.MEMBER_MANAGE, Perm.STORED_VALUE_MANAGE}
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role] |= {Perm.POINTS_ADJUST, Perm.MEMBER_REBIND, Perm.MEMBER_MERGE}
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER):
    PERMISSIONS[_role].add(Perm.POINTS_APPROVE)
PERMISSIONS[Role.HQ_ADMIN] |= {Perm.MEMBER_PROGRAM_MANAGE, Perm.MEMBER_ERASE}
# store permissions (yundian.stores)
PERMISSIONS[Role.HQ_ADMIN] |= {Perm.STORE_OPEN, Perm.TEMPLATE_MANAGE, Perm.STORE_MANAGE, Perm.STOREFRONT_EDIT}
PERMISSIONS[Role.REGION_MANAGER].add(Perm.STORE_MANAGE)
PERMISSIONS[Role.STORE_MANAGER] |= {Perm.STORE_MANAGE, Perm.STOREFRONT_EDIT}
# order permissions (yundian.sales)
for _role in Role.values:
    PERMISSIONS[_role].add(Perm.ORDER_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.GUIDE):
    PERMISSIONS[_role].add(Perm.ORDER_SELL)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role] |= {Perm.ORDER_MANAGE, Perm.ORDER_APPROVE}
# commission permissions (yundian.guides)
for _role in (Role.GUIDE, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.COMMISSION_VIEW_OWN)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.AUDITOR):
    PERMISSIONS[_role].add(Perm.COMMISSION_VIEW_ALL)
PERMISSIONS[Role.HQ_ADMIN].add(Perm.COMMISSION_MANAGE)
PERMISSIONS[Role.REGION_MANAGER].add(Perm.COMMISSION_MANAGE)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.CALL_LIST_MANAGE)
for _role in (Role.GUIDE, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.CALL_LIST_WORK)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.SEGMENT_EXPORT)
# promotion permissions (yundian.promotions)
for _role in Role.values:
    PERMISSIONS[_role].add(Perm.PROMOTION_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role] |= {Perm.PROMOTION_MANAGE, Perm.COUPON_ISSUE}
PERMISSIONS[Role.GUIDE].add(Perm.COUPON_ISSUE)
# analytics permissions (yundian.analytics)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.AUDITOR):
    PERMISSIONS[_role].add(Perm.ANALYTICS_VIEW)
PERMISSIONS[Role.HQ_ADMIN].add(Perm.WAREHOUSE_RUN)
# tag permissions (yundian.cdp)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER):
    PERMISSIONS[_role].add(Perm.TAG_MANAGE)

# segment permissions (yundian.cdp)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.SEGMENT_MANAGE)

# journey permissions (yundian.journeys)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.AUDITOR):
    PERMISSIONS[_role].add(Perm.JOURNEY_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER):
    PERMISSIONS[_role].add(Perm.JOURNEY_MANAGE)
# guide task permissions (yundian.guides)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.TASK_MANAGE)
for _role in (Role.GUIDE, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.TASK_WORK)
# staffing permissions (yundian.staffing)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.AUDITOR):
    PERMISSIONS[_role].add(Perm.STAFFING_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.STAFFING_MANAGE)
for _role in (Role.STORE_MANAGER, Role.GUIDE):
    PERMISSIONS[_role].add(Perm.SHIFT_OWN)
# guide workbench permissions (yundian.guides)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER):
    PERMISSIONS[_role].add(Perm.MATERIAL_MANAGE)
for _role in (Role.GUIDE, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.MATERIAL_SHARE)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER):
    PERMISSIONS[_role].add(Perm.COMPETITION_MANAGE)
# message permissions (yundian.messaging)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.AUDITOR):
    PERMISSIONS[_role].add(Perm.MESSAGE_VIEW)
for _role in (Role.HQ_ADMIN, Role.REGION_MANAGER):
    PERMISSIONS[_role].add(Perm.MESSAGE_TEMPLATE_MANAGE)
# webhook permissions (yundian.integrations)
PERMISSIONS[Role.HQ_ADMIN].add(Perm.WEBHOOK_MANAGE)

# the node kinds a role may be held on
ROLE_NODE_KINDS: dict[str, set[str]] = {
    Role.HQ_ADMIN: {NodeKind.HQ},
    Role.REGION_MANAGER: {NodeKind.REGION},
    Role.DEALER: {NodeKind.DEALER},
    Role.STORE_MANAGER: {NodeKind.STORE},
    Role.GUIDE: {NodeKind.STORE},
    Role.AUDITOR: {NodeKind.HQ, NodeKind.REGION, NodeKind.DEALER, NodeKind.STORE},
}

# which roles a holder of a role may grant (inside the subtree where they hold it)
GRANTABLE: dict[str, set[str]] = {
    Role.HQ_ADMIN: set(Role.values),
    Role.REGION_MANAGER: {Role.REGION_MANAGER, Role.DEALER, Role.STORE_MANAGER, Role.GUIDE, Role.AUDITOR},
    Role.DEALER: {Role.STORE_MANAGER, Role.GUIDE},
    Role.STORE_MANAGER: {Role.GUIDE},
    Role.GUIDE: set(),
    Role.AUDITOR: set(),
}
