"""The customer-data tables of the warehouse: behaviour events and the links that stitch devices to members.

fact_event      one row per behaviour event (storefront, till, mini program, API) or server-side domain event
                (from the outbox: order_changed, member_changed, ...). `event_key` is the sender's message id,
                unique per enterprise; `received_at` is the server's clock, `occurred_at` the sender's corrected
                for clock skew; `local_date` / `local_hour` are in the chain's time zone.
identity_link   a device (anonymous id) seen signed in as a member, from when: the basis of stitching.
"""
from yundian.core.warehouse import TableSpec, register_table

EVENT_KINDS = ("page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "share", "coupon_view",
               "store_visit", "scan", "member_identified", "custom", "recommendation_view", "recommendation_click")

FACT_EVENT = register_table(TableSpec("fact_event", {
    "enterprise_id": "int64", "event_key": "string", "kind": "string", "name": "string",
    "occurred_at": "timestamp", "received_at": "timestamp", "local_date": "date", "local_hour": "int32",
    "anonymous_id": "string", "member_id": "int64", "store_id": "int64", "org_path": "string", "channel": "string",
    "sku_id": "int64", "product_id": "int64", "category_id": "int64", "order_id": "int64", "amount": "int64",
    "properties": "string",
}, key=("enterprise_id", "event_key")))

IDENTITY_LINK = register_table(TableSpec("identity_link", {
    "enterprise_id": "int64", "anonymous_id": "string", "member_id": "int64", "linked_at": "timestamp",
    "channel": "string",
}, key=("enterprise_id", "anonymous_id", "member_id")))

# what a sender gives for each event (the loader derives org_path, product, category, local date and hour)
EVENT_INPUT_COLUMNS = ("enterprise_id", "event_key", "kind", "name", "occurred_at", "received_at", "anonymous_id",
                       "member_id", "store_id", "channel", "sku_id", "order_id", "amount", "properties")

# who holds which tag (the OLTP MemberTag rows, kept by the analytics sync from the TagChange history)
DIM_MEMBER_TAG = register_table(TableSpec("dim_member_tag", {
    "enterprise_id": "int64", "member_id": "int64", "tag_id": "int64", "since": "timestamp",
}, key=("member_id", "tag_id")))
