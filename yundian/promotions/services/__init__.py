"""Writes of the promotions context, one module per area; import from here.

promotions.py   automatic promotions (create, status) and price floors
coupons.py      coupon campaigns, issuing, redeem / restore (sales' hooks, idempotent by order)
flash.py        flash sales: create, buy (exact cap, per-member limit), claims ordered / released
groups.py       group buying: campaigns, open / join, paid, cancelled, expiry with refunds exactly once
referrals.py    referral rules, share links, rewards and their reversal
checkout.py     the four calls sales makes per order: placed, paid, cancelled, returned
audience_coupons.py  a campaign issued to an audience (a segment): each member once, in batches, as a task when large
"""
from .checkout import order_cancelled, order_paid, order_placed, order_returned  # noqa: F401
from .coupons import coupon_campaign_create, coupon_issue, coupon_redeem, coupon_restore, coupon_void  # noqa: F401
from .flash import (  # noqa: F401
    flash_claim_order, flash_claims_cancel, flash_claims_release_expired, flash_sale_buy, flash_sale_create,
    flash_sale_stop,
)
from .groups import (  # noqa: F401
    group_buy_create, group_buy_expire_due, group_join, group_open, group_order_cancelled, group_order_paid,
    group_place_order,
)
from .promotions import price_floor_set, promotion_create, promotion_set_status  # noqa: F401
from .referrals import (  # noqa: F401
    PaidLine, referral_link_visit, referral_reverse_for_return, referral_reward_for_order, referral_rule_set,
    share_link_create, share_link_signup,
)
from .audience_coupons import (  # noqa: F401
    coupon_issue_run_step, coupon_issue_run_work, coupon_issue_to_audience,
)
from .live import (  # noqa: F401
    ItemIn, live_session_close, live_session_create, live_session_update, live_share_link, live_share_link_for,
)
