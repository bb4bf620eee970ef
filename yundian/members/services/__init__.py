"""Writes of the members context, one module per area; import from here.

members.py        registration, One-ID resolution, identities, consent, guide binding, export, erasure
merge.py          merges and unmerges
points.py         earn / redeem / refunds / reversal hooks for orders, adjustments, expiry, birthday gifts
growth.py         growth value and tiers (upgrade at once, downgrade at review)
stored_value.py   top-ups, spending, refunds, top-up rules, gift cards
rules.py          points rules, tier edits, top-up rule changes (programme settings, HQ)
sign_in.py        storefront sign-in of members with a one-time code
audiences.py      member lists (audiences) that promotions and guides check, filled by their source (a segment)
"""
from .growth import tier_create, tier_review_due  # noqa: F401
from .members import (  # noqa: F401
    IdentityIn, Resolution, consent_set, guide_bind, guide_handover, guide_handover_spread, guide_unbind, identity_add,
    identity_remove, member_erase, member_export, member_register, member_resolve, member_update,
)
from .merge import member_merge, member_unmerge  # noqa: F401
from .points import (  # noqa: F401
    EarnLine, EarnQuote, EarnResult, ReverseResult, points_adjust, points_adjustment_approve, points_adjustment_reject,
    points_birthday_gifts, points_earn_for_order, points_earn_quote, points_expire_due, points_quote, points_redeem,
    points_redeem_refund, points_reverse_for_return,
)
from .stored_value import (  # noqa: F401
    TopUpRefund, gift_card_issue, gift_card_redeem, stored_value_spend, stored_value_spend_refund,
    stored_value_topup, stored_value_topup_refund, topup_rule_create,
)
from .rules import (  # noqa: F401
    points_rule_create, points_rule_deactivate, points_rule_update, tier_update, topup_rule_deactivate,
)
from .sign_in import CodeSent, SignIn, TooManyRequests, login_code_send, login_code_verify  # noqa: F401
from .audiences import AudienceChange, audience_ensure, audience_replace  # noqa: F401
