"""The star schema the sync keeps: facts from the ledgers and orders, dimensions from the master data.

Every fact carries `enterprise_id` and `org_path` (the store's or warehouse node's chain of ids, "/1/4/9/"), so a
region manager's view is `org_path LIKE '/1/4/%'`, never a join chain. Money is integer fen; times are UTC
without a zone, with `local_date` / `local_hour` in the chain's time zone beside them for calendars and hours.

Facts
    fact_order          one row per order: totals net of refunds, who, where, when, channel, whether it is a sale
    fact_order_line     one row per order line, net of returns (net_quantity, net_amount)
    fact_payment        one row per tender, with what was refunded from it
    fact_stock_move     the stock ledger, one row per move
    fact_points_entry   the points ledger
    fact_coupon_redemption   one row per coupon use (status: redeemed / restored)
    fact_commission_entry    the commission ledger
    fact_coupon         one row per coupon code issued to a member: status, validity (segments: coupons held)
    fact_event          behaviour and domain events (declared by cdp)
Dimensions
    dim_org (stores, regions, dealers, HQ), dim_sku (SKU, product, category), dim_member (no name or phone:
    the warehouse keeps no contact data), dim_staff (guides and clerks), dim_date, dim_hour
"""
from yundian.core.warehouse import TableSpec, register_table

_WHERE = {"enterprise_id": "int64", "org_path": "string", "store_id": "int64"}

FACT_ORDER = register_table(TableSpec("fact_order", {
    "order_id": "int64", **_WHERE, "member_id": "int64", "clerk_id": "int64", "channel": "string",
    "mode": "string", "status": "string", "placed_at": "timestamp", "paid_at": "timestamp", "local_date": "date",
    "local_hour": "int32", "is_sale": "boolean", "subtotal": "int64", "discount_total": "int64", "total": "int64",
    "paid_total": "int64", "refunded_total": "int64", "net_total": "int64", "line_count": "int32",
    "item_count": "int64", "share_code": "string", "has_promotion": "boolean", "updated_at": "timestamp",
}, key=("order_id",)))

FACT_ORDER_LINE = register_table(TableSpec("fact_order_line", {
    "line_id": "int64", "order_id": "int64", "line_no": "int32", **_WHERE, "member_id": "int64",
    "guide_id": "int64", "clerk_id": "int64", "channel": "string", "status": "string", "placed_at": "timestamp",
    "local_date": "date", "local_hour": "int32", "is_sale": "boolean", "sku_id": "int64", "product_id": "int64",
    "category_id": "int64", "is_weighed": "boolean", "quantity": "int64", "returned_quantity": "int64",
    "net_quantity": "int64", "list_price": "int64", "unit_price": "int64", "discount": "int64",
    "line_total": "int64", "returned_amount": "int64", "net_amount": "int64",
}, key=("order_id",)))  # an order's lines are replaced together

FACT_PAYMENT = register_table(TableSpec("fact_payment", {
    "payment_id": "int64", "order_id": "int64", **_WHERE, "method": "string", "amount": "int64",
    "refunded_amount": "int64", "created_at": "timestamp", "local_date": "date",
}, key=("order_id",)))

FACT_STOCK_MOVE = register_table(TableSpec("fact_stock_move", {
    "move_id": "int64", **_WHERE, "warehouse_id": "int64", "warehouse_kind": "string", "sku_id": "int64",
    "product_id": "int64", "category_id": "int64", "kind": "string", "quantity": "int64", "reserved_delta": "int64",
    "source_type": "string", "source_id": "string", "occurred_at": "timestamp", "local_date": "date",
    "value": "int64",  # the cost the move added or took out (moving average), fen
}, key=("move_id",)))

FACT_POINTS_ENTRY = register_table(TableSpec("fact_points_entry", {
    "entry_id": "int64", **_WHERE, "member_id": "int64", "kind": "string", "points": "int64",
    "source_type": "string", "source_id": "string", "created_at": "timestamp", "local_date": "date",
}, key=("entry_id",)))

FACT_COUPON_REDEMPTION = register_table(TableSpec("fact_coupon_redemption", {
    "redemption_id": "int64", **_WHERE, "campaign_id": "int64", "member_id": "int64", "order_ref": "string",
    "discount": "int64", "status": "string", "created_at": "timestamp", "restored_at": "timestamp",
    "local_date": "date",
}, key=("redemption_id",)))

FACT_COMMISSION_ENTRY = register_table(TableSpec("fact_commission_entry", {
    "entry_id": "int64", **_WHERE, "guide_id": "int64", "kind": "string", "amount": "int64",
    "sales_amount": "int64", "order_id": "int64", "order_line_id": "int64", "month": "date",
    "occurred_at": "timestamp", "local_date": "date",
}, key=("entry_id",)))

# a coupon issued to a member, as it is now (segments count the coupons a member holds: available, not expired);
# valid_until is the local date its promotion ends (null: no end)
FACT_COUPON = register_table(TableSpec("fact_coupon", {
    "coupon_id": "int64", "enterprise_id": "int64", "org_path": "string", "campaign_id": "int64",
    "member_id": "int64", "status": "string", "issued_at": "timestamp", "valid_until": "date",
}, key=("coupon_id",)))

DIM_ORG = register_table(TableSpec("dim_org", {
    "node_id": "int64", "enterprise_id": "int64", "parent_id": "int64", "kind": "string", "code": "string",
    "name": "string", "org_path": "string", "depth": "int32", "is_active": "boolean",
}, key=("node_id",)))

DIM_SKU = register_table(TableSpec("dim_sku", {
    "sku_id": "int64", "enterprise_id": "int64", "code": "string", "name": "string", "product_id": "int64",
    "product_name": "string", "brand": "string", "category_id": "int64", "category_name": "string",
    "category_path": "string", "base_price": "int64", "is_active": "boolean",
}, key=("sku_id",)))

DIM_MEMBER = register_table(TableSpec("dim_member", {
    "member_id": "int64", "enterprise_id": "int64", "home_id": "int64", "org_path": "string",
    "canonical_member_id": "int64", "status": "string", "tier_id": "int64", "guide_id": "int64",
    "gender": "string", "birth_month": "int32", "birth_day": "int32", "channel": "string",
    "registered_at": "timestamp", "registered_date": "date", "is_erased": "boolean",
}, key=("member_id",)))

# the latest consent per (member, channel), from members.ConsentState (segments: "consent granted for SMS")
DIM_MEMBER_CONSENT = register_table(TableSpec("dim_member_consent", {
    "member_id": "int64", "enterprise_id": "int64", "channel": "string", "granted": "boolean",
    "updated_at": "timestamp",
}, key=("member_id", "channel")))

DIM_STAFF = register_table(TableSpec("dim_staff", {
    "staff_id": "int64", "enterprise_id": "int64", "home_id": "int64", "org_path": "string",
    "display_name": "string", "is_active": "boolean",
}, key=("staff_id",)))

DIM_DATE = register_table(TableSpec("dim_date", {
    "date": "date", "year": "int32", "quarter": "int32", "month": "int32", "day": "int32", "weekday": "int32",
    "iso_week": "int32", "is_weekend": "boolean",
}, key=("date",)))

DIM_HOUR = register_table(TableSpec("dim_hour", {"hour": "int32", "daypart": "string"}, key=("hour",)))
